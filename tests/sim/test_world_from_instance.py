"""A world from the user's instance (optimizer.sim.world.world_from_instance): one typical week, resampled."""

from __future__ import annotations

import json

import numpy as np
import pytest

import models
from optimizer.sim.calibration import HOMELESS_INFLOW, NATIONAL_HOMELESS
from optimizer.sim.simulate import kind_pool_agreements, simulate_terms
from optimizer.sim.world import INFLOW_PER_LISTED, world_from_instance
from tests.conftest import EXAMPLES, doc, needs_shared, solved


def subsidy_doc(frame: int = 100, **tables) -> dict:
    """Ten units at 4,800 kr (a subsidised rent of 3,386 kr) and twelve subsidy-eligible citizens
    who can pay 3,500 kr: every assignment is subsidised, as far as the frame lets."""
    citizens = [
        {"id": f"c{i}", "max_rent_kr": 3500, "subsidy_eligible": True, "priority": 1 + i % 2} for i in range(12)
    ]
    units = [{"id": f"u{i}", "rent_kr": 4800, "rooms": 1 + i % 3} for i in range(10)]
    d = doc(citizens, units, **tables)
    d["municipalities"][0]["subsidy_frame"] = frame
    return d


def test_the_defaults_are_the_instances_own_numbers():
    inst = models.from_dict(subsidy_doc())
    w = world_from_instance(inst, seed=0, weeks=3)
    assert w.vacancies_per_week == 10
    assert w.arrivals_per_week == pytest.approx(12 * HOMELESS_INFLOW / NATIONAL_HOMELESS / 52)
    assert round(INFLOW_PER_LISTED * 5_989) == 9_511
    assert w.inflow_per_year == pytest.approx(12 * INFLOW_PER_LISTED)
    # the list at the start is the instance's citizens, renamed, nothing else changed
    assert [c["id"] for c in w.initial] == [f"c0-{i + 1}" for i in range(12)]
    assert [{**c, "id": None} for c in w.initial] == [{**c, "id": None} for c in inst.to_dict()["citizens"]]


def test_weekly_counts_are_poisson_around_the_means():
    inst = models.from_dict(subsidy_doc())
    w = world_from_instance(inst, seed=1, weeks=400, vacancies_per_week=7.5, arrivals_per_week=3)
    vac = [len(w.vacancies(k)) for k in range(1, 401)]
    arr = [len(w.arrivals(k)) for k in range(1, 401)]
    # 400 Poisson draws: the mean is within 4 standard errors, the variance about the mean
    assert abs(np.mean(vac) - 7.5) < 4 * np.sqrt(7.5 / 400)
    assert abs(np.mean(arr) - 3) < 4 * np.sqrt(3 / 400)
    assert 0.7 < np.var(vac) / 7.5 < 1.3 and 0.7 < np.var(arr) / 3 < 1.3
    with pytest.raises(ValueError, match="week 401 is outside"):
        w.vacancies(401)


def test_copies_keep_their_templates_attributes_under_new_ids():
    inst = models.from_dict(subsidy_doc())
    w = world_from_instance(inst, seed=2, weeks=5)
    templates = {u["id"]: u for u in inst.to_dict()["units"]}
    ids: list[str] = []
    for week in range(1, 6):
        vac = w.vacancies(week)
        d = w.instance(f"w{week}", vac, w.arrivals(week), [])
        for u, t in zip(d["units"], w.u_template[vac].tolist(), strict=True):
            assert {**u, "id": None} == {**templates[w.template_ids[t]], "id": None}
        ids += [u["id"] for u in d["units"]]
        for c in d["citizens"]:
            assert c["id"].startswith(f"c{week}-")
    assert len(ids) == len(set(ids)) > 0  # new ids, unique over the year
    assert set(np.concatenate([w.u_template[w.vacancies(k)] for k in range(1, 6)]).tolist()) != {0}


def test_the_same_seed_draws_the_same_weeks_and_another_seed_others():
    inst = models.from_dict(subsidy_doc())

    def weeks(seed: int) -> str:
        w = world_from_instance(inst, seed=seed, weeks=4)
        docs = [w.instance(f"w{k}", w.vacancies(k), w.arrivals(k), [], week=k) for k in range(1, 5)]
        return json.dumps(docs, sort_keys=True)

    assert weeks(3) == weeks(3)
    assert weeks(3) != weeks(4)


@needs_shared
def test_v2_copies_get_the_weeks_order_no_offered_and_their_scores():
    """e5 is anvis/2 with scores, a held turn (``offered``) and rotation pools."""
    inst = models.load(EXAMPLES / "e5-rotation.json")
    given = {(s["citizen"], s["unit"]): s["score"] for s in inst.to_dict()["scores"]}
    assert any(u.offered for u in inst.units)
    w = world_from_instance(inst, seed=0, weeks=2)
    cit_template = {c["id"]: t for c, t in zip(w.initial, range(len(w.initial)), strict=True)}
    vac = w.vacancies(1)
    d = w.instance("w1", vac, w.initial, [], week=1)
    assert sorted(u["sequence"] for u in d["units"]) == list(range(len(vac)))
    assert not any(u.get("offered") for u in d["units"])
    unit_template = dict(zip([u["id"] for u in d["units"]], w.u_template[vac].tolist(), strict=True))
    want = {
        (c, u): given[(inst.citizens[cit_template[c]].id, w.template_ids[t])]
        for c in cit_template
        for u, t in unit_template.items()
        if (inst.citizens[cit_template[c]].id, w.template_ids[t]) in given
    }
    assert want and {(s["citizen"], s["unit"]): s["score"] for s in d["scores"]} == want
    solved(d)  # a valid round, and its plan passes the independent checker


def test_an_agreements_units_filter_names_the_copies_of_its_units():
    d = subsidy_doc(
        format="anvis/2", agreements=[{"id": "first", "municipality": "M", "share": 1.0, "units": ["u0", "u1"]}]
    )
    inst = models.from_dict(d)
    w = world_from_instance(inst, seed=0, weeks=3, vacancies_per_week=30)
    vac = w.vacancies(1)
    r = w.instance("w1", vac, w.initial, inst.to_dict()["agreements"], week=1)
    copies = [u["id"] for u, t in zip(r["units"], w.u_template[vac].tolist(), strict=True) if t in (0, 1)]
    assert copies and sorted(r["agreements"][0]["units"]) == sorted(copies)
    pools = models.unit_pools(models.from_dict(r))
    assert [u["id"] for u, p in zip(r["units"], pools, strict=True) if p == "first"] == copies
    solved(r)


def test_per_kind_pools_of_an_organisation_in_two_municipalities_keep_their_ids():
    """An organisation with afdelinger in two municipalities gets one spelt-out pool per
    municipality, each with the same id every week (so the ledger carries its turns)."""
    d = subsidy_doc(format="anvis/2")
    d["municipalities"].append({"id": "N", "name": "N", "region": "R", "subsidy_frame": 0})
    d["departments"].append({"id": "E", "organisation": "O", "municipality": "N"})
    d["units"] += [{"id": f"e{i}", "department": "E", "rooms": 2, "rent_kr": 3000} for i in range(5)]
    w = world_from_instance(models.from_dict(d), seed=0, weeks=6)
    seen: dict[str, str] = {}
    for week in range(1, 7):
        for a in kind_pool_agreements(w, w.vacancies(week), 0.25, "rotation", set()):
            assert seen.setdefault(a["id"], a["municipality"]) == a["municipality"]
    assert set(seen) == {"year:O-family-M", "year:O-family-N"}


def terms(frame: int) -> dict:
    return models.from_dict(subsidy_doc(frame=frame)).to_dict()


def test_a_frame_of_zero_subsidises_nothing_over_the_year():
    w = world_from_instance(models.from_dict(subsidy_doc(frame=100)), seed=0, weeks=4)
    report = simulate_terms(w, terms(100), weeks=4, decline_rate=0.0)
    assert report["totals"]["subsidised"] == report["totals"]["claims"] > 0
    report0 = simulate_terms(w, terms(0), weeks=4, decline_rate=0.0)
    assert report0["totals"]["subsidised"] == 0 and report0["totals"]["claims"] == 0  # no one can pay 4,800 kr
    # a frame of 3 is spent over the year, not each week
    report3 = simulate_terms(w, terms(3), weeks=4, decline_rate=0.0)
    assert report3["totals"]["subsidised"] == 3
    assert report3["subsidy"]["periods"][0]["municipalities_at_frame"] == 1
    # regions without a quota (unlimited) are in no total
    assert report["subsidy"]["periods"][0]["quota_total"] == 0

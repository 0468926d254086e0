"""Scenario changes (optimizer.scenario.changes): every term where it binds, and every error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import models
from models.pools import pools, unit_pools
from optimizer.scenario.changes import APPENDED_PREFIX, ScenarioError, apply_changes, describe

from conftest import doc, solved

DEMO = Path(__file__).resolve().parents[2] / "instances" / "demo-week.json"


def housed(document: dict) -> dict[str, int]:
    return solved(document)["objective"]["housed_by_priority"]


def total(document: dict) -> int:
    return sum(housed(document).values())


def changed(document: dict, *changes: dict) -> dict:
    """The changed instance's document (validated by apply_changes and again by solved())."""
    return apply_changes(models.from_dict(document), changes).to_dict()


def v2(citizens, units, **tables) -> dict:
    d = doc(citizens, units, **{"agreements": [], **tables})
    d["format"] = "anvis/2"
    return d


def cs(n: int, **c) -> list[dict]:
    return [{"id": f"c{i}", **c} for i in range(n)]


def us(n: int, **u) -> list[dict]:
    return [{"id": f"u{i}", **u} for i in range(n)]


# --------------------------------------------------------------------------- pools


def test_share_of_an_agreement_binds():
    base = doc(cs(4), us(4), agreements=[{"id": "all", "municipality": "M", "share": 0.5}])
    assert total(base) == 2
    assert total(changed(base, {"term": "share", "pool": "all", "value": 0.75})) == 3


def test_share_of_a_default_pool_appends_last_and_moves_the_ledger_row():
    """The issue's case: an agreement for a default pool changes no other pool and keeps the ledger."""
    units = [*us(6), *({"id": f"s{i}", "rooms": 1} for i in range(4))]
    base = doc(
        cs(10, min_rooms=1),
        units,
        agreements=[{"id": "small", "municipality": "M", "share": 0.5, "rooms": [1]}],
        ledger=[{"pool": "default:M:O", "vacancies_before": 2, "claimed_before": 1}],
    )
    before = models.from_dict(base)
    caps = {p.id: p.cap for p in pools(before).values()}
    assert caps == {"default:M:O": 1, "small": 2}  # floor(0.25 × 8) − 1
    after = apply_changes(before, [{"term": "share", "pool": "default:M:O", "value": 0.5}])
    new = APPENDED_PREFIX + "default:M:O"
    assert [a.id for a in after.agreements] == ["small", new]
    assert [(e.pool, e.vacancies_before, e.claimed_before) for e in after.ledger] == [(new, 2, 1)]
    assert unit_pools(after) == [new] * 6 + ["small"] * 4  # exactly the default pool's units
    assert {p.id: p.cap for p in pools(after).values()} == {new: 3, "small": 2}  # floor(0.5 × 8) − 1
    assert total(base) == 3
    assert total(after.to_dict()) == 5


def test_share_then_mode_of_one_default_pool_edit_one_appended_agreement():
    base = v2(cs(8), us(8), ledger=[{"pool": "default:M:O:family", "vacancies_before": 3}])
    after = apply_changes(
        models.from_dict(base),
        [
            {"term": "share", "pool": "default:M:O:family", "value": 0.5},
            {"term": "mode", "pool": "default:M:O:family", "value": "choice"},
        ],
    )
    (a,) = after.agreements
    assert (a.id, a.share, a.mode, a.kinds, a.organisation) == (
        APPENDED_PREFIX + "default:M:O:family",
        0.5,
        "choice",
        ("family",),
        "O",
    )
    assert after.ledger[0].pool == a.id
    # choice, half of 3 + 8 vacancies: 5 claims; in rotation at a quarter: turns 4 and 8 (k = 4..11)
    assert total(base) == 2
    assert total(after.to_dict()) == 5


def test_v2_default_pool_agreement_matches_only_its_kind():
    units = [*us(4), *({"id": f"y{i}", "kind": "youth"} for i in range(4))]
    base = v2(cs(8, kinds=["family", "youth"]), units)
    after = apply_changes(models.from_dict(base), [{"term": "share", "pool": "default:M:O:youth", "value": 1.0}])
    assert unit_pools(after) == ["default:M:O:family"] * 4 + [APPENDED_PREFIX + "default:M:O:youth"] * 4
    assert total(base) == 2  # one turn of each kind's rotation
    assert total(after.to_dict()) == 5  # every youth unit is a turn now


def test_mode_binds():
    base = v2(cs(4), us(4), agreements=[{"id": "a", "municipality": "M", "share": 0.5, "mode": "rotation"}])
    # rotation: turns are vacancies 2 and 4; choice: any 2 of the 4 - the same count here, so rent decides
    base["units"][1]["rent_kr"] = base["units"][3]["rent_kr"] = 9000  # the turns are too dear
    assert total(base) == 0
    assert total(changed(base, {"term": "mode", "pool": "a", "value": "choice"})) == 2


def test_default_mode_and_default_share_bind():
    base = v2(cs(4), us(4))
    base["units"][3]["rent_kr"] = 9000  # the only turn at a quarter
    assert total(base) == 0
    assert total(changed(base, {"term": "default_mode", "value": "choice"})) == 1
    assert total(changed(base, {"term": "default_share", "value": 0.5})) == 1  # vacancy 2 is a turn too


def test_agreement_last_changes_nothing_first_takes_units():
    base = doc(
        cs(4, min_rooms=1),
        [*us(2, rooms=1), *({"id": f"b{i}"} for i in range(2))],
        agreements=[{"id": "small", "municipality": "M", "share": 1.0, "rooms": [1]}],
    )
    third = {"id": "half", "municipality": "M", "share": 0.5}
    last = apply_changes(models.from_dict(base), [{"term": "agreement", "value": third}])
    assert unit_pools(last) == ["small", "small", "half", "half"]
    first = apply_changes(models.from_dict(base), [{"term": "agreement", "value": third, "position": "first"}])
    assert unit_pools(first) == ["half"] * 4
    assert total(base) == 2  # small: both; default pool: floor(0.25 × 2) = 0
    assert total(last.to_dict()) == 3
    assert total(first.to_dict()) == 2


def test_agreement_that_would_drop_a_ledger_row_is_refused():
    base = doc(
        cs(2),
        us(4),
        agreements=[],
        ledger=[{"pool": "default:M:O", "vacancies_before": 4, "claimed_before": 1}],
    )
    change = {"term": "agreement", "value": {"id": "all", "municipality": "M", "share": 1.0}, "position": "last"}
    with pytest.raises(ScenarioError) as err:
        apply_changes(models.from_dict(base), [change], where="variant 'x' changes")
    (line,) = err.value.problems
    assert line.startswith("variant 'x' changes[0] (agreement all last): ")
    assert "takes all 4 units of pool 'default:M:O', whose ledger row would then apply to no unit" in line


# --------------------------------------------------------------------------- caps


def test_max_vulnerable_delta_value_star_area_and_unlimited():
    depts = [
        {"id": "D", "organisation": "O", "municipality": "M", "max_vulnerable": 1},
        {"id": "E", "organisation": "O", "municipality": "M", "area": "prevention", "max_vulnerable": 2},
        {"id": "F", "organisation": "O", "municipality": "M"},
    ]
    base = doc(
        cs(2, vulnerable=True),
        [{"id": "u0", "department": "D"}, {"id": "u1", "department": "D"}],
        departments=depts,
    )
    assert total(base) == 1
    assert total(changed(base, {"term": "max_vulnerable", "department": "D", "delta": 1})) == 2
    assert total(changed(base, {"term": "max_vulnerable", "department": "D", "delta": -5})) == 0  # never below 0
    inst = models.from_dict(base)
    every = apply_changes(inst, [{"term": "max_vulnerable", "department": "*", "delta": -1}])
    assert [d.max_vulnerable for d in every.departments] == [0, 1, None]  # unlimited stays unlimited
    area = apply_changes(inst, [{"term": "max_vulnerable", "department": "*", "area": "prevention", "value": 7}])
    assert [d.max_vulnerable for d in area.departments] == [1, 7, None]
    free = apply_changes(inst, [{"term": "max_vulnerable", "department": "D", "value": None}])
    assert free.departments[0].max_vulnerable is None


def subsidised(**tables) -> dict:
    """Two subsidy-eligible citizens who can afford their units only with the subsidy."""
    return doc(
        cs(2, subsidy_eligible=True, max_rent_kr=4000),
        us(2, rent_kr=5000),
        agreements=[{"id": "all", "municipality": "M", "share": 1.0}],
        **tables,
    )


def test_subsidy_frame_binds():
    base = subsidised()  # frame 0
    assert total(base) == 0
    assert total(changed(base, {"term": "subsidy_frame", "municipality": "M", "value": 1})) == 1
    assert total(changed(base, {"term": "subsidy_frame", "municipality": "*", "delta": 2})) == 2
    d = subsidised()
    d["municipalities"][0]["subsidy_frame"] = 1
    assert total(changed(d, {"term": "subsidy_frame", "municipality": "M", "delta": -3})) == 0


def test_grant_quota_binds():
    base = subsidised()
    base["municipalities"][0]["subsidy_frame"] = 2
    assert total(base) == 2  # unlimited quota
    assert total(changed(base, {"term": "grant_quota", "region": "R", "value": 1})) == 1
    limited = changed(base, {"term": "grant_quota", "region": "*", "value": 0})
    assert total(limited) == 0
    assert total(changed(limited, {"term": "grant_quota", "region": "R", "delta": 2})) == 2
    assert (
        models.from_dict(changed(limited, {"term": "grant_quota", "region": "R", "value": None})).regions[0].grant_quota
        is None
    )


def test_subsidy_amount_and_band_bind():
    base = subsidised()
    base["municipalities"][0]["subsidy_frame"] = 2
    base["units"][1]["rent_kr"] = 5500  # 5500 − 1414 = 4086 > 4000
    assert total(base) == 1
    assert total(changed(base, {"term": "subsidy_amount_kr", "value": 1500})) == 2
    assert total(changed(base, {"term": "subsidy_band_kr", "value": [5100, 6500]})) == 0


# --------------------------------------------------------------------------- identities and errors


def test_no_changes_is_the_base_and_changes_never_touch_the_base():
    inst = models.load(DEMO)
    assert apply_changes(inst, []) is inst
    before = inst.sha256
    out = apply_changes(inst, [{"term": "grant_quota", "region": "H", "delta": 1}])
    assert out.sha256 != before
    assert inst.sha256 == before == models.load(DEMO).sha256
    assert out.name == inst.name


def test_describe():
    assert describe({"term": "grant_quota", "region": "H", "delta": 5}) == "grant_quota H +5"
    assert describe({"term": "share", "pool": "p", "value": 0.5}) == "share p =0.5"
    assert describe({"term": "grant_quota", "region": "H", "value": None}) == "grant_quota H =unlimited"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"term": "shares", "pool": "all", "value": 1}, "unknown term 'shares'"),
        ({"term": "share", "pool": "nope", "value": 0.5}, "no agreement or default pool 'nope'"),
        ({"term": "share", "pool": "default:M:X", "value": 0.5}, "no agreement or default pool 'default:M:X'"),
        ({"term": "share", "pool": "all", "value": 1.5}, "a share is a number in [0, 1], got 1.5"),
        ({"term": "share", "value": 0.5}, "'pool' is missing"),
        ({"term": "share", "pool": "all"}, "'value' is missing"),
        ({"term": "share", "pool": "all", "value": 1, "extra": 1}, "key 'extra' is not one of term 'share'"),
        ({"term": "mode", "pool": "all", "value": "choice"}, "pool modes are of anvis/2"),
        ({"term": "default_mode", "value": "choice"}, "pool modes are of anvis/2"),
        ({"term": "max_vulnerable", "department": "Z", "delta": 1}, "no department 'Z' in the instance"),
        ({"term": "max_vulnerable", "department": "*", "area": "transformation", "delta": 1}, "in area"),
        ({"term": "max_vulnerable", "department": "D", "value": 1, "delta": 1}, "not both"),
        ({"term": "max_vulnerable", "department": "D", "delta": 0.5}, "'delta' is a whole number"),
        ({"term": "subsidy_frame", "municipality": "X", "value": 1}, "no municipality 'X'"),
        ({"term": "subsidy_frame", "municipality": "M", "value": None}, "'value' is a whole number ≥ 0, got None"),
        ({"term": "grant_quota", "region": "X", "value": 1}, "no region 'X'"),
        ({"term": "grant_quota", "region": "R", "value": -1}, "or null (unlimited), got -1"),
        ({"term": "subsidy_band_kr", "value": [6000, 5000]}, "low end 6000 is above its high end 5000"),
        ({"term": "subsidy_amount_kr", "value": "lots"}, "an amount is a number"),
        ({"term": "default_share", "value": -0.1}, "a share is a number in [0, 1]"),
        ({"term": "agreement", "value": {"id": "all", "municipality": "M", "share": 1}}, "exists already"),
        ({"term": "agreement", "value": {"id": "b", "municipality": "Q", "share": 1}}, "unknown municipality 'Q'"),
        ({"term": "agreement", "value": {"id": "b", "municipality": "M", "share": 1}, "position": 2}, "'position'"),
        ({"term": "agreement", "value": {"id": "b", "municipality": "M", "share": 1, "kinds": ["youth"]}}, "kinds"),
    ],
)
def test_errors_name_the_change(change, message):
    base = models.from_dict(doc(cs(1), us(1)))
    with pytest.raises(ScenarioError) as err:
        apply_changes(base, [{"term": "grant_quota", "region": "R", "value": 3}, change], where="v")
    (line,) = err.value.problems
    assert line.startswith("v[1]")
    assert message in line


def test_every_bad_change_is_listed():
    base = models.from_dict(doc(cs(1), us(1)))
    with pytest.raises(ScenarioError) as err:
        apply_changes(base, [{"term": "x"}, "share", {"term": "grant_quota", "region": "Q", "value": 1}])
    assert [p.split(" ")[0].rstrip(":") for p in err.value.problems] == ["changes[0]", "changes[1]", "changes[2]"]


def test_demo_issue_case_keeps_the_one_room_agreement():
    """The issue's demo: a third for a default pool, appended last, leaves 101-1room's units alone."""
    inst = models.load(DEMO)
    pool = "default:147:bo-147-1"
    out = apply_changes(inst, [{"term": "share", "pool": pool, "value": 0.3333}])
    before, after = unit_pools(inst), unit_pools(out)
    assert [b for b, a in zip(before, after, strict=True) if b != a] == [pool] * before.count(pool)
    assert {e.pool for e in out.ledger} == {APPENDED_PREFIX + pool, "default:259:bo-259-1"}
    json.dumps(out.to_dict())  # writable

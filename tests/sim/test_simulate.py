"""``anvis simulate``: the persistent world, weekly rounds through the ledger, declines, regimes, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import models
from optimizer.check import check_plan, format_violations
from optimizer.engine.data import ProblemData
from optimizer.engine.pairs import eligible_pairs
from optimizer.engine.solve import solve
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R
from optimizer.sim.calibration import RELET_RATE
from optimizer.sim.simulate import REGIMES, decline_draw, has_eligible_unit, simulate
from optimizer.sim.world import world

from conftest import doc

SMALL = {"seed": 3, "scale": 0.03, "weeks": 6, "decline_rate": 0.2}


def strip(report: dict) -> dict:
    """The report without its timings (the only part that may differ between equal runs)."""
    return {k: v for k, v in report.items() if k != "timings"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One small two-regime run with its ledgers kept: (report, ledger folder)."""
    folder = tmp_path_factory.mktemp("ledgers")
    report = simulate(**SMALL, db_dir=folder)
    yield report, folder
    L.dispose_all()


def committed_plans(db: str) -> list[tuple[models.Instance, dict]]:
    with L.open_engine(db).begin() as conn:
        rows = conn.execute(
            select(L.rounds.c.instance_json, L.rounds.c.plan_json)
            .where(L.rounds.c.status == "committed")
            .order_by(L.rounds.c.id)
        ).all()
    return [(models.from_dict(json.loads(i)), json.loads(p)) for i, p in rows]


def test_world_is_seeded_and_relets_eleven_percent_a_year():
    """The same seed gives the same stock and the same weekly vacancies and arrivals; another
    seed differs; over a year about 11 % of the units become vacant; citizen ids are unique."""
    a, b, c = world(seed=5, scale=0.05), world(seed=5, scale=0.05), world(seed=6, scale=0.05)
    assert np.array_equal(a.u_rent, b.u_rent) and a.departments == b.departments
    assert np.array_equal(a.vacancies(7), b.vacancies(7)) and a.arrivals(7) == b.arrivals(7)
    assert a.initial == b.initial
    assert not np.array_equal(a.vacancies(7), c.vacancies(7))
    year = sum(len(a.vacancies(w)) for w in range(1, 53))
    assert abs(year / a.n_units - RELET_RATE) < 0.01
    ids = [x["id"] for x in a.initial] + [x["id"] for w in range(1, 53) for x in a.arrivals(w)]
    assert len(ids) == len(set(ids))
    inflow = len(ids) - len(a.initial)
    assert 0.8 < inflow / (9_511 * 0.05 * a.inflow_share) < 1.2


def test_prefilter_never_drops_a_citizen_with_an_eligible_unit():
    """Citizens left out of a round by the pre-filter have no eligible pair (rules 2-8), so the
    optimum of the round is the same with and without them."""
    w = world(seed=2, scale=0.05)
    vac = w.vacancies(1)
    citizens = w.initial + w.arrivals(1)
    full = models.from_dict(w.instance("full", vac, citizens, []))
    pairs = eligible_pairs(ProblemData.build(full))
    with_pair = {full.citizens[i].id for i in np.unique(pairs.citizen).tolist()}
    keep = has_eligible_unit(full)
    kept = {c["id"] for c, k in zip(citizens, keep, strict=True) if k}
    assert with_pair == kept and len(kept) < len(citizens)
    part = models.from_dict(w.instance("part", vac, [c for c, k in zip(citizens, keep, strict=True) if k], []))
    a, b = solve(full), solve(part)
    assert a.housed_by_priority == b.housed_by_priority
    assert abs(a.total_score - b.total_score) < 1e-6


def test_same_seed_same_report_and_no_citizen_attributes():
    """Two runs with the same options give the same report (but timings), another seed gives
    another; the report holds aggregates only: no citizen id or attribute."""
    opts = {"seed": 1, "scale": 0.02, "weeks": 2, "decline_rate": 0.3}
    a, b = simulate(**opts), simulate(**opts)
    assert strip(a) == strip(b)
    c = simulate(**{**opts, "seed": 2})
    assert strip(c)["regimes"] != strip(a)["regimes"]
    text = json.dumps(a)
    for word in ('"c0-', '"c1-', "max_rent_kr", 'vulnerable": true', "barred_areas", "preferences"):
        assert word not in text


def test_ledger_holds_exactly_the_committed_accepted_assignments(run):
    """Per regime, the ledger's pool claims equal the sum of the committed plans' assignments and
    the report's claims; its pool vacancies equal all vacancies of the run; no declined citizen
    is in a committed plan, and every committed plan passes the independent checker."""
    report, folder = run
    for name, reg in report["regimes"].items():
        db = str(folder / f"anvis-sim-{name}.db")
        plans = committed_plans(db)
        assert len(plans) == SMALL["weeks"]
        assigned = sum(len(p["assignments"]) for _, p in plans)
        totals = R.ledger_totals(db)
        assert sum(v["claimed"] for v in totals["pool"].values()) == assigned == reg["totals"]["claims"]
        assert sum(v["vacancies"] for v in totals["pool"].values()) == reg["totals"]["vacancies"]
        assert reg["ledger"]["pool_claims"] == assigned
        declined = [d for _, p in plans for d in p.get("declined", [])]
        assert len(declined) == reg["totals"]["declined"] > 0
        for inst, plan in plans:
            out = {d["citizen"] for d in plan.get("declined", [])}
            assert not out & {a["citizen"] for a in plan["assignments"]}
            violations = check_plan(inst, plan)
            assert not violations, "\n".join(format_violations(violations))
        subsidised = sum(a["subsidised"] for _, p in plans for a in p["assignments"])
        assert (
            totals.get("municipality") is None
            or sum(v["claimed"] for v in totals["municipality"].values()) == subsidised
        )
        assert reg["subsidy"]["periods"][0]["subsidised"] == subsidised == reg["totals"]["subsidised"]


def test_regimes_see_the_same_world_and_extended_claims_at_least_as_many(run):
    """Both regimes get the identical weekly vacancies and arrivals; the extended agreement
    claims at least as many units as the quarter share and houses at least as many homeless
    citizens in family units under 3,500 kr."""
    report, _ = run
    q, e = report["regimes"]["quarter"], report["regimes"]["extended"]
    for key in ("vacancies", "family_vacancies", "cheap_family_vacancies", "arrivals"):
        assert [x[key] for x in q["weekly"]] == [x[key] for x in e["weekly"]]
    assert q["totals"]["vacancies"] == report["world"]["vacancies"]
    assert e["totals"]["claims"] >= q["totals"]["claims"] > 0
    assert e["share_of_relettings"] >= q["share_of_relettings"]
    assert e["homeless_housed_in_cheap_units"] >= q["homeless_housed_in_cheap_units"]
    assert e["agreements"] == 2 * report["world"]["municipalities"] and q["agreements"] == 0
    housed = sum(sum(x["housed"].values()) for x in q["weekly"])
    assert housed == q["totals"]["claims"] == q["totals"]["offers"] - q["totals"]["declined"]
    assert q["waiting"]["still_waiting"] == report["world"]["arrivals"] - housed


def test_declines_reduce_housed_and_never_count_as_claims():
    """With no declines nothing is declined; with half the offers declined fewer citizens are
    housed on the same world; when every offer is declined nothing is claimed, yet every
    vacancy still counts in the ledger's pools."""
    opts = {"seed": 4, "scale": 0.03, "weeks": 4, "regimes": ["extended"]}
    none, half, every = (simulate(**opts, decline_rate=r)["regimes"]["extended"] for r in (0.0, 0.5, 1.0))
    assert none["totals"]["declined"] == 0 and half["totals"]["declined"] > 0
    assert half["totals"]["claims"] < none["totals"]["claims"]
    assert every["totals"]["claims"] == 0 and every["totals"]["declined"] == every["totals"]["offers"] > 0
    assert every["ledger"]["pool_claims"] == 0 and every["ledger"]["pool_vacancies"] == every["totals"]["vacancies"]
    assert decline_draw(4, 2, "c0-1") == decline_draw(4, 2, "c0-1") != decline_draw(4, 3, "c0-1")


def test_decline_offers_keeps_the_declined_pair_out_of_the_ledger(tmp_path):
    """Declining one of two offers in a solved round leaves a plan that passes the checker (the
    declined citizen unassigned with code 'declined'); the commit adds one claim, one
    subsidised assignment and one vulnerable placement, and both vacancies. Declining a citizen
    without an offer, or after the commit, is refused."""
    db = str(tmp_path / "l.db")
    d = doc(
        [{"id": f"c{i}", "max_rent_kr": 4000, "subsidy_eligible": True, "vulnerable": True} for i in range(2)],
        [{"id": f"u{i}", "rent_kr": 5000} for i in range(2)],
        municipalities=[{"id": "M", "name": "M", "region": "R", "subsidy_frame": 5}],
    )
    R.open_round(db, models.from_dict(d))
    plan, _ = R.solve_round(db)
    assert len(plan.assignments) == 2
    with pytest.raises(L.LedgerError, match="no offer to decline"):
        R.decline_offers(db, ["nobody"])
    gone = plan.assignments[0]
    declined = R.decline_offers(db, [gone.citizen])
    assert R.round_plan(db)[1] == declined  # as stored
    after = declined.to_dict()
    assert [a["citizen"] for a in after["assignments"]] == [plan.assignments[1].citizen]
    assert after["declined"][0]["unit"] == gone.unit
    assert [u["code"] for u in after["unassigned"]] == ["declined"]
    inst = R.round_instance(db)
    assert check_plan(inst, after) == [] and check_plan(inst, declined) == []
    R.commit_round(db, by="t")
    t = R.ledger_totals(db)
    assert t["pool"]["all"] == {"vacancies": 2, "claimed": 1}
    assert t["municipality"]["M"]["claimed"] == 1 and t["region"]["R"]["claimed"] == 1
    assert t["department"]["D"]["claimed"] == 1
    with pytest.raises(L.LedgerError, match="not solved"):
        R.decline_offers(db, [plan.assignments[1].citizen], 1)
    L.dispose_all()


def test_more_than_52_weeks_starts_a_new_period(tmp_path):
    """A 54-week run resets frames, quotas and caps before week 53 in the ledger (recorded in the
    history after round 52): the subsidy use is reported per period, and the ledger's frame use
    at the end is that of weeks 53-54 only, while the pools count all 54 weeks."""
    rep = simulate(
        seed=0, scale=0.04, weeks=54, decline_rate=0.0, regimes=["extended"], municipalities=("101",), db_dir=tmp_path
    )
    reg = rep["regimes"]["extended"]
    p1, p2 = reg["subsidy"]["periods"]
    assert (p1["weeks"], p2["weeks"]) == ([1, 52], [53, 54])
    assert p1["subsidised"] > p2["subsidised"]
    assert p1["subsidised"] + p2["subsidised"] == reg["totals"]["subsidised"]
    assert reg["ledger"]["frames_used_this_period"] == p2["subsidised"]
    assert reg["ledger"]["pool_claims"] == reg["totals"]["claims"]
    hist = R.history(str(tmp_path / "anvis-sim-extended.db"))
    assert [h["status"] for h in hist].count("new_period") == 1
    assert hist[52]["status"] == "new_period" and hist[51]["name"] == "sim-extended-w052"
    L.dispose_all()


def test_jobs_do_not_change_the_report():
    """Running the regimes in two processes gives the same report as one after the other."""
    opts = {"seed": 7, "scale": 0.02, "weeks": 1, "decline_rate": 0.1}
    seen = []
    a = simulate(**opts, jobs=2, progress=lambda done, total, label: seen.append((done, total)))
    assert strip(a) == strip(simulate(**opts))
    assert seen[-1] == (2, 2)


def test_cli_simulate_writes_the_report_and_prints_the_comparison(tmp_path, monkeypatch):
    """``anvis simulate`` exits 0, writes the JSON report with both default regimes, and prints
    the comparison table beside the national figures (11.6 %, the 2,000 target)."""
    from optimizer.cli import main

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    res = runner.invoke(main, ["simulate", "--weeks", "2", "--scale", "0.02", "--jobs", "1", "-q", "-o", "r.json"])
    assert res.exit_code == 0, res.output
    assert res.output == ""
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["format"] == "anvis-simulation/1" and list(rep["regimes"]) == ["quarter", "extended"]
    assert rep["options"]["weeks"] == 2 and len(rep["regimes"]["quarter"]["weekly"]) == 2
    res = runner.invoke(
        main,
        [
            "simulate",
            "--weeks",
            "1",
            "--scale",
            "0.02",
            "--jobs",
            "1",
            "--regime",
            "drawn",
            "--regime",
            "quarter",
            "--db-dir",
            "dbs",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "11.6 %" in res.output and "target 40" in res.output and "drawn" in res.output
    assert (tmp_path / "dbs" / "anvis-sim-drawn.db").exists()
    L.dispose_all()


@pytest.mark.parametrize(
    "args",
    [
        ["--decline-rate", "1.5"],
        ["--regime", "bogus"],
        ["--weeks", "0"],
        ["--scale", "0"],
        ["--jobs", "0"],
    ],
)
def test_cli_simulate_bad_options_exit_2(args):
    """Out-of-range or unknown options are refused by the CLI with exit code 2, nothing run."""
    from optimizer.cli import main

    res = CliRunner().invoke(main, ["simulate", *args])
    assert res.exit_code == 2, res.output


def test_cli_simulate_refuses_existing_ledgers_and_lists_every_regime(tmp_path):
    """A --db-dir that already holds a ledger of the run exits 2 with one line; the CLI's regime
    choices are exactly the library's regimes."""
    from optimizer.cli import main

    (tmp_path / "anvis-sim-quarter.db").write_text("")
    res = CliRunner().invoke(main, ["simulate", "--weeks", "1", "--scale", "0.02", "--db-dir", str(tmp_path)])
    assert res.exit_code == 2 and "exists" in res.output and res.output.count("\n") == 1
    # read from the command's own --regime option, not from a private name of the CLI module
    (choices,) = [p.type.choices for p in main.commands["simulate"].params if "--regime" in p.opts]
    assert tuple(REGIMES) == tuple(choices)


def eligible_citizens(inst: models.Instance) -> set[str]:
    """The citizens with at least one pair in the engine's eligible pairs (with scores)."""
    pairs = eligible_pairs(ProblemData.build(inst))
    return {inst.citizens[i].id for i in np.unique(pairs.citizen).tolist()}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    week=st.integers(1, 104),
    municipalities=st.sampled_from([None, ("101",), ("851", "860"), ("147", "259", "461")]),
    amount=st.integers(0, 3_000),
    low=st.integers(2_000, 6_000),
    width=st.integers(0, 4_000),
)
def test_round_filter_is_the_engines_eligibility_on_random_worlds(seed, week, municipalities, amount, low, width):
    """On random worlds, weeks and subsidy parameters, the citizens a round keeps are exactly
    those with an eligible pair in the engine (rules 2-8, excluded afdelinger included), read
    with the instance's own subsidy amount and band."""
    w = world(seed=seed, scale=0.02 if municipalities is None else 0.1, municipalities=municipalities)
    d = w.instance("probe", w.vacancies(week), w.initial + w.arrivals(week), w.agreements)
    d["parameters"] = {**d["parameters"], "subsidy_amount_kr": amount, "subsidy_band_kr": [low, low + width]}
    inst = models.from_dict(d)
    keep = has_eligible_unit(inst)
    assert {c.id for c, k in zip(inst.citizens, keep, strict=True) if k} == eligible_citizens(inst)


@pytest.mark.parametrize(
    ("parameters", "kept"),
    [
        ({}, True),  # 5,000 kr is in the default band 4,500-6,500 and 5,000 - 1,414 <= 4,000
        ({"subsidy_amount_kr": 900}, False),  # 5,000 - 900 > 4,000
        ({"subsidy_band_kr": [5_500, 6_500]}, False),  # 5,000 kr is outside the band
        ({"subsidy_amount_kr": 2_000, "subsidy_band_kr": [4_900, 5_100]}, True),
    ],
)
def test_round_filter_reads_the_subsidy_from_the_instance(parameters, kept):
    """Whether a citizen who can only afford a unit with the subsidy is kept in a round depends
    on the instance's subsidy amount and band, never on the generator's constants."""
    d = doc([{"id": "c", "max_rent_kr": 4000, "subsidy_eligible": True}], [{"id": "u", "rent_kr": 5000}])
    d["parameters"] = parameters
    inst = models.from_dict(d)
    assert has_eligible_unit(inst).tolist() == [kept]
    assert (eligible_citizens(inst) == {"c"}) is kept


def test_round_filter_leaves_out_a_citizen_whose_only_unit_is_in_an_excluded_afdeling():
    """Rule 7's excluded afdelinger count: a citizen whose every fitting unit is in an afdeling
    they excluded has no eligible pair and is left out; the other citizen is kept."""
    d = doc(
        [{"id": "a", "excluded_departments": ["D"]}, {"id": "b"}],
        [{"id": "u1"}, {"id": "u2", "department": "E", "rooms": 5}],
        departments=[
            {"id": "D", "organisation": "O", "municipality": "M"},
            {"id": "E", "organisation": "O", "municipality": "M"},
        ],
    )
    d["citizens"][0]["max_rooms"] = 2
    inst = models.from_dict(d)
    assert has_eligible_unit(inst).tolist() == [False, True]
    assert eligible_citizens(inst) == {"b"}

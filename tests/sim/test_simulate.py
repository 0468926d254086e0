"""``anvis simulate``: the persistent world, weekly rounds through the ledger, declines, regimes, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select

import models
from optimizer.check import check_plan, format_violations
from optimizer.engine.data import ProblemData
from optimizer.engine.pairs import eligible_pairs
from optimizer.engine.solve import solve
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R
from optimizer.sim.generate import RELET_RATE, world
from optimizer.sim.simulate import REGIMES, _may_take, decline_draw, simulate

from conftest import doc

SMALL = dict(seed=3, scale=0.03, weeks=6, decline_rate=0.2)


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
    assert 0.8 < inflow / (9_511 * 0.05 * a._inflow_share) < 1.2


def test_prefilter_never_drops_a_citizen_with_an_eligible_unit():
    """Citizens left out of a round by the pre-filter have no eligible pair (rules 2-8), so the
    optimum of the round is the same with and without them."""
    w = world(seed=2, scale=0.05)
    vac = w.vacancies(1)
    citizens = w.initial + w.arrivals(1)
    full = models.from_dict(w.instance("full", vac, citizens, []))
    pairs = eligible_pairs(ProblemData.build(full))
    with_pair = {full.citizens[i].id for i in np.unique(pairs.citizen).tolist()}
    keep = _may_take(w, vac, citizens)
    kept = {c["id"] for c, k in zip(citizens, keep) if k}
    assert with_pair <= kept and len(kept) < len(citizens)
    part = models.from_dict(w.instance("part", vac, [c for c, k in zip(citizens, keep) if k], []))
    a, b = solve(full), solve(part)
    assert a.housed_by_priority == b.housed_by_priority
    assert abs(a.total_score - b.total_score) < 1e-6


def test_same_seed_same_report_and_no_citizen_attributes():
    """Two runs with the same options give the same report (but timings), another seed gives
    another; the report holds aggregates only: no citizen id or attribute."""
    opts = dict(seed=1, scale=0.02, weeks=2, decline_rate=0.3)
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
    opts = dict(seed=4, scale=0.03, weeks=4, regimes=["extended"])
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
    after = R.decline_offers(db, [gone.citizen])
    assert [a["citizen"] for a in after["assignments"]] == [plan.assignments[1].citizen]
    assert after["declined"][0]["unit"] == gone.unit
    assert [u["code"] for u in after["unassigned"]] == ["declined"]
    inst = R.round_instance(db)
    assert check_plan(inst, after) == []
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
    opts = dict(seed=7, scale=0.02, weeks=1, decline_rate=0.1)
    seen = []
    a = simulate(**opts, jobs=2, progress=lambda done, total, label: seen.append((done, total)))
    assert strip(a) == strip(simulate(**opts))
    assert seen[-1] == (2, 2)


def test_cli_simulate_writes_the_report_and_prints_the_comparison(tmp_path, monkeypatch):
    """``anvis simulate`` exits 0, writes the JSON report with both default regimes, and prints
    the comparison table beside the national figures (11.6 %, the 2,000 target)."""
    from optimizer.cli.main import main

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
    from optimizer.cli.main import main

    res = CliRunner().invoke(main, ["simulate", *args])
    assert res.exit_code == 2, res.output


def test_cli_simulate_refuses_existing_ledgers_and_lists_every_regime(tmp_path):
    """A --db-dir that already holds a ledger of the run exits 2 with one line; the CLI's regime
    choices are exactly the library's regimes."""
    from optimizer.cli.main import _SIM_REGIMES, main

    (tmp_path / "anvis-sim-quarter.db").write_text("")
    res = CliRunner().invoke(main, ["simulate", "--weeks", "1", "--scale", "0.02", "--db-dir", str(tmp_path)])
    assert res.exit_code == 2 and "exists" in res.output and res.output.count("\n") == 1
    assert tuple(REGIMES) == _SIM_REGIMES

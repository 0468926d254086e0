"""Prices of binding limits (optimizer.scenario.prices): each gain is the difference of two independent solves."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import models
from models.pools import pools
from optimizer.cli import main
from optimizer.scenario.prices import Limit, binding_limits, move_limit, prices

from conftest import doc, solved

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "instances" / "demo-week.json"


def objective(document: dict) -> dict:
    return solved(document)["objective"]


def diff(after: dict, before: dict) -> dict:
    return {
        "housed_by_priority": {p: after["housed_by_priority"][p] - n for p, n in before["housed_by_priority"].items()},
        "total_score": pytest.approx(after["total_score"] - before["total_score"], abs=1e-9),
    }


def frame_instance(frame: int) -> dict:
    """Three subsidy-eligible citizens (priorities 1, 2, 2) who can afford their units only with a subsidy."""
    citizens = [
        {"id": "a", "priority": 1, "subsidy_eligible": True, "max_rent_kr": 4000},
        {"id": "b", "priority": 2, "subsidy_eligible": True, "max_rent_kr": 4000},
        {"id": "c", "priority": 2, "subsidy_eligible": True, "max_rent_kr": 4000},
    ]
    d = doc(citizens, [{"id": f"u{i}", "rent_kr": 5000} for i in range(3)])
    d["municipalities"][0]["subsidy_frame"] = frame
    return d


def test_a_binding_frame_is_priced_by_two_independent_solves():
    out = prices(models.from_dict(frame_instance(1)))
    (row,) = [r for r in out["limits"] if r["kind"] == "frame"]
    assert (row["id"], row["limit"], row["used"]) == ("M", 1, 1)
    base = objective(frame_instance(1))
    assert out["objective"] == base
    assert row["gain_plus_one"] == diff(objective(frame_instance(2)), base)
    assert row["gain_plus_one"]["housed_by_priority"] == {"1": 0, "2": 1}
    assert row["gain_minus_one"] == diff(objective(frame_instance(0)), base)
    assert row["gain_minus_one"]["housed_by_priority"] == {"1": -1, "2": 0}
    assert row["plus_one"] == "subsidy_frame of 'M': 1 → 2"


def test_a_zero_limit_cannot_move_down():
    out = prices(models.from_dict(frame_instance(0)))
    (row,) = [r for r in out["limits"] if r["kind"] == "frame"]
    assert row["gain_minus_one"] is None and row["minus_one"] is None
    assert row["gain_plus_one"]["housed_by_priority"] == {"1": 1, "2": 0}


def test_every_demo_price_equals_two_solves_of_the_whole_instance():
    """The block re-solve (one region) gives the gain of the whole instance, for every kind of limit."""
    inst = models.load(DEMO)
    out = prices(inst)
    base = objective(inst.to_dict())
    assert out["objective"] == base
    kinds = {r["kind"] for r in out["limits"]}
    assert {"frame", "pool", "department"} <= kinds
    for row in out["limits"]:
        lim = Limit(row["kind"], row["id"], row["limit"], row["used"], "")
        for step, key in ((1, "gain_plus_one"), (-1, "gain_minus_one")):
            moved = move_limit(inst, lim, step)
            if moved is None:
                assert row[key] is None
                continue
            whole, how = moved
            assert how == row["plus_one" if step > 0 else "minus_one"]
            assert row[key] == diff(objective(whole.to_dict()), base), (row["kind"], row["id"], step)
    assert len(inst.regions) == 2  # blocks were re-solved apart, each gain still that of the whole


def test_pool_caps_move_by_exactly_one():
    inst = models.load(DEMO)
    plan = models.Plan.from_dict(solved(inst.to_dict()))
    pool_limits = [lim for lim in binding_limits(inst, plan) if lim.kind == "pool"]
    assert pool_limits
    for lim in pool_limits:
        for step in (1, -1):
            moved = move_limit(inst, lim, step)
            if moved is None:
                assert lim.limit + step < 0
                continue
            caps = {p.id: p.cap for p in pools(moved[0]).values()}
            assert caps[lim.id] == lim.limit + step
            before = {p.id: p.cap for p in pools(inst).values()}
            assert {k: v for k, v in caps.items() if k != lim.id} == {k: v for k, v in before.items() if k != lim.id}


def rotation(share: float) -> dict:
    d = doc([{"id": f"c{i}", "priority": 1 + i % 2} for i in range(8)], [{"id": f"u{i}"} for i in range(8)])
    d["format"] = "anvis/2"
    d["agreements"] = [{"id": "r", "municipality": "M", "share": share, "mode": "rotation"}]
    return d


def test_a_rotation_pool_moves_to_the_nearest_share_with_one_turn_more_or_fewer():
    out = prices(models.from_dict(rotation(0.25)))
    (row,) = [r for r in out["limits"] if r["kind"] == "pool"]
    assert (row["id"], row["limit"], row["used"]) == ("r", 2, 2)  # turns 4 and 8
    assert row["plus_one"] == "share of pool 'r': 0.25 → 0.375 (turns 2 → 3)"
    assert row["minus_one"] == "share of pool 'r': 0.25 → 0.125 (turns 2 → 1)"
    base = objective(rotation(0.25))
    assert row["gain_plus_one"] == diff(objective(rotation(0.375)), base)
    assert row["gain_minus_one"] == diff(objective(rotation(0.125)), base)
    assert sum(row["gain_plus_one"]["housed_by_priority"].values()) == 1


def test_sorted_by_value_most_valuable_first():
    out = prices(models.load(DEMO))
    keys = [
        (*(-g["housed_by_priority"][p] for p in ("1", "2", "3")), -g["total_score"])
        for g in (r["gain_plus_one"] for r in out["limits"])
    ]
    assert keys == sorted(keys)
    assert out["limits"][0]["kind"] == "frame"


def test_weighted_objective_gains_carry_the_value():
    d = frame_instance(1)
    d["parameters"] = {"objective": "weighted", "priority_weights": {"1": 100, "2": 10}}
    out = prices(models.from_dict(d))
    (row,) = [r for r in out["limits"] if r["kind"] == "frame"]
    up = copy.deepcopy(d)
    up["municipalities"][0]["subsidy_frame"] = 2
    assert row["gain_plus_one"]["value"] == pytest.approx(
        solved(up)["objective"]["value"] - solved(d)["objective"]["value"]
    )


def test_prices_command(tmp_path):
    path = tmp_path / "f.json"
    path.write_text(json.dumps(frame_instance(1)))
    res = CliRunner().invoke(
        main, ["prices", str(path), "-o", str(tmp_path / "p.json"), "--html", str(tmp_path / "p.html")]
    )
    assert res.exit_code == 0, res.output
    page = (tmp_path / "p.html").read_text()
    assert "<td>housed p1 +0, p2 +1; score +23</td><td>subsidy_frame of &#39;M&#39;: 1 → 2</td>" in page
    doc_ = json.loads((tmp_path / "p.json").read_text())
    assert doc_["format"] == "anvis-prices/1" and doc_["limits"][0]["kind"] == "frame"
    assert (
        res.output.splitlines()[0]
        == "frame M (1/1): +1 housed p1 +0, p2 +1; score +23; -1 housed p1 -1, p2 +0; score -23"
    )
    again = CliRunner().invoke(main, ["prices", str(path), "-q", "-o", str(tmp_path / "q.json")])
    assert again.exit_code == 0 and again.output == ""
    assert (tmp_path / "q.json").read_bytes() == (tmp_path / "p.json").read_bytes()
    refused = CliRunner().invoke(main, ["prices", str(path), "-o", str(path)])
    assert refused.exit_code == 2 and "it is the input" in refused.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "anvis/1", "citizens": 1}')
    res = CliRunner().invoke(main, ["prices", str(bad), "-o", str(tmp_path / "b.json")])
    assert res.exit_code == 2 and not (tmp_path / "b.json").exists()


def test_a_full_limit_no_pair_can_use_binds_nothing():
    """A mixed-city cap of 0 binds only where a vulnerable citizen fits; a frame of 0 only where a subsidy is needed."""
    depts = [
        {"id": "D", "organisation": "O", "municipality": "M", "max_vulnerable": 0},
        {"id": "E", "organisation": "O", "municipality": "M", "max_vulnerable": 0},
    ]
    citizens = [{"id": "v", "vulnerable": True, "max_rent_kr": 5000}, {"id": "w", "max_rent_kr": 2000}]
    units = [{"id": "d1", "department": "D"}, {"id": "e1", "department": "E", "rent_kr": 9000}]
    inst = models.from_dict(doc(citizens, units, departments=depts))
    plan = models.Plan.from_dict(solved(inst.to_dict()))
    limits = {(lim.kind, lim.id) for lim in binding_limits(inst, plan)}
    assert ("department", "D") in limits  # v fits d1 but for the cap
    assert ("department", "E") not in limits  # e1 is too dear for anyone: its cap limits nothing
    assert ("frame", "M") not in limits  # frame 0, but nobody needs a subsidy
    row = next(r for r in prices(inst)["limits"] if r["id"] == "D")
    assert row["gain_plus_one"]["housed_by_priority"] == {"1": 1}


def test_estimates_are_lp_duals_labelled_and_the_same_slope_both_ways():
    out = prices(models.from_dict(frame_instance(1)), max_exact=0)
    (row,) = [r for r in out["limits"] if r["kind"] == "frame"]
    assert row["estimate"] == "lp_dual" and row["plus_one"] == "estimate: the LP dual of its row"
    # the relaxation housing priority 2 alone is held by the frame: one more frame, one more
    assert row["gain_plus_one"]["housed_by_priority"]["2"] == 1.0
    minus = row["gain_minus_one"]
    assert minus["housed_by_priority"] == {p: -n for p, n in row["gain_plus_one"]["housed_by_priority"].items()}
    assert minus["total_score"] == -row["gain_plus_one"]["total_score"]


def test_max_exact_resolves_the_first_limits_and_estimates_the_rest():
    inst = models.load(DEMO)
    exact = prices(inst)
    some = prices(inst, max_exact=2)
    assert {(r["kind"], r["id"]) for r in some["limits"]} == {(r["kind"], r["id"]) for r in exact["limits"]}
    resolved = [r for r in some["limits"] if "estimate" not in r]
    estimated = [r for r in some["limits"] if "estimate" in r]
    assert len(resolved) == 2 and len(estimated) == len(exact["limits"]) - 2
    by_id = {(r["kind"], r["id"]): r for r in exact["limits"]}
    assert all(r == by_id[(r["kind"], r["id"])] for r in resolved)
    assert all(r["estimate"] == "lp_dual" for r in estimated)
    assert not any("estimate" in r for r in exact["limits"])
    with pytest.raises(ValueError, match="max_exact"):
        prices(inst, max_exact=-1)


def test_cli_estimate_only(tmp_path):
    out = tmp_path / "p.json"
    res = CliRunner().invoke(main, ["prices", str(DEMO), "-o", str(out), "--estimate-only"])
    assert res.exit_code == 0, res.output
    assert "(estimate: LP dual)" in res.output
    assert all(r["estimate"] == "lp_dual" for r in json.loads(out.read_text())["limits"])
    res = CliRunner().invoke(
        main, ["prices", str(DEMO), "-o", str(tmp_path / "q.json"), "--estimate-only", "--max-exact", "2"]
    )
    assert res.exit_code == 2 and not (tmp_path / "q.json").exists()


def test_scenario_prices_the_base_in_the_results_and_the_page(tmp_path):
    scen = ROOT / "instances" / "demo-scenario.toml"
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    res = CliRunner().invoke(main, ["scenario", str(scen), "-o", str(out), "--html", str(page), "--prices", "-q"])
    assert res.exit_code == 0, res.output
    got = json.loads(out.read_text())["prices"]
    want = prices(models.load(DEMO))
    assert got == json.loads(json.dumps(want))
    html = page.read_text()
    assert "Prices of the base" in html
    assert html.count("<tr><td>") == len(want["limits"])  # one row a limit (the comparison rows are laid out apart)
    plain = CliRunner().invoke(main, ["scenario", str(scen), "-o", str(tmp_path / "s.json"), "-q"])
    assert plain.exit_code == 0 and "prices" not in json.loads((tmp_path / "s.json").read_text())


def test_scenario_prices_refused_for_a_year(tmp_path):
    path = tmp_path / "y.toml"
    path.write_text('horizon = "year"\n[year]\nweeks = 1\nseeds = [0]\nscale = 0.01\n')
    res = CliRunner().invoke(main, ["scenario", str(path), "-o", str(tmp_path / "y.json"), "--prices"])
    assert res.exit_code == 2 and "--prices" in res.output
    assert not (tmp_path / "y.json").exists()


# --------------------------------------------------------------------------- warm starts


def uses(data, chosen, lim: Limit) -> int:
    """How many of the chosen pairs (indices into ``data``) use the limit."""
    import numpy as np

    def at(items, id_):
        return next(i for i, item in enumerate(items) if item.id == id_)

    unit = chosen.unit
    if lim.kind == "frame":
        return int((chosen.subsidised & (data.u_muni[unit] == at(data.inst.municipalities, lim.id))).sum())
    if lim.kind == "quota":
        return int((chosen.subsidised & (data.u_region[unit] == at(data.inst.regions, lim.id))).sum())
    if lim.kind == "department":
        dept = at(data.inst.departments, lim.id)
        return int((data.c_vulnerable[chosen.citizen] & (data.u_dept[unit] == dept)).sum())
    return int(np.sum(data.u_pool[unit] == at(data.pool_list, lim.id)))


def minus_one_cases():
    d = frame_instance(2)
    d["units"].append({"id": "u3", "department": "D", "rooms": 2, "rent_kr": 3000})
    d["citizens"].append({"id": "e", "municipality": "M", "priority": 3, "max_rent_kr": 5000})
    return [pytest.param(DEMO, id="demo"), pytest.param(d, id="frame"), pytest.param(rotation(0.25), id="rotation")]


@pytest.mark.parametrize("source", minus_one_cases())
def test_the_minus_one_start_uses_one_fewer_and_is_feasible_as_it_is(source):
    """For every binding limit but a rotation pool's: the base optimum less its least valuable
    assignment of the limit, every pair of it a column of the moved block, no row broken (the
    engine's repair leaves it as it is). A rotation pool's start is the base optimum."""
    import numpy as np

    from optimizer.engine.data import ProblemData
    from optimizer.engine.model import build
    from optimizer.engine.overrides import apply_overrides
    from optimizer.engine.pairs import eligible_pairs
    from optimizer.engine.solve import solve
    from optimizer.engine.start import chosen_start, start_columns
    from optimizer.plan.build import make_plan
    from optimizer.scenario.prices import minus_one_start

    inst = models.load(source) if isinstance(source, Path) else models.from_dict(source)
    base = solve(inst)
    limits = binding_limits(inst, make_plan(base))
    assert limits
    for lim in limits:
        start = minus_one_start(base, lim)
        moved = move_limit(inst, lim, -1)
        if moved is None:
            continue
        full = ProblemData.build(moved[0])
        fixed = apply_overrides(full, eligible_pairs(full))
        milp = build(fixed.data, fixed.pairs)
        x = start_columns(fixed.data, milp, start)
        assert np.all(milp.A @ x.astype(float) <= milp.row_hi)
        kept = chosen_start(fixed.data, milp.pairs.take(x.astype(bool)))
        if pools(inst).get(lim.id) is not None and pools(inst)[lim.id].mode == "rotation":
            assert start == base.start()
            continue
        assert kept == start, (lim, start - kept)  # nothing repaired away
        (gone,) = base.start() - start
        assert uses(base.data, base.chosen, lim) == lim.used
        citizens = [c.id for c in inst.citizens]
        units = [u.id for u in inst.units]
        left = base.chosen.take(
            np.array(
                [(citizens[c], units[u]) != gone for c, u in zip(base.chosen.citizen, base.chosen.unit, strict=True)]
            )
        )
        assert uses(base.data, left, lim) == lim.used - 1, lim


def test_the_minus_one_start_removes_the_least_valuable_pair_of_the_limit():
    """A frame of 2 used by priorities 1 and 2: the priority-2 citizen's pair goes."""
    from optimizer.engine.solve import solve
    from optimizer.scenario.prices import minus_one_start

    inst = models.from_dict(frame_instance(2))
    base = solve(inst)
    (lim,) = [x for x in binding_limits(inst, make_plan_of(base)) if x.kind == "frame"]
    (gone,) = base.start() - minus_one_start(base, lim)
    assert gone[0] in ("b", "c")


def make_plan_of(result):
    from optimizer.plan.build import make_plan

    return make_plan(result)


@pytest.mark.parametrize("source", minus_one_cases())
def test_prices_the_same_with_and_without_warm_starts(source):
    inst = models.load(source) if isinstance(source, Path) else models.from_dict(source)
    assert prices(inst, warm_start=True) == prices(inst, warm_start=False)


def test_prices_command_without_warm_start(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert CliRunner().invoke(main, ["prices", str(DEMO), "-q", "-o", str(a)]).exit_code == 0
    assert CliRunner().invoke(main, ["prices", str(DEMO), "-q", "-o", str(b), "--no-warm-start"]).exit_code == 0
    assert a.read_bytes() == b.read_bytes()

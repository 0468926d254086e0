"""anvis/2 in the engine (FORMAT.md §6): rotation, choice, subsidy kinds, passed units, homeless."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import models
from optimizer.check import check_plan, format_violations, rotation_units
from optimizer.cli import main
from optimizer.engine.data import ProblemData
from optimizer.engine.pairs import NOT_A_TURN, candidates, failure_codes
from optimizer.engine.solve import solve
from optimizer.explain.citizen import explain
from optimizer.plan.build import make_plan

from conftest import EXAMPLES, doc, needs_shared, pairs_of, solved

E5 = EXAMPLES / "e5-rotation.json"
BACKENDS = ["auto", "highs", "cpsat", "cbc"]


def expected() -> dict:
    return json.loads((EXAMPLES / "expected.json").read_text())["e5-rotation"]


def v2(citizens, units, **tables) -> dict:
    """A one-municipality anvis/2 document (see ``conftest.doc``): one rotation default pool per kind."""
    d = doc(citizens, units, **{"agreements": [], **tables})
    d["format"] = "anvis/2"
    return d


# --------------------------------------------------------------------------- the worked example


@needs_shared
@pytest.mark.parametrize("backend", BACKENDS)
def test_e5_reaches_expected_json(backend):
    """e5 by every backend: the optimum, passed units and homeless count of expected.json, checked."""
    want = expected()
    plan = solved(json.loads(E5.read_text()), backend=backend)
    assert plan["status"] == "optimal"
    assert plan["objective"]["housed_by_priority"] == want["housed_by_priority"]
    assert plan["objective"]["total_score"] == pytest.approx(want["total_score"], abs=1e-6)
    assert plan["passed"] == want["passed"]
    assert plan["homeless_housed_under_3500_kr"] == want["homeless_housed_under_3500_kr"]
    caps = {p["id"]: p["cap"] for p in plan["usage"]["pools"]}
    assert {p: caps[p] for p in want["pool_caps"]} == want["pool_caps"]
    # the README's plan: a in k1 (subsidised), b in f7, c in f5, d in k2
    assert pairs_of(plan) == {("a", "k1"), ("b", "f7"), ("c", "f5"), ("d", "k2")}


@needs_shared
def test_e5_turns_and_offered_units():
    """The engine's turns (and the checker's, derived on its own) are those of expected.json."""
    want = expected()
    inst = models.load(E5)
    data = ProblemData.build(inst)
    ids = [u.id for u in inst.units]
    for pool, units in want["turns"].items():
        i = [p.id for p in data.pool_list].index(pool)
        in_pool = np.flatnonzero(data.u_pool == i)
        assert data.pool_rotation[i]
        turns = [ids[u] for u in in_pool.tolist() if data.u_turn[u] and not inst.units[u].offered]
        assert turns == units, pool
    assert [ids[u] for u in np.flatnonzero(data.u_turn).tolist() if inst.units[u].offered] == want["offered"]
    by_checker = rotation_units(inst)
    assert sorted(u for u, (k, may) in by_checker.items() if may) == sorted(
        [u for units in want["turns"].values() for u in units] + want["offered"]
    )
    # vacancy numbers of the README: f2 → 3, f4 → 4, f3 → 5, f6 → 6, f1 → 7, f5 → 8
    k = dict(zip(ids, data.u_vacancy.tolist(), strict=True))
    assert [k[u] for u in ("f2", "f4", "f3", "f6", "f1", "f5", "y1", "y2", "k1", "k2", "k3", "f7")] == [
        3, 4, 5, 6, 7, 8, 1, 2, 4, 1, 0, 0
    ]  # fmt: skip


@needs_shared
def test_e5_through_the_cli(tmp_path):
    """``anvis solve`` then ``anvis check`` on e5; ``check`` refuses a plan that assigns a non-turn."""
    plan_path = tmp_path / "e5.plan.json"
    runner = CliRunner()
    result = runner.invoke(main, ["solve", str(E5), "-o", str(plan_path), "-q"])
    assert result.exit_code == 0, result.output
    plan = json.loads(plan_path.read_text())
    assert plan["passed"] == expected()["passed"]
    result = runner.invoke(main, ["check", str(E5), str(plan_path)])
    assert result.exit_code == 0, result.output
    # b moves from f7 to f6: cheap enough, but f6 is vacancy 6 of the fsb family pool, not a turn
    for a in plan["assignments"]:
        if a["citizen"] == "b":
            a.update(unit="f6", effective_rent_kr=2800, pool="default:101:fsb:family")
    bad = tmp_path / "bad.plan.json"
    bad.write_text(json.dumps(plan))
    result = runner.invoke(main, ["check", str(E5), str(bad)])
    assert result.exit_code != 0
    assert "rotation" in result.output and "'f6'" in result.output


@needs_shared
def test_e5_explains_a_unit_that_is_not_a_turn():
    """e (youth only) is told why y1 and y2 are out: not the municipality's turn, with the vacancy."""
    inst = models.load(E5)
    plan = make_plan(solve(inst))
    e = explain(inst, plan, "e", counterfactuals=False, lang="en")
    text = e["text"] if isinstance(e, dict) and "text" in e else str(e)
    assert "not the municipality's turn in pool 'default:101:fsb:youth': vacancy 2 of the pool" in text
    assert "turns are every 4th" in text
    for u in plan.unassigned:
        assert "homeless" not in u.reason  # plans speak of units, never of the citizen's circumstances


# --------------------------------------------------------------------------- rules one by one


def test_rotation_assigns_only_turns():
    """Share 1/2 after one earlier vacancy: units 2 and 4 are turns (k = 2, 4); 3 is not."""
    d = v2(
        [{"id": f"c{i}"} for i in range(3)],
        [{"id": "u1", "sequence": 2}, {"id": "u2", "sequence": 1}, {"id": "u3", "sequence": 3}],
        parameters={"default_share": 0.5},
        ledger=[{"pool": "default:M:O:family", "vacancies_before": 1}],
    )
    plan = solved(d)
    # numbered u2 → 2, u1 → 3, u3 → 4: turns u2 and u3
    assert {u for _, u in pairs_of(plan)} == {"u2", "u3"}
    assert plan["passed"] == []
    # one citizen fewer: the turn left unassigned is passed, the non-turn u1 is not
    d["citizens"] = d["citizens"][:1]
    d["scores"] = [{"citizen": "c0", "unit": "u3", "score": 90}]
    plan = solved(d)
    assert pairs_of(plan) == {("c0", "u3")}
    assert plan["passed"] == ["u2"]


def test_claimed_before_plays_no_part_in_rotation():
    """A rotation pool's ledger claims change nothing; in a choice pool they lower the cap."""
    units = [{"id": "u1"}, {"id": "u2"}]
    citizens = [{"id": "c1"}, {"id": "c2"}]
    ledger = [{"pool": "default:M:O:family", "vacancies_before": 2, "claimed_before": 2}]
    plan = solved(v2(citizens, units, parameters={"default_share": 0.5}, ledger=ledger))
    assert len(plan["assignments"]) == 1  # k = 3, 4: one turn, despite two earlier claims
    choice = {"default_share": 0.5, "default_mode": "choice"}
    plan = solved(v2(citizens, units, parameters=choice, ledger=ledger))
    assert plan["assignments"] == []  # cap floor(0.5 × 4) − 2 = 0
    assert "passed" in plan and plan["passed"] == []


def test_ties_in_sequence_keep_list_order():
    """Equal sequences are numbered in list order: with share 1/2 the second of two is the turn."""
    units = [{"id": "a", "sequence": 5}, {"id": "b", "sequence": 5}]
    plan = solved(v2([{"id": "c1"}, {"id": "c2"}], units, parameters={"default_share": 0.5}))
    assert {u for _, u in pairs_of(plan)} == {"b"}


def test_offered_unit_is_assignable_and_not_numbered():
    """An offered unit may be assigned and does not take a number; left unassigned it is passed."""
    units = [{"id": "old", "offered": True}, {"id": "n1"}, {"id": "n2"}]
    d = v2([{"id": "c1"}], units, parameters={"default_share": 0.5})
    d["scores"] = [{"citizen": "c1", "unit": "old", "score": 10}, {"citizen": "c1", "unit": "n2", "score": 50}]
    plan = solved(d)
    assert pairs_of(plan) == {("c1", "n2")}  # n1 → 1 (no turn), n2 → 2 (turn)
    assert plan["passed"] == ["old"]
    data = ProblemData.build(models.from_dict(d))
    assert data.u_vacancy.tolist() == [0, 1, 2]
    assert data.u_turn.tolist() == [True, False, True]


def test_agreement_mode_kinds_and_units_filters():
    """A choice agreement for listed units keeps rule 11; other units fall to per-kind default pools."""
    units = [{"id": "u1"}, {"id": "u2"}, {"id": "y1", "kind": "youth"}]
    agreements = [{"id": "pick", "municipality": "M", "share": 1.0, "mode": "choice", "units": ["u2"]}]
    citizens = [{"id": "c1", "kinds": ["family", "youth"]}, {"id": "c2"}]
    inst = models.from_dict(v2(citizens, units, agreements=agreements, parameters={"default_share": 1.0}))
    pools = models.pools(inst)
    assert list(pools) == ["default:M:O:family", "pick", "default:M:O:youth"]
    assert [p.mode for p in pools.values()] == ["rotation", "choice", "rotation"]
    agreements[0]["kinds"] = ["youth"]
    inst = models.from_dict(v2(citizens, units, agreements=agreements))
    assert models.unit_pools(inst) == ["default:M:O:family", "default:M:O:family", "default:M:O:youth"]


def test_subsidy_only_on_subsidy_kinds():
    """An elderly unit affordable only with the subsidy: out by default (family only), in when listed."""
    units = [{"id": "e1", "kind": "elderly", "rent_kr": 4800}]
    citizens = [{"id": "c1", "max_rent_kr": 3500, "subsidy_eligible": True, "kinds": ["elderly"]}]
    muni = [{"id": "M", "name": "M", "region": "R", "subsidy_frame": 1}]
    params = {"default_share": 1.0}
    d = v2(citizens, units, parameters=params, municipalities=muni)
    assert solved(d)["assignments"] == []
    data = ProblemData.build(models.from_dict(d))
    ((ci, ui),) = candidates(data)
    assert failure_codes(data, ci, ui).tolist() == [10]
    d["parameters"] = {**params, "subsidy_kinds": ["family", "elderly"]}
    plan = solved(d)
    assert plan["assignments"][0]["subsidised"] and plan["assignments"][0]["effective_rent_kr"] == 4800 - 1414
    # version 1 subsidises every kind
    d1 = {**d, "format": "anvis/1", "parameters": params}
    assert len(solved(d1)["assignments"]) == 1


def test_not_a_turn_failure_code():
    """Units of a rotation pool that are not turns fail with NOT_A_TURN; choice pools never do."""
    d = v2([{"id": "c1"}], [{"id": f"u{i}"} for i in range(4)])  # default share 0.25: only u3 (k = 4)
    data = ProblemData.build(models.from_dict(d))
    ((ci, ui),) = candidates(data)
    codes = dict(zip(ui.tolist(), failure_codes(data, ci, ui).tolist(), strict=True))
    assert codes == {0: NOT_A_TURN, 1: NOT_A_TURN, 2: NOT_A_TURN, 3: 0}
    d["parameters"] = {"default_mode": "choice"}
    data = ProblemData.build(models.from_dict(d))
    assert (failure_codes(data, ci, ui) == 0).all()


def test_homeless_count_uses_effective_rent():
    """Homeless citizens housed under 3,500 kr effective rent: subsidised rent counts after the subsidy."""
    units = [{"id": "u1", "rent_kr": 4800}, {"id": "u2", "rent_kr": 3500}, {"id": "u3", "rent_kr": 3000}]
    citizens = [
        {"id": "h1", "homeless": True, "max_rent_kr": 3400, "subsidy_eligible": True},
        {"id": "h2", "homeless": True, "max_rent_kr": 3500},
        {"id": "n1", "max_rent_kr": 3000},
    ]
    muni = [{"id": "M", "name": "M", "region": "R", "subsidy_frame": 1}]
    d = v2(citizens, units, parameters={"default_share": 1.0}, municipalities=muni)
    d["scores"] = [
        {"citizen": "h1", "unit": "u1", "score": 50},
        {"citizen": "h2", "unit": "u2", "score": 50},
        {"citizen": "n1", "unit": "u3", "score": 50},
    ]
    plan = solved(d)
    assert pairs_of(plan) == {("h1", "u1"), ("h2", "u2"), ("n1", "u3")}
    assert plan["homeless_housed_under_3500_kr"] == 1  # h1 at 3,386; h2 at exactly 3,500 does not count


def test_checker_refuses_wrong_v2_fields():
    """The checker recomputes passed and the homeless count, and refuses a subsidy on a non-subsidy kind."""
    d = v2([{"id": "c1", "homeless": True}], [{"id": "u1"}, {"id": "u2"}], parameters={"default_share": 0.5})
    inst = models.from_dict(d)
    plan = make_plan(solve(inst)).to_dict()
    assert check_plan(inst, plan) == []
    for key, value in (("passed", ["u1"]), ("homeless_housed_under_3500_kr", 0)):
        broken = {**plan, key: value}
        assert [v.rule for v in check_plan(inst, broken)] == [key.split("_")[0] if key != "passed" else "passed"]
    missing = {k: v for k, v in plan.items() if k != "passed"}
    assert "passed" in format_violations(check_plan(inst, missing))[0]


def test_version_1_plans_have_no_v2_fields():
    """A version-1 plan keeps exactly its version-1 fields."""
    plan = solved(doc([{"id": "c1"}], [{"id": "u1"}]))
    assert "passed" not in plan and "homeless_housed_under_3500_kr" not in plan


@pytest.mark.parametrize("backend", ["highs", "cpsat", "cbc"])
def test_backends_agree_on_v2(backend):
    """Each backend reaches the auto optimum on a v2 instance with rotation, choice and offered units."""
    units = [{"id": f"u{i}", "rooms": 1 + i % 3, "rent_kr": 2500 + 300 * i, "sequence": (7 * i) % 5} for i in range(10)]
    units[5]["offered"] = True  # 3 rooms: a unit of the rotation pool
    units[4]["kind"] = "youth"
    agreements = [{"id": "small", "municipality": "M", "share": 0.5, "mode": "choice", "rooms": [1]}]
    citizens = [{"id": f"c{i}", "priority": 1 + i % 2, "kinds": ["family", "youth"]} for i in range(8)]
    d = v2(citizens, units, agreements=agreements, parameters={"default_share": 1 / 3})
    auto, other = solved(d), solved(d, backend=backend)
    assert other["objective"] == auto["objective"]


def test_counterfactual_share_for_a_v2_default_choice_pool():
    """A full default choice pool of anvis/2: the new agreement the counterfactual proposes takes
    exactly that pool's units (its kind, mode choice) and houses the citizen; a youth unit stays in
    its own pool."""
    from optimizer.explain.counterfactual import apply_change

    d = v2(
        [{"id": "a"}, {"id": "b"}],
        [{"id": "u1"}, {"id": "u2"}, {"id": "y1", "kind": "youth"}],
        parameters={"default_mode": "choice", "default_share": 0.25},
        ledger=[{"pool": "default:M:O:family", "vacancies_before": 98, "claimed_before": 24}],
        scores=[{"citizen": "a", "unit": "u1", "score": 90}, {"citizen": "b", "unit": "u1", "score": 10}],
    )
    inst = models.from_dict(d)
    plan = make_plan(solve(inst))
    e = explain(inst, plan, "b")
    found = e["counterfactual"]["found"]
    assert (found["kind"], found["pool"], found["unit_kind"]) == ("share", "default:M:O:family", "family")
    changed = models.from_dict(apply_change(inst, found).to_dict())
    new = changed.agreements[-1]
    assert (new.mode, new.kinds) == ("choice", ("family",))
    assert models.unit_pools(changed) == [new.id, new.id, "default:M:O:youth"]
    assert {a["citizen"] for a in solved(changed.to_dict())["assignments"]} == {"a", "b"}

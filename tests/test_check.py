"""Tests of the independent plan validator, optimizer/check.py."""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

import pytest

import models
from optimizer import check
from optimizer.check import (
    Violation,
    check_plan,
    default_score,
    format_violations,
    pool_caps,
    recompute_objective,
    recompute_usage,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
EXAMPLES = SHARED / "spec" / "examples"
needs_shared = pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"shared examples not found at {EXAMPLES}")

# A small instance where each rule of FORMAT.md §3 can be broken on its own.
# Region R (quota 1) holds m1 and m2 (frame 1 each); region S (unlimited) holds m3.
# The default share is 1.0, so only the agreement "tight" (d4's units, share 0.5,
# two units -> cap 1) limits a pool. d1 takes at most one vulnerable citizen.
BASE = {
    "format": "anvis/1",
    "name": "small",
    "parameters": {"default_share": 1.0},
    "regions": [{"id": "R", "grant_quota": 1}, {"id": "S"}],
    "municipalities": [
        {"id": "m1", "region": "R", "subsidy_frame": 1},
        {"id": "m2", "region": "R", "subsidy_frame": 1},
        {"id": "m3", "region": "S", "subsidy_frame": 1},
    ],
    "organisations": [{"id": "o1"}],
    "departments": [
        {"id": "d1", "organisation": "o1", "municipality": "m1", "max_vulnerable": 1},
        {"id": "d2", "organisation": "o1", "municipality": "m1", "area": "disadvantaged"},
        {"id": "d3", "organisation": "o1", "municipality": "m2"},
        {"id": "d4", "organisation": "o1", "municipality": "m1"},
        {"id": "d5", "organisation": "o1", "municipality": "m3"},
    ],
    "units": [
        {"id": "u1", "department": "d1", "rooms": 2, "rent_kr": 4000},
        {"id": "u2", "department": "d1", "rooms": 2, "rent_kr": 5000},
        {"id": "u3", "department": "d2", "rooms": 2, "rent_kr": 4000},
        {"id": "u4", "department": "d3", "rooms": 2, "rent_kr": 5000},
        {"id": "u5", "department": "d1", "rooms": 4, "rent_kr": 4000},
        {"id": "u6", "department": "d1", "rooms": 2, "rent_kr": 4000, "kind": "youth"},
        {"id": "u7", "department": "d1", "rooms": 2, "rent_kr": 4000, "temporary": True},
        {"id": "u8", "department": "d4", "rooms": 2, "rent_kr": 3000},
        {"id": "u9", "department": "d4", "rooms": 2, "rent_kr": 3000},
        {"id": "u10", "department": "d1", "rooms": 2, "rent_kr": 7000},
        {"id": "u11", "department": "d1", "rooms": 2, "rent_kr": 6000},
        {"id": "u12", "department": "d1", "rooms": 2, "rent_kr": 4000, "accessible": True},
        {"id": "u14", "department": "d5", "rooms": 2, "rent_kr": 5000},
        {"id": "u15", "department": "d5", "rooms": 2, "rent_kr": 5000},
    ],
    "agreements": [{"id": "tight", "municipality": "m1", "share": 0.5, "departments": ["d4"]}],
    "citizens": [
        {"id": c, "municipality": m, "max_rent_kr": 4000, "max_rooms": 3, "subsidy_eligible": True, **extra}
        for c, m, extra in [
            ("a", "m1", {}),
            ("b", "m1", {}),
            ("c", "m2", {}),
            ("v1", "m1", {"vulnerable": True}),
            ("v2", "m1", {"vulnerable": True}),
            ("n", "m1", {"needs_accessible": True}),
            ("x", "m1", {"excluded_departments": ["d1"], "barred_areas": ["disadvantaged"]}),
            ("ne", "m1", {"subsidy_eligible": False}),
            ("e", "m3", {}),
            ("f", "m3", {}),
            ("p2", "m1", {"priority": 2}),
        ]
    ],
    "scores": [{"citizen": "a", "unit": "u1", "score": 77}],
}


def small() -> models.Instance:
    return models.from_dict(copy.deepcopy(BASE))


def assignment(inst, cid: str, uid: str, **override) -> dict:
    """A correct assignment record for the pair, with fields optionally overridden."""
    citizen = next(c for c in inst.citizens if c.id == cid)
    unit = next(u for u in inst.units if u.id == uid)
    subsidised = unit.rent_kr > citizen.max_rent_kr
    given = {
        (c, u): s for c, u, s in zip(inst.scores.citizen, inst.scores.unit, inst.scores.score.tolist(), strict=True)
    }
    a = {
        "citizen": cid,
        "unit": uid,
        "subsidised": subsidised,
        "effective_rent_kr": unit.rent_kr - 1414 if subsidised else unit.rent_kr,
        "score": given.get((cid, uid), default_score(inst, citizen, unit)),
    }
    a.update(override)
    return a


def plan_for(inst, assignments: list[dict]) -> dict:
    """A plan around the assignments, with a consistent objective and unassigned list."""
    housed = {a["citizen"] for a in assignments}
    return {
        "format": "anvis-plan/1",
        "instance": inst.name,
        "status": "feasible",
        "objective": recompute_objective(inst, assignments),
        "assignments": assignments,
        "unassigned": [{"citizen": c.id, "reason": "no suitable unit"} for c in inst.citizens if c.id not in housed],
    }


def pairs_plan(inst, pairs) -> dict:
    return plan_for(inst, [assignment(inst, c, u) for c, u in pairs])


def rules(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


def test_valid_small_plan_has_no_violations():
    """A plan obeying every rule (one subsidised pair, one given score) is valid."""
    inst = small()
    plan = pairs_plan(inst, [("a", "u1"), ("b", "u2"), ("v1", "u3"), ("e", "u14"), ("p2", "u8")])
    assert plan["assignments"][0]["score"] == 77
    assert plan["assignments"][1]["subsidised"] is True
    assert check_plan(inst, plan) == []


def test_typed_plan_is_checked_like_its_document():
    """check_plan takes a models.Plan as well as the document: same violations either way."""
    inst = small()
    plan = pairs_plan(inst, [("a", "u1"), ("b", "u2")])
    assert check_plan(inst, models.Plan.from_dict(plan)) == check_plan(inst, plan) == []
    bad = pairs_plan(inst, [("c", "u1")])
    assert check_plan(inst, models.Plan.from_dict(bad)) == check_plan(inst, bad) != []


def test_empty_plan_is_valid():
    """Housing nobody breaks no rule, as long as everyone is listed as unassigned."""
    inst = small()
    plan = pairs_plan(inst, [])
    assert plan["objective"] == {"housed_by_priority": {"1": 0, "2": 0}, "total_score": 0.0}
    assert check_plan(inst, plan) == []


@pytest.mark.parametrize(
    "rule, pairs",
    [
        ("R1-citizen-twice", [("a", "u1"), ("a", "u3")]),
        ("R1-unit-twice", [("a", "u1"), ("b", "u1")]),
        ("R2-municipality", [("c", "u1")]),
        ("R3-rooms", [("a", "u5")]),
        ("R4-kind", [("a", "u6")]),
        ("R5-accessible", [("n", "u1")]),
        ("R6-temporary", [("a", "u7")]),
        ("R7-excluded-department", [("x", "u1")]),
        ("R7-barred-area", [("x", "u3")]),
        ("R8-affordability", [("ne", "u2")]),  # not subsidy eligible
        ("R8-affordability", [("a", "u10")]),  # rent above the subsidy band
        ("R8-affordability", [("a", "u11")]),  # in the band but still too dear
        ("R9-frame", [("e", "u14"), ("f", "u15")]),
        ("R10-quota", [("b", "u2"), ("c", "u4")]),
        ("R11-share", [("a", "u8"), ("b", "u9")]),
        ("R12-mixed-city", [("v1", "u1"), ("v2", "u12")]),
    ],
)
def test_each_rule_broken_alone_is_reported_alone(rule, pairs):
    """A plan breaking exactly one rule of FORMAT.md §3 is reported under that rule only."""
    inst = small()
    violations = check_plan(inst, pairs_plan(inst, pairs))
    assert rules(violations) == {rule}, format_violations(violations)


def test_messages_name_ids_and_format_as_lines():
    """Messages name the ids involved; format_violations gives one 'rule: message' line each."""
    inst = small()
    violations = check_plan(inst, pairs_plan(inst, [("c", "u1")]))
    assert format_violations(violations) == [
        "R2-municipality: citizen 'c' assigned to unit 'u1' in municipality 'm1' but lives in 'm2'"
    ]
    (v,) = check_plan(inst, pairs_plan(inst, [("v1", "u1"), ("v2", "u12")]))
    assert "'d1'" in v.message and "'v1'" not in v.message  # counts, not who is vulnerable


def test_subsidised_flag_must_match_rent():
    """subsidised is true exactly when rent exceeds the citizen's limit, in both directions."""
    inst = small()
    missing = assignment(inst, "b", "u2", subsidised=False, effective_rent_kr=5000)
    assert rules(check_plan(inst, plan_for(inst, [missing]))) == {"subsidy"}
    needless = assignment(inst, "a", "u3", subsidised=True, effective_rent_kr=4000 - 1414)
    assert rules(check_plan(inst, plan_for(inst, [needless]))) == {"subsidy"}


def test_effective_rent_must_match():
    """effective_rent_kr is rent - subsidy when subsidised, else rent (within 1e-6)."""
    inst = small()
    for a in (assignment(inst, "b", "u2", effective_rent_kr=5000), assignment(inst, "a", "u3", effective_rent_kr=3999)):
        assert rules(check_plan(inst, plan_for(inst, [a]))) == {"subsidy"}
    close = assignment(inst, "b", "u2", effective_rent_kr=5000 - 1414 + 1e-9)
    assert check_plan(inst, plan_for(inst, [close])) == []


def test_score_must_match_table_or_default():
    """A score differing from the scores table entry, or from the default score, is reported."""
    inst = small()
    table = assignment(inst, "a", "u1", score=76)  # the table says 77
    assert rules(check_plan(inst, plan_for(inst, [table]))) == {"score"}
    dflt = assignment(inst, "b", "u1")
    dflt["score"] += 1
    assert rules(check_plan(inst, plan_for(inst, [dflt]))) == {"score"}


def test_wrong_objective_is_reported():
    """A wrong total, a wrong count or a missing priority key in the objective are reported."""
    inst = small()
    plan = pairs_plan(inst, [("a", "u1"), ("p2", "u8")])
    assert plan["objective"] == {
        "housed_by_priority": {"1": 1, "2": 1},
        "total_score": 77.0 + plan["assignments"][1]["score"],
    }
    for change in (
        {"total_score": plan["objective"]["total_score"] + 1},
        {"housed_by_priority": {"1": 2, "2": 1}},
        {"housed_by_priority": {"1": 1}},
        {"housed_by_priority": {1: 1, 2: 1}},
    ):
        bad = copy.deepcopy(plan)
        bad["objective"].update(change)
        assert rules(check_plan(inst, bad)) == {"objective"}, change
    del plan["objective"]
    assert rules(check_plan(inst, plan)) == {"objective"}


@pytest.mark.parametrize("change", ["missing", "duplicate", "assigned", "no reason", "unknown"])
def test_unassigned_must_list_exactly_the_others(change):
    """unassigned lists each unassigned citizen exactly once, with a reason, and nobody else."""
    inst = small()
    plan = pairs_plan(inst, [("a", "u1")])
    if change == "missing":
        plan["unassigned"].pop()
    elif change == "duplicate":
        plan["unassigned"].append(dict(plan["unassigned"][0]))
    elif change == "assigned":
        plan["unassigned"].append({"citizen": "a", "reason": "x"})
    elif change == "no reason":
        plan["unassigned"][0]["reason"] = " "
    else:
        plan["unassigned"] += [{"citizen": "zz", "reason": "x"}, {"citizen": ["b"]}, "c"]
    assert rules(check_plan(inst, plan)) == {"unassigned"}


@pytest.mark.parametrize(
    "change",
    [
        {"format": "anvis-plan/2"},
        {"status": "done"},
        {"instance": "other"},
        {"assignments": {}},
    ],
)
def test_plan_header_is_checked(change):
    """format, status, instance name and the assignments list are checked."""
    inst = small()
    plan = pairs_plan(inst, [])
    plan.update(change)
    assert "format" in rules(check_plan(inst, plan))


@pytest.mark.parametrize(
    "field, value",
    [
        ("citizen", "nobody"),
        ("citizen", ["a"]),
        ("unit", "u99"),
        ("subsidised", 1),
        ("score", "77"),
        ("effective_rent_kr", None),
    ],
)
def test_malformed_assignment_is_a_format_violation(field, value):
    """An assignment with an unknown id or a field of the wrong type is reported as format."""
    inst = small()
    plan = pairs_plan(inst, [("a", "u1")])
    plan["assignments"][0][field] = value
    assert "format" in rules(check_plan(inst, plan))
    assert any(v.rule == "format" and v.message.startswith(f"assignments[0].{field}: ") for v in check_plan(inst, plan))
    assert check_plan(inst, "not a plan")[0].rule == "format"


def test_usage_section_is_checked():
    """A usage section must match the recomputed used numbers and pool caps; unknown ids fail."""
    inst = small()
    plan = pairs_plan(inst, [("a", "u8"), ("b", "u2"), ("v1", "u1")])
    plan["usage"] = recompute_usage(inst, plan["assignments"])
    assert check_plan(inst, plan) == []
    assert {"id": "tight", "cap": 1, "used": 1} in plan["usage"]["pools"]
    assert {"id": "d1", "max_vulnerable": 1, "used": 1} in plan["usage"]["departments"]
    assert {"municipality": "m1", "frame": 1, "used": 1} in plan["usage"]["frames"]
    assert {"region": "S", "quota": None, "used": 0} in plan["usage"]["quotas"]
    for section, index, field, value in [
        ("pools", 0, "used", 5),
        ("pools", 0, "cap", 99),
        ("frames", 0, "used", 0),
        ("quotas", 0, "used", 7),
        ("departments", 0, "used", 0),
        ("departments", 0, "id", "d99"),
    ]:
        bad = copy.deepcopy(plan)
        bad["usage"][section][index][field] = value
        assert rules(check_plan(inst, bad)) == {"usage"}, (section, field)
    plan["usage"] = {"pools": [{"id": "tight", "cap": 1, "used": 1}]}  # partial is fine
    assert check_plan(inst, plan) == []


def test_default_score_by_hand():
    """default_score follows the documented formula on hand-computed pairs."""
    inst = models.from_dict(
        {
            "format": "anvis/1",
            "name": "ds",
            "regions": [{"id": "R"}],
            "municipalities": [{"id": "m", "region": "R"}],
            "organisations": [{"id": "o"}],
            "departments": [
                {"id": "d1", "organisation": "o", "municipality": "m"},
                {"id": "d2", "organisation": "o", "municipality": "m"},
            ],
            "units": [
                {"id": "big", "department": "d1", "rooms": 3, "rent_kr": 4000, "accessible": True},
                {"id": "free", "department": "d2", "rooms": 1, "rent_kr": 0},
                {"id": "half", "department": "d1", "rooms": 1, "rent_kr": 5000},
            ],
            "citizens": [
                {
                    "id": "p",
                    "municipality": "m",
                    "max_rent_kr": 5000,
                    "preferences": [{"department": "d1", "weight": 5}, {"department": "d2", "weight": 10}],
                },
                {"id": "z", "municipality": "m", "max_rent_kr": 0},
            ],
        }
    )
    p, z = inst.citizens
    big, free, half = inst.units
    # pref 5/10, rent (5000-4000)/5000, rooms 1/3, accessible but not needed:
    # 100 * (0.45*0.5 + 0.25*0.2 + 0.20/3 + 0) = 34.17 -> 34
    assert default_score(inst, p, big) == 34.0
    # no preferences, max rent 0 -> rent term 1, rooms 1/1, access 1: 100*(0.25+0.2+0.1) = 55
    assert default_score(inst, z, free) == 55.0
    # pref 1, rent 5000/5000 -> 1 ... 100*(0.45 + 0.25 + 0.2 + 0.1) = 100
    assert default_score(inst, p, free) == 100.0
    # pref 0.5, rent term 0, rooms 1, access 1: raw 52.5, a rounding tie
    assert default_score(inst, p, half) == 53.0
    assert isinstance(default_score(inst, p, half), float)


def test_rounding_tie_accepts_either_rounding():
    """At a .5 tie of the default score both roundings pass; anything else fails."""
    inst = models.from_dict(
        {
            "format": "anvis/1",
            "name": "tie",
            "regions": [{"id": "R"}],
            "municipalities": [{"id": "m", "region": "R"}],
            "organisations": [{"id": "o"}],
            "parameters": {"default_share": 1.0},
            "departments": [
                {"id": "d1", "organisation": "o", "municipality": "m"},
                {"id": "d2", "organisation": "o", "municipality": "m"},
            ],
            "units": [{"id": "half", "department": "d1", "rooms": 1, "rent_kr": 5000}],
            "citizens": [
                {
                    "id": "p",
                    "municipality": "m",
                    "max_rent_kr": 5000,
                    "preferences": [{"department": "d1", "weight": 5}, {"department": "d2", "weight": 10}],
                }
            ],
        }
    )
    for score, ok in ((52, True), (53, True), (51, False), (54, False)):
        plan = plan_for(inst, [assignment(inst, "p", "half", score=score)])
        plan["objective"]["total_score"] = float(score)
        assert (check_plan(inst, plan) == []) is ok, score


def test_recompute_objective_counts_every_priority():
    """recompute_objective lists every priority present, 0 where none is housed."""
    inst = small()
    got = recompute_objective(inst, [assignment(inst, "a", "u1"), assignment(inst, "b", "u3")])
    assert got["housed_by_priority"] == {"1": 2, "2": 0}
    assert got["total_score"] == 77.0 + default_score(inst, inst.citizens[1], inst.units[2])


def test_check_does_not_import_solver_or_pools():
    """check.py is an independent second opinion: it imports neither the solver nor models.pools."""
    tree = ast.parse(Path(check.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported |= {f"{node.module}.{alias.name}" for alias in node.names}
    assert not any(name.split(".")[0] == "optimizer" or name.startswith("models.pools") for name in imported), imported


# --- the worked example e1 ---------------------------------------------------------


def e1_plan() -> dict:
    return {
        "format": "anvis-plan/1",
        "instance": "e1-ledger-and-subsidy",
        "status": "optimal",
        "objective": {"housed_by_priority": {"1": 1, "2": 0, "3": 0}, "total_score": 70.0},
        "assignments": [
            {"citizen": "anna", "unit": "u2", "subsidised": True, "effective_rent_kr": 3286, "score": 70.0}
        ],
        "unassigned": [{"citizen": c, "reason": "no eligible unit left"} for c in ("bo", "cem", "dina")],
    }


@pytest.fixture
def e1():
    if not EXAMPLES.is_dir():
        pytest.skip(f"shared examples not found at {EXAMPLES}")
    return models.load(EXAMPLES / "e1-ledger-and-subsidy.json")


def test_e1_optimal_plan_is_valid(e1):
    """The hand-derived optimal plan of e1 passes, also with a hand-written usage section."""
    plan = e1_plan()
    assert check_plan(e1, plan) == []
    plan["usage"] = {
        "pools": [
            {"id": "default:101:fsb", "cap": 1, "used": 1},
            {"id": "kbh-1room", "cap": 1, "used": 0},
            {"id": "default:101:kab", "cap": 0, "used": 0},
        ],
        "departments": [{"id": "fsb-1", "max_vulnerable": 1, "used": 1}],
        "frames": [{"municipality": "101", "frame": 1, "used": 1}],
        "quotas": [{"region": "H", "quota": 5, "used": 1}],
    }
    assert check_plan(e1, plan) == []


def test_e1_default_scores_by_hand(e1):
    """default_score on e1 pairs (their table scores aside), computed by hand."""
    anna = e1.citizens[0]
    u1, u2 = e1.units[0], e1.units[1]
    # u1: rent (3500-3400)/3500, rooms 1/1, not accessible: 100*(0.25*0.02857+0.2+0.1) = 30.7
    assert default_score(e1, anna, u1) == 31.0
    # u2 subsidised: eff 3286, rent (214/3500), rooms 1/2: 100*(0.01529+0.1+0.1) = 21.5
    assert default_score(e1, anna, u2) == 22.0


def test_e1_broken_plans(e1):
    """On e1: a second vulnerable tenant in fsb-1, the cap-0 pool, a barred area, the band."""
    plan = e1_plan()
    plan["assignments"].append(
        {"citizen": "bo", "unit": "u1", "subsidised": False, "effective_rent_kr": 3400, "score": 60}
    )
    plan["unassigned"] = plan["unassigned"][1:]
    plan["objective"] = {"housed_by_priority": {"1": 2, "2": 0, "3": 0}, "total_score": 130.0}
    assert rules(check_plan(e1, plan)) == {"R12-mixed-city"}
    plan = e1_plan()
    plan["assignments"] = [
        {"citizen": "cem", "unit": "u4", "subsidised": False, "effective_rent_kr": 3900, "score": 30}
    ]
    plan["unassigned"] = [{"citizen": c, "reason": "-"} for c in ("anna", "bo", "dina")]
    plan["objective"] = {"housed_by_priority": {"1": 0, "2": 1, "3": 0}, "total_score": 30.0}
    assert rules(check_plan(e1, plan)) == {"R11-share"}
    plan["assignments"][0].update(citizen="bo", score=50)  # also barred and below the band
    plan["unassigned"][1]["citizen"] = "cem"
    plan["objective"] = {"housed_by_priority": {"1": 1, "2": 0, "3": 0}, "total_score": 50.0}
    assert rules(check_plan(e1, plan)) == {"R7-barred-area", "R8-affordability", "R11-share", "subsidy"}
    plan = e1_plan()
    plan["assignments"][0]["subsidised"] = False
    assert "subsidy" in rules(check_plan(e1, plan))


@needs_shared
@pytest.mark.parametrize("name", ["e1-ledger-and-subsidy", "e2-random-small", "e3-random-regions", "e4-weighted"])
def test_pool_caps_match_reference(name):
    """pool_caps reproduces the caps of the independent reference model in expected.json."""
    expected = json.loads((EXAMPLES / "expected.json").read_text())[name]["pool_caps"]
    assert pool_caps(models.load(EXAMPLES / f"{name}.json")) == expected


# --- what a plan says about itself (issue 10, item 14) ---------------------------------


def engine_plan(document: dict | None = None) -> tuple[models.Instance, dict]:
    """An instance and the plan anvis makes of it (codes, reasons, details, usage, hash, bound)."""
    from optimizer.engine.solve import solve
    from optimizer.plan.build import make_plan

    inst = models.from_dict(copy.deepcopy(document or BASE))
    plan = make_plan(solve(inst)).to_dict()
    assert check_plan(inst, plan) == [], format_violations(check_plan(inst, plan))
    return inst, plan


def with_codes() -> dict:
    """The small instance plus a citizen no unit fits (rule 3) and one whose only unit goes to c.

    c prefers that unit's afdeling, so that every optimum houses c there: without it, b could
    take the region's one grant instead of c at the same counts and score, and the plan would
    depend on which optimum the solver meets first.
    """
    d = copy.deepcopy(BASE)
    (c,) = (r for r in d["citizens"] if r["id"] == "c")
    c["preferences"] = [{"department": "d3", "weight": 1}]
    d["citizens"] += [
        {"id": "big", "municipality": "m1", "max_rent_kr": 4000, "min_rooms": 9},
        {"id": "late", "municipality": "m2", "max_rent_kr": 4000, "subsidy_eligible": True, "priority": 3},
    ]
    return d


def test_engine_plan_of_small_states_every_code_it_can():
    """The plan anvis makes of the small instance passes, and has the codes the checker recomputes."""
    inst, plan = engine_plan(with_codes())
    facts = check.unassigned_facts(inst, plan["assignments"], set())
    assert {u["citizen"]: u["code"] for u in plan["unassigned"]} == {c: f["code"] for c, f in facts.items()}
    assert {f["code"] for f in facts.values()} == {"no_eligible_unit", "outranked", "capacity"}


@pytest.mark.parametrize("status", ["infeasible", "error"])
def test_status_without_a_plan_has_no_assignments(status):
    """'infeasible' or 'error' with assignments contradicts itself; without any it is consistent."""
    inst = small()
    plan = pairs_plan(inst, [("a", "u1")])
    plan["status"] = status
    assert rules(check_plan(inst, plan)) == {"status"}
    assert check_plan(inst, {**pairs_plan(inst, []), "status": status}) == []


def test_optimal_plan_with_a_free_eligible_unit_is_refused():
    """An 'optimal' plan that leaves an eligible unit free and unblocked for an unhoused citizen is not
    optimal; the same plan as 'feasible' (a time limit) is valid."""
    inst = small()
    plan = pairs_plan(inst, [("a", "u1")])
    assert check_plan(inst, plan) == []  # feasible
    plan["status"] = "optimal"
    (v,) = check_plan(inst, plan)
    assert v.rule == "status" and "citizen 'b' could take the free unit 'u2'" in v.message


def test_optimal_plan_bound_and_gap():
    """An optimal plan's bound is not below its objective and its gap is 0."""
    inst, plan = engine_plan()
    assert plan["status"] == "optimal" and plan["bound"] == plan["objective"]["total_score"]
    low = copy.deepcopy(plan)
    low["bound"] = plan["objective"]["total_score"] - 1
    assert rules(check_plan(inst, low)) == {"bound"}
    gap = copy.deepcopy(plan)
    gap["gap"] = 0.1
    assert rules(check_plan(inst, gap)) == {"status"}
    high = copy.deepcopy(plan)
    high["bound"] = plan["objective"]["total_score"] + 5  # a bound above is no contradiction
    assert check_plan(inst, high) == []


def test_instance_hash_must_be_the_instances():
    """A plan whose instance_sha256 is another instance's is refused, naming both."""
    inst, plan = engine_plan()
    assert plan["instance_sha256"] == inst.sha256
    plan["instance_sha256"] = "0" * 64
    (v,) = check_plan(inst, plan)
    assert v.rule == "instance" and inst.sha256 in v.message


def test_instance_hash_counts_the_overrides_the_plan_states():
    """A plan made with overrides given on the command line carries the hash of the instance with them:
    checked against the file without them, it is valid; with a changed override it is not."""
    with_lock = copy.deepcopy(BASE)
    with_lock["overrides"] = [{"action": "lock", "citizen": "b", "unit": "u3"}]
    _, plan = engine_plan(with_lock)
    plain = small()
    assert plan["instance_sha256"] != plain.sha256
    assert check_plan(plain, plan) == []
    plan["overrides"][0]["note"] = "changed"
    assert "instance" in rules(check_plan(plain, plan))


@pytest.mark.parametrize(
    "field, value", [("priority", 2), ("priority", True), ("department", "d2"), ("pool", "tight"), ("locked", True)]
)
def test_assignment_fields_must_be_the_instances(field, value):
    """An assignment's priority, department, pool and locked flag are the instance's."""
    inst, plan = engine_plan()
    a = next(a for a in plan["assignments"] if a["citizen"] == "a")
    assert (a["priority"], a["department"], a["pool"], "locked" in a) == (1, "d1", "default:m1:o1", False)
    a[field] = value
    assert rules(check_plan(inst, plan)) == {"assignment"}


def test_locked_flag_is_required_on_a_locked_pair():
    """A locked pair of an engine plan is marked locked; dropping the mark is refused."""
    with_lock = copy.deepcopy(BASE)
    with_lock["overrides"] = [{"action": "lock", "citizen": "b", "unit": "u3"}]
    inst, plan = engine_plan(with_lock)
    a = next(a for a in plan["assignments"] if a["citizen"] == "b")
    assert a["locked"] is True
    del a["locked"]
    assert rules(check_plan(inst, plan)) == {"assignment"}


@pytest.mark.parametrize(
    "edit",
    [
        "code",
        "eligible_units",
        "to_more_urgent",
        "free",
        "units_in_municipality",
        "ruled_out_by",
        "reason count",
    ],
)
def test_unassigned_codes_counts_and_reasons_must_be_the_instances(edit):
    """A code, a count in the details or the count a reason begins with that the instance does not
    imply is refused; the plan as made passes."""
    inst, plan = engine_plan(with_codes())
    by_code = {u["code"]: u for u in plan["unassigned"]}
    outranked, none = by_code["outranked"], by_code["no_eligible_unit"]
    if edit == "code":
        outranked["code"] = "capacity"
    elif edit in ("eligible_units", "to_more_urgent"):
        outranked["details"][edit] += 1
    elif edit == "free":
        outranked["details"]["free"] = ["u9"]
    elif edit == "units_in_municipality":
        none["details"]["units_in_municipality"] += 1
    elif edit == "ruled_out_by":
        key = next(iter(none["details"]["ruled_out_by"]))
        none["details"]["ruled_out_by"][key] += 1
    else:
        outranked["reason"] = "9" + outranked["reason"]
    assert rules(check_plan(inst, plan)) == {"unassigned"}


def test_unassigned_reason_that_states_an_attribute_is_refused():
    """A reason or its details that state the citizen's attribute is a privacy violation; ids in quotes
    are data and do not count."""
    inst, plan = engine_plan()
    entry = plan["unassigned"][0]
    for text in (
        "rent above max_rent_kr, citizen not subsidy-eligible (rule 8)",
        "not accessible, citizen needs accessible",
    ):
        bad = copy.deepcopy(plan)
        bad["unassigned"][0]["reason"] = entry["reason"] + "; " + text
        assert rules(check_plan(inst, bad)) == {"privacy"}, text
    bad = copy.deepcopy(plan)
    bad["unassigned"][0]["details"]["blocked_by"] = {"department 'd1' mixed-city cap full (1/1)": 1}
    assert rules(check_plan(inst, bad)) == {"privacy"}
    bad["unassigned"][0]["details"]["blocked_by"] = {"a limit on the units full": 1, "note": "citizen is vulnerable"}
    assert rules(check_plan(inst, bad)) == {"privacy"}
    ok = copy.deepcopy(plan)
    ok["unassigned"][0]["reason"] = entry["reason"] + "; pool 'vulnerable-homeless' share cap full (1/1)"
    assert check_plan(inst, ok) == []


def test_weighted_value_is_recomputed():
    """With the weighted objective the plan's value is Σ (priority weight + score)."""
    weighted = copy.deepcopy(BASE)
    weighted["parameters"].update(objective="weighted", priority_weights={"1": 100, "2": 10})
    inst, plan = engine_plan(weighted)
    assert (
        plan["objective"]["value"]
        == 100 * plan["objective"]["housed_by_priority"]["1"]
        + 10 * plan["objective"]["housed_by_priority"]["2"]
        + plan["objective"]["total_score"]
    )
    plan["objective"]["value"] += 1
    assert rules(check_plan(inst, plan)) == {"objective"}


# --- anvis check --prove ------------------------------------------------------------------


def prove_doc() -> dict:
    """a (priority 1) fits u1 only (u2 has 3 rooms); b (priority 2) fits both; scores favour a-u1, b-u2."""
    return {
        "format": "anvis/1",
        "name": "prove",
        "regions": [{"id": "R"}],
        "municipalities": [{"id": "M", "region": "R"}],
        "organisations": [{"id": "O"}],
        "departments": [{"id": "D", "organisation": "O", "municipality": "M"}],
        "agreements": [{"id": "all", "municipality": "M", "share": 1.0}],
        "units": [
            {"id": "u1", "department": "D", "rooms": 2, "rent_kr": 3000},
            {"id": "u2", "department": "D", "rooms": 3, "rent_kr": 3000},
        ],
        "citizens": [
            {"id": "a", "municipality": "M", "max_rent_kr": 5000, "max_rooms": 2},
            {"id": "b", "municipality": "M", "max_rent_kr": 5000, "priority": 2},
        ],
        "scores": [
            {"citizen": "a", "unit": "u1", "score": 50},
            {"citizen": "b", "unit": "u1", "score": 90},
            {"citizen": "b", "unit": "u2", "score": 10},
        ],
    }


def run_check(tmp_path, document: dict, plan: dict, *args: str):
    from click.testing import CliRunner

    from optimizer.cli import main

    (tmp_path / "i.json").write_text(json.dumps(document))
    (tmp_path / "p.json").write_text(json.dumps(plan))
    return CliRunner().invoke(main, ["check", str(tmp_path / "i.json"), str(tmp_path / "p.json"), *args])


def test_prove_accepts_an_optimal_plan(tmp_path):
    """The plan anvis makes is valid and, re-solved, optimal: one line, exit 0."""
    _, plan = engine_plan(prove_doc())
    got = run_check(tmp_path, prove_doc(), plan, "--prove")
    assert got.exit_code == 0 and got.output.strip().endswith("(2 assignments, optimal by a re-solve)"), got.output


def test_prove_refuses_a_plan_that_claims_optimal_but_is_not(tmp_path):
    """A valid plan that claims 'optimal' passes the checker (no unit is free for an unhoused citizen),
    but --prove re-solves and refuses it in one line with exit 1: fewer of priority 1 housed."""
    inst = models.from_dict(prove_doc())
    plan = pairs_plan(inst, [("b", "u1")])
    plan["status"] = "optimal"
    assert check_plan(inst, plan) == [], format_violations(check_plan(inst, plan))
    assert run_check(tmp_path, prove_doc(), plan).exit_code == 0
    got = run_check(tmp_path, prove_doc(), plan, "--prove")
    assert got.exit_code == 1, got.output
    assert got.output.count("\n") == 1 and "claims 'optimal' but is not" in got.output
    assert "houses more urgent citizens (priority 1: 0 housed, the optimum 1)" in got.output


def test_prove_refuses_a_lower_score(tmp_path):
    """Same counts as the optimum, a lower total score: refused by --prove only."""
    document = prove_doc()
    document["citizens"][0]["max_rooms"] = 3  # a fits both units now
    document["scores"] += [{"citizen": "a", "unit": "u2", "score": 20}]
    inst = models.from_dict(document)
    plan = pairs_plan(inst, [("a", "u2"), ("b", "u1")])  # 20 + 90 = 110 > a-u1 + b-u2 = 60: optimal
    plan["status"] = "optimal"
    assert run_check(tmp_path, document, plan, "--prove").exit_code == 0
    worse = pairs_plan(inst, [("a", "u1"), ("b", "u2")])  # 60
    worse["status"] = "optimal"
    assert check_plan(inst, worse) == []
    got = run_check(tmp_path, document, worse, "--prove")
    assert got.exit_code == 1 and got.output.count("\n") == 1, got.output
    assert "the optimum scores 110, the plan 60" in got.output


@needs_shared
def test_a_held_turn_is_checked_like_a_reserved_unit(tmp_path):
    """A hold (anvis/2: an offered turn kept for the next round) takes its unit out of the plan:
    the checker accepts the plan that leaves it alone and refuses one that assigns it."""
    import copy

    from optimizer.engine.solve import solve
    from optimizer.plan.build import make_plan

    raw = json.loads((EXAMPLES / "e5-rotation.json").read_text())
    raw["overrides"] = [{"action": "hold", "unit": "f5"}]  # f5 is a turn c takes in the optimum
    inst = models.from_dict(raw)
    plan = make_plan(solve(inst)).to_dict()
    assert "f5" not in {a["unit"] for a in plan["assignments"]}
    assert check.check_plan(inst, plan) == []
    bad = copy.deepcopy(plan)
    victim = next(a for a in bad["assignments"] if a["citizen"] == "c")
    victim["unit"] = "f5"
    assert any("held but assigned" in v.message for v in check.check_plan(inst, bad))

"""Property-based tests of ``anvis/2`` (FORMAT.md §6) on random small instances.

Documents are the random ``anvis/1`` documents of :mod:`test_properties` made
version 2: random modes, ``kinds`` and ``units`` filters, sequences (with ties),
offered units in rotation pools, subsidy kinds and homeless citizens. The brute
force reads §6 off the raw document on its own (pools, modes, turns) and reuses
the version-1 brute force for everything else.
"""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import DEFAULTS, KINDS, SETTINGS, TOL, Spec, _lex_key, documents

import models
from optimizer.check import check_plan, format_violations
from optimizer.engine.data import ProblemData
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan


def _matches(a: dict, u: dict, d: dict) -> bool:
    return (
        a["municipality"] == d["municipality"]
        and a.get("organisation") in (None, d["organisation"])
        and (a.get("max_rent_kr") is None or a["max_rent_kr"] >= u["rent_kr"])
        and (a.get("rooms") is None or u["rooms"] in a["rooms"])
        and (a.get("departments") is None or u["department"] in a["departments"])
        and (a.get("kinds") is None or u.get("kind", "family") in a["kinds"])
        and (a.get("units") is None or u["id"] in a["units"])
    )


def _pools(doc: dict) -> tuple[dict[str, str], dict[str, str]]:
    """§6 rules 1-2 on the raw document: the pool of every unit, and every pool's mode."""
    depts = {d["id"]: d for d in doc["departments"]}
    pool, mode = {}, {}
    for u in doc["units"]:
        d = depts[u["department"]]
        p = f"default:{d['municipality']}:{d['organisation']}:{u.get('kind', 'family')}"
        m = doc["parameters"].get("default_mode", "rotation")
        for a in doc["agreements"]:
            if _matches(a, u, d):
                p, m = a["id"], a.get("mode", "rotation")
                break
        pool[u["id"]], mode[p] = p, m
    return pool, mode


@st.composite
def v2_documents(draw, **sizes) -> dict:
    """A random valid ``anvis/2`` document."""
    doc = draw(documents(**sizes))
    doc["format"] = "anvis/2"
    params = doc["parameters"]
    if draw(st.booleans()):
        params["default_mode"] = draw(st.sampled_from(("rotation", "choice")))
    if draw(st.booleans()):
        params["subsidy_kinds"] = draw(st.lists(st.sampled_from(KINDS), max_size=3, unique=True))
    unit_ids = [u["id"] for u in doc["units"]]
    for a in doc["agreements"]:
        if draw(st.booleans()):
            a["mode"] = draw(st.sampled_from(("rotation", "choice")))
        if draw(st.integers(0, 3)) == 0:
            a["kinds"] = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=2, unique=True))
        if unit_ids and draw(st.integers(0, 3)) == 0:
            a["units"] = draw(st.lists(st.sampled_from(unit_ids), min_size=1, max_size=3, unique=True))
    for u in doc["units"]:
        if draw(st.booleans()):
            u["sequence"] = draw(st.integers(0, 4))  # ties are frequent
    for c in doc["citizens"]:
        if draw(st.booleans()):
            c["homeless"] = draw(st.booleans())
    # version-2 ledger rows name per-kind default pools
    for e in doc["ledger"]:
        if e["pool"].startswith("default:"):
            e["pool"] += ":" + draw(st.sampled_from(KINDS))
    doc["ledger"] = list({e["pool"]: e for e in doc["ledger"]}.values())
    pool, mode = _pools(doc)
    for u in doc["units"]:
        if mode[pool[u["id"]]] == "rotation" and draw(st.integers(0, 4)) == 0:
            u["offered"] = True
    return doc


class SpecV2(Spec):
    """The version-1 reading of :class:`test_properties.Spec` with §6: pools per kind and
    filter, rotation (turns and offered units only, no share cap), subsidy kinds."""

    def __init__(self, doc: dict, inst):
        super().__init__(doc, inst)
        params = {**DEFAULTS, **doc["parameters"]}
        self.subsidy_kinds = params.get("subsidy_kinds", ["family"])
        self.pool, self.mode = _pools(doc)
        share = {a["id"]: a["share"] for a in doc["agreements"]}
        ledger = {e["pool"]: e for e in doc["ledger"]}
        vacancies = Counter(self.pool[u["id"]] for u in self.units if not u.get("offered", False))
        self.cap, self.may, self.turns = {}, {}, {}
        for p, m in self.mode.items():
            s = share.get(p, params["default_share"])
            e = ledger.get(p, {})
            vb = e.get("vacancies_before", 0)
            if m == "choice":
                self.cap[p] = max(0, math.floor(s * (vb + vacancies[p]) + 1e-9) - e.get("claimed_before", 0))
                continue
            self.cap[p] = None  # rotation: no share cap, only turns
            members = [
                (u.get("sequence", i), i, u["id"])
                for i, u in enumerate(self.units)
                if self.pool[u["id"]] == p and not u.get("offered", False)
            ]
            self.turns[p] = []
            for k, (*_, uid) in enumerate(sorted(members), start=vb + 1):
                self.may[uid] = math.floor(s * k + 1e-9) > math.floor(s * (k - 1) + 1e-9)
                if self.may[uid]:
                    self.turns[p].append(uid)
            self.turns[p] = (self.turns[p], s, vb, len(members))
        for u in self.units:
            if u.get("offered", False):
                self.may[u["id"]] = True

    def eligible(self, c: dict, u: dict):
        sub = super().eligible(c, u)
        if not self.may.get(u["id"], True):
            return None
        if sub and u.get("kind", "family") not in self.subsidy_kinds:
            return None
        return sub

    def plan_of(self, inst, chosen: list) -> dict:
        """The plan document of (citizen, unit, subsidised, score) assignments, with §6's fields."""
        amount = self.amount
        units = {u["id"]: u for u in self.units}
        citizens = {c["id"]: c for c in self.citizens}
        housed = {str(p): 0 for p in sorted({c.get("priority", 1) for c in self.citizens})}
        for cid, *_ in chosen:
            housed[str(citizens[cid].get("priority", 1))] += 1
        taken = {uid for _, uid, *_ in chosen}
        assigned = {cid for cid, *_ in chosen}
        rows = [
            {
                "citizen": cid,
                "unit": uid,
                "subsidised": sub,
                "effective_rent_kr": units[uid]["rent_kr"] - amount if sub else units[uid]["rent_kr"],
                "score": float(score),
            }
            for cid, uid, sub, score in chosen
        ]
        return {
            "format": "anvis-plan/1",
            "instance": inst.name,
            "status": "feasible",
            "objective": {"housed_by_priority": housed, "total_score": float(sum(s for *_, s in chosen))},
            "assignments": rows,
            "unassigned": [{"citizen": c["id"], "reason": "-"} for c in self.citizens if c["id"] not in assigned],
            "passed": [u["id"] for u in self.units if self.may.get(u["id"], False) and u["id"] not in taken],
            "homeless_housed_under_3500_kr": sum(
                1 for r in rows if citizens[r["citizen"]].get("homeless", False) and r["effective_rent_kr"] < 3500
            ),
        }


def _checked(inst, plan) -> None:
    violations = check_plan(inst, plan)
    assert not violations, "\n".join(format_violations(violations))


@settings(max_examples=200, **SETTINGS)
@given(v2_documents(max_citizens=5, max_units=6, max_municipalities=2, max_departments=4))
def test_brute_force_optimum_v2(doc):
    """The engine's optimum equals the brute force's on tiny anvis/2 instances; both plans pass the checker."""
    inst = models.from_dict(doc)
    spec = SpecV2(doc, inst)
    for c in spec.citizens:  # the brute force's reading of the rules agrees with the checker's
        for u in spec.units:
            sub = spec.eligible(c, u)
            ok = sub is not None and spec.fits(Counter(), spec.counted(c, u, sub))
            one = (c["id"], u["id"], u["rent_kr"] > c["max_rent_kr"], spec.score[c["id"], u["id"]])
            assert (check_plan(inst, spec.plan_of(inst, [one])) == []) == ok, (one, ok)
    best, chosen = spec.brute_force()
    _checked(inst, spec.plan_of(inst, chosen))
    result = solve(inst)
    assert str(result.status) == "optimal"
    plan = make_plan(result).to_dict()
    _checked(inst, plan)
    if spec.objective == "weighted":
        assert abs(result.value - best) <= TOL, (result.value, best, chosen)
    else:
        got = _lex_key(inst, result.housed_by_priority, result.total_score)
        assert got[:-1] == best[:-1], (got, best, chosen)
        assert abs(got[-1] - best[-1]) <= TOL, (got, best, chosen)


@settings(max_examples=150, **SETTINGS)
@given(v2_documents())
def test_turns_per_rotation_pool(doc):
    """Each rotation pool has floor(s·(Vb+V)) − floor(s·Vb) turns (with the 1e-9 of §2), the
    engine's turns are the brute force's, and the engine assigns nothing else in rotation pools."""
    inst = models.from_dict(doc)
    spec = SpecV2(doc, inst)
    data = ProblemData.build(inst)
    ids = [u.id for u in inst.units]
    engine_turns = {ids[u] for u in range(len(ids)) if data.u_turn[u] and not inst.units[u].offered}
    for turns, s, vb, v in spec.turns.values():
        assert len(turns) == math.floor(s * (vb + v) + 1e-9) - math.floor(s * vb + 1e-9)
    assert engine_turns == {u for turns, *_ in spec.turns.values() for u in turns}
    plan = make_plan(solve(inst)).to_dict()
    _checked(inst, plan)
    for a in plan["assignments"]:
        assert spec.may.get(a["unit"], True), a


@settings(max_examples=100, **SETTINGS)
@given(v2_documents(max_citizens=6, max_units=6), st.data())
def test_checker_refuses_a_non_turn(doc, data):
    """Assigning a unit of a rotation pool that is neither a turn nor offered is a violation."""
    inst = models.from_dict(doc)
    spec = SpecV2(doc, inst)
    out = [u for u in spec.units if spec.may.get(u["id"], True) is False]
    if not out or not spec.citizens:
        return
    u = data.draw(st.sampled_from(out))
    c = data.draw(st.sampled_from(spec.citizens))
    plan = spec.plan_of(inst, [(c["id"], u["id"], u["rent_kr"] > c["max_rent_kr"], spec.score[c["id"], u["id"]])])
    assert "rotation" in [v.rule for v in check_plan(inst, plan)]


@settings(max_examples=60, **SETTINGS)
@given(documents(max_citizens=8, max_units=8))
def test_conversion_keeps_the_optimum(doc):
    """``to_v2`` of a random version-1 document has the same optimum."""
    from models.convert import to_v2

    inst = models.from_dict(doc)
    a, b = solve(inst), solve(to_v2(inst))
    assert a.housed_by_priority == b.housed_by_priority
    assert abs(a.total_score - b.total_score) <= TOL

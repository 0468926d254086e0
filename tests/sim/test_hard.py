"""The hard presets (issue 12): sizes, binding side rows, a fractional LP, and the same
optimum as the plain PuLP + CBC model; and the existing presets drawn exactly as before."""

import collections
import hashlib
import json
import math
from typing import Any

import numpy as np
import pytest

import models
from benchmarks.baseline import consultant
from optimizer.engine.backends.highs import HighsSession
from optimizer.engine.data import ProblemData
from optimizer.engine.model import KIND_NAMES, Milp, build
from optimizer.engine.pairs import eligible_pairs
from optimizer.engine.solve import objectives, solve
from optimizer.plan.build import make_plan
from optimizer.sim.generate import HARD, PRESET_NAMES, PRESETS
from optimizer.sim.generate import generate as generate_any

HARD_PRESETS = ("hard-city", "hard-national")


def generate(preset: str, **kw: Any) -> dict[str, Any]:
    """The hard presets as they were calibrated: anvis/1 documents (the fractional LPs are of version 1)."""
    kw.setdefault("format", "anvis/1")
    return generate_any(preset, **kw)


def _model(inst: models.Instance) -> tuple[ProblemData, Milp]:
    data = ProblemData.build(inst)
    return data, build(data, eligible_pairs(data))


def _lp(milp: Milp, cost: np.ndarray) -> tuple[float, np.ndarray]:
    """The LP relaxation of one stage objective, by highspy on the engine's model."""
    session = HighsSession(milp)
    session.set_objective(cost)
    h = session.model()
    h.run()
    return h.getInfo().objective_function_value, np.asarray(h.getSolution().col_value)


def _binding_side_rows(inst: models.Instance) -> collections.Counter:
    """Side rows of the engine's model that the optimal plan fills to their cap (by its ``usage``)."""
    plan = make_plan(solve(inst)).to_dict()
    assert plan["status"] == "optimal"
    usage = plan["usage"]
    dept_used = {d["id"]: (d["used"], d["max_vulnerable"]) for d in usage["departments"]}
    full = {
        "pool": {i for i, p in enumerate(usage["pools"]) if p["used"] == p["cap"]},
        "department": {
            i for i, d in enumerate(inst.departments) if d.id in dept_used and len(set(dept_used[d.id])) == 1
        },
        "frame": {i for i, f in enumerate(usage["frames"]) if f["used"] == f["frame"]},
        "quota": {i for i, q in enumerate(usage["quotas"]) if q["used"] == q["quota"]},
    }
    _, milp = _model(inst)
    out: collections.Counter = collections.Counter()
    for kind, group in zip(milp.row_kind.tolist(), milp.row_group.tolist(), strict=True):
        name = KIND_NAMES[kind]
        if name in full and group in full[name]:
            out[name] += 1
    return out


def test_preset_names_list_every_preset():
    """PRESET_NAMES (the CLI's choice list) is every preset, the hard ones included."""
    assert tuple(PRESETS) == PRESET_NAMES
    assert set(HARD_PRESETS) <= set(PRESET_NAMES)
    for name in HARD_PRESETS:
        assert all(PRESETS[name][k] == v for k, v in HARD.items() if k != "afdeling_units")


def test_hard_city_sizes():
    """hard-city: København alone, 900 citizens × 700 units, a score for every pair (630,000),
    ≈ 140,000 eligible pairs, the region's quota at the municipality's frame."""
    doc = generate("hard-city", seed=0)
    assert [m["id"] for m in doc["municipalities"]] == ["101"]
    assert len(doc["citizens"]) == 900 and len(doc["units"]) == 700
    assert len(doc["scores"]) == 630_000
    pairs = {(s["citizen"], s["unit"]) for s in doc["scores"]}
    assert len(pairs) == 630_000  # every pair exactly once
    assert all(0 <= s["score"] <= 100 for s in doc["scores"])
    assert len({s["score"] for s in doc["scores"]}) > 90  # few ties in the score stage
    [region], [muni] = doc["regions"], doc["municipalities"]
    assert region["grant_quota"] == muni["subsidy_frame"] >= 20
    inst = models.from_dict(doc)
    _data, milp = _model(inst)
    assert 120_000 <= milp.n_cols <= 160_000
    assert milp.side_rows >= 45
    # every kind of side row is in the model
    assert {KIND_NAMES[k] for k in np.unique(milp.row_kind)} == set(KIND_NAMES)
    # scores are the given ones: an eligible pair's score is its row of the table
    given = {(s["citizen"], s["unit"]): s["score"] for s in doc["scores"][:5000]}
    ids_c, ids_u = [c.id for c in inst.citizens], [u.id for u in inst.units]
    for c, u, s in zip(milp.pairs.citizen.tolist(), milp.pairs.unit.tolist(), milp.pairs.score.tolist(), strict=True):
        if (ids_c[c], ids_u[u]) in given:
            assert s == given[ids_c[c], ids_u[u]]


def test_hard_national_sizes():
    """hard-national: the national week's municipalities and counts, a score for every pair of
    a municipality, quotas at most their frames, larger afdelinger with several vacancies."""
    doc = generate("hard-national", seed=0)
    week = generate("national-week", seed=0)
    assert len(doc["municipalities"]) == 98
    assert len(doc["citizens"]) == len(week["citizens"])
    assert abs(len(doc["units"]) - len(week["units"])) <= 0.15 * len(week["units"])
    muni_of_dept = {d["id"]: d["municipality"] for d in doc["departments"]}
    cit = collections.Counter(c["municipality"] for c in doc["citizens"])
    units = collections.Counter(muni_of_dept[u["department"]] for u in doc["units"])
    assert len(doc["scores"]) == sum(cit[m] * units[m] for m in cit)
    frames = collections.Counter()
    for m in doc["municipalities"]:
        frames[m["region"]] += m["subsidy_frame"]
    assert all(r["grant_quota"] <= max(1, frames[r["id"]]) for r in doc["regions"])
    vac = collections.Counter(u["department"] for u in doc["units"])
    vac_week = collections.Counter(u["department"] for u in week["units"])
    assert np.mean(list(vac.values())) > 1.3 * np.mean(list(vac_week.values()))


@pytest.mark.parametrize("preset", HARD_PRESETS)
def test_hard_scale_and_seed(preset):
    """--scale multiplies the counts and every pair of a municipality keeps its score;
    the same seed gives the same document, another seed another one."""
    doc = generate(preset, seed=3, scale=0.2)
    full = PRESETS[preset]["citizens"]
    assert len(doc["citizens"]) == round(full * 0.2)
    if preset == "hard-city":
        assert len(doc["units"]) == 140 and len(doc["scores"]) == 180 * 140
    assert json.dumps(generate(preset, seed=3, scale=0.2)) == json.dumps(doc)
    other = generate(preset, seed=4, scale=0.2)
    assert other["scores"] != doc["scores"]


@pytest.mark.parametrize(
    ("preset", "scale", "seed", "least"),
    [
        ("hard-city", 0.3, 0, {"pool": 3, "department": 5, "frame": 1, "quota": 1}),
        ("hard-national", 0.2, 1, {"pool": 5, "department": 2, "frame": 2, "quota": 3}),
    ],
)
def test_side_rows_bind_in_the_optimal_plan(preset, scale, seed, least):
    """Shares, mixed-city caps, frames and quotas are all full in the optimal plan, each as a
    row of the model (a cap that cannot bind has no row and is not counted)."""
    binding = _binding_side_rows(models.from_dict(generate(preset, seed=seed, scale=scale)))
    for kind, n in least.items():
        assert binding[kind] >= n, (kind, binding)


def test_hard_city_lp_relaxation_is_fractional():
    """The first count stage's LP relaxation of hard-city (30 % scale) has fractional values:
    the side rows cut the assignment polytope, which the engine's integral fast paths rely on."""
    data, milp = _model(models.from_dict(generate("hard-city", seed=0, scale=0.3)))
    prio = data.c_prio[milp.pairs.citizen]
    value, x = _lp(milp, (prio == 1).astype(float))
    fractional = (x > 1e-6) & (x < 1 - 1e-6)
    assert fractional.sum() >= 5, value
    # ...in a count stage of the engine too (seed 6 at 25 %: its packed count stage)
    data, milp = _model(models.from_dict(generate("hard-city", seed=6, scale=0.25)))
    name, cost = objectives(data, milp)[0]
    assert name.startswith("housed priority")
    _, x = _lp(milp, cost)
    assert ((x > 1e-6) & (x < 1 - 1e-6)).sum() >= 5


def test_hard_national_lp_bound_is_fractional():
    """hard-national (20 %, seed 1): the count stage's LP optimum is not an integer, so it lies
    strictly above every plan; the engine still proves the integral optimum."""
    inst = models.from_dict(generate("hard-national", seed=1, scale=0.2))
    data, milp = _model(inst)
    _name, cost = objectives(data, milp)[0]
    value, _ = _lp(milp, cost)
    assert abs(value - round(value)) > 0.25, value
    result = solve(inst)
    assert result.status == "optimal"
    # the packed count objective weighs each citizen by priority: the plan's value of it
    weight = dict(zip(milp.pairs.citizen.tolist(), cost.tolist(), strict=True))
    housed = sum(weight[c] for c in result.chosen.citizen.tolist())
    assert housed <= math.floor(value)  # the LP bound is strictly above the integral optimum
    assert result.stats["milp_blocks"][0]["stages"][0]["objective"] <= math.floor(value)


@pytest.mark.parametrize(("preset", "scale"), [("hard-city", 0.1), ("hard-national", 0.1), ("hard-national", 0.2)])
def test_same_optimum_as_plain_pulp_cbc(preset, scale):
    """The engine's optimum equals the plain PuLP + CBC model's (benchmarks/baseline.py)."""
    inst = models.from_dict(generate(preset, seed=1, scale=scale))
    ours = solve(inst)
    housed, score = consultant(inst)
    assert ours.status == "optimal"
    assert housed == ours.housed_by_priority
    assert score == pytest.approx(ours.total_score, abs=1e-6)


# sha256 (first 16 hex digits) of json.dumps(generate(preset, seed=3, **kw), sort_keys=True),
# computed at commit cbcf500, before the hard presets: the existing presets draw as before.
BEFORE = {
    ("national-week", 0.05, False): "94612b728d91d043",
    ("national-week", 1.0, False): "6f99560a286e06b2",
    ("national-week", 0.05, True): "1d3deaae42615c75",
    ("city-week", 0.05, False): "ca45743f1b597be2",
    ("city-week", 1.0, False): "6bec228a3ec8cab6",
    ("city-week", 0.05, True): "ce9064533cce4a82",
    ("city-year", 0.05, False): "5637d73c96ed7726",
    ("city-year", 0.05, True): "e8e73be03c26b62b",
    ("small", 0.05, False): "f688010674ab2422",
    ("small", 1.0, False): "edd99e85d7d46681",
    ("small", 0.05, True): "1a9ed94149f82ac9",
    ("tiny", 0.05, False): "7c7a9c3058d389f8",
    ("tiny", 1.0, False): "1cdffe1778f1be6d",
    ("tiny", 0.05, True): "8f38fb6d75539381",
}


@pytest.mark.parametrize(("preset", "scale", "scores"), list(BEFORE))
def test_existing_presets_unchanged(preset, scale, scores):
    """The existing presets generate byte-identical documents to those before the hard presets."""
    doc = generate(preset, seed=3, scale=scale, with_scores=scores, format="anvis/1")
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]
    assert digest == BEFORE[preset, scale, scores]


# sha256 (first 16 hex digits) of json.dumps(generate(preset, seed=2, scale=..., format="anvis/1"),
# sort_keys=True), computed at 6a702c5, before the hard presets had an anvis/2 calibration.
HARD_V1 = {
    ("hard-city", 0.1): "ac248c5f7b6e3cd5",
    ("hard-city", 1.0): "eb7b929d888cf742",
    ("hard-national", 0.1): "be4f872a3086e7f9",
    ("hard-national", 1.0): "6597f01b1dc9c204",
}


@pytest.mark.parametrize(("preset", "scale"), list(HARD_V1))
def test_hard_presets_as_anvis_1_unchanged(preset, scale):
    """``--format anvis/1`` gives the hard presets' version-1 documents byte for byte as before
    their anvis/2 calibration (the keys it added act in anvis/2 only)."""
    doc = generate_any(preset, seed=2, scale=scale, format="anvis/1")
    assert hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16] == HARD_V1[preset, scale]


@pytest.mark.parametrize("preset", HARD_PRESETS)
def test_hard_presets_are_anvis_2_by_default(preset):
    """Like every preset, the hard ones generate anvis/2 by default: rotation default pools,
    their drawn agreements negotiated choice pools, frames the week's slice (not the totals)."""
    doc = generate_any(preset, seed=1, scale=0.1)
    assert doc["format"] == "anvis/2" and doc["parameters"]["default_mode"] == "rotation"
    assert doc["agreements"] and all(a["mode"] == "choice" for a in doc["agreements"])
    assert models.from_dict(doc).version == 2
    spent = {m["id"]: m["subsidy_frame"] for m in doc["municipalities"]}
    totals = {
        m["id"]: m["subsidy_frame"]
        for m in generate_any(preset, seed=1, scale=0.1, frames_spent=False)["municipalities"]
    }
    assert all(spent[m] <= totals[m] for m in spent)
    if preset == "hard-national":  # a week: a slice of the year's totals
        assert sum(spent.values()) < sum(totals.values())


@pytest.mark.parametrize(
    ("preset", "scale", "seed", "least"),
    [
        ("hard-city", 0.3, 0, {"pool": 1, "department": 4, "frame": 1, "quota": 1}),
        ("hard-national", 0.2, 1, {"pool": 2, "frame": 3, "quota": 3}),
    ],
)
def test_side_rows_bind_in_the_optimal_plan_anvis_2(preset, scale, seed, least):
    """anvis/2 hard presets: choice pools, mixed-city caps, frames and quotas are full in the
    optimal plan, each as a row of the model (rotation pools have no row: their cap is their
    turns); without the hard calibration of anvis/2, fewer kinds bind (no frame in hard-national)."""
    doc = generate_any(preset, seed=seed, scale=scale)
    assert doc["format"] == "anvis/2"
    binding = _binding_side_rows(models.from_dict(doc))
    for kind, n in least.items():
        assert binding[kind] >= n, (kind, binding)
    plain = generate_any(preset, seed=seed, scale=scale, agreement_mode=None, frames_spent=False)
    assert sum(_binding_side_rows(models.from_dict(plain)).values()) < sum(binding.values())


@pytest.mark.parametrize(
    ("preset", "scale", "seed"), [("hard-city", 0.1, 1), ("hard-national", 0.1, 1), ("hard-national", 0.2, 1)]
)
def test_anvis_2_hard_presets_same_optimum_on_highs_and_cbc(preset, scale, seed):
    """Small anvis/2 hard instances: HiGHS (auto: its fast paths) and CBC prove the same
    optimum, and the checker passes both plans."""
    from optimizer.check import check_plan

    inst = models.from_dict(generate_any(preset, seed=seed, scale=scale))
    plans = {backend: solve(inst, backend) for backend in ("auto", "highs", "cbc")}
    for backend, result in plans.items():
        assert result.status == "optimal", backend
        assert check_plan(inst, make_plan(result)) == [], backend
    housed = {b: r.housed_by_priority for b, r in plans.items()}
    assert housed["auto"] == housed["highs"] == housed["cbc"]
    assert plans["auto"].total_score == pytest.approx(plans["cbc"].total_score, abs=1e-6)
    assert plans["highs"].total_score == pytest.approx(plans["cbc"].total_score, abs=1e-6)
    assert _model(inst)[1].side_rows > 0

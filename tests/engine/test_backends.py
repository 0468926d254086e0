"""The solver backends (HiGHS, CP-SAT, CBC) and the matching fast path agree.

Every backend must reach the same lexicographic optimum (or the same weighted
value) on a corpus of small generated instances and the shared worked
examples, with plans that pass the independent checker; CP-SAT must handle
fractional scores by scaling; time limits must give valid plans.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from functools import cache

import numpy as np
import pytest

import models
from optimizer.check import check_plan, format_violations
from optimizer.engine.backends import open_session
from optimizer.engine.backends.cpsat import integer_scale
from optimizer.engine.data import ProblemData
from optimizer.engine.model import build
from optimizer.engine.pairs import eligible_pairs
from optimizer.engine.solve import solve
from optimizer.engine.status import Status
from optimizer.plan.build import make_plan
from optimizer.sim.generate import generate

from conftest import EXAMPLES, doc

BACKENDS = ("highs", "cpsat", "cbc")
EXAMPLE_NAMES = ["e1-ledger-and-subsidy", "e2-random-small", "e3-random-regions", "e4-weighted"]


# --------------------------------------------------------------------------- corpus


def _weighted(d: dict, weights: dict) -> dict:
    d = copy.deepcopy(d)
    d["parameters"] = {**d.get("parameters", {}), "objective": "weighted", "priority_weights": weights}
    return d


def _rescored(d: dict, factor: float, decimals: int) -> dict:
    """The document with its (generated, integral) scores times ``factor``: fractional scores."""
    d = copy.deepcopy(d)
    d["scores"] = [{**s, "score": round(s["score"] * factor, decimals)} for s in d["scores"]]
    return d


GENERATED = {
    **{f"tiny-s{s}": (lambda s=s: generate("tiny", seed=s)) for s in range(10)},
    **{f"small-s{s}-x0.5": (lambda s=s: generate("small", seed=s, scale=0.5)) for s in range(6)},
    **{f"small-s{s}": (lambda s=s: generate("small", seed=s)) for s in range(2)},
    "city-week-s1-x0.3": lambda: generate("city-week", seed=1, scale=0.3),
    "tiny-s3-weighted": lambda: _weighted(generate("tiny", seed=3), {"1": 300, "2": 150, "3": 40}),
    "small-s1-x0.5-weighted": lambda: _weighted(generate("small", seed=1, scale=0.5), {"1": 90, "2": 60, "3": 30}),
    "small-s2-eighths": lambda: _rescored(generate("small", seed=2, with_scores=True), 1 / 8, 6),
    "small-s3-x0.5-cents": lambda: _rescored(generate("small", seed=3, scale=0.5, with_scores=True), 0.37, 2),
}
# cases also solved by HiGHS on the whole model (no block decomposition)
WHOLE = {"tiny-s0", "small-s0", "small-s1-x0.5-weighted", "e3-random-regions"}


@cache
def _instance(case: str):
    if case in GENERATED:
        return models.from_dict(GENERATED[case]())
    path = EXAMPLES / f"{case}.json"
    if not path.is_file():
        pytest.skip(f"shared worked example {path} is absent (CI has ../shared beside the clone)")
    return models.from_dict(json.loads(path.read_text()))


def _checked(inst, result):
    plan = make_plan(result).to_dict()
    violations = check_plan(inst, plan)
    assert violations == [], "\n".join(format_violations(violations))
    return plan


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("first", ["highspy", "ortools"])
def test_highspy_and_ortools_load_in_one_process(first):
    """highspy and OR-Tools (CP-SAT, pywraplp, min-cost flow) import together in either order.

    Both bundle libhighs; highspy >= 1.14 clashes with ortools 9.15 (a crash or
    an ImportError at the second import), hence the highspy 1.13.1 pin.
    """
    highs = "import highspy; h = highspy.Highs(); h.setOptionValue('output_flag', False)"
    ortools = (
        "from ortools.sat.python import cp_model; import ortools.linear_solver.pywraplp; "
        "from ortools.graph.python import min_cost_flow; cp_model.CpSolver(); "
        "min_cost_flow.SimpleMinCostFlow()"
    )
    code = f"{highs}; {ortools}" if first == "highspy" else f"{ortools}; {highs}"
    done = subprocess.run(
        [sys.executable, "-c", code + "; print('ok')"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("case", list(GENERATED) + EXAMPLE_NAMES)
def test_backends_agree(case):
    """auto, HiGHS, CP-SAT and CBC all prove the same optimum, and every plan passes the checker.

    Lexicographic: equal ``housed_by_priority`` and ``total_score`` (unique at
    the optimum). Weighted: equal ``value`` only, since optima with the same
    value may split it differently between priorities and score. Worked
    examples must also match ``expected.json``.
    """
    inst = _instance(case)
    results = {b: solve(inst, backend=b) for b in ("auto", *BACKENDS)}
    if case in WHOLE:
        results["highs, whole model"] = solve(inst, backend="highs", decompose=False)
    weighted = inst.parameters.objective == "weighted"
    expected = None
    if case in EXAMPLE_NAMES:
        expected = json.loads((EXAMPLES / "expected.json").read_text())[case]
    ref = results["highs"]
    for name, r in results.items():
        assert r.status == Status.OPTIMAL, name
        _checked(inst, r)
        if weighted:
            assert r.value == pytest.approx(ref.value, abs=1e-6), name
        else:
            assert r.housed_by_priority == ref.housed_by_priority, name
            assert r.total_score == pytest.approx(ref.total_score, abs=1e-6), name
        if expected is not None and not weighted:
            assert {str(p): n for p, n in r.housed_by_priority.items()} == expected["housed_by_priority"], name
            assert r.total_score == pytest.approx(expected["total_score"], abs=1e-6), name


def test_fractional_scores_solved_exactly_by_cpsat():
    """CP-SAT scales fractional scores (here ×100) to integers and proves the true optimum.

    Units u1/u2, citizens a/b: a–u1 0.3 + b–u2 0.1 = 0.4 loses to a–u2 0.25 + b–u1 0.2 = 0.45.
    """
    assert integer_scale(np.array([0.25, 0.3, 0.2, 0.1]))[:1] == (100,)
    scores = [
        {"citizen": "a", "unit": "u1", "score": 0.3},
        {"citizen": "a", "unit": "u2", "score": 0.25},
        {"citizen": "b", "unit": "u1", "score": 0.2},
        {"citizen": "b", "unit": "u2", "score": 0.1},
    ]
    inst = models.from_dict(doc([{"id": "a"}, {"id": "b"}], [{"id": "u1"}, {"id": "u2"}], scores=scores))
    r = solve(inst, backend="cpsat")
    assert r.status == Status.OPTIMAL
    plan = _checked(inst, r)
    assert {(a["citizen"], a["unit"]) for a in plan["assignments"]} == {("a", "u2"), ("b", "u1")}
    assert r.total_score == pytest.approx(0.45, abs=1e-9)


def test_cpsat_rounds_scores_beyond_six_decimals_and_says_feasible():
    """Scores with more than six decimals are rounded at 10^6: the plan is valid, the best one here,
    but CP-SAT reports ``feasible`` since optimality holds only for the rounded scores."""
    s, ints, exact = integer_scale(np.array([1 / 3, 0.5]))
    assert (s, exact) == (10**6, False) and ints.tolist() == [333333, 500000]
    scores = [
        {"citizen": "a", "unit": "u1", "score": 1 / 3},
        {"citizen": "a", "unit": "u2", "score": 0.1234567},
        {"citizen": "b", "unit": "u1", "score": 0.2},
        {"citizen": "b", "unit": "u2", "score": 2 / 7},
    ]
    inst = models.from_dict(doc([{"id": "a"}, {"id": "b"}], [{"id": "u1"}, {"id": "u2"}], scores=scores))
    r = solve(inst, backend="cpsat")
    assert r.status == Status.FEASIBLE
    _checked(inst, r)
    assert r.total_score == pytest.approx(1 / 3 + 2 / 7, abs=1e-9)
    assert r.bound >= r.total_score


@pytest.fixture(scope="module")
def medium():
    """A København week at half scale: about 4,900 columns, one block with side rows."""
    return models.from_dict(generate("city-week", seed=0, scale=0.5))


@pytest.mark.parametrize("time_limit", [0.0, 0.2])
@pytest.mark.parametrize("backend", BACKENDS)
def test_time_limit_gives_valid_plan(medium, backend, time_limit):
    """Under a time limit each backend returns 'optimal' or 'feasible' with a valid plan (timing not asserted)."""
    r = solve(medium, backend=backend, time_limit=time_limit)
    assert r.status in (Status.OPTIMAL, Status.FEASIBLE)
    _checked(medium, r)


def _session(backend: str, inst):
    data = ProblemData.build(inst)
    milp = build(data, eligible_pairs(data))
    return open_session(backend, milp), milp


@pytest.mark.parametrize("backend", BACKENDS)
def test_session_hold_rows_and_infeasible_status(backend):
    """Sessions keep added rows across solves: a hold row with a fractional lower bound (1.5 → ≥ 2)
    is respected, a warm start that is feasible but not best is improved on (with negative costs:
    CBC, maximising, would return such a start as optimal, coin-or/Cbc#296), and a row that cannot
    be met gives status 'infeasible' with no solution."""
    inst = models.from_dict(doc([{"id": "a"}, {"id": "b"}, {"id": "c"}], [{"id": "u1"}, {"id": "u2"}]))
    session, milp = _session(backend, inst)
    n = milp.n_cols
    cost = np.zeros(n)
    cost[milp.pairs.citizen == 0] = 1.0  # a alone is worth housing
    session.set_objective(cost)
    res = session.solve(None, None, 0.5)
    assert res.status == Status.OPTIMAL and res.x is not None
    assert cost @ res.x == 1 and res.objective == pytest.approx(1) and res.bound == pytest.approx(1)
    session.add_row(np.arange(n), np.ones(n), 1.5, np.inf)  # at least two housed
    session.set_objective(-cost)  # now prefer a unhoused
    pc, pu = milp.pairs.citizen, milp.pairs.unit
    start = (((pc == 0) & (pu == 0)) | ((pc == 1) & (pu == 1))).astype(np.int8)  # a and b: feasible, not best
    res = session.solve(None, start, 0.5)
    assert res.status == Status.OPTIMAL and res.x is not None
    assert res.x.sum() == 2 and cost @ res.x == 0
    session.add_row(np.arange(n), np.ones(n), 3, np.inf)  # three housed in two units: impossible
    res = session.solve(None, None, 0.5)
    assert res.status == Status.INFEASIBLE and res.x is None


@pytest.mark.parametrize("backend", ["cpsat", "cbc"])
def test_same_plan_twice(backend):
    """The single-threaded, seeded backends are deterministic: two solves give byte-identical plans."""
    inst = _instance("small-s0")
    first, second = (json.dumps(make_plan(solve(inst, backend=backend)).to_dict(), sort_keys=True) for _ in range(2))
    assert first == second


def test_cbc_leaves_no_files_behind(tmp_path, monkeypatch):
    """CBC's model and solution files go to a private temporary directory, never the working
    directory, even when $TMPDIR is missing (PuLP alone would then write to the cwd)."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    for var in ("TMPDIR", "TMP"):
        monkeypatch.setenv(var, str(tmp_path / "missing"))
    r = solve(_instance("tiny-s1"), backend="cbc")
    assert r.status == Status.OPTIMAL
    assert os.listdir(work) == []


@pytest.mark.parametrize("presolve", [False, True])
def test_highs_mip_restarts_only_without_presolve(presolve):
    """HiGHS restarts its root search in a plain MIP solve but not in a presolved one (the
    band MILPs of column generation, where restarts cost hard-city's score stage 1.1 s),
    and the session allows restarts again afterwards; the optimum is the same either way."""
    import highspy

    from optimizer.engine.backends import highs

    seen = []

    class Spy:
        """A HiGHS model that records whether restarts are allowed when it runs."""

        def __init__(self, h):
            self.h = h

        def __getattr__(self, name):
            return getattr(self.h, name)

        def run(self):
            seen.append(self.h.getOptionValue("mip_allow_restart")[1])
            return self.h.run()

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVars(3, np.zeros(3), np.ones(3))
    h.changeColsCost(3, np.arange(3, dtype=np.int32), np.array([3.0, 2.0, 2.0]))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.addRow(-highspy.kHighsInf, 1.5, 3, np.arange(3, dtype=np.int32), np.ones(3))  # at most one of three
    res = highs._run_mip(Spy(h), None, None, 0.5, presolve)
    assert seen == [not presolve]
    assert h.getOptionValue("mip_allow_restart")[1] is True
    assert res.status == Status.OPTIMAL and res.objective == pytest.approx(3) and list(res.x) == [1, 0, 0]


@pytest.mark.parametrize("aggregated", [False, True])
def test_highs_session_holds_the_model_as_given(aggregated):
    """HiGHS's model is the block's: bounds, matrix, maximisation, every column continuous.

    (Made at the first solve, or when asked for as here.)
    """
    import highspy

    from optimizer.engine.backends.highs import HighsSession
    from optimizer.engine.methods.aggregate import aggregate
    from optimizer.sim.generate import duplicated

    document = duplicated(generate("small", seed=4), 3, 2) if aggregated else GENERATED["small-s0"]()
    data = ProblemData.build(models.from_dict(document))
    milp = build(data, eligible_pairs(data))
    if aggregated:
        milp = milp.restrict(milp.blocks()[0])
        found = aggregate(data, milp)
        assert found is not None
        milp = found.milp
        assert milp.col_hi is not None and milp.col_hi.max() > 1  # general integer bounds
    lp = HighsSession(milp).model().getLp()
    assert (lp.num_col_, lp.num_row_) == (milp.n_cols, milp.n_rows) > (0, 0)
    assert lp.sense_ == highspy.ObjSense.kMaximize
    assert set(lp.integrality_) <= {highspy.HighsVarType.kContinuous}
    upper = np.ones(milp.n_cols) if milp.col_hi is None else milp.col_hi
    assert np.array_equal(lp.col_lower_, np.zeros(milp.n_cols)) and np.array_equal(lp.col_upper_, upper)
    assert np.array_equal(lp.row_lower_, milp.row_lo)
    hi = np.asarray(lp.row_upper_)
    assert np.array_equal(hi[np.isfinite(milp.row_hi)], milp.row_hi[np.isfinite(milp.row_hi)])
    assert (hi[~np.isfinite(milp.row_hi)] >= highspy.kHighsInf).all()
    m = lp.a_matrix_
    assert np.array_equal(m.start_, milp.A.indptr) and np.array_equal(m.index_, milp.A.indices)
    assert np.array_equal(m.value_, milp.A.data)


def test_highs_session_refuses_a_model_highs_refuses():
    """A matrix entry in a row that does not exist is an error, not an empty model."""
    import dataclasses

    from optimizer.engine.backends.highs import HighsSession
    from optimizer.engine.model import Csc

    data = ProblemData.build(_instance("tiny-s0"))
    milp = build(data, eligible_pairs(data))
    A = milp.A
    bad = Csc(A.indptr, A.indices + milp.n_rows, A.data, A.shape)
    with pytest.raises(RuntimeError, match="HiGHS refused the model"):
        HighsSession(dataclasses.replace(milp, A=bad)).model()

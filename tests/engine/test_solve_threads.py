"""Blocks solved at once (``solve(threads=...)``): the same plan, log and status as one after another.

The blocks of an instance are independent; with ``threads`` > 1 they are solved in worker
threads, largest first, and their outcomes combined in block order. Nothing a plan says may
depend on that: the plans of every worked example, every reference instance and random
multi-block documents are compared byte for byte for 1 and 2 threads. A block that fails
fails the solve as in the serial loop; progress keeps coming, in order, from the threads;
a backend whose sessions may not run at once is solved in the calling thread.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_properties import SETTINGS

import models
import optimizer
from optimizer.check import check_plan, format_violations
from optimizer.engine import solve as solve_mod
from optimizer.engine.backends.base import Capabilities
from optimizer.engine.solve import default_threads, solve, threads_default
from optimizer.plan.build import make_plan
from optimizer.sim.generate import generate

from conftest import doc, worked_examples

#: The reference instances of every preset at seed 0 (read in place, never written).
REF = Path(os.environ.get("ANVIS_REF_DIR", "/work/tmp/ref"))
#: Reference instances solved in the tests: city-year is left out (a minute a solve).
REF_NAMES = ("tiny", "small", "small-scores", "city-week", "national-week")


def plan_bytes(inst: models.Instance, **options) -> bytes:
    """The plan's bytes as ``anvis solve`` writes them, after the independent checker passed it."""
    plan = make_plan(solve(inst, **options))
    violations = check_plan(inst, plan.to_dict())
    assert not violations, "\n".join(format_violations(violations))
    return plan.json_bytes()


def separate_towns(n: int) -> dict:
    """``n`` municipalities with a pool and three citizens competing for two units each: ``n`` blocks.

    Each town's citizens are of priorities 1 and 2 with a cap of one unit per pool for the
    first, so that every block has side rows and is solved in stages (not as a matching).
    """
    munis = [{"id": f"M{i}", "name": f"M{i}", "region": "R", "subsidy_frame": 0} for i in range(n)]
    depts = [{"id": f"D{i}", "organisation": "O", "municipality": f"M{i}"} for i in range(n)]
    agreements = [{"id": f"p{i}", "municipality": f"M{i}", "share": 0.5} for i in range(n)]
    citizens, units = [], []
    for i in range(n):
        units += [{"id": f"u{i}a", "department": f"D{i}"}, {"id": f"u{i}b", "department": f"D{i}"}]
        citizens += [
            {"id": f"c{i}x", "priority": 1, "municipality": f"M{i}"},
            {"id": f"c{i}y", "priority": 2, "municipality": f"M{i}"},
            {"id": f"c{i}z", "priority": 2, "municipality": f"M{i}", "max_rent_kr": 3500},
        ]
    return doc(citizens, units, municipalities=munis, departments=depts, agreements=agreements)


@pytest.fixture
def towns() -> models.Instance:
    inst = models.from_dict(separate_towns(6))
    assert solve(inst, backend="highs", threads=1).stats["blocks"] == 6
    return inst


# --- the same plans --------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["auto", "cpsat", "cbc"])
@pytest.mark.parametrize("example", worked_examples())
def test_worked_examples_give_the_same_plan_bytes_with_one_and_two_threads(example, backend):
    inst = models.load(example)
    assert plan_bytes(inst, backend=backend, threads=2) == plan_bytes(inst, backend=backend, threads=1)


@pytest.mark.parametrize("name", REF_NAMES)
def test_reference_instances_give_the_same_plan_bytes_with_one_and_two_threads(name):
    path = REF / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"reference instance {path} is absent (set ANVIS_REF_DIR)")
    inst = models.load(path)
    one = plan_bytes(inst, threads=1)
    assert plan_bytes(inst, threads=2) == one
    assert plan_bytes(inst, threads=3) == one


@pytest.mark.parametrize("backend", ["highs", "cpsat", "cbc"])
def test_many_blocks_by_stages_give_the_same_plan_on_every_backend(towns, backend):
    one = plan_bytes(towns, backend=backend, threads=1)
    assert plan_bytes(towns, backend=backend, threads=2) == one
    assert plan_bytes(towns, backend=backend, threads=4) == one


def test_a_generated_national_week_with_a_start_and_column_generation_gives_the_same_plan(monkeypatch):
    """Many blocks of every kind (matching, aggregated, stages, column generation), started from a plan."""
    inst = models.from_dict(generate("national-week", seed=3, scale=0.2))
    monkeypatch.setattr(solve_mod, "MIN_COLUMNS", 200)
    first = solve(inst, threads=1)
    kinds = {b["backend"] for b in first.stats["milp_blocks"]}
    assert "highs+pricing" in kinds and first.stats["matching_blocks"] > 0
    start = first.start()
    assert plan_bytes(inst, threads=2, start=start) == plan_bytes(inst, threads=1, start=start)


@st.composite
def towns_documents(draw) -> dict:
    """2 to 5 towns, each in a region of its own, sharing nothing: a block or more each.

    In each town: a pool of some share, one or two departments (a cap on vulnerable
    citizens now and then), units of a few rents (some inside the subsidy band) and citizens
    of three priorities competing for them, a subsidy frame, random scores with ties.
    """
    regions, munis, depts, agreements, units, citizens, scores = [], [], [], [], [], [], []
    for t in range(draw(st.integers(2, 5))):
        regions.append({"id": f"R{t}", "name": f"R{t}", "grant_quota": draw(st.sampled_from([None, 0, 1, 3]))})
        munis.append({"id": f"M{t}", "name": f"M{t}", "region": f"R{t}", "subsidy_frame": draw(st.integers(0, 2))})
        for d in range(draw(st.integers(1, 2))):
            dept = {"id": f"D{t}.{d}", "organisation": "O", "municipality": f"M{t}"}
            if draw(st.booleans()):
                dept["max_vulnerable"] = draw(st.integers(0, 2))
            depts.append(dept)
        agreements.append({"id": f"p{t}", "municipality": f"M{t}", "share": draw(st.sampled_from([0.25, 0.5, 1.0]))})
        for k in range(draw(st.integers(1, 5))):
            units.append(
                {
                    "id": f"u{t}.{k}",
                    "department": draw(st.sampled_from([d["id"] for d in depts if d["municipality"] == f"M{t}"])),
                    "rooms": draw(st.integers(1, 3)),
                    "rent_kr": draw(st.sampled_from([2500, 3000, 4800, 5500])),
                }
            )
        for k in range(draw(st.integers(1, 6))):
            citizens.append(
                {
                    "id": f"c{t}.{k}",
                    "municipality": f"M{t}",
                    "priority": draw(st.integers(1, 3)),
                    "max_rent_kr": draw(st.sampled_from([3000, 4000, 6000])),
                    "min_rooms": draw(st.integers(1, 2)),
                    "vulnerable": draw(st.booleans()),
                    "subsidy_eligible": draw(st.booleans()),
                }
            )
    for c in citizens:
        for u in units:
            if u["id"].split(".")[0][1:] == c["id"].split(".")[0][1:] and draw(st.booleans()):
                scores.append({"citizen": c["id"], "unit": u["id"], "score": draw(st.sampled_from([0, 1, 2.5, 7]))})
    return doc(
        citizens,
        units,
        regions=regions,
        municipalities=munis,
        departments=depts,
        agreements=agreements,
        scores=scores,
    )


@settings(max_examples=40, **SETTINGS)
@given(towns_documents(), st.sampled_from(["auto", "highs", "cpsat"]))
def test_random_multi_block_documents_give_the_same_plan(document, backend):
    inst = models.from_dict(document)
    one = solve(inst, backend=backend, threads=1)
    assume(one.stats["blocks"] > 1)
    two = solve(inst, backend=backend, threads=2)
    assert make_plan(two).json_bytes() == make_plan(one).json_bytes()
    assert (two.status, two.bound, two.gap) == (one.status, one.bound, one.gap)
    violations = check_plan(inst, make_plan(two).to_dict())
    assert not violations, "\n".join(format_violations(violations))


def test_the_first_non_optimal_block_in_block_order_sets_status_bound_and_gap(towns, monkeypatch):
    """Blocks finishing in another order must not change which block's status the solve reports."""
    real = solve_mod._stages

    def stopped(data, milp, backend, deadline, start=None):
        x, _, log, _, _ = real(data, milp, backend, deadline, start)
        # each block a bound of its own (its first citizen's index), so that the one reported shows
        first = int(milp.pairs.citizen.min())
        if first == 0:  # the first block finishes last
            time.sleep(0.05)
        return x, optimizer.Status.FEASIBLE, log, float(first), 0.5

    monkeypatch.setattr(solve_mod, "_stages", stopped)
    one = solve(towns, backend="highs", threads=1)
    two = solve(towns, backend="highs", threads=3)
    assert one.status == two.status == optimizer.Status.FEASIBLE
    assert one.bound == two.bound == 0.0 and one.gap == two.gap


# --- scheduling ------------------------------------------------------------------------


def record_threads(monkeypatch) -> list[tuple[int, str]]:
    """Record (the block's first citizen, thread name) of every block solved by stages."""
    seen: list[tuple[int, str]] = []
    real = solve_mod._stages

    def spy(data, milp, backend, deadline, start=None):
        seen.append((int(milp.pairs.citizen.min()), threading.current_thread().name))
        time.sleep(0.002)  # time enough for a worker thread to start and take a block
        return real(data, milp, backend, deadline, start)

    monkeypatch.setattr(solve_mod, "_stages", spy)
    return seen


def test_blocks_run_in_this_and_worker_threads_largest_first(monkeypatch):
    """The largest block is taken first; blocks run in the calling thread and in workers."""
    big = separate_towns(4)
    # town 2 gets three more citizens: the largest block
    big["citizens"] += [{"id": f"extra{k}", "priority": 2, "municipality": "M2", "max_rent_kr": 5000} for k in range(3)]
    inst = models.from_dict(big)
    columns: dict[int, int] = {}
    real = solve_mod._in_threads

    def spy_order(fn, order, workers):
        columns["order"] = order
        return real(fn, order, workers)

    real_block = solve_mod._solve_block

    def spy(data, block, span, *args):
        columns[span[0]] = block.n_cols
        return real_block(data, block, span, *args)

    monkeypatch.setattr(solve_mod, "_in_threads", spy_order)
    monkeypatch.setattr(solve_mod, "_solve_block", spy)
    seen = record_threads(monkeypatch)
    solve(inst, backend="highs", threads=2)
    order = columns.pop("order")
    assert len(set(columns.values())) == 2  # the big block and three equal ones
    assert order == sorted(columns, key=lambda i: (-columns[i], i)) and order[0] == 2
    assert len(seen) == 4 and {name for _, name in seen} <= {threading.current_thread().name, "anvis-block-1"}


def test_the_scheduler_takes_blocks_in_order_and_returns_them_in_block_order():
    started: list[int] = []
    names: set[str] = set()
    lock = threading.Lock()

    def fn(i: int) -> int:
        with lock:
            started.append(i)
            names.add(threading.current_thread().name)
        time.sleep(0.005)
        return i * 10

    order = [3, 0, 4, 1, 2]
    assert solve_mod._in_threads(fn, order, 2) == [0, 10, 20, 30, 40]
    assert set(started[:2]) == {3, 0} and sorted(started) == [0, 1, 2, 3, 4]
    assert names == {threading.current_thread().name, "anvis-block-1"}
    assert not any(t.name.startswith("anvis-block") for t in threading.enumerate())  # all ended


def test_the_scheduler_raises_the_first_failure_in_block_order_after_the_blocks_before_it():
    ran: list[int] = []
    lock = threading.Lock()

    def fn(i: int) -> int:
        with lock:
            ran.append(i)
        if i == 1:
            time.sleep(0.02)
            raise ValueError("block 1")
        if i == 3:
            raise ValueError("block 3")
        return i

    # block 3 fails first; block 1, before it, is still solved and its error wins; 4 and 5 never start
    with pytest.raises(ValueError, match="block 1"):
        solve_mod._in_threads(fn, [3, 1, 0, 2, 4, 5], 2)
    assert sorted(ran) == [0, 1, 2, 3]


def test_an_interrupt_starts_no_more_blocks_and_is_raised():
    ran: list[int] = []

    def fn(i: int) -> int:
        ran.append(i)
        if i == 0:
            raise KeyboardInterrupt
        return i

    with pytest.raises(KeyboardInterrupt):
        solve_mod._in_threads(fn, list(range(50)), 2)
    assert len(ran) < 50


def test_one_thread_runs_in_the_calling_thread_and_starts_no_pool(towns, monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("threads were started")

    monkeypatch.setattr(solve_mod, "_in_threads", no_pool)
    seen = record_threads(monkeypatch)
    solve(towns, backend="highs", threads=1)
    assert [name for _, name in seen] == [threading.current_thread().name] * 6
    # one block: no pool either, whatever threads says
    solve(towns, backend="highs", threads=2, decompose=False)


def test_a_backend_without_concurrent_sessions_is_solved_in_the_calling_thread(towns, monkeypatch):
    real = solve_mod.capabilities

    def serial_only(name):
        caps = real(name)
        return Capabilities(caps.duals, caps.warm_start, caps.mip_bound, caps.deterministic, caps.add_columns, False)

    monkeypatch.setattr(solve_mod, "capabilities", serial_only)
    seen = record_threads(monkeypatch)
    plan = make_plan(solve(towns, backend="highs", threads=2)).json_bytes()
    assert [name for _, name in seen] == [threading.current_thread().name] * 6
    assert [first for first, _ in seen] == [0, 3, 6, 9, 12, 15]  # in block order
    assert plan == plan_bytes(towns, backend="highs", threads=1)


def test_every_backend_declares_whether_its_sessions_may_run_at_once():
    from optimizer.engine.backends import BACKENDS, capabilities

    assert {name: capabilities(name).concurrent_sessions for name in BACKENDS} == {
        "highs": True,
        "cpsat": True,
        "cbc": True,
    }


# --- failures --------------------------------------------------------------------------


def test_a_failing_block_fails_the_solve_as_in_the_serial_loop(towns, monkeypatch):
    """The first failing block in block order raises, whichever finished first; later blocks are not waited for."""
    real = solve_mod._stages

    def failing(data, milp, backend, deadline, start=None):
        first = int(milp.pairs.citizen.min())
        if first in (6, 12):  # towns 2 and 4 fail; town 4 fails at once, town 2 after a while
            if first == 6:
                time.sleep(0.02)
            raise RuntimeError(f"block of citizen {first} failed")
        return real(data, milp, backend, deadline, start)

    monkeypatch.setattr(solve_mod, "_stages", failing)
    for threads in (1, 2, 4):
        with pytest.raises(RuntimeError, match="block of citizen 6 failed"):
            solve(towns, backend="highs", threads=threads)


def test_time_limit_keeps_its_meaning_with_threads(towns):
    """A time limit of zero: every stage stops at once, in every block, however they are scheduled."""
    one = solve(towns, backend="highs", threads=1, time_limit=0.0)
    two = solve(towns, backend="highs", threads=2, time_limit=0.0)
    assert one.status == two.status
    assert make_plan(one).json_bytes() == make_plan(two).json_bytes()


# --- progress --------------------------------------------------------------------------


def test_progress_from_threads_names_every_block_and_never_goes_back(towns):
    events: list[tuple[str, float | None]] = []
    inside = threading.Lock()

    def listen(message: str, fraction: float | None) -> None:
        # never called from two threads at once
        assert inside.acquire(blocking=False), "callback entered twice at once"
        try:
            time.sleep(0.001)
            events.append((message, fraction))
        finally:
            inside.release()

    solve(towns, backend="highs", threads=3, progress=listen)
    messages = [m for m, _ in events]
    for i in range(1, 7):
        assert any(m.startswith(f"block {i} of 6: ") and "stages by highs" in m for m in messages)
        ended = [m for m in messages if m.startswith(f"block {i} of 6: total score: optimal")]
        assert len(ended) == 1
    fractions = [f for _, f in events if f is not None]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert messages[-1] == "solved: optimal"


def test_progress_fractions_of_the_serial_loop_rise_block_by_block(towns):
    events: list[tuple[str, float | None]] = []
    solve(towns, backend="highs", threads=1, progress=lambda m, f: events.append((m, f)))
    begins = [f for m, f in events if "stages by highs" in m]
    # six equal blocks: each begins where the ones before it ended
    assert begins == pytest.approx([i / 6 for i in range(6)])


# --- the default -----------------------------------------------------------------------


def test_default_threads_follows_the_cores_and_the_context(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert default_threads() == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert default_threads() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    with threads_default(1):
        assert default_threads() == 1
        with threads_default(3):
            assert default_threads() == 3
        assert default_threads() == 1
    assert default_threads() == 2


def test_the_default_is_used_when_threads_is_not_given(towns, monkeypatch):
    seen = record_threads(monkeypatch)
    with threads_default(1):
        solve(towns, backend="highs")
    assert {name for _, name in seen} == {threading.current_thread().name}
    seen.clear()
    with threads_default(2):
        solve(towns, backend="highs")
    assert "anvis-block-1" in {name for _, name in seen}


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_threads_must_be_a_positive_integer(towns, bad):
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        solve(towns, threads=bad)
    with pytest.raises(ValueError, match="threads must be a positive integer"), threads_default(bad):
        pass


def test_a_solve_in_threads_imports_no_executor_nor_logging(tmp_path):
    """The block threads are plain ``threading`` ones: ``concurrent.futures`` would import ``logging``
    (5 ms of every ``anvis solve``)."""
    import json
    import subprocess
    import sys

    from conftest import ROOT

    path = tmp_path / "towns.json"
    path.write_text(json.dumps(separate_towns(3)))
    run = (
        "import json, sys\n"
        "from optimizer.cli import main\n"
        "from optimizer.engine.solve import threads_default\n"
        "try:\n"
        "    with threads_default(2):\n"
        "        main(sys.argv[1:], standalone_mode=False)\n"
        "finally:\n"
        "    print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        # (HiGHS stages: the matching and aggregation paths may import SciPy, which imports both)
        [sys.executable, "-c", run, "solve", str(path), "-o", str(tmp_path / "plan.json"), "-q", "--backend", "highs"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    modules = set(json.loads(out.stdout.splitlines()[-1]))
    assert "optimizer.engine.solve" in modules and "scipy" not in modules
    assert not modules & {"concurrent.futures", "logging"}

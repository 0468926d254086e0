"""Solving an instance: from validated data to a :class:`Result`.

The lexicographic objective (FORMAT.md §4) is solved in stages: first the
number housed of each priority, most urgent first, then the total score with
those numbers held. Consecutive priorities share one stage when their counts
can be packed into one integer objective without loss (weights stay small
enough for exact MILP arithmetic); each stage's optimum becomes a row of the
next, and each stage starts from the previous stage's solution.
"""

from __future__ import annotations

import contextvars
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from models import Instance
from optimizer.engine.backends import BACKENDS, capabilities, open_session
from optimizer.engine.backends.base import StageResult
from optimizer.engine.data import ProblemData, sorted_set
from optimizer.engine.methods.aggregate import aggregate
from optimizer.engine.methods.greedy import greedy
from optimizer.engine.methods.matching import matching_plan
from optimizer.engine.methods.pricing import MIN_COLUMNS, dense, priced_stages
from optimizer.engine.model import Milp, build, dot
from optimizer.engine.overrides import apply_overrides, merge
from optimizer.engine.pairs import Pairs, eligible_pairs
from optimizer.engine.stages import (
    Objective,
    Progress,
    StageEntry,
    StagesResult,
    begin_block,
    clean,
    count_stage,
    end_block,
    listening,
    reporting,
    stage_log,
)
from optimizer.engine.start import Start, chosen_start, start_columns
from optimizer.engine.status import Status

# Largest packed objective of one count stage; keeps every stage objective an
# integer far inside the range where a MILP solver's tolerances are exact.
PACK_LIMIT = 10_000_000


@dataclass(frozen=True)
class Result:
    """The outcome of :func:`solve`.

    Attributes
    ----------
    status
        One of :class:`Status`.
    data
        The instance in array form, caps as the instance states them.
    pairs
        The eligible pairs that no override excludes.
    chosen
        The assigned pairs (a subset of ``pairs``, locked pairs included), sorted by citizen.
    housed_by_priority
        For every priority present, how many of its citizens are housed.
    total_score
        Sum of the chosen pairs' scores.
    value
        The weighted objective's value (``None`` for lexicographic).
    bound, gap
        Upper bound and relative gap of the stage the solve ended in
        (``gap`` is 0 when optimal). When a time limit cut the solve short, the
        stage's objective counts only the pairs the solver decided, not locked ones.
    stats
        Deterministic model and solver statistics (written into plans).
    timings
        Seconds per phase (never written into plans: plans are byte-identical).
    locked, excluded
        Pairs locked by overrides, and eligible pairs a forbid or reserve excluded.
    """

    status: Status
    data: ProblemData
    pairs: Pairs
    chosen: Pairs
    housed_by_priority: dict[int, int]
    total_score: float
    value: float | None
    bound: float | None
    gap: float | None
    stats: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    locked: Pairs | None = None
    excluded: Pairs | None = None

    def start(self) -> Start:
        """The chosen pairs as a start for another solve (``solve(..., start=result.start())``)."""
        return chosen_start(self.data, self.chosen)


def solve(
    inst: Instance,
    backend: str = "auto",
    time_limit: float | None = None,
    decompose: bool = True,
    progress: Progress | None = None,
    start: Start | None = None,
    threads: int | None = None,
) -> Result:
    """Find the best plan of an instance.

    Parameters
    ----------
    inst
        A validated instance.
    backend
        ``"highs"``, ``"cpsat"``, ``"cbc"`` or ``"auto"``: the exact matching
        fast path for blocks where no side constraint can bind, HiGHS for the rest.
    time_limit
        Seconds for all solver stages together; on expiry the best plan found
        is returned with status ``feasible``. ``None``: solve to proven optimum.
    decompose
        Solve independent blocks (no shared pool, cap, frame or quota) apart.
    progress
        Called with a message and the fraction done (or None) as the solve prepares,
        starts each block and ends each stage (:data:`~optimizer.engine.stages.Progress`);
        messages carry stage names and counts only. ``None``: silent. The result does not
        depend on it.
    start
        A plan to start from (:data:`~optimizer.engine.start.Start`, e.g.
        :func:`~optimizer.engine.start.start_of` a plan of a similar instance): its pairs
        that are columns, repaired into a feasible plan (:func:`~optimizer.engine.start.start_columns`),
        become the first stage's incumbent in each block solved by stages (a MIP start or
        hint where the backend's ``Capabilities.warm_start`` says it takes one, and among
        the first columns of column generation). Matching and aggregated blocks do not
        use it. It never changes the status or the optimum's value. Where it steers a
        search, the search's statistics in the plan differ (CP-SAT's branches, column
        generation's rounds and columns used), and a MIP stage could end in another
        optimum of equal value; HiGHS stages whose LP is integral never read it.
    threads
        Independent blocks solved at once: this thread and ``threads - 1`` more take
        blocks largest first (each solver runs one thread). Only where the backend's
        sessions may run concurrently (``Capabilities.concurrent_sessions``; all three
        backends declare it) and there are several blocks; 1: one block after another
        in this thread, no thread started. The plan, the solver log and the status,
        bound and gap are the same for every ``threads`` (to a time limit, as ever, the
        solve is only as far as it got). It pays only where a core is free: the solver
        runs without the interpreter lock, the Python between its runs does not.
        ``None``: :func:`default_threads` (2 on a machine with two cores or more).

    Returns
    -------
    Result

    Raises
    ------
    ValueError
        For an unknown backend, or ``threads`` not a positive integer.
    """
    if backend not in (*BACKENDS, "auto"):
        raise ValueError(f"unknown backend {backend!r} (choose from auto, {', '.join(BACKENDS)})")
    threads = default_threads() if threads is None else _positive_threads(threads)
    with reporting(progress):
        return _solve(inst, backend, time_limit, decompose, progress, start, threads)


#: The default ``threads`` of :func:`solve` in this context when set (:func:`threads_default`).
_THREADS: contextvars.ContextVar[int | None] = contextvars.ContextVar("anvis_solve_threads", default=None)


def _positive_threads(threads: object) -> int:
    """``threads`` where it is a positive integer (a bool is not); else ``ValueError``."""
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    return threads


def default_threads() -> int:
    """The ``threads`` of a :func:`solve` that names none.

    2 where this process may run on two cores or more (its CPU affinity, else
    ``os.cpu_count()``), else 1; or what :func:`threads_default` set in this context.
    Two, not more: the time of a solve is mostly its largest block, which one thread
    solves, and more threads contend more for the interpreter between solver runs.
    """
    chosen = _THREADS.get()
    if chosen is not None:
        return chosen
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 if cores >= 2 else 1


@contextmanager
def threads_default(threads: int) -> Iterator[None]:
    """Make ``threads`` the default of every :func:`solve` in this context (this thread).

    For work that is parallel already: a pool of worker processes each solving whole
    instances (``anvis scenario --jobs``) solves each one's blocks in one thread (1).
    """
    token = _THREADS.set(_positive_threads(threads))
    try:
        yield
    finally:
        _THREADS.reset(token)


def _solve(
    inst: Instance,
    backend: str,
    time_limit: float | None,
    decompose: bool,
    progress: Progress | None,
    start: Start | None,
    threads: int,
) -> Result:
    """:func:`solve` inside its progress context."""
    if progress is not None:
        progress(f"preparing {len(inst.citizens):,} citizens and {len(inst.units):,} units", 0.0)
    t0 = time.perf_counter()
    full = ProblemData.build(inst)
    fixed = apply_overrides(full, eligible_pairs(full))
    data = fixed.data  # caps net of the locked pairs
    t1 = time.perf_counter()
    milp = build(data, fixed.pairs)
    t2 = time.perf_counter()
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    blocks = milp.blocks() if decompose else [np.arange(milp.n_cols)]
    if progress is not None:
        blocks_text = f"{len(blocks):,} block{'s' * (len(blocks) != 1)}"
        progress(f"{_columns(milp.n_cols)}, {milp.n_rows:,} rows in {blocks_text}", 0.0)
    x0 = None if start is None else start_columns(data, milp, start)
    x, status, bound, gap, log, counts = _solve_blocks(data, milp, blocks, backend, deadline, x0, threads)
    t3 = time.perf_counter()
    if progress is not None:
        progress(f"solved: {status}", 1.0)
    chosen = merge(fixed.locked, milp.pairs.take(x.astype(bool)))
    housed = _housed(data, chosen)
    value = None
    if inst.parameters.objective == "weighted":
        w = inst.parameters.priority_weights
        assert w is not None  # validation requires weights with the weighted objective
        value = float(sum(w[str(p)] * n for p, n in housed.items()) + chosen.score.sum())
    if status == Status.OPTIMAL:
        bound = value if value is not None else float(chosen.score.sum())
    stats: dict[str, Any] = {
        "backend": backend,
        "eligible_pairs": len(fixed.allowed) + len(fixed.excluded),
        "columns": milp.n_cols,
        "rows": milp.n_rows,
        "side_rows": milp.side_rows,
        **counts,
        "milp_blocks": log,
    }
    timings = {"prepare": t1 - t0, "build": t2 - t1, "solve": t3 - t2, "total": t3 - t0}
    if inst.overrides:
        stats["overrides"] = {"locked": len(fixed.locked), "excluded_pairs": len(fixed.excluded)}
    return Result(
        status,
        full,
        fixed.allowed,
        chosen,
        housed,
        float(chosen.score.sum()),
        value,
        bound,
        gap,
        stats,
        timings,
        fixed.locked,
        fixed.excluded,
    )


@dataclass(frozen=True)
class _BlockResult:
    """What one block's solve gives :func:`_solve_blocks` to combine."""

    x: npt.NDArray[np.integer]  # a value per column of the block
    status: Status
    bound: float | None
    gap: float | None
    entry: dict[str, Any] | None  # the block's entry in the solver log; None for a matching


def _solve_blocks(
    data: ProblemData,
    milp: Milp,
    blocks: list[npt.NDArray[np.int64]],
    backend: str,
    deadline: float | None,
    x0: npt.NDArray[np.int8] | None = None,
    threads: int = 1,
) -> tuple[npt.NDArray[np.int8], Status, float | None, float | None, list[dict[str, Any]], dict[str, int]]:
    """Each block by its fastest exact method (:func:`_solve_block`), combined in block order.

    ``x0``: a feasible start over all columns (or None). ``threads``: blocks solved at once
    (:func:`_in_threads`), where there are several blocks and the backend's sessions may run
    concurrently (``Capabilities.concurrent_sessions``); the largest blocks start first.
    Every block's outcome is the same however it was scheduled, and the outcomes are
    combined in block order, so that the plan, the log and the status are those of the
    serial loop for any ``threads``.
    """
    # each block's share of the progress: its columns (a block of no columns counts as one)
    weight = np.maximum(1.0, np.fromiter((len(cols) for cols in blocks), float, len(blocks)))
    share = weight / max(1.0, float(weight.sum()))

    def one(i: int) -> _BlockResult:
        block = milp.restrict(blocks[i]) if len(blocks) > 1 else milp
        start = None if x0 is None else x0[blocks[i]]
        try:
            return _solve_block(data, block, (i, len(blocks), float(share[i])), backend, deadline, start)
        finally:
            end_block()

    engine = "highs" if backend == "auto" else backend
    workers = min(threads, len(blocks)) if capabilities(engine).concurrent_sessions else 1
    if workers > 1:
        # longest first (by columns; ties in block order) shortens the critical path
        results = _in_threads(one, [int(i) for i in np.argsort(-weight, kind="stable")], workers)
    else:
        results = [one(i) for i in range(len(blocks))]
    x = np.zeros(milp.n_cols, np.int8)
    status: Status = Status.OPTIMAL
    bound: float | None = None
    gap: float | None = 0.0
    log: list[dict[str, Any]] = []
    for cols, res in zip(blocks, results, strict=True):
        x[cols] = res.x
        if res.entry is not None:
            log.append(res.entry)
        if res.status != Status.OPTIMAL and status == Status.OPTIMAL:
            status, bound, gap = res.status, res.bound, res.gap
    counts = {"blocks": len(blocks), "matching_blocks": sum(res.entry is None for res in results)}
    return x, status, bound, gap, log, counts


def _in_threads(fn: Callable[[int], _BlockResult], order: list[int], workers: int) -> list[_BlockResult]:
    """``fn(i)`` of every block ``i``, taken in ``order`` by this thread and ``workers - 1`` more.

    Returns the results in block order (``fn(0)``, ``fn(1)``, ...). Each started thread runs
    in its own copy of the caller's context (the solve's progress listener). A block that
    raises fails the solve as in the serial loop: every block before it in block order is
    still solved (one of them may fail first), none after it is started, and the error of
    the first failing block in block order is raised. An interrupt (``KeyboardInterrupt``)
    starts no more blocks and is raised once the blocks under way end.

    (Threads of our own, not ``concurrent.futures``: its import, with ``logging``, costs
    5 ms of every ``anvis solve``, and the calling thread would only wait.)
    """
    results: list[_BlockResult | None] = [None] * len(order)
    errors: dict[int, Exception] = {}
    interrupts: list[BaseException] = []
    todo = order[::-1]  # popped from the end: largest first
    lock = threading.Lock()

    def take() -> int | None:
        with lock:
            while todo and not interrupts:
                i = todo.pop()
                if not errors or i < min(errors):  # blocks after a failed one cannot matter
                    return i
            return None

    def work() -> None:
        while (i := take()) is not None:
            try:
                results[i] = fn(i)
            except Exception as exc:
                with lock:
                    errors[i] = exc
            except BaseException as exc:
                with lock:
                    interrupts.append(exc)

    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(work,), name=f"anvis-block-{k}", daemon=True)
        for k in range(1, workers)
    ]
    for t in threads:
        t.start()
    try:
        work()
    finally:
        with lock:
            todo.clear()  # (empty already, unless this thread was interrupted outside a block)
        for t in threads:
            t.join()
    if interrupts:
        raise interrupts[0]
    if errors:
        raise errors[min(errors)]
    done = [r for r in results if r is not None]
    assert len(done) == len(results)  # no block failed, so every block ran
    return done


def _solve_block(
    data: ProblemData,
    block: Milp,
    span: tuple[int, int, float],
    backend: str,
    deadline: float | None,
    x0: npt.NDArray[np.int8] | None,
) -> _BlockResult:
    """One block by its fastest exact method: a matching where no side row can bind, else stages.

    Column generation runs on blocks of at least ``MIN_COLUMNS`` columns, and on dense
    ones (:func:`~optimizer.engine.methods.pricing.dense`), when the backend has the
    capability for it (duals and added columns). ``span``: the block's index, the number
    of blocks and the block's share of the solve, for progress. ``x0``: a feasible start
    of the block's columns (or None), passed to stage drivers whose backend takes one.
    """
    # (stages counted only when someone listens: packing the objectives costs a pass over the columns)
    n_stages = len(count_groups(data, block)) + 1 if listening() else 1
    fast = matching_plan(data, block) if backend == "auto" else None
    if fast is not None:
        begin_block(*span, f"{_columns(block.n_cols)} solved as a matching", 1)
        return _BlockResult(fast, Status.OPTIMAL, None, 0.0, None)
    engine = "highs" if backend == "auto" else backend
    # a start reaches a backend only where it declares it can use one
    bstart = None if x0 is None or not capabilities(engine).warm_start else x0
    extra: dict[str, int] = {}
    bx: npt.NDArray[np.integer]
    agg = aggregate(data, block) if backend == "auto" else None
    if agg is not None and agg.milp.n_cols < MIN_COLUMNS:
        begin_block(*span, f"{_columns(agg.milp.n_cols)} (aggregated), stages by HiGHS", n_stages)
        engine = "highs+aggregated"
        y, bstatus, stages, bbound, bgap = _stages(data, agg.milp, "highs", deadline)
        bx = agg.expand(y)
        extra = {
            "aggregated_columns": agg.milp.n_cols,
            "citizen_classes": len(agg.members_c),
            "unit_classes": len(agg.members_u),
        }
    elif (block.n_cols >= MIN_COLUMNS or dense(block)) and capabilities(engine).column_generation:
        begin_block(*span, f"{_columns(block.n_cols)}, stages by column generation ({engine})", n_stages)
        bx, bstatus, stages, bbound, bgap = priced_stages(
            data,
            block,
            _with_gaps(objectives(data, block)),
            deadline,
            backend=engine,
            groups=count_groups(data, block),
            start=bstart,
        )
        engine += "+pricing"
    else:
        begin_block(*span, f"{_columns(block.n_cols)}, stages by {engine}", n_stages)
        bx, bstatus, stages, bbound, bgap = _stages(data, block, engine, deadline, bstart)
    entry = {
        "columns": block.n_cols,
        "rows": block.n_rows,
        "side_rows": block.side_rows,
        "backend": engine,
        **extra,
        "stages": stages,
    }
    return _BlockResult(bx, bstatus, bbound, bgap, entry)


def _columns(n: int) -> str:
    return f"{n:,} column{'s' * (n != 1)}"


def _housed(data: ProblemData, chosen: Pairs) -> dict[int, int]:
    counts = dict.fromkeys(data.inst.priorities, 0)
    for p, n in zip(*np.unique(data.c_prio[chosen.citizen], return_counts=True), strict=True):
        counts[int(p)] = int(n)
    return counts


def _integral(v: npt.NDArray[np.float64]) -> bool:
    return bool(np.all(v == np.round(v)))


def count_groups(data: ProblemData, milp: Milp) -> list[list[int]]:
    """The priorities of each count stage of the lexicographic objective, most urgent first.

    Consecutive priorities share one stage when their counts can be packed into one
    integer objective without loss (see :func:`objectives`). Empty for the weighted
    objective.
    """
    if data.inst.parameters.objective == "weighted":
        return []
    return [group for group, _ in _packed(data, milp)]


def _packed(data: ProblemData, milp: Milp) -> list[tuple[list[int], dict[int, int]]]:
    """Each count stage's priorities and the packed weight of each of them."""
    prio = data.c_prio[milp.pairs.citizen]
    levels = [p for p in data.inst.priorities if (prio == p).any()]
    # b[p]: most citizens of priority p that could be housed at all
    mult_c, mult_u = milp.multiplicity or (np.ones(data.n_citizens, np.int64), np.ones(data.n_units, np.int64))
    n_units = int(mult_u[sorted_set(milp.pairs.unit)].sum())
    bound = {p: min(int(mult_c[sorted_set(milp.pairs.citizen[prio == p])].sum()), n_units) for p in levels}
    # Group consecutive levels from the least urgent up while the packed objective stays
    # small. Starting there leaves the most urgent level alone when not all fit: it is
    # usually fully housed, so its stage is easy and its optimal face restricts the rest
    # most (city-year: 69 s -> 50 s against grouping from the most urgent).
    groups: list[list[int]] = []
    for p in reversed(levels):
        if groups:
            group = groups[-1]
            size = 1  # the packed objective's range so far
            for q in group:
                size *= bound[q] + 1
            if size * bound[p] + size - 1 <= PACK_LIMIT:
                group.insert(0, p)
                continue
        groups.append([p])
    out = []
    for group in reversed(groups):
        packed: dict[int, int] = {}
        step = 1
        for p in reversed(group):
            packed[p] = step
            step = step * (bound[p] + 1)
        out.append((group, packed))
    return out


def objectives(data: ProblemData, milp: Milp) -> list[tuple[str, npt.NDArray[np.float64]]]:
    """The stage objectives of the instance's objective, in order.

    Lexicographic: packed priority counts (:func:`count_groups`), then score. Weighted: one stage.
    """
    prio = data.c_prio[milp.pairs.citizen]
    params = data.inst.parameters
    if params.objective == "weighted":
        weight = data.priority_weights()[data.priority_position(prio)] if len(prio) else np.zeros(0)
        return [("weighted", weight + milp.pairs.score)]
    stages: list[tuple[str, npt.NDArray[np.float64]]] = []
    for group, packed in _packed(data, milp):
        cost = np.zeros(len(prio))
        for p in group:
            cost[prio == p] = packed[p]
        stages.append((count_stage(group), cost))
    stages.append(("total score", milp.pairs.score.astype(float)))
    return stages


def _with_gaps(stages: list[tuple[str, npt.NDArray[np.float64]]]) -> list[Objective]:
    """Each objective with its absolute gap: below 1 proves integral objectives optimal."""
    return [(name, cost, 0.5 if _integral(cost) else 1e-6) for name, cost in stages]


def _stages(
    data: ProblemData,
    milp: Milp,
    backend: str,
    deadline: float | None,
    start: npt.NDArray[np.int8] | None = None,
) -> StagesResult:
    """Run every objective stage; returns (x, status, stage log, bound, gap).

    ``start``: a feasible 0/1 plan of ``milp``'s columns; the first stage starts from it
    where it is at least as good as the greedy plan in that stage's objective.

    The greedy plan (:func:`~optimizer.engine.methods.greedy.greedy`, a Python pass over
    the pairs: 6 of a national week's 75 ms of blocks) is made only when it is used: as a
    backend's MIP start, or as the plan kept where the first stage ends without an optimum.
    An optimum is at least as good as it, so where HiGHS's first LP is integral (the usual
    case) it is never made, and the result is the same as if it had been.
    """

    @cache
    def initial() -> npt.NDArray[np.integer]:
        # the greedy warm start knows 0/1 columns only; an aggregated model starts from nothing
        return greedy(data, milp) if milp.col_hi is None else np.zeros(milp.n_cols, np.int32)

    if milp.n_cols == 0:
        return initial(), Status.OPTIMAL, [], 0.0, 0.0
    stages = _with_gaps(objectives(data, milp))
    first = stages[0][1]
    x: npt.NDArray[np.integer] | None = None  # the incumbent; None: the greedy plan, not made yet
    if start is not None and milp.col_hi is None and dot(first, start) >= dot(first, initial()):
        x = start
    session = open_session(backend, milp)
    log: list[StageEntry] = []
    status: Status = Status.OPTIMAL
    bound: float | None = None
    gap: float | None = 0.0
    for k, (name, cost, abs_gap) in enumerate(stages):
        left = None if deadline is None else max(0.0, deadline - time.perf_counter())
        session.set_objective(cost)
        res: StageResult = session.solve(left, initial if x is None else x, abs_gap)
        if res.x is not None and (
            (x is None and res.status == Status.OPTIMAL)  # an optimum is at least as good as the greedy plan
            or dot(cost, res.x) >= dot(cost, initial() if x is None else x) - 1e-9
        ):
            x = res.x
        elif x is None:
            x = initial()
        value = dot(cost, x)
        log.append(stage_log(name, res, value))
        if res.status != Status.OPTIMAL:
            status = Status.FEASIBLE if res.status in (Status.FEASIBLE, Status.ERROR) else res.status
            bound = clean(max(res.bound, value))
            gap = None if bound is None else clean((bound - value) / max(abs(bound), 1e-9))
            return x, status, log, bound, gap
        bound = clean(value)
        if k == len(stages) - 1:
            break
        # hold this stage's optimum in every later stage: the count of each of its
        # priorities (rows of ones keep the LP well scaled), or the weighted value
        prio = data.c_prio[milp.pairs.citizen]
        for p in sorted_set(prio[cost > 0]):
            nz = np.flatnonzero(prio == p)
            session.add_row(nz, np.ones(len(nz)), float(x[nz].sum()), np.inf)
        session.hold_optimum()
    assert x is not None  # every stage sets it, and there is at least one
    return x, status, log, bound, gap

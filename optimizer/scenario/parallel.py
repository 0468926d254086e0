"""Variants solved in parallel: a local pool of worker processes, or a running Dask cluster by address.

Where the time of a parallel run goes, and what this module does about it (measured in
``benchmarks/RESULTS.md``, "Scenario variants in parallel"):

- **Start-up.** ``--jobs N`` starts a :class:`concurrent.futures.ProcessPoolExecutor`,
  not a Dask ``LocalCluster``: the cluster's scheduler, nannies and heartbeats cost CPU
  that a 2-core machine takes from the solves, and its workers start as fresh
  interpreters that import everything again. On Linux the pool's workers are *forked*
  before any task, so they begin with the parent's modules imported and the checked
  variants in memory.
- **Data.** What every task needs (the base, the variants, the options) goes to each
  worker once: inherited by the fork, pickled once per worker by the pool's
  initializer elsewhere, scattered once to every worker of a Dask cluster. A task
  carries only its items (indices of variants, or a year's (seed, changes)).
- **Tasks.** Items are batched in chunks (:func:`chunks`), a few per worker: one task
  per 50 ms variant would spend a good part of it in scheduling.
- **Order.** Results are put back in the order of the items, whatever finishes first,
  so the results document is the same bytes however the work is split.

Dask is imported only for ``--scheduler``; this module itself only for ``--jobs`` > 1
or ``--scheduler``.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

import models
from optimizer.engine.solve import threads_default
from optimizer.scenario.changes import apply_changes
from optimizer.scenario.outcome import outcome

__all__ = [
    "CHUNKS_PER_WORKER",
    "SCHEDULER_TIMEOUT_S",
    "START_METHOD",
    "chunks",
    "run_parallel",
    "solve_variants",
]

#: Seconds to wait for a running scheduler named by address before giving up (OSError).
SCHEDULER_TIMEOUT_S = 10

#: How the local pool starts its workers: ``fork`` on Linux, so that a worker starts with
#: the parent's modules imported and its data in memory; ``spawn`` elsewhere (macOS and
#: Windows have no safe fork), where each worker imports anew and gets the data pickled.
START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"

#: Chunks of items per worker by default: enough for the last chunks to even out the
#: workers' finishing times, few enough that scheduling is a small part of each task.
CHUNKS_PER_WORKER = 4

# What every task of a pool worker needs, set once in each worker by _adopt.
_SHARED: dict[str, Any] = {}


def solve_variants(
    base: models.Instance,
    changes: Sequence[Sequence[Mapping[str, Any]]],
    instances: Sequence[models.Instance] | None = None,
    backend: str = "auto",
    time_limit: float | None = None,
    jobs: int = 2,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int | None = None,
) -> list[dict[str, Any]]:
    """The outcome of every variant of a base, in order, solved in parallel.

    Parameters
    ----------
    base
        The base instance.
    changes
        Each variant's changes (``()`` for the base), checked already
        (:func:`optimizer.scenario.scenario.read_scenario`).
    instances
        The variants' instances, when the caller has them (in the order of
        ``changes``). Forked workers use them as they are; otherwise each worker gets
        the base once and applies a variant's changes itself, which costs less than
        pickling the instance to it.
    backend, time_limit
        Passed to :func:`~optimizer.scenario.outcome.outcome`.
    jobs, scheduler, progress, chunk_size
        As :func:`run_parallel`; ``progress`` counts variants.

    Returns
    -------
    list of dict
        One outcome per variant, in the order of ``changes``; the same however the
        work is split.
    """
    if instances is not None and len(instances) != len(changes):
        raise ValueError(f"{len(instances)} instances for {len(changes)} variants")
    inherit = scheduler is None and START_METHOD == "fork" and instances is not None
    return run_parallel(
        _variant_outcome,
        range(len(changes)),
        jobs,
        scheduler,
        progress,
        chunk_size,
        base=base,
        changes=tuple(tuple(c) for c in changes),
        instances=tuple(instances) if inherit and instances is not None else None,
        backend=backend,
        time_limit=time_limit,
    )


def _variant_outcome(
    i: int,
    *,
    base: models.Instance,
    changes: Sequence[Sequence[Mapping[str, Any]]],
    instances: Sequence[models.Instance] | None,
    backend: str,
    time_limit: float | None,
) -> dict[str, Any]:
    """Variant ``i``'s outcome: its instance as given, or the base with its changes applied here."""
    if instances is not None:
        return outcome(instances[i], backend, time_limit)
    # (apply_changes writes out and checks only the base's terms: well under a millisecond)
    return outcome(apply_changes(base, changes[i]), backend, time_limit)


def run_parallel(
    fn: Callable[..., dict[str, Any]],
    items: Sequence[Any],
    jobs: int = 2,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int | None = None,
    **shared: Any,
) -> list[dict[str, Any]]:
    """``fn(item, **shared)`` of every item, in order, on worker processes.

    Parameters
    ----------
    fn
        A module-level function (the workers import it by name) that gives the same
        result for the same item in any process: then the list is the same however
        the work is split.
    items
        Small values: each chunk of them is sent to a worker.
    jobs
        Worker processes of the local pool started (and stopped) here. Each solves
        one item at a time: the solvers run one thread each, and a solve's blocks one
        after another (``threads_default(1)``; so do the workers of a Dask cluster). The workers are forked
        (:data:`START_METHOD`): call this from a process whose other threads, if any,
        hold no lock a worker needs (the CLI's progress bar runs no thread then).
    scheduler
        The address of a running Dask scheduler (``tcp://host:8786``); then no local
        pool is started and ``jobs`` is ignored. One that cannot be reached in
        :data:`SCHEDULER_TIMEOUT_S` raises ``OSError``.
    progress
        Called with (items done, all items) as each chunk finishes.
    chunk_size
        Items a task; by default :func:`chunks` makes :data:`CHUNKS_PER_WORKER` per worker.
    **shared
        Keyword arguments of every call, sent once to each worker (not with each task).

    Returns
    -------
    list of dict
        One result per item, in the order of ``items``.
    """
    items = list(items)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if not items:
        return []
    if scheduler is not None:
        return _on_dask(fn, items, scheduler, progress, chunk_size, shared)
    parts = chunks(len(items), jobs, chunk_size)
    context = multiprocessing.get_context(START_METHOD)
    # The parent's objects (every variant's instance) are frozen for the fork: a worker's
    # garbage collector then never walks them (measured: 1.3 s of the workers' 7 s CPU on
    # 200 city-week variants), nor writes to their pages. Only what this call froze is thawed.
    freeze = START_METHOD == "fork" and gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        # a fork copies `shared` into each worker without pickling it; other start methods pickle it once a worker
        with ProcessPoolExecutor(
            min(jobs, len(parts)), mp_context=context, initializer=_adopt, initargs=(shared,)
        ) as pool:
            # the first submit forks every worker (a forking pool starts them all at once)
            futures = {pool.submit(_pool_chunk, fn, items[a:b]): (a, b) for a, b in parts}
            if freeze:
                gc.unfreeze()
                freeze = False
            try:
                return _gather(futures, len(items), progress)
            except BaseException:
                for f in futures:  # an error (or Ctrl-C): start no more chunks
                    f.cancel()
                raise
    finally:
        if freeze:
            gc.unfreeze()


def chunks(n: int, workers: int, size: int | None = None) -> list[tuple[int, int]]:
    """Consecutive ``(start, stop)`` ranges covering ``range(n)``, each one task.

    ``size`` items each, or by default about :data:`CHUNKS_PER_WORKER` ranges a worker
    (never fewer items than one a range).
    """
    if size is None:
        size = max(1, math.ceil(n / (max(1, workers) * CHUNKS_PER_WORKER)))
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def _adopt(shared: dict[str, Any]) -> None:
    """Pool initializer: keep what every task needs for the life of this worker."""
    _SHARED.clear()
    _SHARED.update(shared)


def _pool_chunk(fn: Callable[..., dict[str, Any]], chunk: Sequence[Any]) -> list[dict[str, Any]]:
    # the workers are the parallelism: each solve's blocks one after another (no threads of its own)
    with threads_default(1):
        return [fn(item, **_SHARED) for item in chunk]


def _dask_chunk(
    fn: Callable[..., dict[str, Any]], chunk: Sequence[Any], shared: Mapping[str, Any]
) -> list[dict[str, Any]]:
    with threads_default(1):
        return [fn(item, **shared) for item in chunk]


def _gather(
    futures: Mapping[Any, tuple[int, int]],
    n: int,
    progress: Callable[[int, int], None] | None,
) -> list[dict[str, Any]]:
    """Each chunk's results put at its place, with progress as chunks finish (pool futures)."""
    out: list[Any] = [None] * n
    done = 0
    pending: set[Future[list[dict[str, Any]]]] = set(futures)
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for f in sorted(finished, key=lambda f: futures[f]):  # same-time finishes in order
            a, b = futures[f]
            out[a:b] = f.result()
            done += b - a
            if progress is not None:
                progress(done, n)
    return out


def _on_dask(
    fn: Callable[..., dict[str, Any]],
    items: list[Any],
    scheduler: str,
    progress: Callable[[int, int], None] | None,
    chunk_size: int | None,
    shared: dict[str, Any],
) -> list[dict[str, Any]]:
    """The chunks on the Dask cluster at ``scheduler``, ``shared`` scattered once to every worker."""
    from dask.distributed import Client, as_completed

    # dask.distributed has no type annotations: its calls are untyped to mypy
    with Client(scheduler, timeout=SCHEDULER_TIMEOUT_S) as client:  # type: ignore[no-untyped-call]
        workers = len(client.scheduler_info()["workers"])
        parts = chunks(len(items), workers, chunk_size)
        # one copy to every worker now, rather than one with each task
        (common,) = client.scatter([shared], broadcast=True, hash=False)
        # pure=False: two chunks with equal items are still two tasks, each with its results
        futures = {client.submit(_dask_chunk, fn, items[a:b], common, pure=False): (a, b) for a, b in parts}
        out: list[Any] = [None] * len(items)
        done = 0
        for f in as_completed(futures):  # type: ignore[no-untyped-call]
            a, b = futures[f]
            out[a:b] = f.result()
            done += b - a
            if progress is not None:
                progress(done, len(items))
        return out

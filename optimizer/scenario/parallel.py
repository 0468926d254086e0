"""Variants solved on a Dask cluster: a local one of worker processes, or a running one by address.

Each variant is one task, :func:`optimizer.scenario.outcome.outcome` of its instance;
the results are gathered in the order of the variants, so the document is the same
however the work is split. Only this module imports Dask, and only ``--jobs`` > 1 or
``--scheduler`` imports this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from dask.distributed import Client, LocalCluster, as_completed

import models
from optimizer.scenario.outcome import outcome

__all__ = ["SCHEDULER_TIMEOUT_S", "run_on_dask", "solve_on_dask"]

#: Seconds to wait for a running scheduler named by address before giving up (OSError).
SCHEDULER_TIMEOUT_S = 10


def solve_on_dask(
    instances: Sequence[models.Instance],
    backend: str = "auto",
    time_limit: float | None = None,
    jobs: int = 2,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """The outcome of every instance, in order, solved on Dask.

    Parameters
    ----------
    instances
        The instances to solve.
    backend, time_limit
        Passed to :func:`~optimizer.scenario.outcome.outcome`.
    jobs
        Worker processes of the local cluster started (and stopped) here, one thread
        each: the solvers hold the GIL in places, and one solve a core is the fastest.
    scheduler
        The address of a running scheduler; then no local cluster is started. One
        that cannot be reached in :data:`SCHEDULER_TIMEOUT_S` raises ``OSError``.
    progress
        Called with (done, all) as each task finishes.

    Returns
    -------
    list of dict
        One outcome per instance, in the order of ``instances``.
    """
    return run_on_dask(outcome, list(instances), jobs, scheduler, progress, backend=backend, time_limit=time_limit)


def run_on_dask(
    fn: Callable[..., dict[str, Any]],
    items: Sequence[Any],
    jobs: int = 2,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """``fn(item, **kwargs)`` of every item, in order, one Dask task each (see :func:`solve_on_dask`).

    ``fn`` must be importable by the workers (a module-level function) and give the
    same result for the same item in any process: then the list is the same however
    the work is split.
    """
    # dask.distributed has no type annotations: its calls are untyped to mypy
    if scheduler is not None:
        with Client(scheduler, timeout=SCHEDULER_TIMEOUT_S) as client:  # type: ignore[no-untyped-call]
            return _run(client, fn, items, kwargs, progress)
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=jobs,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # a worker closing at the end logs a lost heartbeat as an error; task errors still raise
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        return _run(client, fn, items, kwargs, progress)


def _run(
    client: Client,
    fn: Callable[..., dict[str, Any]],
    items: Sequence[Any],
    kwargs: dict[str, Any],
    progress: Callable[[int, int], None] | None,
) -> list[dict[str, Any]]:
    # pure=False: two variants with equal instances are still two tasks, each with its result
    futures = client.map(fn, list(items), **kwargs, pure=False)
    if progress is not None:
        for done, _ in enumerate(as_completed(futures), 1):  # type: ignore[no-untyped-call]
            progress(done, len(futures))
    results: list[dict[str, Any]] = client.gather(futures)  # type: ignore[no-untyped-call]
    return results

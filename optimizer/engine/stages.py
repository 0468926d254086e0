"""The log of the lexicographic stages: one entry per stage, written into plans.

Both stage drivers (:func:`optimizer.engine.solve.solve` over one backend session,
and column generation in :mod:`optimizer.engine.methods.pricing`) log their stages
here, so that an entry has one format whichever way the stage was solved.

Progress: a solve reports each block it starts and each stage it ends to an optional
:data:`Progress` callback (:func:`reporting`). Because every stage ends in
:func:`stage_log`, both drivers report through it without a callback argument of their
own; the callback is held in a context variable for the duration of one solve (a thread
sees only its own), and the library is silent when there is none. Blocks solved at once
in worker threads (each in a copy of the solve's context) each report through their own
block state; the callback is never called from two threads at once, and the fraction
done it gets never goes back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.engine.backends.base import StageResult
from optimizer.engine.status import Status

#: One stage's entry in a plan's solver statistics (JSON values).
StageEntry = dict[str, Any]
#: An objective stage: its name, cost per column and absolute gap.
Objective = tuple[str, npt.NDArray[np.float64], float]
#: What a stage driver returns: the solution (a value per column), status, stage log, bound and gap.
StagesResult = tuple[npt.NDArray[np.integer], Status, list[StageEntry], float | None, float | None]


#: A progress callback: a message (stage names and counts, never citizen data) and the
#: fraction of the work done (0 to 1), or None when it is not known.
Progress = Callable[[str, float | None], None]


@dataclass
class _Listener:
    """One solve's callback and how much of the solve is done, shared by its blocks."""

    callback: Progress
    # one block's messages at a time: blocks solved in threads share the callback and `done`
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: float = 0.0  # fraction of the solve done: blocks ended, and the ended stages of running ones

    def tell(self, message: str | None, gained: float) -> None:
        """Count ``gained`` more of the solve done and report ``message`` (if any) with the fraction now done."""
        with self.lock:
            # a sum that only grows: the fraction never goes back, whichever block reports
            self.done += gained
            if message is not None:
                self.callback(message, min(1.0, self.done))


@dataclass
class _Reporter:
    """Where one block of a solve stands: its share of the whole solve and its stages."""

    listener: _Listener
    width: float = 0.0  # the block's share of the solve
    stages: int = 1  # stages expected in the block (column generation may split one)
    done: int = 0  # stages of the block ended so far
    label: str = ""  # the block, as messages name it
    credited: float = 0.0  # the part of `width` counted done so far


_REPORTER: ContextVar[_Reporter | None] = ContextVar("anvis_progress", default=None)


@contextmanager
def reporting(progress: Progress | None) -> Iterator[None]:
    """Report the blocks and stages of the solve inside this context to ``progress`` (None: silent).

    A solve inside another one's context (an explanation's re-solves) reports to its own
    callback, or not at all: each :func:`~optimizer.engine.solve.solve` opens this context.
    """
    token = _REPORTER.set(None if progress is None else _Reporter(_Listener(progress)))
    try:
        yield
    finally:
        _REPORTER.reset(token)


def begin_block(index: int, n_blocks: int, width: float, method: str, stages: int) -> None:
    """Report that block ``index`` (0-based) of ``n_blocks`` starts, solved by ``method`` in ``stages`` stages.

    ``width``: the block's share of the solve (the shares of all blocks sum to 1). The
    block's stages then report through it (:func:`stage_log`) until :func:`end_block`.
    Blocks solved at once must each begin in their own context (a copy of the solve's,
    :func:`contextvars.copy_context`).
    """
    rep = _REPORTER.get()
    if rep is None:
        return
    label = f"block {index + 1} of {n_blocks}: " if n_blocks > 1 else ""
    block = _Reporter(rep.listener, width, max(1, stages), 0, label)
    _REPORTER.set(block)  # this block's stages report through it (the solve's context is reset at its end)
    block.listener.tell(f"{label}{method}", 0.0)


def end_block() -> None:
    """Count the current block's whole share done (no message: the next one reports it)."""
    rep = _REPORTER.get()
    if rep is None:
        return
    gained, rep.credited = rep.width - rep.credited, rep.width
    rep.listener.tell(None, gained)


def listening() -> bool:
    """Whether the current solve reports progress (to skip work done only for messages)."""
    return _REPORTER.get() is not None


def _stage_ended(entry: StageEntry) -> None:
    rep = _REPORTER.get()
    if rep is None:
        return
    rep.done += 1
    rounds = entry.get("pricing_rounds")
    how = f", {rounds} pricing round{'s' * (rounds != 1)}" if rounds is not None else ""
    credited = rep.width * min(1.0, rep.done / rep.stages)
    gained, rep.credited = credited - rep.credited, credited
    rep.listener.tell(f"{rep.label}{entry['stage']}: {entry['status']}{how}", gained)


def count_stage(priorities: list[int]) -> str:
    """The name of the stage that maximises the numbers housed of ``priorities`` (packed in one objective)."""
    return "housed priority " + ",".join(map(str, priorities))


def clean(v: float) -> float | None:
    """Round away solver noise so plans are stable (12 significant digits); None if not finite."""
    return float(f"{v:.12g}") if np.isfinite(v) else None


def stage_log(
    name: str,
    res: StageResult | None,
    value: float,
    rounds: int | None = None,
    columns: int | None = None,
    status: Status | None = None,
) -> StageEntry:
    """The log entry of one stage.

    Parameters
    ----------
    name
        The stage's name (``"housed priority 1,2"``, ``"total score"``, ...).
    res
        The backend's result of the stage, or None when the stage was solved by other
        means (column generation): then it counts as optimal, with bound ``value``.
    value
        The objective value of the plan the stage ends with.
    rounds, columns
        Pricing rounds and columns used, for a stage solved by column generation.
    status
        The stage's status when it is not ``res``'s (column generation stopped early).

    Returns
    -------
    dict
        ``stage``, ``status``, ``objective``, ``bound``, then ``nodes`` when there is a
        result and ``pricing_rounds``, ``columns_used`` when there are rounds.
    """
    if status is None:
        status = res.status if res is not None else Status.OPTIMAL
    entry: StageEntry = {
        "stage": name,
        "status": str(status),
        "objective": clean(value),
        "bound": clean(res.bound) if res is not None and res.status != Status.OPTIMAL else clean(value),
    }
    if res is not None:
        entry["nodes"] = res.nodes
    if rounds is not None:
        entry.update(pricing_rounds=rounds, columns_used=columns)
    _stage_ended(entry)
    return entry

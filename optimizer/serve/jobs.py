"""Solves in the background: a page asks for a solve, then polls until it is done.

A city's round can take a minute; a request that waited that long would time out in
the browser and tell the planner nothing. :class:`Solves` runs
:func:`optimizer.rounds.workflow.solve_round` in a thread per round (one at a time per
round) and keeps what the pages show: running or done, seconds so far, the solver's
stage and the fraction done (its progress callback, stage names and counts only), the
plan's status, what changed from the plan before, or the refusal.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from models.plan import Plan
from optimizer.rounds.workflow import solve_round
from optimizer.serve.service import PLAN_STATUS, ServeError, diff_plans, ledger_call, stored

__all__ = ["Job", "Solves"]

log = logging.getLogger("anvis.serve")


@dataclass
class Job:
    """One solve of a round: its state and, when done, its outcome (ids and counts only)."""

    round_id: int
    state: str = "running"  # running, done, failed
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None
    status: str | None = None
    message: str | None = None
    problems: list[str] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)
    #: The latest (stage message, fraction done) of the solve; one attribute, replaced whole,
    #: so that a poll never pairs one stage with another's fraction.
    latest: tuple[str | None, float | None] = (None, None)

    def progress(self, message: str, fraction: float | None) -> None:
        """The solve's progress callback (:data:`optimizer.engine.stages.Progress`): keep the latest.

        A message without a fraction keeps the fraction before it.
        """
        self.latest = (message, self.latest[1] if fraction is None else fraction)

    def as_dict(self) -> dict[str, Any]:
        """The JSON the polling endpoint returns."""
        elapsed = self.seconds if self.seconds is not None else time.monotonic() - self.started
        stage, fraction = self.latest
        return {
            "round": self.round_id,
            "state": self.state,
            "seconds": round(elapsed, 1),
            "stage": stage,
            "fraction": None if fraction is None else round(fraction, 3),
            "status": self.status,
            "message": self.message,
            "problems": self.problems,
            "changes": self.changes,
        }


class Solves:
    """The background solves of one app: at most one running per round.

    Parameters
    ----------
    db
        The ledger.
    options
        Passed to :func:`~optimizer.rounds.workflow.solve_round` (``backend``, ``time_limit``).
    """

    def __init__(self, db: str, **options: Any):
        self.db = db
        self.options = options
        self._jobs: dict[int, Job] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        #: The latest plan of each round seen here: adding an override drops the stored plan,
        #: and the next solve shows what changed against this one.
        self._plans: dict[int, Plan] = {}

    def remember(self, round_id: int) -> None:
        """Keep the round's stored plan (if any) as the plan the next solve is compared with."""
        try:
            _, plan = stored(self.db, round_id)
        except ServeError:
            return
        if plan is not None:
            with self._lock:
                self._plans[round_id] = plan

    def get(self, round_id: int) -> Job | None:
        """The latest solve of a round (None when none was started by this app)."""
        with self._lock:
            return self._jobs.get(round_id)

    def start(self, round_id: int, wait: bool = False) -> Job:
        """Start solving a round with its overrides (``wait``: return when it is done).

        Raises
        ------
        ServeError
            409 when a solve of the round is running already.
        """
        with self._lock:
            running = self._jobs.get(round_id)
            if running is not None and running.state == "running":
                raise ServeError(409, f"Runde {round_id} bliver allerede løst; vent til den er færdig.")
            job = Job(round_id)
            self._jobs[round_id] = job
        thread = threading.Thread(target=self._run, args=(job,), name=f"anvis-solve-{round_id}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        if wait:
            thread.join()
        return job

    def _run(self, job: Job) -> None:
        try:
            _, before = stored(self.db, job.round_id)
            with self._lock:
                before = before or self._plans.get(job.round_id)
            plan, _ = ledger_call(solve_round, self.db, job.round_id, progress=job.progress, **self.options)
            with self._lock:
                self._plans[job.round_id] = plan
            job.changes = diff_plans(before, plan)
            job.status = plan.status
            housed = len(plan.assignments)
            status = PLAN_STATUS.get(plan.status, plan.status)
            job.message = f"{housed} af {housed + len(plan.unassigned)} borgere anvist; planen er {status}."
            job.state = "done"
            log.info("round %s solved: %s, %s assignments", job.round_id, plan.status, housed)
        except ServeError as exc:
            job.state, job.message, job.problems = "failed", exc.message, exc.problems
            log.info("round %s not solved: refused", job.round_id)
        except Exception as exc:  # reported to the page, never lost in a thread
            job.state, job.message = "failed", f"Fejl under løsningen: {type(exc).__name__}"
            log.error(
                "round %s: the solve failed (%s)", job.round_id, type(exc).__name__
            )  # no message: it may quote data
        finally:
            job.seconds = time.monotonic() - job.started

    def join(self, timeout: float | None = None) -> None:
        """Wait for every running solve (tests; shutting down)."""
        for t in list(self._threads):
            t.join(timeout)

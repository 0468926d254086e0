"""What every ``anvis`` command shares: exit codes, loading input, options, writing output.

Exit codes: 0 success; 1 a plan breaks a rule (``check``) or the solver failed;
2 bad input (every problem of the file listed, one line each, nothing written).

Only ``click`` and :mod:`models` are imported at module level, so that
``anvis --help`` and ``anvis validate`` load no solver, pandas or matplotlib.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

import models
from models.validate import InstanceError, Problem, UnknownFieldWarning, add_overrides

__all__ = [
    "BACKENDS",
    "BAD_INPUT",
    "Overrides",
    "backend_option",
    "bad_input",
    "check_locks_obey_rules",
    "fail",
    "load_instance",
    "override_options",
    "read_plan_document",
    "read_plan_file",
    "solver_options",
    "write_text",
    "writing",
]

#: Exit code of bad input (and of a refused ledger operation).
BAD_INPUT = 2
#: The ``--backend`` choices (listed here so that ``--help`` needs no solver import).
BACKENDS = ("auto", "highs", "cpsat", "cbc")

F = TypeVar("F", bound=Callable[..., Any])


def fail(exc: InstanceError) -> NoReturn:
    """Print every problem on its own line, then a count, and exit 2."""
    for line in exc.lines():
        click.echo(line, err=True)
    n = len(exc.problems)
    click.echo(f"{exc.source}: {n} problem{'s' * (n != 1)}; nothing written", err=True)
    sys.exit(BAD_INPUT)


@contextmanager
def bad_input(source: str) -> Iterator[None]:
    """Turn an unreadable input into exit 2 with one line per problem."""
    try:
        yield
    except InstanceError as exc:
        fail(exc)
    except RecursionError:  # JSON nested deeper than Python's recursion limit
        fail(InstanceError(source, [Problem("", "not readable: nested too deeply")]))


def load_instance(path: str, check_locks: bool = True) -> models.Instance:
    """Load an instance or exit 2 with one line per problem.

    ``check_locks=False`` leaves the check that locks obey the rules to a solve that
    follows (it makes the same check on the arrays it builds anyway).
    """
    with bad_input(path):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnknownFieldWarning)
            inst = models.load(path)
        for w in caught:
            click.echo(f"warning: {w.message}", err=True)
        if inst.overrides and check_locks:
            check_locks_obey_rules(inst)
    return inst


def check_locks_obey_rules(inst: models.Instance) -> None:
    """Refuse locks that break a rule (InstanceError, one problem per lock)."""
    from optimizer.engine.data import ProblemData
    from optimizer.engine.overrides import check_overrides

    check_overrides(ProblemData.build(inst))


def read_plan_file(path: str) -> models.Plan:
    """Read a plan file as a :class:`~models.Plan`, or exit 2 with one line per problem.

    A file that is not JSON, or a plan with a malformed field, is bad input: each
    problem names the file and the field's path (``assignments[3].score``).
    """
    with bad_input(path):
        return models.Plan.from_dict(models.read_plan(path), path)


def read_plan_document(path: str) -> dict[str, Any]:
    """Read a plan file's JSON document, not yet typed, or exit 2 when it is not a JSON object.

    For ``anvis check``, which reports a malformed plan as violations.
    """
    with bad_input(path):
        return models.read_plan(path)


@contextmanager
def writing(path: str) -> Iterator[None]:
    """Write ``path`` in the block; an OS error (no such folder, no permission) is one line and exit 2."""
    try:
        yield
    except OSError as exc:
        click.echo(f"error: cannot write {path}: {exc.strerror or exc}", err=True)
        sys.exit(BAD_INPUT)


def write_text(path: str, text: str) -> None:
    """Write a UTF-8 text file atomically; a failure is one line and exit 2."""
    from models.io import write_atomic

    with writing(path):
        write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


# --- options ---------------------------------------------------------------------


def backend_option(help_text: str) -> Callable[[F], F]:
    """``--backend``: one of :data:`BACKENDS`."""
    return click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True, help=help_text)


def solver_options(command: F) -> F:
    """The options every solving command shares: backend, time limit, quiet."""
    command = click.option("-q", "--quiet", is_flag=True, help="No summary table.")(command)
    command = click.option(
        "--time-limit",
        type=click.FloatRange(min=0),
        default=None,
        help="Seconds; on expiry the best plan found is kept with status 'feasible'.",
    )(command)
    return backend_option("Solver backend.")(command)


def override_options(command: F) -> F:
    """--lock, --forbid and --reserve: planner overrides added to the instance's own."""
    command = click.option(
        "--reserve", "reserve", multiple=True, metavar="UNIT", help="Do not assign UNIT this round (repeatable)."
    )(command)
    command = click.option(
        "--forbid", "forbid", multiple=True, metavar="CITIZEN=UNIT", help="Never give UNIT to CITIZEN (repeatable)."
    )(command)
    return click.option(
        "--lock",
        "lock",
        multiple=True,
        metavar="CITIZEN=UNIT",
        help="Give UNIT to CITIZEN; refused if that breaks a rule (repeatable).",
    )(command)


# --- planner overrides from the command line ----------------------------------------


class Overrides:
    """The planner's ``--lock``, ``--forbid`` and ``--reserve`` options, parsed once.

    A problem with one of them is reported under the option the planner typed
    (``command line: --lock c1=u12: ...``), not as a position in a list they never saw.
    """

    def __init__(self, lock: tuple[str, ...] = (), forbid: tuple[str, ...] = (), reserve: tuple[str, ...] = ()):
        records: list[dict[str, str]] = []
        flags: list[str] = []
        for flag, action, values in (("--lock", "lock", lock), ("--forbid", "forbid", forbid)):
            for text in values:
                citizen, unit = _pair(text, flag)
                records.append({"action": action, "citizen": citizen, "unit": unit, "note": "command line"})
                flags.append(f"{flag} {text}")
        for unit in reserve:
            records.append({"action": "reserve", "unit": unit, "note": "command line"})
            flags.append(f"--reserve {unit}")
        self.records = tuple(records)
        self.flags = tuple(flags)
        #: Position of the first option in the instance's overrides, once added.
        self.first: int | None = None

    def __bool__(self) -> bool:
        return bool(self.records)

    def add_to(self, inst: models.Instance, check_locks: bool = True) -> models.Instance:
        """The instance with these overrides appended; a bad one exits 2 named by its option.

        ``check_locks=False`` leaves the rule check of the locks to a solve that follows
        (pass its :class:`InstanceError` through :meth:`named`).
        """
        if not self:
            return inst
        self.first = len(inst.overrides)
        try:
            out = add_overrides(inst, self.records)
        except InstanceError as exc:
            problems = self.named(exc).problems
            # Unknown ids stop the rule checks: run those on the options whose ids are known.
            named = {p.path for p in problems}
            known = [i for i, flag in enumerate(self.flags) if flag not in named]
            if known:
                problems += self._known_problems(inst, known)
            fail(InstanceError("command line", list(dict.fromkeys(problems))))
        if check_locks:
            problems = self._rule_problems(out, list(range(len(self.records))))
            if problems:
                fail(InstanceError("command line", problems))
        return out

    def named(self, exc: InstanceError) -> InstanceError:
        """``exc`` with problems of these overrides named by their option (as from ``command line``)."""
        if self.first is None:
            return exc
        return InstanceError("command line", [self._name(p, list(self.flags)) for p in exc.problems])

    def _known_problems(self, inst: models.Instance, known: list[int]) -> list[Problem]:
        """Every problem of the options ``known`` alone, added to ``inst``, named by their option."""
        flags = [self.flags[i] for i in known]
        try:
            out = add_overrides(inst, [self.records[i] for i in known])
        except InstanceError as exc:  # e.g. a contradiction with the instance's own overrides
            return [self._name(p, flags) for p in exc.problems]
        return self._rule_problems(out, known)

    def _rule_problems(self, inst: models.Instance, added: list[int]) -> list[Problem]:
        """Problems of locks that break a rule; ``inst`` holds the options ``added``, named by their option."""
        flags = [self.flags[i] for i in added]
        try:
            check_locks_obey_rules(inst)
        except InstanceError as exc:
            return [self._name(p, flags) for p in exc.problems]
        return []

    def _name(self, p: Problem, flags: list[str]) -> Problem:
        k = _override_index(p.path, self.first or 0)
        return Problem(flags[k], p.message) if k is not None else p


def _pair(text: str, flag: str) -> tuple[str, str]:
    citizen, sep, unit = text.partition("=")
    if not sep or not citizen or not unit:
        raise click.BadParameter(f"expected CITIZEN=UNIT, got {text!r}", param_hint=flag)
    return citizen, unit


def _override_index(path: str, first: int) -> int | None:
    """K for a problem at ``overrides[first + k]`` (or a field of it), else None."""
    if not path.startswith("overrides["):
        return None
    i = int(path[len("overrides[") : path.index("]")])
    return i - first if i >= first else None

"""What every ``anvis`` command shares: exit codes, loading input, options, writing output.

Exit codes: 0 success; 1 a plan breaks a rule (``check``) or the solver failed;
2 bad input (every problem of the file listed, one line each, nothing written).

Only ``click`` and :mod:`models` are imported at module level, so that
``anvis --help`` and ``anvis validate`` load no solver, pandas or matplotlib.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

import models
from models.headers import LANGS, ColumnMap
from models.validate import InstanceError, Problem, UnknownFieldWarning, add_overrides
from optimizer.text import printable, printable_tree

__all__ = [
    "BACKENDS",
    "BAD_INPUT",
    "Overrides",
    "backend_option",
    "bad_input",
    "check_locks_obey_rules",
    "columns_option",
    "error",
    "fail",
    "guard_output",
    "lang_option",
    "load_instance",
    "override_options",
    "print_plan_summary",
    "printable",
    "printable_tree",
    "progress_shown",
    "read_plan_document",
    "read_plan_file",
    "save_instance",
    "solver_options",
    "write_plan",
    "write_text",
    "writing",
]

#: Exit code of bad input (and of a refused ledger operation).
BAD_INPUT = 2
#: The ``--backend`` choices (listed here so that ``--help`` needs no solver import).
BACKENDS = ("auto", "highs", "cpsat", "cbc")

F = TypeVar("F", bound=Callable[..., Any])


#: Control characters (C0, DEL, C1) and the bidirectional overrides: they move the cursor,
#: clear the screen or reorder text on a terminal, so no name or id the CLI echoes keeps them.
def print_plan_summary(
    plan: models.Plan, timings: dict[str, float] | None, path: str | None, lang: str | None = None
) -> None:
    """The terminal summary of a plan (:func:`optimizer.report.summary.print_summary`, ids made printable).

    ``lang`` ``None`` takes the running command's ``--lang`` (:data:`lang_option`) when
    it has one, else ``ANVIS_LANG``, else Danish: a command gains Danish or English
    summaries by taking the option, with no change here.
    """
    from optimizer.report.summary import print_summary

    if lang is None:
        ctx = click.get_current_context(silent=True)
        lang = ctx.params.get("lang") if ctx is not None else None
    print_summary(plan, timings, path, lang=lang if lang in LANGS else env_lang())


def env_lang() -> str:
    """``ANVIS_LANG`` when it names a language of :data:`LANGS`, else Danish."""
    value = os.environ.get("ANVIS_LANG", "")
    return value if value in LANGS else LANGS[0]


#: ``--lang``: the language of reports, summaries and explanations (errors stay English).
lang_option = click.option(
    "--lang",
    "lang",
    type=click.Choice(list(LANGS)),
    default="da",
    show_default=True,
    envvar="ANVIS_LANG",
    help="Language of what planners read: da (Danish) or en (English); JSON plans are the same. Also ANVIS_LANG.",
)


#: What a progress callback takes: a message and the fraction done, or None (the
#: :data:`optimizer.engine.stages.Progress` protocol, spelled here so that the CLI's
#: start-up imports no engine).
ProgressCallback = Callable[[str, "float | None"], None]


@contextmanager
def progress_shown(quiet: bool = False, title: str = "") -> Iterator[ProgressCallback | None]:
    """A live progress line on stderr for long work, or ``None`` (silent) under ``-q`` or off a terminal.

    Yields the callback to pass to the library (``progress=``): on a terminal a
    ``rich`` spinner, the latest message and a bar of the fraction done, erased when
    the work ends, so that nothing the command prints afterwards changes. Off a terminal
    (pipes, CI) nothing is shown: stdout, stderr and files are the same as without it.
    ``rich`` is imported only when the line is shown.

    Parameters
    ----------
    quiet
        The command's ``-q``: show nothing.
    title
        Put before every message (``"explain: "``).
    """
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    shown = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = shown.add_task("", total=None)
    started = False

    def update(message: str, fraction: float | None) -> None:
        nonlocal started
        # the bar pulses until a fraction is known, then stays where it was when a message does not know it
        if fraction is None:
            shown.update(task, description=printable(title + message))
        else:
            shown.update(task, description=printable(title + message), total=100, completed=100 * min(1.0, fraction))
        if not started:  # shown from the first message on: work that reports nothing shows nothing
            shown.start()
            started = True

    try:
        yield update
    finally:
        if started:
            shown.stop()


def error(message: str) -> NoReturn:
    """Print ``error: MESSAGE`` (printable) as one line on stderr and exit 2."""
    click.echo(f"error: {printable(message)}", err=True)
    sys.exit(BAD_INPUT)


#: Problems listed before the rest are only counted (a wrong delimiter is one line, but
#: a file of another kind can still give thousands).
SHOWN_PROBLEMS = 50


def finish(code: int = 0) -> None:
    """End a command whose work is done: its files written and closed, its output printed.

    In the ``anvis`` program (:func:`optimizer.cli.run`) the process exits now, with
    ``code``, after flushing stdout and stderr: freeing the command's objects one by one
    and tearing down the interpreter would give the system back nothing that exiting does
    not (a national week's ``anvis solve``: 0.018 s of its 0.37 s). No exit handler runs
    (none is registered on the commands that finish so). Called in-process (tests, a
    caller of :data:`optimizer.cli.main`), it only exits with ``code`` when that is not 0.
    """
    from optimizer.cli import is_program

    if is_program():
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
                stream.flush()
        os._exit(code)
    if code:
        sys.exit(code)


def fail(exc: InstanceError) -> NoReturn:
    """Print the first :data:`SHOWN_PROBLEMS` problems one a line, a count of the rest and of all, and exit 2."""
    for line in exc.lines(SHOWN_PROBLEMS):
        click.echo(printable(line), err=True)
    n = len(exc.problems)
    click.echo(f"{printable(exc.source)}: {n} problem{'s' * (n != 1)}; nothing written", err=True)
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


def load_instance(path: str, check_locks: bool = True, columns: ColumnMap | None = None) -> models.Instance:
    """Load an instance or exit 2 with one line per problem.

    ``check_locks=False`` leaves the check that locks obey the rules to a solve that
    follows (it makes the same check on the arrays it builds anyway). ``columns`` maps
    a CSV folder's or workbook's own column names (``--columns``, :func:`columns_option`).
    """
    with bad_input(path):
        with warnings_on_stderr():
            inst = models.load(path, columns)
        if inst.overrides and check_locks:
            check_locks_obey_rules(inst)
    return inst


@contextmanager
def warnings_on_stderr() -> Iterator[None]:
    """Print each :class:`UnknownFieldWarning` of the block as one ``warning: ...`` line on stderr.

    An ignored column, sheet or field is worth a line to the planner, not a Python
    warning with a file name and line number. Nothing is printed when the block raises.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownFieldWarning)
        yield  # bad input prints its problems instead: they say what to fix
    for w in caught:
        click.echo(printable(f"warning: {w.message}"), err=True)


def check_locks_obey_rules(inst: models.Instance) -> None:
    """Refuse locks that break a rule (InstanceError, one problem per lock)."""
    from optimizer.engine.data import ProblemData
    from optimizer.engine.overrides import check_overrides

    check_overrides(ProblemData.build(inst))


def read_plan_file(path: str) -> models.Plan:
    """Read a plan (JSON, an xlsx workbook or a CSV folder) as a :class:`~models.Plan`, or exit 2.

    A file that cannot be read, or a plan with a malformed field, is bad input: one
    line per problem, naming the file and the field's path (``assignments[3].score``),
    or in a workbook or CSV folder the sheet, row and column (``anvisninger sheet,
    row 5, column J 'score'``).
    """
    with bad_input(path), warnings_on_stderr():
        doc = models.read_plan(path)
        try:
            return models.Plan.from_dict(doc, path)
        except InstanceError as exc:
            locate = getattr(doc, "locate", None)  # a plan read from tables names sheet rows
            raise exc if locate is None else locate(exc) from None


def read_plan_document(path: str) -> dict[str, Any]:
    """Read a plan file's document (JSON, xlsx or a CSV folder), not yet typed, or exit 2 when unreadable.

    For ``anvis check``, which reports a malformed plan as violations.
    """
    with bad_input(path), warnings_on_stderr():
        return models.read_plan(path)


# --- writing output ------------------------------------------------------------------


@contextmanager
def writing(path: str) -> Iterator[None]:
    """Write ``path`` in the block; an OS error (no such folder, no permission) is one line and exit 2.

    The writers of :mod:`models.io` write atomically, so nothing is left at ``path`` then.
    A ``ValueError`` is a table too large for its format (e.g. an xlsx sheet).
    """
    try:
        yield
    except OSError as exc:
        error(f"cannot write {path}: {exc.strerror or exc}")
    except ValueError as exc:
        error(f"cannot write {path}: {exc}")


def write_text(path: str, text: str) -> None:
    """Write a UTF-8 text file atomically; a failure is one line and exit 2."""
    from models.io import write_atomic

    with writing(path):
        write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_json(path: str, doc: Any) -> None:
    """Write a JSON document (:func:`models.io.write_json`: UTF-8, atomically); a failure is one line and exit 2."""
    from models.io import write_json as write

    with writing(path):
        write(path, doc)


def save_instance(inst: models.Instance, path: str) -> None:
    """Write an instance (JSON, CSV folder or xlsx by its name) atomically; a failure is one line and exit 2."""
    with writing(path):
        models.save(inst, path)


def write_plan(plan: models.Plan, path: str, lang: str = "da", instance: models.Instance | None = None) -> None:
    """Write a plan (JSON, CSV folder or xlsx by its name) atomically; a failure is one line and exit 2.

    ``lang`` and ``instance`` shape a CSV folder or workbook (:func:`models.write_plan`);
    their reasons are worded by :func:`optimizer.lang.plan_reason`.
    """
    from optimizer.lang import plan_reason  # lazily: JSON plans need no phrases

    with writing(path):
        models.write_plan(plan, path, lang, instance, lambda row: plan_reason(row, lang))


def guard_output(output: str, inputs: Iterable[str | None] = (), db: str | None = None) -> None:
    """Refuse (one line, exit 2) an output that would replace an input or the ledger, or cannot be written.

    Call it before anything is read, solved or changed: a refused output leaves
    every file and the ledger as they were.

    Parameters
    ----------
    output
        The file (or CSV folder) the command will write.
    inputs
        The files and folders it reads: the output may be none of them (compared by
        device and inode, so symbolic and hard links count), nor lie inside an input
        folder (such as a CSV instance).
    db
        The ledger (a path or URL); an SQLite ledger's file counts as an input.
    """
    from models.io import instance_kind

    paths = [(p, "input") for p in inputs if p]
    if db is not None:
        from optimizer.rounds.ledger import sqlite_path

        ledger = sqlite_path(db)
        if ledger is not None:
            paths.append((ledger, "ledger"))
    target = Path(output)
    resolved = target.resolve()
    folder_output = instance_kind(output) == "csv"  # a CSV folder; checked by _check_writable
    for source, what in paths:
        src = Path(source)
        if not src.exists():
            continue
        if _same(target, src) or resolved == src.resolve():
            error(f"cannot write {output}: it is the {what} {source} (choose another output); nothing written")
        if src.is_dir() and any(_same(a, src) for a in resolved.parents):
            error(f"cannot write {output}: it is inside the input folder {source}; nothing written")
    _check_writable(output, folder_output)


def _same(a: Path, b: Path) -> bool:
    """Whether two existing paths are one file or folder (symbolic and hard links included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _check_writable(output: str, folder: bool) -> None:
    """Exit 2 unless ``output`` (a file, or a folder when ``folder``) can be written where it is."""
    target = Path(output)
    if target.exists():
        if folder and not target.is_dir():
            error(f"cannot write {output}: a file is there, not a folder")
        if not folder and target.is_dir():
            error(f"cannot write {output}: it is a folder")
        if not os.access(target, os.W_OK):
            error(f"cannot write {output}: read-only")
    parent = target.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # the writers create missing folders inside an existing one
    if not parent.is_dir():
        error(f"cannot write {output}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        error(f"cannot write {output}: the folder {parent} is not writable")


# --- options ---------------------------------------------------------------------


def _read_columns(ctx: click.Context, param: click.Parameter, value: str | None) -> ColumnMap | None:
    if value is None:
        return None
    from models.headers import read_column_map
    from models.schema import TABLES
    from models.tables import FIELD_TYPES, PARAMETERS

    known = {PARAMETERS: ("key", "value"), **{t: tuple(FIELD_TYPES[t]) for t in TABLES}}
    with bad_input(value):
        return read_column_map(value, known)


columns_option = click.option(
    "--columns",
    "columns",
    type=click.Path(dir_okay=False),
    default=None,
    callback=_read_columns,
    metavar="MAP.toml",
    help='Which of a CSV folder\'s or workbook\'s own columns is which field: [columns] "Husleje pr. md." = "rent_kr" '
    "(every sheet), [columns.units] ... (one sheet).",
)
"""``--columns MAP.toml``: a planner's column names (:func:`models.headers.read_column_map`), given as a ColumnMap."""


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


#: How ``--lock`` and ``--forbid`` read CITIZEN=UNIT, and the escape for ids holding ``=``.
PAIR_HELP = (
    "Ids may hold '=' when only one split names a known citizen and unit; otherwise use --{flag}-pair CITIZEN UNIT."
)


def override_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--lock, --forbid and --reserve: planner overrides added to the instance's own.

    ``--lock-pair CITIZEN UNIT`` and ``--forbid-pair CITIZEN UNIT`` take any ids,
    ``=`` included (see :data:`PAIR_HELP`). The command receives them parsed once, as
    one ``overrides`` argument (an :class:`Overrides`).
    """

    @functools.wraps(command)
    def with_overrides(
        *args: Any,
        lock: tuple[str, ...],
        lock_pair: tuple[tuple[str, str], ...],
        forbid: tuple[str, ...],
        forbid_pair: tuple[tuple[str, str], ...],
        reserve: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        return command(*args, overrides=Overrides(lock, forbid, reserve, lock_pair, forbid_pair), **kwargs)

    pairs = (
        ("lock", "Give UNIT to CITIZEN; refused if that breaks a rule (repeatable). "),
        ("forbid", "Never give UNIT to CITIZEN (repeatable). "),
    )
    wrapped: Callable[..., Any] = click.option(
        "--reserve", "reserve", multiple=True, metavar="UNIT", help="Do not assign UNIT this round (repeatable)."
    )(with_overrides)
    for flag, text in reversed(pairs):  # click lists options in the reverse order they are added
        wrapped = click.option(
            f"--{flag}-pair",
            f"{flag}_pair",
            multiple=True,
            nargs=2,
            metavar="CITIZEN UNIT",
            help=f"As --{flag}, for any ids (repeatable).",
        )(wrapped)
        wrapped = click.option(
            f"--{flag}", flag, multiple=True, metavar="CITIZEN=UNIT", help=text + PAIR_HELP.format(flag=flag)
        )(wrapped)
    return wrapped


class Overrides:
    """The planner's ``--lock``, ``--forbid`` and ``--reserve`` options, parsed once.

    A problem with one of them is reported under the option the planner typed
    (``command line: --lock c1=u12: ...``), not as a position in a list they never saw.
    ``CITIZEN=UNIT`` with more than one ``=`` is split where it names a known citizen
    and unit (:meth:`add_to` knows the instance); the ``-pair`` forms take any ids.
    """

    def __init__(
        self,
        lock: tuple[str, ...] = (),
        forbid: tuple[str, ...] = (),
        reserve: tuple[str, ...] = (),
        lock_pair: tuple[tuple[str, str], ...] = (),
        forbid_pair: tuple[tuple[str, str], ...] = (),
    ):
        #: (flag as typed, action, the CITIZEN=UNIT text or the pair, unit) in the order they are added.
        self._options: list[tuple[str, str, str | tuple[str, str] | None]] = []
        for flag, action, values, pairs in (
            ("--lock", "lock", lock, lock_pair),
            ("--forbid", "forbid", forbid, forbid_pair),
        ):
            for text in values:
                if "=" not in text.strip("="):
                    raise click.BadParameter(f"expected CITIZEN=UNIT, got {text!r}", param_hint=flag)
                self._options.append((f"{flag} {text}", action, text))
            for citizen, unit in pairs:
                if not citizen or not unit:
                    raise click.BadParameter(
                        f"expected CITIZEN UNIT, got {citizen!r} {unit!r}", param_hint=f"{flag}-pair"
                    )
                self._options.append((f"{flag}-pair {citizen} {unit}", action, (citizen, unit)))
        for unit in reserve:
            self._options.append((f"--reserve {unit}", "reserve", unit))
        self.flags = tuple(flag for flag, _, _ in self._options)
        self.records: tuple[dict[str, str], ...] = ()
        #: Position of the first option in the instance's overrides, once added.
        self.first: int | None = None

    def __bool__(self) -> bool:
        return bool(self._options)

    def _resolve(self, inst: models.Instance) -> tuple[dict[str, str], ...]:
        """The override records, each CITIZEN=UNIT split where it names ids of ``inst``."""
        citizens = {c.id for c in inst.citizens}
        units = {u.id for u in inst.units}
        records: list[dict[str, str]] = []
        ambiguous: list[Problem] = []
        for flag, action, value in self._options:
            if action == "reserve":
                records.append({"action": action, "unit": str(value), "note": "command line"})
                continue
            if isinstance(value, tuple):
                citizen, unit = value
            else:
                splits = _splits(str(value))
                known = [(c, u) for c, u in splits if c in citizens and u in units]
                if len(known) > 1:
                    options = " or ".join(f"{c!r} and {u!r}" for c, u in known)
                    hint = flag.split()[0]
                    ambiguous.append(
                        Problem(flag, f"ambiguous: the citizen and unit may be {options}; use {hint}-pair CITIZEN UNIT")
                    )
                citizen, unit = known[0] if known else splits[0]
            records.append({"action": action, "citizen": citizen, "unit": unit, "note": "command line"})
        if ambiguous:
            fail(InstanceError("command line", ambiguous))
        return tuple(records)

    def add_to(self, inst: models.Instance, check_locks: bool = True) -> models.Instance:
        """The instance with these overrides appended; a bad one exits 2 named by its option.

        ``check_locks=False`` leaves the rule check of the locks to a solve that follows
        (pass its :class:`InstanceError` through :meth:`named`).
        """
        if not self:
            return inst
        self.records = self._resolve(inst)
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


def _splits(text: str) -> list[tuple[str, str]]:
    """Every (citizen, unit) split of ``CITIZEN=UNIT`` at one ``=``, both sides non-empty, first split first."""
    return [(text[:i], text[i + 1 :]) for i, ch in enumerate(text) if ch == "=" and 0 < i < len(text) - 1]


def _override_index(path: str, first: int) -> int | None:
    """K for a problem at ``overrides[first + k]`` (or a field of it), else None."""
    if not path.startswith("overrides["):
        return None
    i = int(path[len("overrides[") : path.index("]")])
    return i - first if i >= first else None

"""``anvis``: the command line, a thin layer over the library.

One module per command group: :mod:`~optimizer.cli.instance` (validate, convert,
generate), :mod:`~optimizer.cli.solve` (solve, check), :mod:`~optimizer.cli.explain`
(explain, report), :mod:`~optimizer.cli.rounds` (the ``round`` group),
:mod:`~optimizer.cli.simulate`, :mod:`~optimizer.cli.scenario` (scenario, prices) and
:mod:`~optimizer.cli.serve`; :mod:`~optimizer.cli.common` holds what they share.

Exit codes: 0 success; 1 a plan breaks a rule (``check``) or the solver failed;
2 bad input (every problem of the file listed, one line each, nothing written).

The group is lazy: ``anvis solve`` imports :mod:`optimizer.cli.solve` and nothing of the
other commands (their modules, and what those import, cost start-up time on every run).
Solvers, pandas and matplotlib are imported only inside the commands that use them.
To add a command, add one line to :data:`COMMANDS`.

BLAS runs one thread in the processes ``anvis`` starts (:data:`BLAS_THREADS`): the engine
solves on one core and calls no BLAS on its paths, but OpenBLAS starts a worker per core
when NumPy loads and those spin for a while (0.05-0.1 s CPU a process, more after a
threaded call) beside the solver. Scenario and simulation workers inherit the setting.
A user's own value of any of these variables wins.

Pydantic plugins are not loaded either (:data:`PYDANTIC_PLUGINS`), unless the user asks for them.
The program's allocator keeps the memory a command frees for its next blocks
(:func:`keep_freed_memory`), unless the user tuned it.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
import sys
import types
from collections.abc import Iterator, MutableMapping

import click

#: The thread-count variables of the BLAS libraries NumPy and SciPy may load (OpenBLAS,
#: OpenMP builds, MKL, Apple's Accelerate): each set to one, unless the user set it,
#: before NumPy is imported (they are read once, when the library loads; nothing above
#: imports NumPy).
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
for _variable in BLAS_THREADS:
    os.environ.setdefault(_variable, "1")

#: Pydantic's switch for its plugins, set to ``__all__`` (none) unless the user set it.
#: A plugin (a package declaring a ``pydantic`` entry point, such as a tracer) observes every
#: validation, and the instance's validation sees citizens' circumstances, which anvis keeps
#: out of everything but ``explain``. Looking for plugins also costs every run 0.015-0.02 s:
#: pydantic imports :mod:`importlib.metadata` (and with it :mod:`email`, :mod:`zipfile`, ...)
#: and reads every installed package's entry points when it builds its first model class.
#: With plugins off, :func:`skip_plugin_discovery` lets pydantic skip that search altogether.
#: A user who wants plugins sets the variable (an empty value turns every plugin on).
PYDANTIC_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"
os.environ.setdefault(PYDANTIC_PLUGINS, "__all__")

#: The module of pydantic (2.x) that discovers plugins; :func:`skip_plugin_discovery` stands in for it.
PLUGIN_LOADER = "pydantic.plugin._loader"
#: The docstring of the stand-in module (how a test, or a puzzled reader, recognises it).
STAND_IN = "anvis's stand-in for pydantic's plugin loader: every plugin is turned off (optimizer.cli)."


def skip_plugin_discovery() -> bool:
    """Stand in for pydantic's plugin loader while the user's setting turns every plugin off.

    Pydantic asks :data:`PLUGIN_LOADER`'s ``get_plugins()`` for plugins whenever it builds
    a validator; with ``PYDANTIC_DISABLE_PLUGINS`` set to ``__all__``, ``1`` or ``true``
    that function returns no plugins without looking, but its module imports
    :mod:`importlib.metadata` (0.015 s) when it loads. The stand-in answers the same, and
    nothing is imported. Nothing is replaced once pydantic has loaded its own loader, nor
    when some plugin may be wanted (the variable has another value).

    Returns
    -------
    bool
        Whether the stand-in is in place.
    """
    if os.environ.get(PYDANTIC_PLUGINS) not in ("__all__", "1", "true"):
        return False
    if PLUGIN_LOADER not in sys.modules:
        loader = types.ModuleType(PLUGIN_LOADER, STAND_IN)
        loader.get_plugins = lambda: ()  # type: ignore[attr-defined]  # what pydantic's returns then
        sys.modules[PLUGIN_LOADER] = loader
    return sys.modules[PLUGIN_LOADER].__doc__ == STAND_IN


skip_plugin_discovery()

__all__ = ["BLAS_THREADS", "COMMANDS", "PLUGIN_LOADER", "PYDANTIC_PLUGINS", "STAND_IN", "main", "skip_plugin_discovery"]

#: Every command of ``anvis``: its name and where it is defined (``module:attribute``).
#: Its module is imported only when the command is run (or listed by ``--help``).
COMMANDS: dict[str, str] = {
    "validate": "optimizer.cli.instance:validate",
    "solve": "optimizer.cli.solve:solve",
    "check": "optimizer.cli.solve:check",
    "convert": "optimizer.cli.instance:convert",
    "generate": "optimizer.cli.instance:generate",
    "round": "optimizer.cli.rounds:round_group",
    "report": "optimizer.cli.explain:report",
    "simulate": "optimizer.cli.simulate:simulate",
    "explain": "optimizer.cli.explain:explain_command",
    "scenario": "optimizer.cli.scenario:scenario",
    "prices": "optimizer.cli.scenario:prices",
    "serve": "optimizer.cli.serve:serve",
}


class LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands by name, each imported from its ``module:attribute`` on first use.

    It stands in for :attr:`click.Group.commands`, so click's own lookup, listing and
    ``add_command`` work unchanged; iterating the names imports nothing.
    """

    def __init__(self, where: dict[str, str]):
        self._where = dict(where)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, _, attr = self._where[name].partition(":")  # KeyError: no such command
            # A command's modules (NumPy, pydantic and the model classes for most) allocate
            # some 200,000 objects that live to the end: the cyclic collector, paused while
            # they load, would walk them 60 times for nothing (national week: 0.01 s of its
            # 0.37 s). Frozen after, no later collection walks them either.
            # (gc by hand, not models.memory.collector_paused: importing `models` here would
            # load it for every command, --help included)
            collecting = gc.isenabled()
            gc.disable()
            try:
                command = getattr(importlib.import_module(module), attr)
                gc.freeze()
            finally:
                if collecting:
                    gc.enable()
            if not isinstance(command, click.Command):
                raise TypeError(f"{self._where[name]} is not a click command")
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command
        self._where.setdefault(name, "")

    def __delitem__(self, name: str) -> None:
        del self._where[name]
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, name: object) -> bool:
        return name in self._where


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="anvis")
def main() -> None:
    """anvis: optimal municipal allocation of social housing (kommunal boliganvisning)."""


main.commands = LazyCommands(COMMANDS)

#: Whether this process is the ``anvis`` program (:func:`run`), not a caller of :data:`main`.
_PROGRAM = [False]


def run() -> None:
    """The ``anvis`` program (the console script): :data:`main` in a process of its own.

    A command that has finished its work may then end the process at once
    (:func:`optimizer.cli.common.finish`) instead of tearing the interpreter down; a
    caller of :data:`main` in its own process (tests, ``CliRunner``) never sees that, nor
    the allocator's settings (:func:`keep_freed_memory`).
    """
    _PROGRAM[0] = True
    keep_freed_memory()
    main()


#: glibc malloc's settings in the ``anvis`` program (:func:`keep_freed_memory`), by
#: ``mallopt`` option: blocks of 32 MiB and more get mappings of their own
#: (``M_MMAP_THRESHOLD``, -3), and the heap's free top goes back to the system from 128 MiB
#: (``M_TRIM_THRESHOLD``, -1). glibc's own: 128 KiB each, raised as it sees blocks freed.
MALLOC_OPTIONS = ((-3, 32 * 2**20), (-1, 128 * 2**20))
#: The environment variables of glibc's malloc settings: where the user set one, the user's settings stand.
MALLOC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep the memory a command frees for its next blocks; whether the settings took.

    With glibc's own settings, a block of 128 KiB or more (an array, a solver's buffer)
    is a fresh mapping, and the heap's free top goes back to the system past 128 KiB,
    until frees of larger blocks raise both limits: early in a process, much of what a
    command allocates arrives as new pages, each a page fault, and the solver's threads
    wait on the allocator's lock meanwhile. :data:`MALLOC_OPTIONS` keep freed memory for
    reuse (a national week's ``anvis solve``: 2,700 page faults of 24,300 fewer; 0.005-0.009 s
    of 0.33 s, hard-national's and assign800's 0.02 s of 0.7 and 0.5 s; city-year's peak
    memory 538 MB against 532). A short process gives all its memory back when it ends.

    Nothing changes where the C library has no ``mallopt`` (macOS, Windows) or where the
    user set glibc's malloc variables (:data:`MALLOC_VARIABLES`, or ``glibc.malloc`` in
    ``GLIBC_TUNABLES``).
    """
    if any(v in os.environ for v in MALLOC_VARIABLES) or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # no C library of the process to open, or no mallopt in it
        return False
    # in order, none after a refusal: a trim threshold alone fixes glibc's mapping threshold at 128 KiB
    return all(mallopt(option, value) == 1 for option, value in MALLOC_OPTIONS)


def is_program() -> bool:
    """True in the ``anvis`` program (started by :func:`run`), False where :data:`main` is called in-process."""
    return _PROGRAM[0]

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
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, MutableMapping

import click

#: The thread-count variables of the BLAS libraries NumPy and SciPy may load (OpenBLAS,
#: OpenMP builds, MKL, Apple's Accelerate): each set to one, unless the user set it,
#: before NumPy is imported (they are read once, when the library loads; nothing above
#: imports NumPy).
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
for _variable in BLAS_THREADS:
    os.environ.setdefault(_variable, "1")

__all__ = ["BLAS_THREADS", "COMMANDS", "main"]

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
            command = getattr(importlib.import_module(module), attr)
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

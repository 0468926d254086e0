"""``anvis``: the command line, a thin layer over the library.

One module per command group: :mod:`~optimizer.cli.instance` (validate, convert,
generate), :mod:`~optimizer.cli.solve` (solve, check), :mod:`~optimizer.cli.explain`
(explain, report), :mod:`~optimizer.cli.rounds` (the ``round`` group) and
:mod:`~optimizer.cli.simulate`; :mod:`~optimizer.cli.common` holds what they share.

Exit codes: 0 success; 1 a plan breaks a rule (``check``) or the solver failed;
2 bad input (every problem of the file listed, one line each, nothing written).
Solvers, pandas and matplotlib are imported only inside the commands that use them.
"""

from __future__ import annotations

import click

from optimizer.cli.explain import explain_command, report
from optimizer.cli.instance import convert, generate, validate
from optimizer.cli.rounds import round_group
from optimizer.cli.scenario import prices, scenario
from optimizer.cli.serve import serve
from optimizer.cli.simulate import simulate
from optimizer.cli.solve import check, solve

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="anvis")
def main() -> None:
    """anvis: optimal municipal allocation of social housing (kommunal boliganvisning)."""


for _command in (
    validate,
    solve,
    check,
    convert,
    generate,
    round_group,
    report,
    simulate,
    explain_command,
    scenario,
    prices,
    serve,
):
    main.add_command(_command)

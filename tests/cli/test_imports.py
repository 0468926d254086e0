"""``anvis solve`` imports what a solve needs and nothing else (start-up time of every run).

Each check runs the command in a fresh interpreter and reads ``sys.modules`` after it:
the lazy command group imports a command's module only when the command is invoked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest

from optimizer.cli import COMMANDS, PLUGIN_LOADER, PYDANTIC_PLUGINS, STAND_IN, LazyCommands, main

from conftest import ROOT

#: Never needed by ``anvis solve``: spreadsheets, data frames, plots, the ledger, reports, CBC.
NOT_FOR_SOLVE = ("pandas", "matplotlib", "pulp", "sqlalchemy", "openpyxl", "jinja2", "rich", "networkx")

RUN = """
import json, sys
from optimizer.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps(sorted(sys.modules)))
"""


#: Never imported by a solve that neither prices columns nor aggregates: ``scipy.sparse`` and the
#: array-API layer it loads (which imports much of numpy: 0.06 s of every run).
NOT_WITHOUT_SPARSE_ALGEBRA = ("scipy.sparse", "scipy._lib.array_api_compat", "numpy.f2py", "numpy.polynomial")


#: Never imported by ``anvis solve`` (start-up time): pydantic's plugin search (``importlib.metadata``
#: and the e-mail parser, zip reader and resource loaders it imports: 0.015-0.02 s), the TOML parser
#: (only ``--columns`` reads TOML).
NOT_AT_START_UP = ("importlib.metadata", "email", "zipfile", "importlib.resources", "tomllib")


def modules_of(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """Every module a fresh ``anvis ARGS`` imported (with ``env`` added to the environment)."""
    out = subprocess.run(
        [sys.executable, "-c", RUN, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != PYDANTIC_PLUGINS} | (env or {}),
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def loaded_by(*args: str) -> set[str]:
    """The top-level packages and the ``optimizer.cli`` modules a fresh ``anvis ARGS`` imported."""
    names = modules_of(*args)
    return {m.split(".")[0] for m in names} | {m for m in names if m.startswith("optimizer.cli.")}


@pytest.mark.parametrize("backend", ["highs", "auto"])
def test_solve_imports_no_spreadsheet_plot_ledger_or_other_solver(tmp_path, backend):
    plan = tmp_path / "p.json"
    loaded = loaded_by("solve", str(ROOT / "instances" / "demo-week.json"), "-o", str(plan), "-q", "--backend", backend)
    assert json.loads(plan.read_text())["status"] == "optimal"
    assert loaded & set(NOT_FOR_SOLVE) == set()
    assert "highspy" in loaded and "numpy" in loaded  # it did solve
    if backend == "highs":
        assert "ortools" not in loaded  # OR-Tools only for auto's matching blocks or CP-SAT
    # the lazy group imported the solve command's module and no other command's
    assert {m for m in loaded if m.startswith("optimizer.cli.")} == {"optimizer.cli.solve", "optimizer.cli.common"}


def test_solve_looks_for_no_pydantic_plugin_and_reads_no_toml(tmp_path):
    plan = tmp_path / "p.json"
    loaded = modules_of("solve", str(ROOT / "instances" / "demo-week.json"), "-o", str(plan), "-q")
    assert json.loads(plan.read_text())["status"] == "optimal"
    assert {m for m in loaded if m.startswith(NOT_AT_START_UP)} == set()
    assert "pydantic" in loaded and PLUGIN_LOADER in loaded  # it validated, asking the stand-in for plugins


@pytest.mark.parametrize("setting", ["", "some_plugin"])
def test_a_user_who_wants_pydantic_plugins_gets_pydantics_own_search(tmp_path, setting):
    """The check above can fail: with the user's own setting, pydantic's loader looks for plugins."""
    plan = tmp_path / "p.json"
    loaded = modules_of(
        "solve", str(ROOT / "instances" / "tiny.json"), "-o", str(plan), "-q", env={PYDANTIC_PLUGINS: setting}
    )
    assert "importlib.metadata" in loaded and plan.exists()


STAND_IN_CHECK = """
import json, os, sys
os.environ[{var!r}] = {value!r}
from optimizer.cli import skip_plugin_discovery
import models  # builds pydantic's validators, asking for plugins
from pydantic.plugin._loader import get_plugins
loader = sys.modules[{loader!r}]
print(json.dumps([skip_plugin_discovery(), loader.__doc__, list(get_plugins()), "importlib.metadata" in sys.modules]))
"""


@pytest.mark.parametrize(
    ("value", "stand_in"), [("__all__", True), ("1", True), ("true", True), ("", False), ("other", False)]
)
def test_the_stand_in_answers_as_pydantics_own_loader(value, stand_in):
    """Pydantic's loader, with every plugin turned off, finds no plugin: neither does the stand-in."""
    results = {}
    for first in ("optimizer.cli", "pydantic.plugin._loader"):  # the stand-in, or pydantic's own
        code = f"import {first}\n" + STAND_IN_CHECK.format(var=PYDANTIC_PLUGINS, value=value, loader=PLUGIN_LOADER)
        env = {k: v for k, v in os.environ.items() if k != PYDANTIC_PLUGINS} | {PYDANTIC_PLUGINS: value}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env
        )
        results[first] = json.loads(out.stdout.splitlines()[-1])
    ours, theirs = results["optimizer.cli"], results["pydantic.plugin._loader"]
    assert ours[0] is stand_in and (ours[1] == STAND_IN) is stand_in and theirs[0] is False  # theirs loaded first
    assert ours[2] == theirs[2]  # the same plugins: none installed here, or none wanted
    assert ours[3] is not stand_in and theirs[3] is True  # only the stand-in spares importlib.metadata


def test_solve_imports_no_sparse_algebra_where_no_block_needs_it(tmp_path):
    """A solve of matching and MILP blocks only (no column generation, no aggregation)."""
    plan = tmp_path / "p.json"
    loaded = modules_of("solve", str(ROOT / "instances" / "demo-week.json"), "-o", str(plan), "-q")
    assert json.loads(plan.read_text())["status"] == "optimal"
    assert "optimizer.engine.methods.pricing" in loaded and "highspy" in loaded
    assert {m for m in loaded if m.startswith(NOT_WITHOUT_SPARSE_ALGEBRA)} == set()


def test_the_sparse_import_check_sees_scipy_sparse_where_a_block_is_priced(tmp_path):
    """The check above can fail: a block priced by column generation does import ``scipy.sparse``."""
    from optimizer.sim.generate import generate

    inst = tmp_path / "cy.json"
    inst.write_text(json.dumps(generate("city-year", seed=0, scale=0.1)))
    plan = tmp_path / "p.json"
    loaded = modules_of("solve", str(inst), "-o", str(plan), "-q")
    assert "scipy.sparse" in loaded and plan.exists()


def test_the_import_check_sees_a_solver_the_command_uses(tmp_path):
    """The check above can fail: with ``--backend cbc`` the solve does import PuLP."""
    plan = tmp_path / "p.json"
    loaded = loaded_by("solve", str(ROOT / "instances" / "tiny.json"), "-o", str(plan), "-q", "--backend", "cbc")
    assert "pulp" in loaded and plan.exists()


def test_importing_the_group_imports_no_command():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, optimizer.cli; print(sorted(m for m in sys.modules if 'cli.' in m))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stdout.strip() == "[]"


def test_every_command_of_the_table_is_a_click_command():
    assert set(main.commands) == set(COMMANDS)
    for name in COMMANDS:
        command = main.get_command(click.Context(main), name)
        assert isinstance(command, click.Command) and command.name == name


def test_lazy_commands_import_on_first_use_only():
    table = LazyCommands({"demo": "tests_lazy_demo_module:demo"})
    assert list(table) == ["demo"] and len(table) == 1 and "demo" in table
    with pytest.raises(ModuleNotFoundError):  # looked up on access, not before
        table["demo"]
    with pytest.raises(KeyError):
        table["nothing"]
    assert table.get("nothing") is None
    table["now"] = click.Command("now")  # click's add_command still works
    assert table["now"].name == "now" and "now" in table
    del table["now"]
    assert "now" not in table


def test_a_table_entry_that_is_not_a_command_is_refused():
    table = LazyCommands({"bad": "optimizer.cli:COMMANDS"})
    with pytest.raises(TypeError, match="not a click command"):
        table["bad"]


def test_solve_in_process_restores_the_collector_threshold(tmp_path):
    """``anvis solve`` raises the young generation's threshold for its own run only."""
    import gc

    from click.testing import CliRunner

    before = gc.get_threshold()
    plan = tmp_path / "p.json"
    out = CliRunner().invoke(main, ["solve", str(ROOT / "instances" / "tiny.json"), "-o", str(plan), "-q"])
    assert out.exit_code == 0, out.output
    assert json.loads(plan.read_text())["status"] == "optimal"
    assert gc.get_threshold() == before and gc.isenabled()  # the collector paused for the load runs again
    out = CliRunner().invoke(main, ["solve", str(tmp_path / "missing.json"), "-o", str(plan), "-q"])
    assert out.exit_code == 2 and gc.get_threshold() == before  # also when the command fails
    assert gc.isenabled()
    gc.disable()  # a caller's own choice stays
    try:
        out = CliRunner().invoke(main, ["solve", str(ROOT / "instances" / "tiny.json"), "-o", str(plan), "-q"])
        assert out.exit_code == 0 and not gc.isenabled()
    finally:
        gc.enable()

"""The command line as a thin package: entry point, lazy imports, command-line overrides
added to the validated instance once (no re-validation, the rule check's arrays built once).
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import click
import pytest
from click.testing import CliRunner

import models
from models.validate import InstanceError, add_overrides
from optimizer.cli import main, run
from optimizer.engine.data import ProblemData

from conftest import doc

HEAVY = (
    "highspy",
    "ortools",
    "pulp",
    "pandas",
    "matplotlib",
    "scipy",
    "networkx",
    "sqlalchemy",
    "jinja2",
    "rich",
    "fastapi",
    "uvicorn",
)

COMMANDS = {
    "validate",
    "solve",
    "check",
    "convert",
    "generate",
    "round",
    "report",
    "simulate",
    "explain",
    "scenario",
    "prices",
    "serve",
}


def test_entry_point_is_the_click_group():
    """``anvis`` runs ``optimizer.cli:run``: the program around ``main``, the group that holds every command."""
    (ep,) = [e for e in entry_points(group="console_scripts") if e.name == "anvis"]
    assert ep.value == "optimizer.cli:run"
    assert ep.load() is run and isinstance(main, click.Group)
    assert set(main.commands) == COMMANDS
    assert set(main.commands["round"].commands) == {
        "open", "solve", "commit", "rollback", "abandon", "status", "history", "report", "explain", "new-period",
        "purge", "subsidies", "overrides", "lock", "forbid", "reserve", "hold", "unlock", "unforbid", "unreserve",
        "unhold", "carry",
    }  # fmt: skip


def test_help_and_validate_import_no_solver_pandas_or_matplotlib(tmp_path):
    """``anvis --help`` and ``anvis validate`` load none of the heavy libraries (start-up time)."""
    path = tmp_path / "i.json"
    path.write_text(json.dumps(doc([{"id": "c1"}], [{"id": "u1"}])))
    code = f"""
import json, sys
from click.testing import CliRunner
import optimizer.cli
loaded = {{m.split(".")[0] for m in sys.modules}}
r1 = CliRunner().invoke(optimizer.cli.main, ["--help"])
r2 = CliRunner().invoke(optimizer.cli.main, ["validate", {str(path)!r}])
r3 = CliRunner().invoke(optimizer.cli.main, ["round", "--help"])
after = {{m.split(".")[0] for m in sys.modules}}
heavy = set({HEAVY!r})
print(json.dumps([r1.exit_code, r2.exit_code, r3.exit_code, sorted(loaded & heavy), sorted(after & heavy)]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [0, 0, 0, [], []]


def test_heavy_import_check_can_fail():
    """The import check above sees a heavy library once a command really uses it."""
    code = "import sys, optimizer.cli, optimizer.report.html; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


# --- command-line overrides -------------------------------------------------------------

UNITS = [{"id": "u1"}, {"id": "u2"}, {"id": "u3"}]
CITIZENS = [{"id": "c1"}, {"id": "c2"}]
OWN = [{"action": "forbid", "citizen": "c1", "unit": "u1"}]
EXTRA = [
    {"action": "lock", "citizen": "c2", "unit": "u2", "note": "command line"},
    {"action": "reserve", "unit": "u3", "note": "command line"},
]


def test_add_overrides_equals_validating_the_whole_document():
    """Adding overrides to a validated instance gives the instance a file with them would
    give (same overrides, same hash), without serialising the instance again."""
    inst = models.from_dict(doc(CITIZENS, UNITS, overrides=OWN))
    expected = models.from_dict(doc(CITIZENS, UNITS, overrides=OWN + EXTRA))
    out = add_overrides(inst, EXTRA)
    assert out.overrides == expected.overrides and out.sha256 == expected.sha256
    assert out.units is inst.units and out.scores is inst.scores  # the rest is shared, not rebuilt
    assert len(inst.overrides) == 1  # the instance is immutable


def test_add_overrides_does_not_round_trip_through_a_dict(monkeypatch):
    """The happy path neither serialises nor re-validates the instance."""
    inst = models.from_dict(doc(CITIZENS, UNITS))

    def no(*args, **kwargs):
        raise AssertionError("re-validated")

    monkeypatch.setattr(models.Instance, "to_dict", no)
    monkeypatch.setattr("models.validate.from_dict", no)
    assert [o.action for o in add_overrides(inst, EXTRA).overrides] == ["lock", "reserve"]


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ({"action": "lock", "citizen": "c9", "unit": "u1"}, "overrides[1].citizen", "unknown citizen 'c9'"),
        ({"action": "reserve", "unit": "u9"}, "overrides[1].unit", "unknown unit 'u9'"),
        ({"action": "lock", "citizen": "c1", "unit": "u1"}, "overrides[1]", "both locked and forbidden"),
        ({"action": "lock", "citizen": "c1", "unit": ""}, "overrides[1].unit", "at least 1 character"),
    ],
)
def test_add_overrides_reports_problems_at_their_path(extra, path, message):
    """A bad override is refused like one in a file: at its path in the combined list."""
    inst = models.from_dict(doc(CITIZENS, UNITS, overrides=OWN))
    with pytest.raises(InstanceError) as err:
        add_overrides(inst, [extra])
    assert [p.path for p in err.value.problems] == [path]
    assert message in err.value.problems[0].message


@pytest.fixture
def build_calls(monkeypatch):
    """Count the arrays built for the rule checks and the solve."""
    calls = []
    build = ProblemData.build.__func__

    def counting(cls, *args, **kwargs):
        calls.append(1)
        return build(cls, *args, **kwargs)

    monkeypatch.setattr(ProblemData, "build", classmethod(counting))
    return calls


def test_solve_with_command_line_locks_builds_the_arrays_once(tmp_path, build_calls):
    """``solve --lock`` lets the solve check the locks on the arrays it builds anyway."""
    inst = tmp_path / "i.json"
    inst.write_text(json.dumps(doc(CITIZENS, UNITS)))
    r = CliRunner().invoke(main, ["solve", str(inst), "-o", str(tmp_path / "p.json"), "-q", "--lock", "c2=u2"])
    assert r.exit_code == 0, r.output
    assert len(build_calls) == 1
    plan = json.loads((tmp_path / "p.json").read_text())
    assert any(a["citizen"] == "c2" and a["unit"] == "u2" and a.get("locked") for a in plan["assignments"])


def test_round_solve_with_command_line_locks_builds_the_arrays_once(tmp_path, build_calls):
    """``round solve --lock`` checks the locks in the solve only; a broken one is named by its option."""
    d = doc(CITIZENS, [*UNITS, {"id": "u4", "rent_kr": 99999}])
    inst = tmp_path / "i.json"
    inst.write_text(json.dumps(d))
    db = str(tmp_path / "l.db")
    runner = CliRunner()
    assert runner.invoke(main, ["round", "open", str(inst), "--db", db]).exit_code == 0
    build_calls.clear()
    # --no-cost: no second solve without the lock to find what it cost (that one builds its own arrays)
    r = runner.invoke(main, ["round", "solve", "--db", db, "-q", "--no-cost", "--lock", "c2=u2"])
    assert r.exit_code == 0, r.output
    assert len(build_calls) == 1
    r = runner.invoke(main, ["round", "solve", "--db", db, "-q", "--lock", "c1=u4"])
    assert r.exit_code == 2
    assert r.stderr.startswith("command line: --lock c1=u4: cannot lock citizen 'c1' to unit 'u4': rent above")


def test_generate_offers_every_preset():
    """``anvis generate``'s choices are exactly the generator's presets (hard ones included)."""
    from optimizer.cli.instance import PRESETS
    from optimizer.sim.generate import PRESET_NAMES

    assert PRESETS == PRESET_NAMES

"""The library surface of ``optimizer/__init__.py``: the README's example, and a light import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import optimizer

from conftest import ROOT


def test_readme_library_example():
    """Load, solve, make a plan and check it with the public names only."""
    inst = optimizer.load(ROOT / "instances" / "tiny.json")
    assert isinstance(inst, optimizer.Instance)
    result = optimizer.solve(inst)
    plan = optimizer.make_plan(result)
    assert isinstance(plan, optimizer.Plan)
    assert optimizer.check_plan(inst, plan) == []
    assert plan.status == optimizer.Status.OPTIMAL
    assert plan.assignments, "tiny houses someone"


def test_the_readme_library_example_runs_as_written(monkeypatch, capsys):
    """The code block of README's "Library use" runs as printed, from the repository root."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Library use") :]
    code = section[section.index("```python") + len("```python") : section.index("```", section.index("```python") + 9)]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    assert "optimal" in capsys.readouterr().out


def test_bad_input_is_an_instance_error(tmp_path):
    """A broken file raises the public InstanceError, never another exception."""
    path = tmp_path / "broken.json"
    path.write_text('{"format": "anvis/1", "citizens": 3}', encoding="utf-8")
    with pytest.raises(optimizer.InstanceError):
        optimizer.load(path)


def test_unknown_name():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = optimizer.nope


def test_public_names_are_listed():
    assert set(optimizer.__all__) <= set(dir(optimizer))


def test_import_is_light():
    """``import optimizer`` loads no solver, dataframe or plotting library (the CLI starts fast)."""
    heavy = ("highspy", "ortools", "pulp", "pandas", "matplotlib", "scipy")
    code = f"import sys, optimizer; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"

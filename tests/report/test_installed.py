"""The report's template is package data: setuptools installs it with the package, and the
report renders from an installed copy of the package (not the source tree) with the same bytes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Path("optimizer/report/templates/report.html.j2")

RENDER = """
import sys
lib, demo = sys.argv[1:]
sys.path.insert(0, lib)
import models
import optimizer.report.html as h
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
assert h.__file__.startswith(lib), h.__file__
inst = models.load(demo)
sys.stdout.write(h.render_report(inst, make_plan(solve(inst))))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The packages as setuptools installs them (``build_py`` of a copy of the source)."""
    src, lib = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("site") / "lib"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("models", "optimizer"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    setup = "from setuptools import setup; setup()"
    subprocess.run(
        [sys.executable, "-W", "ignore", "-c", setup, "-q", "build_py", "--build-lib", str(lib)],
        cwd=src,
        capture_output=True,
        check=True,
    )
    return lib


def test_installed_package_carries_the_template_and_renders_the_same_report(installed, tmp_path):
    """Rendered from the installed copy, the demo report equals the one from the source tree."""
    assert (installed / TEMPLATE).read_bytes() == (ROOT / TEMPLATE).read_bytes()
    demo = str(ROOT / "instances" / "demo-week.json")
    pages = [
        subprocess.run(
            [sys.executable, "-c", RENDER, str(lib), demo], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        for lib in (installed, ROOT)
    ]
    assert [p.returncode for p in pages] == [0, 0], [p.stderr for p in pages]
    assert pages[0].stdout == pages[1].stdout and pages[0].stdout.startswith("<!DOCTYPE html>")

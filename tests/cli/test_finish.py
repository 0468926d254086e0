"""``optimizer.cli.common.finish``: the ``anvis`` program ends at once when a command is done.

Run as the program (:func:`optimizer.cli.run`, the console script), a finished command's
process exits with its code after flushing stdout and stderr, without tearing the
interpreter down; called in-process (:data:`optimizer.cli.main`) it only exits on a code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.cli import is_program
from optimizer.cli.common import finish

ROOT = Path(__file__).resolve().parents[2]
#: The environment with Python's own output buffering (some machines set PYTHONUNBUFFERED,
#: under which a missing flush would go unseen).
BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
ANVIS = Path(sys.executable).with_name("anvis")

#: A program with one extra command that prints, registers an exit handler and finishes.
PROGRAM = """
import atexit, sys
import click
from optimizer.cli import main, run
from optimizer.cli.common import finish

@main.command("t-finish")
@click.argument("code", type=int)
def t_finish(code):
    atexit.register(lambda: print("exit handler ran"))
    print("to stdout " * 2000)  # block-buffered into a pipe, and more than one buffer: all must arrive
    sys.stderr.write("to stderr")
    finish(code)
    print("after finish")

sys.argv = ["anvis", "t-finish", sys.argv[1]]
run()
"""


@pytest.mark.parametrize("code", [0, 1, 3])
def test_the_program_exits_with_the_code_and_everything_printed(code):
    cmd = [sys.executable, "-c", PROGRAM, str(code)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=ROOT, env=BUFFERED)
    assert done.returncode == code
    assert done.stdout == "to stdout " * 2000 + "\n"  # flushed whole; nothing after finish, no exit handler
    assert done.stderr == "to stderr"


def test_in_process_finish_returns_on_0_and_exits_on_a_code():
    assert not is_program()  # pytest calls the library, not the program
    assert finish(0) is None
    with pytest.raises(SystemExit) as exc:
        finish(1)
    assert exc.value.code == 1


@pytest.mark.skipif(not ANVIS.exists(), reason="the anvis console script is not installed beside this Python")
def test_anvis_solve_as_the_program_writes_its_plan_and_summary(tmp_path):
    plan = tmp_path / "demo.plan.json"
    done = subprocess.run(
        [str(ANVIS), "solve", str(ROOT / "instances" / "demo-week.json"), "-o", str(plan), "--lang", "en"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=BUFFERED,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(plan.read_text())["status"] == "optimal"
    assert "plan written to" in done.stdout and done.stdout.rstrip().endswith(plan.name)  # the last line, flushed
    assert not list(tmp_path.glob(".demo.plan.json.*"))  # no temporary file left

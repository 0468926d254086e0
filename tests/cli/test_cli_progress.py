"""The progress line of long commands: on a terminal's stderr only, never in what they write.

Each run is a fresh ``anvis`` process whose stderr is a pseudo-terminal (or a pipe),
as a planner's shell or a CI job would give it.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(not hasattr(pty, "openpty"), reason="no pseudo-terminals here")

DEMO = str(ROOT / "instances" / "demo-week.json")


def run(args: list[str], terminal: bool) -> tuple[bytes, bytes, int]:
    """Run ``anvis ARGS``: (stdout, stderr, exit code), stderr a pseudo-terminal when ``terminal``."""
    cmd = [sys.executable, "-c", "import sys; from optimizer.cli import main; main(sys.argv[1:])", *args]
    env = {**os.environ, "COLUMNS": "120", "ANVIS_LANG": "en"}
    env.pop("NO_COLOR", None)
    if not terminal:
        p = subprocess.run(
            cmd, check=False, capture_output=True, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, timeout=300
        )
        return p.stdout, p.stderr, p.returncode
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, cwd=ROOT, env={**env, "TERM": "xterm"}
    )
    os.close(slave)
    err = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                err += chunk
            elif proc.poll() is not None:
                break
        out = proc.stdout.read() if proc.stdout else b""
        proc.wait(timeout=300)
    finally:
        os.close(master)
        if proc.stdout:
            proc.stdout.close()
    return out, err, proc.returncode


def same_but_timings(a: bytes, b: bytes) -> bool:
    """Equal summaries once the line of seconds (which differ between runs) is left out."""

    def kept(text: bytes) -> list[bytes]:
        return [line for line in text.splitlines() if b"total" not in line or b" s" not in line]

    assert any(b"total" in line for line in a.splitlines())  # the timing line is there to leave out
    return kept(a) == kept(b)


def test_solve_on_a_terminal_shows_its_stages_and_writes_the_same(tmp_path):
    shown, piped = tmp_path / "shown.json", tmp_path / "piped.json"
    out_t, err_t, code_t = run(["solve", DEMO, "-o", str(shown)], terminal=True)
    out_p, err_p, code_p = run(["solve", DEMO, "-o", str(piped)], terminal=False)
    assert code_t == code_p == 0
    text = err_t.decode("utf-8", "replace")
    # on the terminal: the first message and the last (the line redraws ten times a second,
    # so a fast solve's stages in between may never be drawn)
    assert "solve: preparing 60 citizens and 40 units" in text and "solve: solved: optimal" in text
    assert err_p == b""  # off a terminal: nothing
    assert shown.read_bytes() == piped.read_bytes()  # the plan does not depend on it
    assert same_but_timings(out_t.replace(str(shown).encode(), b"P"), out_p.replace(str(piped).encode(), b"P"))


def test_quiet_shows_nothing_on_a_terminal(tmp_path):
    out, err, code = run(["solve", DEMO, "-o", str(tmp_path / "p.json"), "-q"], terminal=True)
    assert code == 0 and err == b"" and out == b""


def test_explain_shows_the_counterfactual_search_and_prints_the_same(tmp_path):
    plan = tmp_path / "p.json"
    run(["solve", DEMO, "-o", str(plan), "-q"], terminal=False)
    unhoused = json.loads(plan.read_text())["unassigned"][0]["citizen"]
    args = ["explain", DEMO, str(plan), unhoused, "--json", "--max-candidates", "2"]
    out_t, err_t, code_t = run(args, terminal=True)
    out_p, err_p, code_p = run(args, terminal=False)
    assert code_t == code_p == 0 and out_t == out_p and err_p == b""
    text = err_t.decode("utf-8", "replace")
    assert "explain: re-solving the block as it is: preparing" in text
    assert unhoused not in text  # stage names and counts, never the citizen
    _, err_q, _ = run([*args, "-q"], terminal=True)
    assert err_q == b""

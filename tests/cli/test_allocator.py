"""The ``anvis`` program keeps freed memory for reuse: glibc's malloc settings (issue 12).

Each check runs a fresh interpreter: the settings are the process's, and glibc raises its
own limits as a process frees blocks, so only a new process shows where a block lands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from optimizer.cli import MALLOC_VARIABLES

from conftest import ROOT

#: Where a 16 MiB block lands, in a fresh process, with ``anvis``'s settings or without:
#: in the heap (glibc serves it from memory it keeps) or in a mapping of its own.
PROBE = """
import json, sys
import numpy as np
import optimizer.cli
took = optimizer.cli.keep_freed_memory() if sys.argv[1] == "set" else None
block = np.ones(2**21)  # 16 MiB
address = block.ctypes.data
heap = [line.split()[0].split("-") for line in open("/proc/self/maps") if line.rstrip().endswith("[heap]")]
print(json.dumps({"took": took, "in_heap": any(int(a, 16) <= address < int(b, 16) for a, b in heap)}))
"""


def glibc() -> bool:
    import platform

    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def probe(mode: str, **env: str) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if k not in MALLOC_VARIABLES and k != "GLIBC_TUNABLES"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, cwd=ROOT, env={**base, **env}
    )
    found: dict[str, object] = json.loads(out.stdout)
    return found


pytestmark = pytest.mark.skipif(not glibc(), reason="glibc's malloc on Linux (elsewhere the settings are left alone)")


def test_the_program_serves_large_blocks_from_memory_it_keeps() -> None:
    assert probe("set") == {"took": True, "in_heap": True}
    # the check can fail: without the settings glibc maps such a block afresh
    assert probe("unset") == {"took": None, "in_heap": False}


@pytest.mark.parametrize(
    "env", [{"MALLOC_MMAP_THRESHOLD_": "65536"}, {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=65536"}]
)
def test_a_users_own_malloc_settings_win(env: dict[str, str]) -> None:
    assert probe("set", **env) == {"took": False, "in_heap": False}


def test_the_program_sets_them_before_its_command_runs(monkeypatch) -> None:
    """(:data:`optimizer.cli.main` called in-process, as tests and library users call it, sets nothing.)"""
    import optimizer.cli as cli

    calls: list[str] = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append("set") or True)
    monkeypatch.setattr(cli, "main", lambda: calls.append("main"))
    monkeypatch.setattr(cli, "_PROGRAM", [False])
    cli.run()
    assert calls == ["set", "main"]

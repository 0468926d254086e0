"""``optimizer.cli.run`` lets glibc's allocator keep freed memory for reuse (``_reuse_freed_memory``).

The program (the console script) sets glibc's mmap and trim thresholds, so that freed
arrays serve the next allocations instead of being unmapped and faulted in afresh; a
process that calls :data:`optimizer.cli.main` itself keeps its allocator as it was, and a
C library other than glibc is left alone.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest

import optimizer.cli as cli


class FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1


@pytest.fixture
def libc(monkeypatch) -> FakeLibc:
    fake = FakeLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda name: fake)
    return fake


def test_on_glibc_the_thresholds_are_set(libc, monkeypatch):
    monkeypatch.setattr(os, "confstr", lambda name: "glibc 2.36")
    assert cli._reuse_freed_memory()
    assert libc.calls == [(-3, 16 << 20), (-1, 64 << 20)]  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD


@pytest.mark.parametrize("confstr", [lambda name: None, lambda name: (_ for _ in ()).throw(ValueError(name))])
def test_another_c_library_is_left_alone(libc, monkeypatch, confstr):
    monkeypatch.setattr(os, "confstr", confstr)  # musl has no CS_GNU_LIBC_VERSION; some systems no such name
    assert not cli._reuse_freed_memory()
    assert libc.calls == []


def test_only_the_program_sets_them(libc, monkeypatch):
    monkeypatch.setattr(os, "confstr", lambda name: "glibc 2.36")
    monkeypatch.setattr(cli, "_PROGRAM", [False])
    monkeypatch.setattr(cli, "main", lambda: None)
    cli.main()  # in-process: nothing
    assert libc.calls == []
    cli.run()
    assert len(libc.calls) == 2 and cli.is_program()


@pytest.mark.skipif(not os.confstr("CS_GNU_LIBC_VERSION"), reason="glibc's mallopt only")
def test_glibc_takes_the_values():
    """In a fresh interpreter, the real mallopt accepts both thresholds."""
    code = "import optimizer.cli as c; print(c._reuse_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "True"

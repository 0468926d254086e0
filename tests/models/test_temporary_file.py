"""``models.io.temporary_file`` makes a temporary file as :func:`tempfile.mkstemp` does, without importing it."""

from __future__ import annotations

import os
import stat

import pytest

import models.io
from models.io import temporary_file


def test_a_new_empty_private_file_with_the_prefix_and_suffix(tmp_path):
    name = temporary_file(tmp_path, ".plan.json.", ".json")
    assert os.path.isabs(name) and os.path.dirname(name) == str(tmp_path)
    base = os.path.basename(name)
    assert base.startswith(".plan.json.") and base.endswith(".json") and len(base) > len(".plan.json..json")
    assert os.path.getsize(name) == 0 and stat.S_IMODE(os.stat(name).st_mode) == 0o600
    assert temporary_file(tmp_path, ".plan.json.", ".json") != name  # another name each time


def test_an_existing_file_or_link_is_never_reused(tmp_path, monkeypatch):
    """Names taken (a file, a link to elsewhere) are skipped: the file is created, never opened."""
    outside = tmp_path / "outside"
    outside.write_text("keep")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / ".x.000000000000").write_text("mine")
    os.symlink(outside, tmp_path / "d" / ".x.000000000001")
    draws = iter([b"\x00" * 6, b"\x00" * 5 + b"\x01", b"\x00" * 5 + b"\x02"])
    monkeypatch.setattr(models.io.os, "urandom", lambda n: next(draws))
    name = temporary_file(tmp_path / "d", ".x.", "")
    assert os.path.basename(name) == ".x.000000000002"
    assert (tmp_path / "d" / ".x.000000000000").read_text() == "mine" and outside.read_text() == "keep"


def test_when_every_name_is_taken_it_says_so(tmp_path, monkeypatch):
    (tmp_path / ".x.000000000000").write_text("")
    monkeypatch.setattr(models.io.os, "urandom", lambda n: b"\x00" * n)
    monkeypatch.setattr(models.io, "TMP_MAX", 3)
    with pytest.raises(FileExistsError):
        temporary_file(tmp_path, ".x.", "")


def test_a_folder_that_does_not_exist_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        temporary_file(tmp_path / "missing", ".x.", "")

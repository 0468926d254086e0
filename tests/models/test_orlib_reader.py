"""OR-Library files read by numpy's C parser give what the token-by-token reading gives:
the same numbers, or the same problem, for any bytes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import orlib
from models.validate import InstanceError


def outcome(path) -> tuple:
    """The cost matrix read, or the problem lines."""
    try:
        return ("ok", orlib.read_costs(path).tolist())
    except InstanceError as exc:
        return ("error", exc.lines())


def both(tmp_path, data: bytes, monkeypatch) -> tuple[tuple, tuple]:
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    fast = outcome(path)
    with monkeypatch.context() as m:
        m.setattr(orlib, "_plain_integers", lambda data: None)  # token by token only
        plain = outcome(path)
    return fast, plain


@pytest.mark.parametrize(
    "data",
    [
        b"2\n1 2\n3 4\n",
        b"  2 1 2 3 4  ",
        b"2 +1 -2 3 4",
        b"2 1-2 3 4",  # the C parser alone would read 1 and -2
        b"2 1+2 3 4 5",
        b"2 1 2 3 4-",
        b"-",
        b"2 1 2 3 4.5",
        b"2 1 2 3 1e3",
        b"2 1 2 3 99999999999999999999",
        b"2 1 2 3 9223372036854775807",
        b"2 1 2 3 -9223372036854775808",
        b"2 1 2 3 \x004",
        b"2 1 2 3\xa04",
        b"2 1 2 3 0x4",
        b"2 1 2 3 1_000",
        b"",
        b"   \n",
        b"0",
        b"1 5",
        b"2\t1\x0b2\x0c3\r4",
    ],
)
def test_fast_and_plain_readers_agree(tmp_path, monkeypatch, data):
    fast, plain = both(tmp_path, data, monkeypatch)
    assert fast == plain


def test_the_fast_reader_reads_a_real_file():
    from conftest import ROOT

    path = ROOT.parent / "shared" / "refdata" / "orlib-assign" / "assign100.txt"
    if not path.exists():
        pytest.skip("OR-Library files not beside the checkout")
    data = path.read_bytes()
    fast = orlib._plain_integers(data)
    assert fast is not None and np.array_equal(fast, np.array(data.split(), dtype=np.int64))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"0", b"7", b"12", b" ", b"\n", b"-", b"+", b"x", b".", b"\t", b"\x00", b"9" * 20]),
        max_size=30,
    )
)
def test_fast_and_plain_readers_agree_on_any_mix(tmp_path_factory, pieces):
    import _pytest.monkeypatch

    mp = _pytest.monkeypatch.MonkeyPatch()
    try:
        fast, plain = both(tmp_path_factory.mktemp("o"), b"4 " + b"".join(pieces), mp)
    finally:
        mp.undo()
    assert fast == plain

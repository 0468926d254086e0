"""pydantic-core writes JSON only where its text is ``json.dumps``'s; files are those bytes in UTF-8.

The fast writers (:func:`models.fastjson.dumps_bytes`, :meth:`models.plan.Plan.json_bytes`)
must give byte for byte what the standard library gives, or raise what it raises. The
properties below compare against ``json.dumps`` itself, and check that the fast path is
taken where it should be (a test that always fell back would prove nothing).
"""

from __future__ import annotations

import enum
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import to_json

import models
import models.fastjson as fastjson
import models.plan as plan_module
from models.fastjson import dumps_bytes, dumps_indented, exact, plain
from models.io import json_bytes, write_json, write_plan
from models.plan import Assignment, Objective, Plan, Solver, Unassigned
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan

from conftest import doc, solved, worked_examples


def standard(value: object) -> bytes:
    """What a JSON file of ``value`` held before: json.dumps, a newline, UTF-8."""
    return (json.dumps(value, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def outcome(write, value):
    """``("ok", bytes)`` or ``("error", exception class)``."""
    try:
        return "ok", write(value)
    except (ValueError, TypeError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
        return "error", type(exc)


class Small(enum.IntEnum):
    A = 7


class Word(str, enum.Enum):
    W = "w"


class Text(str):
    pass


floats = st.floats() | st.sampled_from([1e-5, 1.5e-5, 9.99e-5, 1e-4, 1e-6, 1e-9, 1e-10, 1e15, 1e16, 1.2345e20, 5e-324])
# 10**n is built by map: hypothesis shows a strategy's values, and an int of more digits than
# Python converts cannot be shown
ints = st.integers() | st.sampled_from([63, 64, 4298, 4299, 4300, 5000]).map(lambda n: 10**n - 1) | st.just(-(2**63))
texts = st.text() | st.text(st.characters(codec=None, categories=["Cc", "Zl", "Zp", "Cs", "Co"]))
scalars = (
    st.none()
    | st.booleans()
    | ints
    | floats
    | texts
    | st.sampled_from([Small.A, Word.W, Text("t"), np.float64(0.5), b"x", {1, 2}])
)
keys = texts | st.integers() | st.floats() | st.booleans() | st.none() | st.sampled_from([Small.A, Word.W, (1, 2)])
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=30,
)
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_dumps_bytes_is_json_dumps_or_raises_its_error(value):
    ours, theirs = outcome(dumps_bytes, value), outcome(standard, value)
    assert ours == theirs
    if theirs[0] == "ok":
        assert outcome(dumps_indented, value) == ("ok", theirs[1][:-1].decode())


@pytest.mark.parametrize(
    "bad", [float("nan"), float("inf"), -float("inf"), {"x": [1, float("nan")]}, {float("inf"): 1}]
)
def test_non_finite_numbers_raise_as_json_dumps_does(bad):
    with pytest.raises(ValueError) as ours:
        dumps_bytes(bad)
    with pytest.raises(ValueError) as theirs:
        standard(bad)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("bad", ["\ud800", {"a": ["x\udfff"]}, {"\udc00": 1}])
def test_a_lone_surrogate_raises_as_writing_it_as_utf8_did(bad):
    with pytest.raises(UnicodeEncodeError):
        standard(bad)
    with pytest.raises(UnicodeEncodeError):
        dumps_bytes(bad)


def test_the_rust_writer_is_used_for_plain_documents(monkeypatch):
    """The property above would pass if every document fell back; plain ones must not."""
    monkeypatch.setattr(fastjson, "_python", lambda value: pytest.fail("fell back"))
    value = {"a": [1, 2.5, -0.0, 1e-4, 1e15, 'ø\u2028\x00"\\', None, True, [], {}], "b": {"c": 10**30}}
    assert dumps_bytes(value) == standard(value)


@settings(max_examples=300, deadline=None)
@given(plain_values)
def test_plain_documents_go_the_fast_way_unless_a_number_is_written_otherwise(value):
    data = to_json(value, indent=1, inf_nan_mode="constants")
    assert plain([value])
    if exact(data):
        assert data + b"\n" == standard(value)


def test_every_code_point_is_escaped_as_json_dumps_escapes_it():
    """Escaping is per character: every code point but the surrogates, each on its own."""
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    assert to_json(chars, indent=1) + b"\n" == standard(chars)
    assert dumps_bytes(chars) == standard(chars)


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_is_written_as_repr_writes_it_or_found(x):
    """pydantic-core writes the digits of ``repr``; where its text differs, ``exact`` says so."""
    data = to_json(x)
    assert float(data) == x
    assert data == repr(x).encode() or not exact(data)


def test_random_doubles_are_written_as_repr_writes_them_or_found():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2**64, size=200_000, dtype=np.uint64).view(np.float64)
    x = x[np.isfinite(x)].tolist()
    for text, value in zip(to_json(x)[1:-1].split(b","), x, strict=True):
        assert text == repr(value).encode() or not exact(text), (text, value)


@pytest.mark.parametrize(
    ("text", "same"),
    [
        (b"0.00001", False),  # json.dumps: 1e-05
        (b"-0.000015", False),
        (b"1e-7", False),  # 1e-07
        (b"1e+16", False),  # written alike, but every exponent falls back
        (b"[NaN]", False),
        (b"-Infinity", False),
        (b'"NaN in a string"', False),  # conservative
        (b"0.0001", True),
        (b'"sha 3e9f"', True),  # a digit, an e and a digit: no exponent
        (b"[1.5, 2, 1000000000000000.0]", True),
        (b"", True),
        (b"1", True),
    ],
)
def test_exact_finds_every_number_written_otherwise(text, same):
    assert exact(text) is same


def test_exact_finds_integers_too_long_to_convert():
    limit = sys.get_int_max_str_digits()
    for n in (limit + 1, limit + 2, 3 * limit):
        for before in (b"", b'[\n "x",\n ', b"-", b"x" * 977):
            assert not exact(before + b"7" * n + b"\n]"), (n, len(before))
    assert exact(b"[" + b",".join([b"1" * 40] * 2000) + b"]")  # many short numbers are fine


@pytest.mark.parametrize(
    "value",
    [[Small.A], [Word.W], [Text("t")], [np.float64(0.5)], {1: 2}, {None: 1}, {"a": {2.5: 1}}, [{1, 2}], [b"x"]],
)
def test_plain_admits_only_the_exact_types_json_reads_into(value):
    assert not plain([value])


def test_plain_admits_json_values_and_tuples():
    assert plain([{"a": [1, 2.5, "s", None, True, (1, [{}])]}, [], 3])


# --- plans ---------------------------------------------------------------------------------


def old_plan_bytes(plan: Plan) -> bytes:
    """How a plan's JSON file was written before: pydantic's text, read back, the standard writer."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = plan.model_dump_json(exclude_unset=True)
    return standard(json.loads(text))


def plan_outcome(plan: Plan):
    return outcome(lambda p: p.json_bytes(), plan), outcome(old_plan_bytes, plan)


def small_plan(**changes) -> Plan:
    fields = {
        "format": "anvis-plan/1",
        "instance": "t",
        "status": "optimal",
        "objective": Objective(housed_by_priority={"1": 1}, total_score=2.0),
        "assignments": (
            Assignment(citizen="c1", unit="u1", subsidised=False, effective_rent_kr=4000, score=2.0, priority=1),
        ),
        "unassigned": (Unassigned(citizen="c2", priority=2, code="no_unit", reason="ingen", details={"n": 0}),),
    }
    return Plan.model_construct(**{**fields, **changes})


@pytest.mark.parametrize("path", worked_examples())
def test_a_solved_plan_is_written_the_fast_way_as_before(path, monkeypatch):
    plan = make_plan(solve(models.load(path)))
    solved(json.loads(path.read_text()))  # the independent checker passes the engine's plan
    monkeypatch.setattr(plan_module, "dumps_bytes", lambda value: pytest.fail("fell back"))
    assert plan.json_bytes() == old_plan_bytes(plan)


@pytest.mark.parametrize("score", [1e-5, 3.5e-5, 1e-7, 2.5e-300, 1e16, 10**30])
def test_a_plan_with_a_tiny_or_huge_score_is_written_as_before(score):
    plan = small_plan(objective=Objective(housed_by_priority={"1": 1}, total_score=score))
    ours, theirs = plan_outcome(plan)
    assert ours == theirs and ours[0] == "ok"
    assert repr(score).encode() in ours[1]


def test_a_tiny_score_in_a_solved_plan_is_written_as_before():
    d = doc([{"id": "c1"}], [{"id": "u1"}], scores=[{"citizen": "c1", "unit": "u1", "score": 1e-05}])
    plan = make_plan(solve(models.from_dict(d)))
    assert plan.json_bytes() == old_plan_bytes(plan)
    assert b'"score": 1e-05' in plan.json_bytes()


@pytest.mark.parametrize(
    "details",
    [
        {"blocked_by": {1: 1, "1": 2}},  # one key written twice by pydantic, once by the old way
        {"x": {None: 1, "None": 2}},
        {"x": [Small.A, Word.W]},
        {"x": {2.5: 1}},
        {"x": float("nan")},
        {"x": [10**5000]},
        {"x": "\ud800"},
        {"x": {1, 2}},
        {"x": object()},
    ],
)
def test_a_plan_with_odd_details_is_written_as_before_or_refused_alike(details):
    plan = small_plan(
        unassigned=(Unassigned.model_construct(citizen="c2", priority=2, code="x", reason="r", details=details),)
    )
    ours, theirs = plan_outcome(plan)
    assert ours == theirs


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the old way's, on fields of another type
@pytest.mark.parametrize(
    "changes",
    [
        {"objective": Objective.model_construct(housed_by_priority={"1": 1}, total_score=float("inf"))},
        {"objective": Objective.model_construct(housed_by_priority={1: 1, "1": 2}, total_score=1.0)},
        {"instance": 7},  # a field of another type: pydantic warns, the old way writes it
        {"instance": {1: "a", "1": "b"}},  # ... and reads one key back
        {"solver": Solver.model_construct(milp_blocks=[{"stages": [{1: "a", "1": "b"}]}])},
        {"gap": 10**5000},
        {"bound": 0.00002},
        {"assignments": ({"citizen": "c1"},)},
        {"extra_field": {"k": [1e-6, 2]}},
    ],
)
def test_a_plan_with_odd_fields_is_written_as_before_or_refused_alike(changes):
    ours, theirs = plan_outcome(small_plan(**changes))
    assert ours == theirs


def test_a_field_beyond_format_repeating_a_field_name_is_written_as_before():
    plan = small_plan()
    plan.__pydantic_extra__["status"] = "other"  # as only code that reaches into pydantic could
    assert plan_outcome(plan)[0] == plan_outcome(plan)[1]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values, st.dictionaries(st.text(), values, max_size=3))
def test_plans_with_any_details_are_written_as_before(value, extra):
    plan = small_plan(unassigned=(Unassigned.model_construct(citizen="c", reason="r", details={"v": value}),), **extra)
    ours, theirs = plan_outcome(plan)
    assert ours == theirs


# --- files ---------------------------------------------------------------------------------


WRITE_IN_ASCII_LOCALE = """
import json, sys
import models
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
import locale
assert locale.getpreferredencoding(False) != "UTF-8"  # Path.write_text would encode in ASCII
inst = models.from_dict(json.loads(sys.argv[1]))
models.save(inst, sys.argv[2] + "/i.json")
models.write_plan(make_plan(solve(inst)), sys.argv[2] + "/p.json")
"""


def test_files_are_utf8_whatever_the_locale(tmp_path):
    """``Path.write_text`` encoded in the locale's encoding (ASCII in a POSIX locale without
    UTF-8 mode: an error for "ø"); the bytes are UTF-8 everywhere."""
    d = doc([{"id": "cø"}], [{"id": "u€"}], name="Aabenraa ø €")
    env = {**os.environ, "LC_ALL": "POSIX", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    run = subprocess.run(
        [sys.executable, "-c", WRITE_IN_ASCII_LOCALE, json.dumps(d), str(tmp_path)],
        check=False,
        env=env,
        capture_output=True,
    )
    assert run.returncode == 0, run.stderr.decode()
    inst = models.from_dict(d)
    assert (tmp_path / "i.json").read_bytes() == standard(inst.to_dict())
    plan = make_plan(solve(inst))
    assert (tmp_path / "p.json").read_bytes() == old_plan_bytes(plan)
    assert "€".encode() in (tmp_path / "p.json").read_bytes()


def test_write_json_writes_nothing_for_a_document_it_refuses(tmp_path):
    (tmp_path / "old.json").write_bytes(b"old")
    with pytest.raises(ValueError):
        write_json(tmp_path / "old.json", {"x": float("nan")})
    with pytest.raises(ValueError):
        write_json(tmp_path / "new.json", small_plan(gap=float("nan")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json"]
    assert (tmp_path / "old.json").read_bytes() == b"old"


def test_json_bytes_of_a_plan_is_its_document_s(tmp_path):
    plan = small_plan()
    assert json_bytes(plan) == json_bytes(plan.to_dict()) == old_plan_bytes(plan)
    write_plan(plan.to_dict(), tmp_path / "doc.json")
    write_plan(plan, tmp_path / "plan.txt")  # any name but a table's is JSON, as before
    assert (tmp_path / "doc.json").read_bytes() == (tmp_path / "plan.txt").read_bytes() == old_plan_bytes(plan)


def _plain_reference(value) -> bool:
    """The definition :func:`models.fastjson.plain` walks level by level: exact JSON types, string keys."""
    if type(value) in (str, int, float, bool, type(None)):
        return True
    if type(value) in (list, tuple):
        return all(map(_plain_reference, value))
    if type(value) is dict:
        return all(type(k) is str for k in value) and all(map(_plain_reference, value.values()))
    return False


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=2), st.sampled_from([b"x", 1j, frozenset()])
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=2), inner, max_size=3),
        st.dictionaries(st.one_of(st.integers(), st.text(max_size=1)), inner, max_size=2),
        st.sets(st.integers(), max_size=2),
    ),
    max_leaves=12,
)


@given(st.lists(_values, max_size=4))
def test_plain_is_its_definition(values):
    assert plain(values) == all(map(_plain_reference, values))


_EXPONENT_BYTES = st.lists(st.sampled_from([b"1", b"e", b"+", b"-", b"x", b"9", b"E", b" "]), max_size=30)


@given(_EXPONENT_BYTES.map(b"".join))
def test_exact_finds_a_digit_e_and_sign_wherever_they_are(data):
    """exact() anchors its exponent scan on the signs: the same answer as looking at every "e"."""
    triples = zip(data, data[1:], data[2:], strict=False)
    every = any(chr(d).isdigit() and e == ord("e") and s in b"+-" for d, e, s in triples)
    assert exact(data) == (not every)

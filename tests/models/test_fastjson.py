"""The fast JSON writer and the columnar score reader give what the standard ones give."""

from __future__ import annotations

import enum
import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import models
from models.fastjson import ScoreColumns, dumps_indented, parse_unique, with_score_columns
from models.io import parse_json, read_document
from models.orlib import costs_to_document
from models.validate import InstanceError, from_dict

from conftest import doc

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
keys = st.text() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.booleans() | st.none()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=30,
)


def standard(doc: object) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_dumps_indented_is_json_dumps(doc):
    assert dumps_indented(doc) == standard(doc)


class Kind(enum.IntEnum):
    A = 7


@pytest.mark.parametrize(
    "doc",
    [{}, [], {"a": {}, "b": []}, [[[]]], {"ø": '\u2028\x00"\\'}, Kind.A, {Kind.A: Kind.A}, 1e300, -0.0, 2**70, True],
)
def test_dumps_indented_edge_cases(doc):
    assert dumps_indented(doc) == standard(doc)


@pytest.mark.parametrize("doc", [float("nan"), {"x": [float("inf")]}, {(1, 2): 3}, {"x": {1, 2}}, object()])
def test_dumps_indented_raises_what_json_dumps_raises(doc):
    with pytest.raises((ValueError, TypeError)) as ours:
        dumps_indented(doc)
    with pytest.raises((ValueError, TypeError)) as theirs:
        standard(doc)
    assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


def test_dumps_indented_of_a_cycle_raises_as_json_dumps_does():
    doc: list[object] = []
    doc.append(doc)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_indented(doc)


def test_dumps_indented_of_deep_nesting_is_json_dumps():
    doc: object = 1
    for _ in range(3000):
        doc = [doc]
    with pytest.raises(RecursionError):
        standard(doc)
    with pytest.raises(RecursionError):
        dumps_indented(doc)


# --- the columnar score reader -------------------------------------------------------------

N = 101  # citizens and units: 10,201 scores, above the reader's 10,000


def big(**changes) -> dict:
    """A document with N × N scores; ``changes`` maps a row index to the row's replacement."""
    d = doc([{"id": f"c{i}"} for i in range(N)], [{"id": f"u{j}"} for j in range(N)])
    d["scores"] = [{"citizen": f"c{i}", "unit": f"u{j}", "score": (i * j) % 7} for i in range(N) for j in range(N)]
    for at, row in changes.items():
        d["scores"][int(at)] = row
    return d


def outcome(path) -> tuple[str, object]:
    """What loading gives: the instance's hash, or every problem's line."""
    try:
        return "ok", models.load(path).sha256
    except InstanceError as exc:
        return "refused", exc.lines(limit=None)


def standard_outcome(path) -> tuple[str, object]:
    try:
        return "ok", from_dict(read_document(path), str(path)).sha256
    except InstanceError as exc:
        return "refused", exc.lines(limit=None)


def test_a_large_table_is_read_as_columns_to_the_same_instance(tmp_path):
    path = tmp_path / "i.json"
    path.write_text(json.dumps(big()))
    columns = read_document(path, score_columns=True)["scores"]
    assert isinstance(columns, ScoreColumns) and len(columns) == N * N
    assert columns.records() == big()["scores"]
    assert read_document(path, score_columns=True) == {**big(), "scores": columns}
    assert outcome(path) == standard_outcome(path) and outcome(path)[0] == "ok"


@pytest.mark.parametrize(
    "changes",
    [
        {"5": {"citizen": "c0", "unit": "u5", "score": -1}},  # negative
        {"7": {"citizen": "c0", "unit": "u7", "score": 1.5e308 * 10}},  # written as a huge number
        {"9": {"citizen": "", "unit": "u9", "score": 1}},  # empty id
        {"9": {"citizen": "c\u0007", "unit": "u9", "score": 1}},  # an id no copy keeps
        {"11": {"citizen": "c404", "unit": "u11", "score": 1}},  # unknown citizen
        {"12": {"citizen": "c0", "unit": "u0", "score": 3}},  # duplicate pair
        {"13": {"citizen": "c0", "unit": "u13", "score": True}},  # a bool is no number
        {"14": {"citizen": "c0", "unit": "u14"}},  # missing score
        {"15": {"unit": "u15", "citizen": "c0", "score": 2}},  # another key order
        {"16": {"citizen": "c0", "unit": "u16", "score": 2, "note": "x"}},  # an unknown field
        {"17": [1, 2, 3]},  # not an object
        {"18": {"citizen": "c0", "unit": "u18", "score": 2**60}},  # too large
    ],
)
def test_bad_rows_of_a_large_table_are_worded_as_the_standard_reader_words_them(tmp_path, changes):
    path = tmp_path / "i.json"
    path.write_text(json.dumps(big(**changes)).replace("1.5e+309", "1e999"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unknown field's warning
        assert outcome(path) == standard_outcome(path)


@pytest.mark.parametrize(
    "text",
    [
        '{"format": "anvis/1", "format": "anvis/1"',  # at the top
        '{"format": "anvis/1", "regions": [{"id": "R", "id": "S", "name": "R"}]',  # in a record
    ],
)
def test_a_repeated_key_beside_a_large_table_is_refused_as_before(tmp_path, text):
    rest = json.dumps(big())[1:].replace('"format": "anvis/1", ', "", 1)
    rest = rest.replace('"regions": [{"id": "R", "name": "R"}], ', "", 1)
    path = tmp_path / "i.json"
    path.write_text(text + ", " + rest)
    assert outcome(path)[0] == "refused"
    assert outcome(path) == standard_outcome(path)
    assert "given 2 times in one object" in outcome(path)[1][0]


def test_a_repeated_key_in_a_score_row_is_refused_as_before(tmp_path):
    path = tmp_path / "i.json"
    row = '{"citizen": "c3", "unit": "u4", "score": 5'
    path.write_text(json.dumps(big()).replace(row + "}", row + ', "score": 6}'))
    assert outcome(path) == standard_outcome(path)
    assert outcome(path)[1] == [f"{path}: scores[307].score: given 2 times in one object (5, 6); a key may appear once"]


def test_only_large_tables_of_well_formed_rows_become_columns():
    one = [{"citizen": "c1", "unit": "u1", "score": 1}]
    small = json.loads(json.dumps(doc([{"id": "c1"}], [{"id": "u1"}], scores=one)))
    assert with_score_columns(dict(small)) == small  # below the 10,000 rows worth columns
    assert with_score_columns(dict(small), large=1) == {**small, "scores": ScoreColumns(["c1"], ["u1"], [1])}
    assert with_score_columns([1, 2], large=0) == [1, 2]  # not a document
    long_int = json.dumps(small).replace('"score": 1', '"score": ' + "7" * 5000)
    assert parse_unique(long_int.encode()) is None  # json.loads refuses such an integer: the standard reader's
    read = parse_json(long_int, "x")
    assert read["scores"][0]["score"] == "7" * 5000  # the standard reader keeps its digits for validation
    assert with_score_columns(read, large=1)["scores"] == read["scores"]  # a text is no score: records


def test_orlib_columns_give_the_instance_of_the_records():
    rng = np.random.default_rng(0)
    for cost in (rng.integers(1, 101, (9, 9)), np.array([[50, 200], [1, 1]])):  # 200: a negative score
        outcomes = []
        for columns in (False, True):
            try:
                outcomes.append(from_dict(costs_to_document(cost, "t", columns), "t").sha256)
            except InstanceError as exc:
                outcomes.append(exc.lines())
        assert outcomes[0] == outcomes[1]


def test_colons_in_keys_and_values_are_read_as_they_are(tmp_path):
    """Colons inside keys and values (a default pool's id, a name): the same instance as the standard reader's."""
    d = big()
    d["name"] = "week: 12, kl. 10:00"
    d["ledger"] = [{"pool": "default:M:O", "vacancies_before": 4, "claimed_before": 1}]
    d["parameters"] = {"objective": "lexicographic", "x:y": 1}
    path = tmp_path / "i.json"
    path.write_text(json.dumps(d))
    assert isinstance(read_document(path, score_columns=True)["scores"], ScoreColumns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unknown parameter
        assert outcome(path) == standard_outcome(path) and outcome(path)[0] == "ok"
    # the same document with one key repeated: jiter refuses it, the standard reader words it
    path.write_text(json.dumps(d).replace('"claimed_before": 1', '"claimed_before": 1, "claimed_before": 2'))
    assert parse_unique(path.read_bytes()) is None
    assert outcome(path) == standard_outcome(path) and outcome(path)[0] == "refused"


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(big()).replace('"name": "t"', '"name": "t\\u003a"'),  # an escaped colon
        json.dumps(big()).replace('"c7"', '"c:7"'),  # an id holding a colon
    ],
)
def test_colons_escaped_or_in_ids_are_read_as_columns(tmp_path, text):
    path = tmp_path / "i.json"
    path.write_text(text)
    columns = read_document(path, score_columns=True)["scores"]
    assert isinstance(columns, ScoreColumns) and columns.records() == json.loads(text)["scores"]


def test_other_encodings_are_read_the_standard_way(tmp_path):
    path = tmp_path / "i.json"
    path.write_bytes(json.dumps(big()).encode("utf-16"))
    assert parse_unique(path.read_bytes()) is None
    read = read_document(path, score_columns=True)  # by the standard reader, then the same columns
    assert isinstance(read["scores"], ScoreColumns) and read["scores"].records() == big()["scores"]
    assert {**read, "scores": 0} == {**big(), "scores": 0}


# --- parse_unique: jiter's parser, which refuses a repeated key --------------------------------


def typed(value: object) -> str:
    """A text telling every type and value apart (``1`` from ``1.0`` and ``True``, ``-0.0`` from ``0.0``)."""
    return json.dumps(value, allow_nan=True, ensure_ascii=True)


def hooked(text: str | bytes) -> object:
    """``json.loads``'s result, or None when some object repeats a key (found by a hook, independently)."""
    repeated: list[int] = []

    def pairs_hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
        if len({k for k, _ in pairs}) < len(pairs):
            repeated.append(1)
        return dict(pairs)

    out = json.loads(text, object_pairs_hook=pairs_hook)
    return None if repeated else out


def reference_texts() -> list[bytes]:
    from conftest import ROOT

    paths = sorted((ROOT / "instances").glob("*.json")) + sorted((ROOT.parent / "shared" / "spec").rglob("*.json"))
    return [p.read_bytes() for p in paths]


def test_parse_unique_reads_every_shipped_document_as_json_loads():
    texts = reference_texts()
    assert len(texts) >= 5
    for text in texts:
        parsed = parse_unique(text)
        assert parsed is not None  # none repeats a key: the fast reader applies
        assert parsed == json.loads(text) and typed(parsed) == typed(json.loads(text))


json_keys = st.sampled_from(["a", "b", "a:b", ":", "æ", 'é"', "\\", "c\n:"]) | st.text(max_size=3)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
    | st.sampled_from(["x:y", "::", "\\u003a", '"', "\ud800"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.lists(st.tuples(json_keys, inner), max_size=4)
    ),  # pairs: an object that may repeat a key
    max_leaves=25,
)


def as_text(value: object, ascii_only: bool = False) -> str:
    """JSON text of ``value``, lists of pairs written as objects (a key may then come twice)."""
    if isinstance(value, list) and value and all(isinstance(p, tuple) for p in value):
        pairs = (json.dumps(k, ensure_ascii=ascii_only) + ": " + as_text(v, ascii_only) for k, v in value)
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(as_text(v, ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


@settings(max_examples=500, deadline=None)
@given(json_values, st.booleans())
def test_parse_unique_is_the_standard_reader_or_steps_aside(value, ascii_only):
    text = as_text(value, ascii_only)  # ascii_only: characters as escapes
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate written as a character: no UTF-8 file holds it
        return
    expected = hooked(data)
    parsed = parse_unique(data)
    if parsed is not None:  # never a document that repeats a key, never another value
        assert expected is not None and typed(parsed) == typed(expected)
    elif expected is not None and "\\ud" not in text.lower():  # a lone surrogate may be escaped in it
        assert text == "null"  # the only document without a reason to step aside: its value is None


@pytest.mark.parametrize(
    "text",
    [
        b'{"a": 1, "a": 1}',
        b'{"a": "x:y", "b": {"c": 1, "c": "p:q"}}',  # the repeated value holds a colon
        b'[{"k:": "v"}, {"k:": 1, "k:": 2}]',  # keys holding colons
        b'{"a": {"b": 1}, "a": {"b": 1}}',
        b'{"x": [1, 2, {"": 0, "": 0}]}',
        b'{"\\u0061": 1, "a": 2}',  # the same key, once written with an escape
    ],
)
def test_parse_unique_steps_aside_for_every_repeated_key(text):
    assert parse_unique(text) is None
    with pytest.raises(InstanceError, match="a key may appear once"):
        parse_json(text, "x")


@pytest.mark.parametrize(
    "text",
    [
        b'\xef\xbb\xbf{"a": 1}',  # a byte-order mark
        '{"a": 1}'.encode("utf-16"),
        b'{"a": "\\ud800"}',  # a lone surrogate: jiter refuses it, json.loads keeps it
        b'{"a": ' + b"7" * 5000 + b"}",  # more digits than Python converts
        b'{"a": +1}',
        b'{"a": 1',
        b'{"a": 1} x',
        b'{"a": "\x01"}',
    ],
)
def test_parse_unique_leaves_what_it_cannot_judge_to_the_standard_reader(text):
    assert parse_unique(text) is None
    assert parse_unique(text.decode("utf-8", "replace")) is None  # text is read the standard way too


def test_parse_json_reads_a_clean_file_without_the_hook(monkeypatch):
    """The fast reader is the one used: with the hook path broken, a clean file still reads."""
    import models.io

    text = reference_texts()[0]
    monkeypatch.setattr(models.io, "_object_counting", None)
    assert parse_json(text, "x") == json.loads(text)
    with pytest.raises(TypeError):  # a repeated key goes the hook's way (broken here)
        parse_json(b'{"a": 1, "a": 2}', "x")


def test_escaped_colons_and_deep_nesting_are_read_as_json_loads_reads_them():
    """What the count of colons had to leave to the standard reader, jiter reads: the same values."""
    for text in (b'{"a": "\\u003a", "b:": 1}', b'{"a": "\\u003A"}', b'{"\\u003a": 1, "b": ":"}'):
        parsed = parse_unique(text)
        assert parsed is not None and typed(parsed) == typed(json.loads(text))
    deep = b"[" * 200 + b"]" * 200  # as deep as jiter reads
    assert parse_unique(deep) == json.loads(deep)
    assert parse_unique(b"[" * 300 + b"]" * 300) is None  # deeper: the standard reader's


def test_read_document_gives_columns_equal_to_the_records(tmp_path):
    """A large score table read by jiter becomes columns of exactly the standard reader's rows."""
    d = big()
    d["name"] = "week: 12"  # colons in strings too
    text = json.dumps(d).replace('"score": 3', '"score": 3.5')
    path = tmp_path / "i.json"
    path.write_text(text)
    assert parse_unique(text.encode()) is not None  # the fast reader applies
    ours, theirs = read_document(path, score_columns=True), json.loads(text)
    assert isinstance(ours["scores"], ScoreColumns)
    assert typed(ours["scores"].records()) == typed(theirs["scores"])
    assert typed({**ours, "scores": 0}) == typed({**theirs, "scores": 0})
    assert read_document(path)["scores"] == theirs["scores"]  # records without score_columns


def test_read_document_leaves_a_small_or_odd_score_table_as_records(tmp_path):
    path = tmp_path / "i.json"
    d = big()
    d["scores"] = d["scores"][:10]
    path.write_text(json.dumps(d))
    assert read_document(path, score_columns=True)["scores"] == d["scores"]
    d = big()
    d["scores"][5] = {"citizen": "c0", "unit": "u5", "score": True}  # a bool is no score: worded row by row
    path.write_text(json.dumps(d))
    assert read_document(path, score_columns=True)["scores"] == d["scores"]


@pytest.mark.parametrize(
    "text",
    [
        b"-NaN", b"[NaNx]", b"[Infinityy]", b"[1.0e]", b"[1e+]", b"[-01]", b"[0x10]", b"[1_000]", b"[.1]",
        b'["\\u00"]', b"\xc2\xa0[1]", b"\x0b[1]", b"", b" ", b"[1e999999999999]", b"[-0e0]", b"[1]//c", b"{1:2}",
        b'["a""b"]', b"[1 2]", b'{"a" 1}', b"[--1]", b"[1.5E-3]", b'["\\uD834\\uDD1E"]', b'["\\udd1e\\ud834"]',
        b'["\\u0000"]', b"[nul]", b"[True]", b'["\xf5\x80\x80\x80"]', b'["\xc0\xaf"]', b'["\xef\xbf\xbe"]',
        b"[1.0000000000000000000000000001]", b"[123456789012345678901234567890.5e-10]", b"[9007199254740993]",
    ],
)  # fmt: skip
def test_parse_unique_never_reads_a_text_otherwise_than_json_loads(text):
    """Numbers, literals, escapes, encodings, whitespace: the same value, or the standard reader's turn."""
    parsed = parse_unique(text)
    try:
        expected = json.loads(text)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        assert parsed is None
        return
    assert parsed is None or typed(parsed) == typed(expected)

"""Fuzzing the command line (issue 10): random edits of a valid instance, as JSON values or as
raw text, never give a traceback. Every run exits 0 or 2, and on exit 2 nothing is written."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.cli import main
from optimizer.rounds import ledger as L

from conftest import doc, solved

BASE = doc(
    [
        {"id": "c1", "vulnerable": True},
        {"id": "c2", "priority": 2},
        {"id": "c3", "preferences": [{"department": "D", "weight": 5}]},
    ],
    [{"id": "u1"}, {"id": "u2", "rooms": 1}, {"id": "u3", "rent_kr": 4500}],
    overrides=[{"action": "lock", "citizen": "c1", "unit": "u1"}],
)

#: Values a careless edit puts anywhere in a document.
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
    | st.sampled_from(["c1", "u1", "M", "D", "O", "R", "all", "lock", "=", "\x1b[2J", ""]),
    lambda children: st.lists(children, max_size=2) | st.dictionaries(st.text(max_size=4), children, max_size=2),
    max_leaves=4,
)


def places(node: Any, path: tuple = ()) -> list[tuple]:
    """The path of every value in a JSON document (the root excluded)."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in items:
        out.append((*path, key))
        out += places(child, (*path, key))
    return out


@st.composite
def mutated(draw, base: dict[str, Any] = BASE) -> str:
    """The JSON text of ``base`` after one to three random edits of values, then maybe one of its text."""
    document = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        where = places(document)
        path = draw(st.sampled_from(where))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            parent[path[-1]] = draw(VALUES)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    text = json.dumps(document)
    edit = draw(st.sampled_from(["none", "truncate", "insert", "cut"]))
    if edit != "none":
        i = draw(st.integers(0, len(text)))
        if edit == "truncate":
            text = text[:i]
        elif edit == "insert":
            text = text[:i] + draw(st.sampled_from(list('{}[],:"\\x0 -'))) + text[i:]
        else:
            text = text[:i] + text[i + draw(st.integers(1, 20)) :]
    return text


def check(args: list[str], output: Path | None) -> int:
    res = CliRunner().invoke(main, args)
    assert res.exception is None or isinstance(res.exception, SystemExit), (args, res.output, res.exception)
    assert "Traceback" not in res.output, res.output
    assert res.exit_code in (0, 2), (args, res.exit_code, res.output)
    if res.exit_code == 2:
        assert res.stderr.strip(), "exit 2 says why"
        if output is not None:
            assert not output.exists(), f"exit 2 but {output} was written"
    return res.exit_code


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays deterministic
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mutated())
def test_mutated_instances_exit_0_or_2_and_write_nothing_on_2(text):
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        src = tmp / "in.json"
        src.write_text(text)
        check(["validate", str(src)], None)
        check(["convert", str(src), str(tmp / "out.xlsx")], tmp / "out.xlsx")
        check(["convert", str(src), str(tmp / "outcsv")], tmp / "outcsv")
        plan = tmp / "plan.json"
        if check(["solve", str(src), "-q", "-o", str(plan), "--lock", "c2=u3"], plan) == 0:
            check(["check", str(src), str(plan)], None)
            check(["report", str(src), str(plan), "-o", str(tmp / "r.html")], tmp / "r.html")
        db = str(tmp / "L.db")
        opened = check(["round", "open", str(src), "--db", db, "-o", str(tmp / "filled.json")], tmp / "filled.json")
        if opened == 0:
            check(["round", "solve", "--db", db, "-q", "-o", str(tmp / "rplan.json")], tmp / "rplan.json")
        L.dispose_all()


def test_the_base_instance_passes_every_command(tmp_path):
    """The fuzzed document is valid: its edits, not the base, make the failures (exit 0 throughout)."""
    src = tmp_path / "in.json"
    src.write_text(json.dumps(BASE))
    plan = tmp_path / "plan.json"
    for args, out in (
        (["convert", str(src), str(tmp_path / "out.xlsx")], tmp_path / "out.xlsx"),
        (["solve", str(src), "-q", "-o", str(plan), "--lock", "c2=u3"], plan),
        (["report", str(src), str(plan), "-o", str(tmp_path / "r.html")], tmp_path / "r.html"),
        (["round", "open", str(src), "--db", str(tmp_path / "L.db")], tmp_path / "L.db"),
        (["round", "solve", "--db", str(tmp_path / "L.db"), "-q"], None),
    ):
        assert check(args, out) == 0, args
        assert out is None or out.exists()
    L.dispose_all()


#: A valid plan of BASE, the start of the plan edits.
PLAN = solved(BASE)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(mutated(PLAN))
def test_mutated_plans_exit_0_1_or_2(text):
    """A damaged plan given to check, report and explain: exit 0, 1 (check: a broken rule) or 2,
    never a traceback, and no report written on exit 2."""
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        src = tmp / "in.json"
        src.write_text(json.dumps(BASE))
        plan = tmp / "plan.json"
        plan.write_text(text)
        res = CliRunner().invoke(main, ["check", str(src), str(plan)])
        assert res.exception is None or isinstance(res.exception, SystemExit), (res.output, res.exception)
        assert res.exit_code in (0, 1, 2) and "Traceback" not in res.output
        check(["report", str(src), str(plan), "-o", str(tmp / "r.html")], tmp / "r.html")
        check(["explain", str(src), str(plan), "c1", "--no-counterfactual"], None)

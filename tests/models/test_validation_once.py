"""Validation's shortcuts word every problem as before: ids checked once per distinct value,
and whole numbers above 2**53 looked for in one pass before any is worded."""

from __future__ import annotations

import pytest
from test_validation import SRC, base, errors

import models
from models.validate import MAX_INT


def test_an_id_refused_twice_is_reported_twice():
    """A refused id is never cached: each field holding it gets its own line."""
    d = base()
    d["citizens"][0]["municipality"] = "M;1"
    d["citizens"][1]["municipality"] = "M;1"
    for _ in range(2):  # and again in a second document (the cache keeps accepted ids only)
        exc = errors(d)
        lines = [line for line in exc.lines() if "list separator" in line]
        assert [line.split(": ")[1] for line in lines] == ["citizens[0].municipality", "citizens[1].municipality"]


def test_an_accepted_id_stays_accepted_and_equal():
    d = base()
    first = models.from_dict(d, SRC)
    second = models.from_dict(base(), SRC)
    assert [c.id for c in first.citizens] == [c.id for c in second.citizens] == ["c1", "c2"]


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_too_large_number_in_a_list_field_is_found(where):
    d = base()
    d["agreements"][0]["rooms"] = [1, MAX_INT + 1] if where == "last" else [MAX_INT + 1, 2]
    exc = errors(d)
    at = 1 if where == "last" else 0
    assert any(p.path == f"agreements[0].rooms[{at}]" and "too large" in p.message for p in exc.problems)


def test_numbers_at_the_limit_and_bools_are_not_too_large():
    d = base()
    d["agreements"][0]["rooms"] = [MAX_INT]
    d["units"][0]["rooms"] = MAX_INT
    models.from_dict(d, SRC)
    d["units"][0]["rooms"] = True  # a type error, never "too large"
    assert not any("too large" in line for line in errors(d).lines())


def test_score_codes_name_each_rows_ids():
    import numpy as np

    from models.instance import Scores

    s = Scores(("b", "a", "b", "c"), ("u2", "u1", "u1", "u2"), np.zeros(4))
    (c_ids, c_code), (u_ids, u_code) = s.citizen_codes, s.unit_codes
    assert c_ids == ("a", "b", "c") and u_ids == ("u1", "u2")
    assert [c_ids[k] for k in c_code] == list(s.citizen) and [u_ids[k] for k in u_code] == list(s.unit)


@pytest.mark.parametrize("n", [2, 200])  # 2: pairs counted in a table; 200 (few of n*n pairs): sorted
def test_duplicate_scores_are_named_with_their_first_row(n):
    from models.fastjson import ScoreColumns

    d = base()
    d["units"] = [{**d["units"][0], "id": f"u{j}"} for j in range(n)]
    d["citizens"] = [{**d["citizens"][0], "id": f"c{i}"} for i in range(n)]
    rows = [(f"c{i}", f"u{i}") for i in range(n)] + [("c1", "u0"), (f"c{n - 1}", f"u{n - 1}"), ("c1", "u0")]
    for scores in (
        [{"citizen": c, "unit": u, "score": 1} for c, u in rows],
        ScoreColumns([c for c, _ in rows], [u for _, u in rows], [1] * len(rows)),
    ):
        d["scores"] = scores
        dups = [(p.path, p.message) for p in errors(d).problems if "duplicate" in p.message]
        assert dups == [
            (
                f"scores[{n + 1}]",
                f"duplicate score for citizen 'c{n - 1}' and unit 'u{n - 1}' (first at scores[{n - 1}])",
            ),
            (f"scores[{n + 2}]", f"duplicate score for citizen 'c1' and unit 'u0' (first at scores[{n}])"),
        ]

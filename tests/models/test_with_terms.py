"""models.with_terms: a changed instance checks only its terms, and equals the whole document's validation.

The full path, ``from_dict({**inst.to_dict(), **tables}, inst.source)``, is the reference:
for every change (valid or not) the fast path gives the same ``to_dict()``, ``sha256``,
problem lines and warnings. Valid changes must not take the full path at all (that is
the point: no 41 MB of scores validated again per change).
"""

from __future__ import annotations

import copy
import json
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
import models.validate as validate
from models.convert import to_v2
from models.instance import TERM_TABLES, UNCHANGED_BY_TERMS
from optimizer.scenario.changes import ScenarioError, apply_changes
from optimizer.sim.generate import generate

from conftest import worked_examples

DEMO = Path(__file__).resolve().parents[2] / "instances" / "demo-week.json"


@cache
def instance(name: str) -> models.Instance:
    """The instances the tests change: worked examples (v1 and v2), the demo week, generated ones."""
    if name == "demo":
        return models.load(str(DEMO))
    if name.startswith("gen:"):
        preset, _, version = name[4:].partition("/")
        inst = models.from_dict(generate(preset, seed=3), f"{preset}.json")
        return to_v2(inst) if version == "v2" else inst
    with open(name) as f:
        return models.from_dict(json.load(f), name)


NAMES = [str(p.values[0]) for p in worked_examples()] + ["demo", "gen:small", "gen:small/v2", "gen:tiny/v2"]


def outcome(run: Any) -> tuple[Any, ...]:
    """What a validation gives: the instance's document and hash, or its problem lines; and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            inst = run()
        except models.InstanceError as exc:
            result: tuple[Any, ...] = ("invalid", exc.lines(limit=None))
        else:
            result = ("valid", inst.to_dict(), inst.sha256, inst.name, inst.source)
    return (*result, sorted(str(w.message) for w in caught))


def full(inst: models.Instance, tables: dict[str, Any]) -> tuple[Any, ...]:
    return outcome(lambda: models.from_dict({**inst.to_dict(), **copy.deepcopy(tables)}, inst.source))


def fast(inst: models.Instance, tables: dict[str, Any]) -> tuple[Any, ...]:
    return outcome(lambda: models.with_terms(inst, **copy.deepcopy(tables)))


@pytest.mark.parametrize("name", NAMES)
def test_terms_are_the_document_but_people_units_and_scores(name):
    inst = instance(name)
    whole = inst.to_dict()
    for key in (*UNCHANGED_BY_TERMS, "scores"):
        whole.pop(key, None)
    assert inst.terms() == whole
    assert set(whole) == {"format", "name", *TERM_TABLES}


@pytest.mark.parametrize("name", NAMES)
def test_unchanged_terms_give_the_same_instance_without_the_full_path(name, monkeypatch):
    inst = instance(name)
    monkeypatch.setattr(validate, "from_dict", _no_full_path)
    terms = inst.terms()
    same = models.with_terms(inst, **{t: terms[t] for t in TERM_TABLES})
    assert same.to_dict() == inst.to_dict()
    assert same.sha256 == inst.sha256
    assert same.scores is inst.scores and same.citizens is inst.citizens  # shared, not copied
    assert models.with_terms(inst) is inst


def _no_full_path(*args: object, **kwargs: object) -> None:
    raise AssertionError("a valid change of the terms took the full validation path")


def test_only_term_tables_can_be_replaced():
    inst = instance("demo")
    with pytest.raises(TypeError, match="not citizens, units"):
        models.with_terms(inst, units=[], citizens=[])


# One valid change of every term of a scenario (optimizer.scenario.changes.TERMS), on the demo week
# (anvis/1) and a generated anvis/2 instance; each through the fast path only, equal to the full path.
def _every_term(inst: models.Instance) -> list[dict[str, Any]]:
    pool = next(p for p in models.unit_pools(inst) if p.startswith("default:"))
    changes = [
        {"term": "share", "pool": pool, "value": 0.5},
        {"term": "max_vulnerable", "department": "*", "delta": 1},
        {"term": "max_vulnerable", "department": inst.departments[0].id, "value": 0},
        {"term": "subsidy_frame", "municipality": "*", "delta": 2},
        {"term": "grant_quota", "region": "*", "value": None},
        {"term": "grant_quota", "region": inst.regions[0].id, "value": 3},
        {"term": "subsidy_amount_kr", "value": 2000},
        {"term": "subsidy_band_kr", "value": [4000, 7000]},
        {"term": "default_share", "value": 0.4},
    ]
    if inst.agreements:
        changes.append({"term": "share", "pool": inst.agreements[0].id, "value": 0.1})
    m, o = inst.municipalities[0].id, inst.organisations[0].id
    agreement: dict[str, Any] = {"id": "extra", "municipality": m, "share": 0.3, "organisation": o}
    changes.append({"term": "agreement", "value": {**agreement, "rooms": [1, 2]}, "position": "last"})
    if inst.version == 2:
        changes += [
            {"term": "mode", "pool": pool, "value": "choice"},
            {"term": "default_mode", "value": "choice"},
            {"term": "agreement", "value": {**agreement, "units": [inst.units[0].id]}, "position": "first"},
        ]
    return changes


@pytest.mark.parametrize("name", ["demo", "gen:small", "gen:small/v2", "gen:tiny/v2"])
def test_every_term_takes_the_fast_path_and_equals_the_whole_validation(name, monkeypatch):
    inst = instance(name)
    checked = 0
    for change in _every_term(inst):
        try:
            apply_changes(inst, [change])
        except ScenarioError:
            continue  # a change this instance refuses (e.g. choice mode over offered units): the full path words it
        with monkeypatch.context() as m:
            m.setattr(validate, "from_dict", _no_full_path)
            changed = apply_changes(inst, [change])
        # the changed instance's own document, validated whole, is the same instance
        again = models.from_dict(changed.to_dict(), inst.source)
        assert again.to_dict() == changed.to_dict()
        assert again.sha256 == changed.sha256
        checked += 1
    assert checked >= 9


def test_a_refused_change_says_what_the_whole_document_says():
    inst = instance("demo")
    region = inst.municipalities[0].region
    terms = inst.terms()
    cases: list[dict[str, Any]] = [
        {"regions": [r for r in terms["regions"] if r["id"] != region]},  # a municipality's region gone
        {"ledger": [*terms["ledger"], {"pool": "ghost", "vacancies_before": 2, "claimed_before": 3}]},
        {"agreements": [*terms["agreements"], {**terms["agreements"][0]}]} if terms["agreements"] else {},
        {"parameters": {**terms["parameters"], "objective": "weighted", "priority_weights": {"1": 5}}},
        {"parameters": {**terms["parameters"], "subsidy_band_kr": [7000, 4000]}},
        {"municipalities": [{**m, "subsidy_frame": -1} for m in terms["municipalities"]]},
        {"departments": [{**d, "max_vulnerable": 2**60} for d in terms["departments"]]},
        {"departments": [{**d, "id": d["id"] + "x"} for d in terms["departments"]]},  # units' departments gone
        {"parameters": {**terms["parameters"], "objective": "weighted", "priority_weights": {"1": 1e15, "2": 1}}},
    ]
    for tables in filter(None, cases):
        expected = full(inst, tables)
        assert expected[0] == "invalid", tables
        assert fast(inst, tables) == expected


def test_an_unknown_field_warns_as_the_whole_document_does():
    inst = instance("demo")
    terms = inst.terms()
    tables = {"parameters": {**terms["parameters"], "novel": 1}}
    expected = full(inst, tables)
    assert expected[0] == "valid" and expected[-1]
    assert fast(inst, tables) == expected


def test_v2_offered_units_of_a_pool_turned_choice_are_refused_as_in_the_whole_document():
    inst = instance("gen:small/v2")
    offered = [u for u in inst.units if u.offered]
    if not offered:
        pytest.skip("no offered unit in this generated instance")
    tables = {"parameters": {**inst.terms()["parameters"], "default_mode": "choice"}}
    expected = full(inst, tables)
    assert expected[0] == "invalid"
    assert fast(inst, tables) == expected


# ---------------------------------------------------------------- property: any edit of the terms


def _edits(inst: models.Instance) -> st.SearchStrategy[dict[str, Any]]:
    """Random edits of the terms, valid and not: values, ids and references of every term table."""
    terms = inst.terms()
    ids = {t: [r["id"] for r in terms[t]] for t in ("regions", "municipalities", "organisations", "departments")}
    unit_ids = [u.id for u in inst.units][:5] or ["u"]
    counts = st.one_of(st.none(), st.integers(-2, 6), st.sampled_from([2**60, 1.5, "3", True]))
    share = st.one_of(st.floats(-0.5, 1.5, allow_nan=False), st.sampled_from([0, 1, "a", None]))

    def ref(table: str) -> st.SearchStrategy[Any]:
        return st.one_of(st.sampled_from(ids[table] or ["none"]), st.sampled_from(["ghost", "a:b", "", 7]))

    agreement = st.fixed_dictionaries(
        {
            "id": st.one_of(st.sampled_from([a["id"] for a in terms["agreements"]] or ["a0"]), st.just("new")),
            "municipality": ref("municipalities"),
            "organisation": ref("organisations"),
            "share": share,
        },
        optional={
            "rooms": st.sampled_from([None, [1], [2, 3], [0], "x"]),
            "departments": st.lists(ref("departments"), max_size=2),
            "mode": st.sampled_from(["rotation", "choice", "bogus"]),
            "units": st.lists(st.one_of(st.sampled_from(unit_ids), st.just("ghost")), max_size=2),
            "kinds": st.lists(st.sampled_from([*models.KINDS, "castle"]), max_size=2),
            "extra_field": st.just(1),
        },
    )
    pools = [a["id"] for a in terms["agreements"]] + sorted(set(models.unit_pools(inst)))[:4] + ["ghost"]
    ledger_row = st.fixed_dictionaries(
        {
            "pool": st.sampled_from(pools),
            "vacancies_before": st.integers(-1, 5),
            "claimed_before": st.integers(0, 6),
        }
    )
    prios = sorted({str(c.priority) for c in inst.citizens})
    parameters = st.fixed_dictionaries(
        {},
        optional={
            "default_share": share,
            "subsidy_amount_kr": st.sampled_from([0, 1500, -1, 2.5]),
            "subsidy_band_kr": st.sampled_from([[4000, 7000], [7000, 4000], [1], None]),
            "objective": st.sampled_from(["lexicographic", "weighted", "other"]),
            "priority_weights": st.one_of(
                st.none(),
                st.dictionaries(st.sampled_from([*prios, "0", "x"]), st.sampled_from([1, 10, 1e15, -1]), max_size=3),
            ),
            "default_mode": st.sampled_from(["rotation", "choice", "bogus"]),
            "subsidy_kinds": st.lists(st.sampled_from([*models.KINDS, "castle"]), max_size=2),
        },
    )

    def record_edit(table: str, field: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def edit(draw: st.DrawFn) -> dict[str, Any]:
            rows = copy.deepcopy(terms[table])
            if rows:
                k = draw(st.integers(0, len(rows) - 1))
                rows[k][field] = draw(values)
            return {table: rows}

        return edit()

    @st.composite
    def table_list_edit(draw: st.DrawFn, table: str, row: st.SearchStrategy[Any]) -> dict[str, Any]:
        rows = copy.deepcopy(terms[table])
        what = draw(st.sampled_from(["append", "prepend", "drop", "replace"]))
        if what == "drop" and rows:
            rows.pop(draw(st.integers(0, len(rows) - 1)))
        elif what == "replace" and rows:
            rows[draw(st.integers(0, len(rows) - 1))] = draw(row)
        elif what == "prepend":
            rows.insert(0, draw(row))
        else:
            rows.append(draw(row))
        return {table: rows}

    @st.composite
    def parameters_edit(draw: st.DrawFn) -> dict[str, Any]:
        return {"parameters": {**terms["parameters"], **draw(parameters)}}

    one = st.one_of(
        record_edit("regions", "grant_quota", counts),
        record_edit("regions", "id", ref("regions")),
        record_edit("municipalities", "subsidy_frame", counts),
        record_edit("municipalities", "region", ref("regions")),
        record_edit("municipalities", "id", ref("municipalities")),
        record_edit("organisations", "id", ref("organisations")),
        record_edit("departments", "max_vulnerable", counts),
        record_edit("departments", "organisation", ref("organisations")),
        record_edit("departments", "area", st.sampled_from(["ordinary", "vulnerable", "ghetto", 1])),
        record_edit("departments", "id", ref("departments")),
        table_list_edit("agreements", agreement),
        table_list_edit("ledger", ledger_row),
        parameters_edit(),
    )
    return st.lists(one, min_size=1, max_size=3).map(lambda edits: {k: v for e in edits for k, v in e.items()})


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_edit_of_the_terms_gives_what_the_whole_document_gives(name, data):
    inst = instance(name)
    tables = data.draw(_edits(inst))
    assert fast(inst, tables) == full(inst, tables)


@pytest.mark.parametrize("base_first", [True, False])
@pytest.mark.parametrize("name", ["demo", "gen:small/v2", NAMES[0]])
def test_variants_share_the_text_of_their_people_and_hash_as_the_whole_document(name, base_first):
    """The shared text of citizens, units and overrides gives FORMAT.md's hash, whoever writes it first."""
    original = instance(name)
    base = models.from_dict(original.to_dict(), original.source)  # fresh: nothing hashed or shared yet
    assert "_shared_people_parts" not in vars(base)
    if base_first:
        assert base.sha256 == original.sha256
    terms = base.terms()
    one = models.with_terms(base, regions=[{**r, "grant_quota": 1} for r in terms["regions"]])
    two = models.with_terms(one, municipalities=[{**m, "subsidy_frame": 9} for m in terms["municipalities"]])
    for variant in (two, one):
        whole = models.from_dict(variant.to_dict(), variant.source)
        assert variant.sha256 == whole.sha256
        assert variant.citizens is base.citizens
    assert base.sha256 == original.sha256
    assert vars(two)["_shared_people_parts"] is vars(base)["_shared_people_parts"]
    # a body with other people shares nothing
    other = base.with_body(base.body.model_copy(update={"citizens": base.citizens[1:]}))
    assert "_shared_people_parts" not in vars(other)
    assert other.sha256 == models.Instance(other.body, other.scores, other.source).sha256
    assert other.sha256 != base.sha256

"""The ``anvis/2`` document (FORMAT.md §6): fields, validation, version 1 unchanged, conversion."""

from __future__ import annotations

import json
import warnings

import pytest
from click.testing import CliRunner

import models
from models.convert import to_v2
from models.validate import InstanceError, UnknownFieldWarning
from optimizer.cli import main
from optimizer.engine.solve import solve

from conftest import EXAMPLES, doc, needs_shared, worked_examples


def v2(citizens, units, **tables) -> dict:
    d = doc(citizens, units, **{"agreements": [], **tables})
    d["format"] = "anvis/2"
    return d


def problems(d: dict) -> list[str]:
    with pytest.raises(InstanceError) as exc:
        models.from_dict(d)
    return [str(p) for p in exc.value.problems]


# --------------------------------------------------------------------------- fields and defaults


def test_v2_defaults():
    """Modes default to rotation, subsidy kinds to family, homeless and offered to false."""
    inst = models.from_dict(
        v2([{"id": "c1"}], [{"id": "u1"}], agreements=[{"id": "a", "municipality": "M", "share": 1.0, "rooms": [9]}])
    )
    assert inst.version == 2
    assert inst.parameters.default_mode == "rotation" and inst.subsidy_kinds == ("family",)
    assert inst.agreements[0].mode == "rotation"
    assert inst.units[0].offered is False and inst.units[0].sequence is None
    assert inst.citizens[0].homeless is False
    d = inst.to_dict()
    assert d["parameters"]["default_mode"] == "rotation" and d["parameters"]["subsidy_kinds"] == ["family"]
    assert d["units"][0]["offered"] is False and d["agreements"][0]["kinds"] is None
    assert models.from_dict(d).sha256 == inst.sha256


def test_version_1_ignores_v2_fields_and_keeps_its_hash():
    """A version-1 document with anvis/2 fields: they are warned about, ignored and never written."""
    plain = doc([{"id": "c1"}], [{"id": "u1"}])
    extra = json.loads(json.dumps(plain))
    extra["units"][0]["offered"] = True
    extra["citizens"][0]["homeless"] = True
    extra["agreements"][0]["mode"] = "rotation"
    extra["parameters"]["subsidy_kinds"] = ["youth"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownFieldWarning)
        inst = models.from_dict(extra)
    text = str(caught[0].message)
    assert "parameters.subsidy_kinds" in text and "units[*].offered" in text and "citizens[*].homeless" in text
    assert inst.sha256 == models.from_dict(plain).sha256
    d = inst.to_dict()
    assert "offered" not in d["units"][0] and "mode" not in d["agreements"][0] and "homeless" not in d["citizens"][0]
    assert inst.version == 1 and inst.subsidy_kinds == ("family", "youth", "elderly")
    assert [p.mode for p in models.pools(inst).values()] == ["choice"]


# --------------------------------------------------------------------------- validation


def test_offered_only_in_rotation_pools():
    d = v2([], [{"id": "u1", "offered": True}], parameters={"default_mode": "choice"})
    assert problems(d) == [
        "units[0].offered: unit 'u1' is in pool 'default:M:O:family', whose mode is 'choice': "
        "only units of rotation pools can be offered"
    ]
    d["parameters"] = {}
    assert models.from_dict(d).units[0].offered


def test_no_colon_in_municipality_and_organisation_ids():
    d = v2([], [])
    d["municipalities"][0]["id"] = "M:1"
    d["organisations"][0]["id"] = "O:1"
    d["departments"][0].update(municipality="M:1", organisation="O:1")
    assert problems(d) == [
        "municipalities[0].id: a municipality id must not contain ':' in anvis/2 (got 'M:1')",
        "organisations[0].id: a organisation id must not contain ':' in anvis/2 (got 'O:1')",
    ]


def test_v2_ledger_names_per_kind_default_pools_and_units_filter_is_checked():
    d = v2(
        [],
        [{"id": "u1"}],
        ledger=[{"pool": "default:M:O:youth"}, {"pool": "default:M:O"}],
        agreements=[{"id": "a", "municipality": "M", "share": 1.0, "units": ["u1", "nope"]}],
    )
    got = problems(d)
    assert got == [
        "ledger[1].pool: unknown pool 'default:M:O' (neither an agreement id nor "
        "default:<municipality>:<organisation>:<kind> of known ids)",
        "agreements[0].units[1]: unknown unit 'nope'",
    ]
    d["agreements"][0]["id"] = "default:M:O:family"
    assert "agreements[0].id: 'default:M:O:family' is the id of a default pool" in problems(d)


def test_v2_field_types():
    d = v2([{"id": "c1", "homeless": "yes"}], [{"id": "u1", "sequence": -1, "offered": 1}])
    d["parameters"] = {"default_mode": "pick", "subsidy_kinds": ["family", "house"]}
    got = "\n".join(problems(d))
    for path in (
        "parameters.default_mode",
        "parameters.subsidy_kinds[1]",
        "units[0].sequence",
        "units[0].offered",
        "citizens[0].homeless",
    ):
        assert path in got, path


# --------------------------------------------------------------------------- conversion


def _objective(inst: models.Instance) -> tuple:
    r = solve(inst)
    return r.housed_by_priority, round(r.total_score, 6), r.value


@needs_shared
@pytest.mark.parametrize("example", worked_examples())
def test_convert_keeps_every_worked_example_optimum(example):
    """``to_v2`` keeps the optimum (and every pool's cap) of each worked example."""
    inst = models.load(example)
    new = to_v2(inst)
    assert new.version == 2
    assert _objective(new) == _objective(inst)
    if inst.version == 1:
        assert {p.id: p.cap for p in models.pools(new).values()} == {p.id: p.cap for p in models.pools(inst).values()}
        assert all(p.mode == "choice" for p in models.pools(new).values())
        assert new.agreements[: len(inst.agreements)] == tuple(
            a.model_copy(update={"mode": "choice"}) for a in inst.agreements
        )
        assert new.parameters.subsidy_kinds == ("family", "youth", "elderly")
    else:
        assert new is inst


def test_convert_appends_default_agreements_in_order_of_first_unit_and_for_ledger_pools():
    d = doc(
        [{"id": "c1"}],
        [{"id": "u1", "department": "D2"}, {"id": "u2"}],
        organisations=[{"id": "O", "name": "O"}, {"id": "P", "name": "P"}, {"id": "Q", "name": "Q"}],
        departments=[
            {"id": "D", "organisation": "O", "municipality": "M"},
            {"id": "D2", "organisation": "P", "municipality": "M"},
        ],
        agreements=[],
        ledger=[{"pool": "default:M:Q", "vacancies_before": 4, "claimed_before": 1}],
    )
    new = to_v2(models.from_dict(d))
    assert [(a.id, a.organisation, a.share, a.mode, a.kinds) for a in new.agreements] == [
        ("default:M:P", "P", 0.25, "choice", None),
        ("default:M:O", "O", 0.25, "choice", None),
        ("default:M:Q", "Q", 0.25, "choice", None),
    ]


def test_convert_refuses_colons(tmp_path):
    """Ids with ':' cannot be converted: exit 2, one line naming the id, nothing written."""
    d = doc([], [{"id": "u1"}])
    d["municipalities"][0]["id"] = "M:1"
    d["departments"][0]["municipality"] = "M:1"
    d["agreements"][0]["municipality"] = "M:1"
    src = tmp_path / "in.json"
    src.write_text(json.dumps(d))
    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["convert", str(src), str(out), "--to", "anvis/2"])
    assert result.exit_code == 2
    assert "municipalities[0].id: 'M:1' contains ':'" in result.output
    assert not out.exists()


@needs_shared
def test_cli_convert_to_v2_round_trips_csv(tmp_path):
    """``anvis convert --to anvis/2`` to a CSV folder and back: an anvis/2 instance, same optimum."""
    src = EXAMPLES / "e1-ledger-and-subsidy.json"
    result = CliRunner().invoke(main, ["convert", str(src), str(tmp_path / "csv"), "--to", "anvis/2"])
    assert result.exit_code == 0, result.output
    back = models.load(tmp_path / "csv")
    assert back.version == 2 and back.sha256 == to_v2(models.load(src)).sha256
    assert _objective(back) == _objective(models.load(src))
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "csv")])
    assert "valid anvis/2 instance" in result.output

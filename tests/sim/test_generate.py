"""The instance generator: determinism, validity and calibration to the national figures."""

import collections
import json
import math
import time

import numpy as np
import pytest

import models
from optimizer.engine.solve import solve
from optimizer.sim.generate import PRESETS, generate

REGION_SIZES = {"H": 29, "S": 17, "SD": 22, "M": 19, "N": 11}


@pytest.fixture(scope="module")
def national():
    return generate("national-week", seed=0)


def test_same_seed_same_document():
    """Generating twice with the same preset, seed and scale gives byte-identical JSON."""
    for preset in PRESETS:
        a = json.dumps(generate(preset, seed=7, scale=0.05), sort_keys=True)
        b = json.dumps(generate(preset, seed=7, scale=0.05), sort_keys=True)
        assert a == b, preset


def test_different_seed_different_document():
    """Another seed gives another document (apart from the name)."""
    for preset in PRESETS:
        a = generate(preset, seed=1, scale=0.05)
        b = generate(preset, seed=2, scale=0.05)
        a.pop("name"), b.pop("name")
        assert json.dumps(a) != json.dumps(b), preset


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("seed", [0, 1])
def test_every_preset_validates(preset, seed):
    """Every preset at a small scale is a valid anvis/1 document, through a JSON round trip."""
    scale = 1.0 if preset in ("tiny", "small") else 0.05
    doc = generate(preset, seed=seed, scale=scale)
    assert doc["format"] == "anvis/1"
    assert doc["name"].startswith(f"{preset}-s{seed}")
    assert ("scores" in doc) == PRESETS[preset].get("dense_scores", False)
    inst = models.from_dict(json.loads(json.dumps(doc)))
    assert len(inst.citizens) >= 1 and len(inst.units) >= 1


def test_national_week_shape(national):
    """national-week: 98 municipalities in the 5 regions with their real counts, ≈ 6,000 citizens,
    ≈ 1,100 vacancies, 30 municipalities with a subsidy frame, København ≈ 1,370 homeless."""
    inst = models.from_dict(national)
    assert len(inst.municipalities) == 98
    assert [r.id for r in inst.regions] == list(REGION_SIZES)
    assert collections.Counter(m.region for m in inst.municipalities) == REGION_SIZES
    assert abs(len(inst.citizens) - 6000) <= 0.15 * 6000
    assert abs(len(inst.units) - 1100) <= 0.15 * 1100
    assert sum(m.subsidy_frame > 0 for m in inst.municipalities) == 30
    per_muni = collections.Counter(c.municipality for c in inst.citizens)
    assert abs(per_muni["101"] - 1370) <= 0.1 * 1370
    assert abs(per_muni["751"] / len(inst.citizens) - 0.088) <= 0.01
    assert all(r.grant_quota >= 1 for r in inst.regions)
    assert collections.Counter(c.priority for c in inst.citizens).keys() == {1, 2, 3}


def test_national_week_is_fast():
    """Generating the full national week takes well under a second (generous bound for CI)."""
    t = time.perf_counter()
    generate("national-week", seed=5)
    assert time.perf_counter() - t < 2.0


def test_ledger_consistent(national):
    """Ledger entries name pools of the round and never claim more than the share allowed."""
    inst = models.from_dict(national)
    share = {a.id: a.share for a in inst.agreements}
    present = set(models.unit_pools(inst))
    assert national["ledger"]
    for e in inst.ledger:
        assert e.pool in present
        s = share.get(e.pool, inst.parameters.default_share)
        assert e.claimed_before <= math.floor(s * e.vacancies_before + 1e-9)


def test_city_year_rent_bands():
    """city-year family rents match the 2023 national bands within two points, in 10 kr steps."""
    doc = generate("city-year", seed=3)
    assert len(doc["citizens"]) == 3000 and len(doc["units"]) == 5500
    rent = np.array([u["rent_kr"] for u in doc["units"] if u["kind"] == "family"])
    assert (rent % 10 == 0).all()
    total = 506_300
    assert abs((rent < 3500).mean() - 31_300 / total) < 0.02
    assert abs((rent < 4500).mean() - 110_800 / total) < 0.02
    assert abs(((rent >= 4500) & (rent <= 6500)).mean() - 247_500 / total) < 0.02
    assert abs((rent > 6500).mean() - 148_000 / total) < 0.02
    rooms = np.array([u["rooms"] for u in doc["units"]])
    assert rooms.min() >= 1 and rooms.max() <= 5
    assert np.isin(rooms, [2, 3]).mean() > 0.5


def test_city_week_size():
    """city-week is København alone: 1,370 citizens and 100–150 vacancies."""
    doc = generate("city-week", seed=0)
    assert [m["id"] for m in doc["municipalities"]] == ["101"]
    assert len(doc["regions"]) == 1
    assert len(doc["citizens"]) == 1370
    assert 100 <= len(doc["units"]) <= 150


def test_scale_multiplies_counts():
    """scale multiplies the citizen and unit counts."""
    doc = generate("national-week", seed=0, scale=0.05)
    assert len(doc["citizens"]) == round(5989 * 0.05)
    assert abs(len(doc["units"]) - 55) <= 1
    assert len(doc["municipalities"]) == 98


@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_small_presets_solve_optimal(preset):
    """tiny and small instances solve to a proven optimum."""
    for seed in range(3):
        doc = generate(preset, seed=seed)
        if preset == "tiny":
            assert 1 <= len(doc["municipalities"]) <= 2
            assert 8 <= len(doc["citizens"]) <= 15 and 6 <= len(doc["units"]) <= 12
        else:
            assert len(doc["municipalities"]) == 3
            assert len(doc["citizens"]) == 60 and len(doc["units"]) == 40
        result = solve(models.from_dict(doc))
        assert str(result.status) == "optimal"


def test_scores_option():
    """with_scores=True adds a valid scores table with scores in [0, 100]."""
    doc = generate("small", seed=0, with_scores=True)
    assert doc["scores"]
    assert all(0 <= s["score"] <= 100 for s in doc["scores"])
    inst = models.from_dict(doc)
    assert len(inst.scores) == len(doc["scores"])


def test_bad_arguments():
    """Unknown presets and options, and non-positive scales, are refused."""
    with pytest.raises(ValueError):
        generate("galaxy")
    with pytest.raises(ValueError):
        generate("tiny", colour="red")
    with pytest.raises(ValueError):
        generate("tiny", scale=0)

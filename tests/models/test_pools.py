"""Pools and the anvisningsret arithmetic of FORMAT.md §2."""

import pytest

import models
from models.pools import default_pool_owners, pool_cap, unit_pools

from conftest import doc


@pytest.mark.parametrize(
    "share, vb, v, cb, cap",
    [
        (0.25, 0, 4, 0, 1),  # the quarter share
        (0.25, 0, 3, 0, 0),  # a week with three vacancies alone: no claim
        (0.25, 5, 3, 1, 1),  # remainders carry over: floor(2) − 1
        (0.25, 6, 2, 1, 1),  # e1's default:101:fsb
        (0.25, 8, 0, 0, 2),  # no vacancies this week: the pool still has a cap (but no unit)
        (0.25, 10, 2, 5, 0),  # more claimed before than the share allows: never negative
        (0.29, 0, 100, 0, 29),  # 0.29 × 100 is 28.999… in floating point: the 1e-9 keeps it 29
        (0.7, 0, 10, 0, 7),
        (1 / 3, 0, 9, 0, 3),
        (1.0, 3, 4, 2, 5),
        (0.0, 10, 10, 0, 0),
    ],
)
def test_pool_cap_arithmetic(share, vb, v, cb, cap):
    """cap = max(0, floor(share × (Vb + V) + 1e-9) − Cb)."""
    assert pool_cap(share, vb, v, cb) == cap


def _pool_doc(agreements):
    units = [
        {"id": "u1", "rooms": 1, "rent_kr": 3000},
        {"id": "u2", "rooms": 2, "rent_kr": 3900},
        {"id": "u3", "rooms": 1, "rent_kr": 4200, "department": "D2"},
        {"id": "u4", "rooms": 3, "rent_kr": 5000},
    ]
    d = doc([], units, agreements=agreements)
    d["organisations"].append({"id": "O2", "name": "O2"})
    d["departments"].append({"id": "D2", "organisation": "O2", "municipality": "M"})
    return models.from_dict(d)


def test_first_matching_agreement_in_list_order_wins():
    """A unit matching two agreements belongs to the first listed."""
    inst = _pool_doc(
        [
            {"id": "cheap", "municipality": "M", "share": 0.5, "max_rent_kr": 4000},
            {"id": "one-room", "municipality": "M", "share": 1.0, "rooms": [1]},
        ]
    )
    assert unit_pools(inst) == ["cheap", "cheap", "one-room", "default:M:O"]


def test_every_filter_must_match():
    """organisation, max_rent_kr, rooms and departments filters all apply together."""
    inst = _pool_doc(
        [{"id": "a", "municipality": "M", "share": 1.0, "organisation": "O", "rooms": [1, 2], "max_rent_kr": 3900}]
    )
    assert unit_pools(inst) == ["a", "a", "default:M:O2", "default:M:O"]
    inst = _pool_doc([{"id": "d", "municipality": "M", "share": 1.0, "departments": ["D2"]}])
    assert unit_pools(inst) == ["default:M:O", "default:M:O", "d", "default:M:O"]


def test_agreement_of_another_municipality_does_not_apply():
    """An agreement applies only to units of its own municipality."""
    d = doc([], [{"id": "u1"}], agreements=[{"id": "x", "municipality": "M2", "share": 1.0}])
    d["municipalities"].append({"id": "M2", "name": "M2", "region": "R"})
    assert unit_pools(models.from_dict(d)) == ["default:M:O"]


def test_pools_use_ledger_and_default_share_parameter():
    """Default pools take parameters.default_share; ledger entries add earlier vacancies and claims."""
    d = doc(
        [],
        [{"id": f"u{i}"} for i in range(3)],
        agreements=[],
        parameters={"default_share": 0.5},
        ledger=[{"pool": "default:M:O", "vacancies_before": 3, "claimed_before": 2}],
    )
    (pool,) = models.pools(models.from_dict(d)).values()
    assert (pool.id, pool.share, pool.vacancies, pool.cap) == ("default:M:O", 0.5, 3, 1)


@pytest.mark.parametrize("name", ["e1-ledger-and-subsidy", "e2-random-small", "e3-random-regions", "e4-weighted"])
def test_pool_caps_of_worked_examples(name):
    """The caps of every pool in the worked examples equal expected.json."""
    import json

    from conftest import EXAMPLES, SHARED

    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent")
    expected = json.loads((EXAMPLES / "expected.json").read_text())[name]["pool_caps"]
    inst = models.load(EXAMPLES / f"{name}.json")
    assert {p.id: p.cap for p in models.pools(inst).values()} == expected


def test_default_pool_owners_reads_back_every_split_of_a_default_pool_id():
    """default_pool_owners inverts default_pool_id, for ids that contain ':' too; other ids have no owner."""
    assert default_pool_owners(models.default_pool_id("M", "O")) == [("M", "O")]
    assert default_pool_owners(models.default_pool_id("a:b", "c")) == [("a", "b:c"), ("a:b", "c")]
    assert default_pool_owners("default:M") == []
    assert default_pool_owners("p:M:O") == []
    assert default_pool_owners("default:") == []

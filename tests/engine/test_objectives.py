"""The two objectives of FORMAT.md §4, exactly as written."""

import pytest

from conftest import doc, housed, pairs_of, solved


def test_lexicographic_houses_more_urgent_first_even_at_lower_score():
    """One unit, two citizens: the priority-1 citizen gets it although the priority-2 pair scores higher."""
    d = doc(
        [{"id": "urgent", "priority": 1}, {"id": "later", "priority": 2}],
        [{"id": "u1"}],
        scores=[{"citizen": "urgent", "unit": "u1", "score": 1}, {"citizen": "later", "unit": "u1", "score": 100}],
    )
    plan = solved(d)
    assert housed(plan) == {"urgent"}
    assert plan["objective"] == {"housed_by_priority": {"1": 1, "2": 0}, "total_score": 1.0}


def test_lexicographic_more_housed_beats_score():
    """Housing two priority-1 citizens beats housing one with a far better score."""
    d = doc(
        [{"id": "a"}, {"id": "b"}],
        [{"id": "u1"}, {"id": "u2"}],
        scores=[
            {"citizen": "a", "unit": "u1", "score": 100},
            {"citizen": "a", "unit": "u2", "score": 1},
            {"citizen": "b", "unit": "u1", "score": 1},
        ],
    )
    d["citizens"][1]["max_rooms"] = 2
    d["units"][1]["rooms"] = 3  # b fits only u1
    plan = solved(d)
    assert pairs_of(plan) == {("a", "u2"), ("b", "u1")}
    assert plan["objective"]["total_score"] == 2.0


def test_lexicographic_priority_levels_are_strict():
    """Many priority-2 citizens never outweigh one priority-1 citizen."""
    citizens = [{"id": "p1", "priority": 1, "min_rooms": 2}] + [{"id": f"p2-{i}", "priority": 2} for i in range(5)]
    units = [{"id": "big", "rooms": 2}] + [{"id": f"s{i}", "rooms": 1} for i in range(4)]
    plan = solved(doc(citizens, units))
    assert "p1" in housed(plan)
    assert plan["objective"]["housed_by_priority"] == {"1": 1, "2": 4}


def test_lexicographic_lists_every_priority_present():
    """housed_by_priority names every priority present, with 0 where none was housed, gaps allowed."""
    plan = solved(doc([{"id": "a", "priority": 1}, {"id": "b", "priority": 7}], []))
    assert plan["objective"]["housed_by_priority"] == {"1": 0, "7": 0}


def test_score_decides_among_equal_counts():
    """With counts fixed, the assignment maximises the total score (a swap is better)."""
    scores = [
        {"citizen": "a", "unit": "u1", "score": 10},
        {"citizen": "a", "unit": "u2", "score": 9},
        {"citizen": "b", "unit": "u1", "score": 8},
        {"citizen": "b", "unit": "u2", "score": 1},
    ]
    plan = solved(doc([{"id": "a"}, {"id": "b"}], [{"id": "u1"}, {"id": "u2"}], scores=scores))
    assert pairs_of(plan) == {("a", "u2"), ("b", "u1")}
    assert plan["objective"]["total_score"] == 17.0


def test_given_score_never_makes_ineligible_pair_eligible():
    """A score for a pair that breaks a rule is ignored."""
    d = doc([{"id": "a", "max_rent_kr": 100}], [{"id": "u1"}], scores=[{"citizen": "a", "unit": "u1", "score": 99}])
    assert solved(d)["assignments"] == []


def test_fractional_scores_are_optimised_exactly():
    """Non-integer scores: the MILP proves the optimum to 1e-6."""
    scores = [
        {"citizen": "a", "unit": "u1", "score": 0.3},
        {"citizen": "a", "unit": "u2", "score": 0.25},
        {"citizen": "b", "unit": "u1", "score": 0.2},
        {"citizen": "b", "unit": "u2", "score": 0.1},
    ]
    plan = solved(doc([{"id": "a"}, {"id": "b"}], [{"id": "u1"}, {"id": "u2"}], scores=scores))
    assert plan["objective"]["total_score"] == pytest.approx(0.45)


def _weighted(weights):
    scores = [{"citizen": "p1", "unit": "u1", "score": 10}, {"citizen": "p2", "unit": "u1", "score": 50}]
    return doc(
        [{"id": "p1", "priority": 1}, {"id": "p2", "priority": 2}],
        [{"id": "u1"}],
        scores=scores,
        parameters={"objective": "weighted", "priority_weights": weights},
    )


def test_weighted_objective_trades_priority_against_score():
    """Weighted: priority weight + score per assignment; a small priority gap lets the score win."""
    assert housed(solved(_weighted({"1": 100, "2": 0}))) == {"p1"}  # 110 > 50
    assert housed(solved(_weighted({"1": 20, "2": 0}))) == {"p2"}  # 30 < 50
    plan = solved(_weighted({"1": 20, "2": 0}))
    assert plan["objective"]["value"] == 50.0
    assert plan["objective"]["total_score"] == 50.0


def test_weighted_objective_may_leave_units_for_nobody_only_if_no_gain():
    """Weighted with zero weights still houses whoever adds score (all scores ≥ 0)."""
    plan = solved(_weighted({"1": 0, "2": 0}))
    assert housed(plan) == {"p2"}


def test_priority_levels_packed_into_stages_give_the_same_optimum(monkeypatch):
    """Packing priority levels into fewer stages is exact: each level alone, all in one stage, and
    the default grouping (least urgent levels together, the most urgent alone when not all fit)
    reach the same counts and score, on a generated instance with three priorities."""
    import models
    import optimizer.engine.solve as S
    from optimizer.sim.generate import generate

    inst = models.from_dict(generate("city-week", seed=5, scale=0.3))
    results, names = {}, {}
    for label, limit in (("alone", 0), ("together", 10**12), ("split", None)):
        if limit is not None:
            monkeypatch.setattr(S, "PACK_LIMIT", limit)
        else:
            monkeypatch.setattr(S, "PACK_LIMIT", 10**12)
            # room for the two least urgent levels only
            data = S.ProblemData.build(inst)
            milp = S.build(data, S.eligible_pairs(data))
            prio = data.c_prio[milp.pairs.citizen]
            n_units = len(set(milp.pairs.unit.tolist()))
            b = {p: min(len(set(milp.pairs.citizen[prio == p].tolist())), n_units) for p in (2, 3)}
            monkeypatch.setattr(S, "PACK_LIMIT", (b[2] + 1) * (b[3] + 1) - 1)
        r = S.solve(inst, backend="highs", decompose=False)
        results[label] = (r.housed_by_priority, r.total_score)
        names[label] = [s["stage"] for s in r.stats["milp_blocks"][0]["stages"]]
    assert results["alone"] == results["together"] == results["split"]
    assert names["alone"][:3] == ["housed priority 1", "housed priority 2", "housed priority 3"]
    assert names["together"][0] == "housed priority 1,2,3"
    assert names["split"][:2] == ["housed priority 1", "housed priority 2,3"]

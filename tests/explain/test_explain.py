"""``anvis explain`` (optimizer.explain.citizen): why a citizen got their unit, or why not.

Tiny instances where the answer is known by hand: the assigned citizen's unit,
score parts and alternatives; rule exclusions grouped by rule; the full cap
that blocked an unassigned citizen; and the smallest single change that would
have housed them, which each test re-checks by applying the change to the
whole instance, re-validating it and solving it again.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from click.testing import CliRunner

import models
from optimizer.cli import main
from optimizer.engine.data import ProblemData
from optimizer.engine.pairs import combine, eligible_pairs, score_parts
from optimizer.engine.solve import solve
from optimizer.explain.citizen import (
    PlanMismatch,
    UnknownCitizen,
    change_words,
    compact_ids,
    context,
    counterfactual_words,
    explain,
    explain_all,
)
from optimizer.explain.counterfactual import apply_change, block_of, counterfactual, restrict
from optimizer.plan.build import make_plan
from optimizer.sim.generate import generate

from conftest import doc, housed, pairs_of, solved


def setup(document: dict):
    """The instance and its (checked) plan."""
    return models.from_dict(document), solved(document)


def housed_after(inst, change) -> set[str]:
    """Citizens housed when the change is applied to the whole instance, re-validated and solved."""
    changed = models.from_dict(apply_change(inst, change).to_dict())
    return housed(solved(changed.to_dict()))


# --------------------------------------------------------------------------- assigned


def assigned_doc() -> dict:
    """a (priority 2) gets u1; u2 goes to the more urgent b, u3 to c (same priority, higher total),
    u4 is free but in a pool with cap 0, u5 is free and scores lower."""
    d = doc(
        [
            {"id": "a", "priority": 2, "kinds": ["family", "youth"]},
            {"id": "b", "kinds": ["youth"]},
            {"id": "c", "priority": 2},
        ],
        [{"id": "u1"}, {"id": "u2", "kind": "youth"}, {"id": "u3"}, {"id": "u4", "rooms": 3}, {"id": "u5"}],
        agreements=[
            {"id": "zero", "municipality": "M", "share": 0.0, "rooms": [3]},
            {"id": "all", "municipality": "M", "share": 1.0},
        ],
    )
    s = {
        ("a", "u1"): 50,
        ("a", "u2"): 95,
        ("a", "u3"): 90,
        ("a", "u4"): 99,
        ("a", "u5"): 40,
        ("b", "u2"): 10,
        ("c", "u3"): 80,
        ("c", "u1"): 5,
    }
    d["scores"] = [{"citizen": c, "unit": u, "score": v} for (c, u), v in s.items()]
    d["scores"] += [
        {"citizen": c, "unit": u, "score": 0} for c in "bc" for u in ("u1", "u2", "u3", "u4", "u5") if (c, u) not in s
    ]
    return d


def test_assigned_names_unit_and_alternatives():
    """A housed citizen's explanation names the unit, its given score, and each better unit with why it went
    elsewhere."""
    inst, plan = setup(assigned_doc())
    e = explain(inst, plan, "a", lang="en")
    assert e["housed"] and e["assignment"]["unit"] == "u1"
    assert e["assignment"]["score"] == 50 and e["assignment"]["score_source"] == "given in scores"
    alts = {x["unit"]: x for x in e["alternatives"]}
    assert [x["unit"] for x in e["alternatives"]] == ["u4", "u2", "u3", "u5"]  # by score
    assert alts["u2"]["why"] == "taken_more_urgent" and alts["u2"]["taken_by"] == {"citizen": "b", "priority": 1}
    assert alts["u3"]["why"] == "taken_other" and alts["u3"]["taken_by"]["citizen"] == "c"
    assert alts["u4"]["why"] == "cap_full" and alts["u4"]["caps"][0]["pool"] == "zero"
    assert alts["u5"]["why"] == "lower_score"
    text = e["text"]
    assert "housed in unit u1" in text and "given in scores" in text
    assert "taken by b (priority 1, more urgent)" in text
    assert "pool 'zero' share cap full (0/0)" in text


def test_assigned_alternatives_are_capped():
    """Only the requested number of alternatives is listed, the count of all others is kept."""
    inst, plan = setup(assigned_doc())
    e = explain(inst, plan, "a", alternatives=2, lang="en")
    assert len(e["alternatives"]) == 2 and e["other_eligible_units"] == 4


def test_moving_within_a_full_pool_is_not_blocked():
    """A free unit in the same full pool as the citizen's own unit is not blocked by it: moving frees a place."""
    d = doc(
        [{"id": "a"}],
        [{"id": "u1"}, {"id": "u2"}, {"id": "u3", "rooms": 3}],
        agreements=[{"id": "p", "municipality": "M", "share": 0.5}],
        scores=[
            {"citizen": "a", "unit": "u1", "score": 60},
            {"citizen": "a", "unit": "u2", "score": 30},
            {"citizen": "a", "unit": "u3", "score": 20},
        ],
    )
    d["ledger"] = [{"pool": "p", "vacancies_before": 1, "claimed_before": 1}]  # cap = floor(0.5 × 4) − 1 = 1
    inst, plan = setup(d)
    assert plan["usage"]["pools"][0]["used"] == plan["usage"]["pools"][0]["cap"] == 1
    alts = {x["unit"]: x for x in explain(inst, plan, "a", lang="en")["alternatives"]}
    assert alts["u2"]["why"] == "lower_score" and alts["u3"]["why"] == "lower_score"


def test_default_score_parts_add_up():
    """Without given scores the parts, weighted 0.45/0.25/0.20/0.10, give exactly the plan's score."""
    d = doc(
        [
            {
                "id": "a",
                "max_rent_kr": 4000,
                "min_rooms": 1,
                "preferences": [{"department": "D", "weight": 2}, {"department": "D2", "weight": 4}],
            }
        ],
        [{"id": "u1", "rent_kr": 3000, "rooms": 2}, {"id": "u2", "department": "D2", "rent_kr": 3900}],
    )
    d["departments"].append({"id": "D2", "organisation": "O", "municipality": "M"})
    inst, plan = setup(d)
    e = explain(inst, plan, "a", lang="en")
    a = e["assignment"]
    assert a["score_source"] == "default"
    total = sum(p["points"] for p in a["parts"].values())
    assert int(np.floor(total + 0.5)) == a["score"] == plan["assignments"][0]["score"]
    assert a["parts"]["pref"]["value"] == (1.0 if a["unit"] == "u2" else 0.5)
    assert "Score" in e["text"] and "0.45·pref" in e["text"]


def test_score_parts_match_the_independent_checker_on_generated_instance():
    """The parts an explanation shows, recombined, give the score the independent checker
    derives from FORMAT.md, on every eligible pair of a generated instance."""
    from optimizer.check import default_score

    inst = models.from_dict(generate("small", seed=3))
    data = ProblemData.build(inst)
    p = eligible_pairs(data)
    assert len(p) > 100
    ours = combine(score_parts(data, p.citizen, p.unit, p.subsidised))
    theirs = [
        default_score(inst, inst.citizens[c], inst.units[u])
        for c, u in zip(p.citizen.tolist(), p.unit.tolist(), strict=True)
    ]
    assert ours.tolist() == theirs


# --------------------------------------------------------------------------- unassigned: rules


def test_rule_exclusions_grouped_with_rule_text():
    """Every unit of the municipality is listed under the first rule that excludes it, ids compact."""
    d = doc(
        [{"id": "a", "max_rooms": 1, "max_rent_kr": 3000}],
        [
            {"id": "u1"},
            {"id": "u2"},
            {"id": "u3"},
            {"id": "u4", "rooms": 1, "kind": "youth"},
            {"id": "u5", "rooms": 1, "rent_kr": 6000},
            {"id": "u6", "rooms": 1, "rent_kr": 6100},
        ],
    )
    inst, plan = setup(d)
    e = explain(inst, plan, "a", counterfactuals=False, lang="en")
    assert e["code"] == "no_eligible_unit" and e["eligible_units"] == 0
    groups = {g["rule_code"]: g["units"] for g in e["excluded"]}
    assert groups == {1: ["u1", "u2", "u3"], 2: ["u4"], 7: ["u5", "u6"]}
    assert "3 units: rooms outside the citizen's min_rooms..max_rooms (rule 3): u1..u3" in e["text"]
    assert "1 unit: unit kind not among the citizen's kinds (rule 4): u4" in e["text"]
    assert "2 units: rent above max_rent_kr, citizen not subsidy-eligible (rule 8): u5, u6" in e["text"]


def test_compact_ids():
    """Runs of three or more consecutive ids are shortened; the rest are listed; overflow is counted."""
    assert compact_ids(["u1", "u2", "u3", "u5", "u7", "u8", "x", "u10"]) == "u1..u3, u5, u7, u8, x, u10"
    assert compact_ids([f"u{i}" for i in range(0, 40, 2)], limit=3) == "u0, u2, u4, … (+17 more)"
    assert compact_ids(["u08", "u09", "u10"]) == "u08, u09, u10"  # the width changes: not one run
    assert compact_ids(["u01", "u02", "u03"]) == "u01..u03"


# --------------------------------------------------------------------------- unassigned: caps and counterfactuals


def frame_doc() -> dict:
    """Two subsidy-eligible citizens need the subsidy for either unit; the frame has one slot.

    Scores make every optimum unique: a takes u1; with a second slot b takes u2.
    """
    c = [
        {"id": "a", "max_rent_kr": 3500, "subsidy_eligible": True},
        {"id": "b", "priority": 2, "max_rent_kr": 3500, "subsidy_eligible": True},
    ]
    scores = [
        {"citizen": "a", "unit": "u1", "score": 60},
        {"citizen": "a", "unit": "u2", "score": 50},
        {"citizen": "b", "unit": "u1", "score": 10},
        {"citizen": "b", "unit": "u2", "score": 40},
    ]
    return doc(
        c,
        [{"id": "u1", "rent_kr": 4700}, {"id": "u2", "rent_kr": 4700}],
        municipalities=[{"id": "M", "name": "M", "region": "R", "subsidy_frame": 1}],
        scores=scores,
    )


def test_full_frame_blocks_and_one_more_slot_houses():
    """Blocked by the full frame; the counterfactual is +1 frame slot, and re-solving with it houses them."""
    inst, plan = setup(frame_doc())
    assert housed(plan) == {"a"}
    e = explain(inst, plan, "b", lang="en")
    assert e["code"] == "capacity"
    assert e["eligible"]["blocked"][0]["text"] == "subsidy frame of municipality 'M' full (1/1)"
    assert e["eligible"]["to_more_urgent"] == [{"unit": "u1", "citizen": "a", "priority": 1}]
    found = e["counterfactual"]["found"]
    assert (found["kind"], found["municipality"], found["from"], found["to"]) == ("frame", "M", 1, 2)
    assert found["unit"] == "u2" and found["subsidised"]
    assert found["delta"] == {"newly_housed": [], "no_longer_housed": [], "moved": []}
    assert "b" in housed_after(inst, found)
    assert "one more subsidy frame slot for municipality 'M' (frame 1 → 2)" in e["text"]


def test_full_quota_blocks_and_one_more_quota_slot_houses():
    """With a free frame but a full regional grant quota, the answer is one more quota slot (verified by re-solving)."""
    d = frame_doc()
    d["municipalities"][0]["subsidy_frame"] = 5
    d["regions"][0]["grant_quota"] = 1
    inst, plan = setup(d)
    found = counterfactual(inst, plan, "b")["found"]
    assert (found["kind"], found["region"], found["to"]) == ("quota", "R", 2)
    assert "b" in housed_after(inst, found)


def test_department_cap_blocks_and_plus_one_houses():
    """Two vulnerable citizens, mixed-city cap 1: the counterfactual raises max_vulnerable to 2 and houses them."""
    d = doc(
        [{"id": "a", "vulnerable": True}, {"id": "b", "priority": 2, "vulnerable": True}], [{"id": "u1"}, {"id": "u2"}]
    )
    d["departments"][0]["max_vulnerable"] = 1
    inst, plan = setup(d)
    e = explain(inst, plan, "b", lang="en")
    assert e["eligible"]["blocked"][0]["department"] == "D"
    found = e["counterfactual"]["found"]
    assert (found["kind"], found["department"], found["from"], found["to"]) == ("department", "D", 1, 2)
    assert "b" in housed_after(inst, found)
    assert "b" not in housed(solved(inst.to_dict()))


def share_doc(agreement: bool) -> dict:
    """A pool whose ledger leaves one claim (25 % of 98 + 2 vacancies = 25, 24 claimed); two citizens.

    With ``agreement`` the pool is agreement 'p' (share 0.25), else the default pool of O.
    A second organisation's default pool (one free unit, no citizen fits it) must stay as it is.
    """
    d = doc(
        [{"id": "a"}, {"id": "b", "priority": 2}],
        [{"id": "u1"}, {"id": "u2"}, {"id": "v1", "department": "D2", "kind": "elderly"}],
        agreements=[{"id": "p", "municipality": "M", "organisation": "O", "share": 0.25}] if agreement else [],
    )
    d["organisations"].append({"id": "O2", "name": "O2"})
    d["departments"].append({"id": "D2", "organisation": "O2", "municipality": "M"})
    pool = "p" if agreement else "default:M:O"
    d["ledger"] = [{"pool": pool, "vacancies_before": 98, "claimed_before": 24}]
    return d


@pytest.mark.parametrize("agreement", [True, False])
def test_share_point_raises_the_pool_cap_and_houses(agreement):
    """A full pool: the smallest share increase in whole points (25 % → 26 %) raises its cap 1 → 2 and houses them."""
    inst, plan = setup(share_doc(agreement))
    assert housed(plan) == {"a"}
    e = explain(inst, plan, "b", lang="en")
    pool = "p" if agreement else "default:M:O"
    assert e["eligible"]["blocked"][0]["pool"] == pool
    found = e["counterfactual"]["found"]
    assert (found["kind"], found["pool"], found["points"], found["cap_from"], found["cap_to"]) == (
        "share",
        pool,
        1,
        1,
        2,
    )
    assert found["to"] == pytest.approx(0.26)
    if not agreement:
        # a default pool: a new agreement for exactly that organisation's units, carrying the ledger
        assert found["new_agreement"] and found["organisation"] == "O"
    changed = models.from_dict(apply_change(inst, found).to_dict())
    new_plan = solved(changed.to_dict())
    assert "b" in housed(new_plan)
    caps = {p["id"]: p["cap"] for p in new_plan["usage"]["pools"]}
    assert caps[found.get("new_agreement") or "p"] == 2
    assert caps["default:M:O2"] == 0  # the other default pool is untouched


def test_ledger_claim_when_a_share_point_adds_several_slots():
    """400 vacancies in the ledger: one share point adds 4 slots, so the exact cap + 1 is one claim fewer."""
    d = doc(
        [{"id": "a"}, {"id": "b", "priority": 2}],
        [{"id": "u1"}, {"id": "u2"}],
        agreements=[{"id": "p", "municipality": "M", "share": 0.25}],
    )
    d["ledger"] = [{"pool": "p", "vacancies_before": 398, "claimed_before": 99}]  # cap = 100 − 99 = 1
    inst, plan = setup(d)
    found = counterfactual(inst, plan, "b")["found"]
    assert (found["kind"], found["pool"], found["from"], found["to"], found["cap_to"]) == ("ledger", "p", 99, 98, 2)
    assert "would give cap 5" in found["text"]
    assert "b" in housed_after(inst, found)


def test_rent_limit_plus_n_with_the_right_n():
    """Only the rent rule excludes u1 (3,250 kr vs limit 3,000): N = 250, and 249 would not do."""
    d = doc([{"id": "a", "max_rent_kr": 3000}], [{"id": "u1", "rent_kr": 3250}, {"id": "u2", "rent_kr": 3500}])
    inst, plan = setup(d)
    cf = counterfactual(inst, plan, "a")
    found = cf["found"]
    assert (found["kind"], found["n_kr"], found["to"], found["unit"]) == ("rent", 250, 3250, "u1")
    assert housed_after(inst, found) == {"a"}
    assert housed_after(inst, {**found, "to": 3249}) == set()
    assert "rent limit + 250 kr (3,000 kr → 3,250 kr)" in cf["text"]


def test_rent_limit_plus_n_rounds_up_to_whole_kroner():
    """A limit of 3,000.50 kr and a rent of 3,250 kr need 249.50 kr more: N = 250 (249 would not do)."""
    d = doc([{"id": "a", "max_rent_kr": 3000.5}], [{"id": "u1", "rent_kr": 3250}])
    inst, plan = setup(d)
    found = counterfactual(inst, plan, "a")["found"]
    assert found["n_kr"] == 250 and found["to"] == 3250.5
    assert housed_after(inst, {**found, "to": 3249.5}) == set()


def test_rent_limit_plus_n_through_the_subsidy():
    """5,200 kr is affordable with the 1,414 kr subsidy from a limit of 3,786: N = 286 from 3,500."""
    d = doc(
        [{"id": "a", "max_rent_kr": 3500, "subsidy_eligible": True}],
        [{"id": "u1", "rent_kr": 5200}],
        municipalities=[{"id": "M", "name": "M", "region": "R", "subsidy_frame": 1}],
    )
    inst, plan = setup(d)
    e = explain(inst, plan, "a", lang="en")
    assert e["excluded"][0]["rule_code"] == 9
    found = e["counterfactual"]["found"]
    assert (found["kind"], found["n_kr"], found["subsidised"]) == ("rent", 286, True)
    assert housed_after(inst, found) == {"a"}
    assert housed_after(inst, {**found, "to": 3785}) == set()


def test_rooms_plus_one():
    """A citizen kept out only by max_rooms gets 'one room more accepted', verified by re-solving."""
    d = doc([{"id": "a", "max_rooms": 1}], [{"id": "u1", "rooms": 2}])
    inst, plan = setup(d)
    found = counterfactual(inst, plan, "a")["found"]
    assert (found["kind"], found["field"], found["to"]) == ("rooms", "max_rooms", 2)
    assert housed_after(inst, found) == {"a"}


def test_no_single_change_houses_them():
    """Outranked for the only fitting unit; raising the full pool's share frees a unit nobody can use: none
    houses them."""
    d = doc(
        [{"id": "a"}, {"id": "b", "priority": 2}],
        [{"id": "u1"}, {"id": "u2", "kind": "youth"}],
        agreements=[{"id": "half", "municipality": "M", "share": 0.5}],
    )
    inst, plan = setup(d)
    assert housed(plan) == {"a"}
    e = explain(inst, plan, "b", lang="en")
    cf = e["counterfactual"]
    assert e["code"] == "outranked"
    assert cf["found"] is None
    assert [(t["kind"], t["pool"], t["to"]) for t in cf["tried"]] == [("share", "half", 1.0)]
    assert "none of the 1 single change tried would house them" in e["text"]
    for t in cf["tried"]:  # and really none does
        assert "b" not in housed_after(inst, t)


def test_no_eligible_unit_tries_only_the_citizens_own_limits():
    """Without an eligible unit no cap change can help (caps never make a unit eligible): only rent/rooms are tried."""
    d = doc(
        [{"id": "a"}, {"id": "b", "priority": 2, "max_rent_kr": 2000}],
        [{"id": "u1"}, {"id": "u2"}],
        agreements=[{"id": "half", "municipality": "M", "share": 0.5}],
    )
    inst, plan = setup(d)
    cf = counterfactual(inst, plan, "b")
    assert cf["found"] is None
    assert [(t["kind"], t["n_kr"]) for t in cf["tried"]] == [("rent", 1000)]


def test_max_candidates_limits_the_search():
    """With max_candidates 0 nothing is re-solved and the text says how many were left untried."""
    inst, plan = setup(frame_doc())
    cf = counterfactual(inst, plan, "b", max_candidates=0)
    assert cf["found"] is None and cf["tried"] == [] and cf["not_tried"] >= 1
    assert "none of the 0 single changes tried" in cf["text"] and "not tried" in cf["text"]


def test_plan_delta_names_who_else_changes():
    """Raising the frame lets the priority-1 citizen move to a subsidised unit, which frees the unit for b."""
    c = [
        {"id": "a", "max_rent_kr": 4000, "subsidy_eligible": True, "max_rooms": 2},
        {"id": "b", "priority": 2, "max_rent_kr": 4000, "min_rooms": 1, "max_rooms": 1},
    ]
    u = [{"id": "u1", "rooms": 1, "rent_kr": 3000}, {"id": "u2", "rooms": 2, "rent_kr": 5000}]
    d = doc(c, u, municipalities=[{"id": "M", "name": "M", "region": "R", "subsidy_frame": 0}])
    # a prefers u1 only slightly in score, but without a frame slot u1 is a's only option
    inst, plan = setup(d)
    assert housed(plan) == {"a"}
    e = explain(inst, plan, "b", lang="en")
    found = e["counterfactual"]["found"]
    assert found["kind"] == "frame"
    assert found["delta"]["moved"] == [{"citizen": "a", "from": "u1", "to": "u2"}]
    assert housed_after(inst, found) == {"a", "b"}
    assert "a u1→u2" in e["text"]


def test_tie_or_suboptimal_plan_is_reported():
    """A valid plan that leaves a free fitting unit: re-solving the block unchanged houses the citizen."""
    inst = models.from_dict(doc([{"id": "a"}], [{"id": "u1"}]))
    plan = {
        "format": "anvis-plan/1",
        "instance": inst.name,
        "status": "feasible",
        "objective": {"housed_by_priority": {"1": 0}, "total_score": 0.0},
        "assignments": [],
        "unassigned": [],
    }
    e = explain(inst, plan, "a", lang="en")
    assert e["code"] == "time_limit" and e["eligible"]["free"] == ["u1"]
    assert e["counterfactual"]["found"]["kind"] == "none"
    assert "unchanged houses them in u1" in e["text"]


def test_planner_overrides_are_explained_and_kept_when_re_solving():
    """A forbidden unit is listed as excluded by an override, and the re-solve keeps the forbid (b gets u1, not u2)."""
    d = frame_doc()
    d["overrides"] = [
        {"action": "forbid", "citizen": "b", "unit": "u2"},
        {"action": "lock", "citizen": "a", "unit": "u2"},
    ]
    inst, plan = setup(d)
    e = explain(inst, plan, "b", lang="en")
    assert e["eligible"]["overridden"] == ["u2"] and e["eligible_units"] == 1
    assert "excluded by a planner override" in e["text"]
    found = e["counterfactual"]["found"]
    assert found["kind"] == "frame" and found["unit"] == "u1"
    a = explain(inst, plan, "a", lang="en")
    assert a["assignment"]["locked"] and "locked by the planner" in a["text"]


# --------------------------------------------------------------------------- blocks


def test_block_is_the_municipality_without_a_binding_quota():
    """Two municipalities of one region with no quota are independent: each is its own block."""
    d = frame_doc()
    d["municipalities"].append({"id": "M2", "name": "M2", "region": "R", "subsidy_frame": 3})
    d["departments"].append({"id": "D3", "organisation": "O", "municipality": "M2"})
    d["units"].append({"id": "w1", "department": "D3", "rooms": 2, "rent_kr": 4700})
    d["citizens"].append({"id": "z", "municipality": "M2", "max_rent_kr": 3500, "subsidy_eligible": True})
    inst = models.from_dict(d)
    assert block_of(inst, "b")[0] == {"M"}
    d["regions"][0]["grant_quota"] = 1  # now the quota links them
    inst = models.from_dict(d)
    assert block_of(inst, "b")[0] == {"M", "M2"}
    d["municipalities"][1]["subsidy_frame"] = 0  # M2 can never use a grant: not linked
    assert block_of(models.from_dict(d), "b")[0] == {"M"}


def test_restricted_block_has_the_same_optimum():
    """Re-solving a citizen's block alone reaches the plan's optimum restricted to the block (counts and score)."""
    inst = models.from_dict(generate("small", seed=1))
    plan = make_plan(solve(inst)).to_dict()
    by_cit = {c.id: c for c in inst.citizens}
    seen = set()
    for c in inst.citizens:
        munis, _ = block_of(inst, c.id)
        if frozenset(munis) in seen:
            continue
        seen.add(frozenset(munis))
        res = solve(restrict(inst, munis))
        mine = [a for a in plan["assignments"] if by_cit[a["citizen"]].municipality in munis]
        assert res.total_score == pytest.approx(sum(a["score"] for a in mine))
        for p, n in res.housed_by_priority.items():
            assert n == sum(1 for a in mine if by_cit[a["citizen"]].priority == p)
    assert len(seen) > 1


# --------------------------------------------------------------------------- explain_all


def test_explain_all_covers_every_citizen():
    """Every citizen gets a text; housed ones name their plan unit; codes agree with the plan's reasons."""
    inst = models.from_dict(generate("small", seed=2))
    plan = make_plan(solve(inst)).to_dict()
    out = explain_all(inst, plan, lang="en")
    assert list(out) == [c.id for c in inst.citizens]
    assert all(isinstance(v["text"], str) and v["text"] for v in out.values())
    units = {a["citizen"]: a["unit"] for a in plan["assignments"]}
    for cid, v in out.items():
        assert v["housed"] == (cid in units)
        if v["housed"]:
            assert v["unit"] == units[cid] and units[cid] in v["text"]
    codes = {u["citizen"]: u["code"] for u in plan["unassigned"]}
    assert {cid: v["code"] for cid, v in out.items() if not v["housed"]} == codes
    json.dumps(out)


def test_explain_all_feeds_the_round_report():
    """The round report renders explain_all's texts in its "Why" column."""
    import html

    from optimizer.report.html import render_report

    inst, plan = setup(frame_doc())
    out = explain_all(inst, plan, lang="en")
    page = render_report(inst, models.Plan.from_dict(plan), out)
    assert out["b"]["why"] in html.unescape(page) and out["a"]["why"] in html.unescape(page)
    assert out["b"]["text"] == f"Not housed (capacity): {out['b']['why']}"  # the row shows the code
    assert out["a"]["text"].endswith(" " + out["a"]["why"]) and out["a"]["why"].startswith("Best of 1 other")
    assert out["a"]["text"] not in html.unescape(page)  # the row shows unit, rent and score already
    assert out["b"]["text"] not in html.unescape(page)


def test_explain_all_with_counterfactuals_on_tiny():
    """With counterfactuals, every unassigned citizen's text ends with the smallest-change verdict."""
    inst, plan = setup(frame_doc())
    out = explain_all(inst, plan, counterfactuals=True, lang="en")
    assert "Smallest single change: one more subsidy frame slot" in out["b"]["text"]
    assert "counterfactual" not in out["a"]


def test_explain_all_is_fast_on_national_week():
    """explain_all on the national week (~6,000 citizens) takes seconds, not minutes: no dense loops."""
    inst = models.from_dict(generate("national-week"))
    plan = make_plan(solve(inst))
    t = time.perf_counter()
    out = explain_all(inst, plan, lang="en")
    assert time.perf_counter() - t < 10
    assert len(out) == len(inst.citizens) > 5000


# --------------------------------------------------------------------------- errors


def test_unknown_citizen_and_foreign_plan():
    """An unknown id raises UnknownCitizen naming it; a plan naming unknown units raises PlanMismatch."""
    inst, plan = setup(frame_doc())
    with pytest.raises(UnknownCitizen, match="'ghost'"):
        explain(inst, plan, "ghost", lang="en")
    bad = {**plan, "assignments": [{"citizen": "a", "unit": "nope"}]}
    with pytest.raises(PlanMismatch, match="'nope'"):
        context(inst, bad)


# --------------------------------------------------------------------------- CLI


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def files(tmp_path):
    inst_path = tmp_path / "week.json"
    inst_path.write_text(json.dumps(frame_doc()))
    plan_path = tmp_path / "week.plan.json"
    models.write_plan(solved(frame_doc()), plan_path)
    return tmp_path, inst_path, plan_path


def test_cli_text(files):
    """`anvis explain INSTANCE PLAN CITIZEN` prints the explanation and the smallest change; exit 0."""
    _, inst_path, plan_path = files
    r = run("explain", "--lang", "en", inst_path, plan_path, "b")
    assert r.exit_code == 0, r.output
    assert "Citizen b (priority 2" in r.stdout and "not housed (capacity)" in r.stdout
    assert "one more subsidy frame slot" in r.stdout
    r = run("explain", "--lang", "en", inst_path, plan_path, "a")
    assert r.exit_code == 0 and "housed in unit u1" in r.stdout


def test_cli_json_and_no_counterfactual(files):
    """--json writes one JSON document; --no-counterfactual leaves the re-solving out."""
    _, inst_path, plan_path = files
    r = run("explain", "--lang", "en", inst_path, plan_path, "b", "--json")
    assert r.exit_code == 0
    e = json.loads(r.stdout)
    assert e["citizen"] == "b" and e["counterfactual"]["found"]["kind"] == "frame"
    r = run("explain", "--lang", "en", inst_path, plan_path, "b", "--json", "--no-counterfactual")
    assert "counterfactual" not in json.loads(r.stdout)


def test_cli_unknown_citizen_exits_2(files):
    """An unknown citizen: exit 2, one line on stderr naming the id, nothing on stdout, no file written."""
    folder, inst_path, plan_path = files
    before = sorted(p.name for p in folder.iterdir())
    r = run("explain", "--lang", "en", inst_path, plan_path, "ghost")
    assert r.exit_code == 2
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and "'ghost'" in r.stderr
    assert sorted(p.name for p in folder.iterdir()) == before


def test_cli_plan_of_another_instance_exits_2(files, tmp_path):
    """A plan that names units the instance does not have is bad input (exit 2), not a traceback."""
    _, inst_path, _ = files
    other = tmp_path / "other.plan.json"
    plan = solved(frame_doc())
    plan["assignments"][0] = {**plan["assignments"][0], "citizen": "a", "unit": "zz"}
    other.write_text(json.dumps(plan))
    r = run("explain", "--lang", "en", inst_path, other, "a")
    assert r.exit_code == 2 and "'zz'" in r.stderr and "Traceback" not in r.output


def test_cli_round_explain_reads_instance_and_plan_from_the_ledger(tmp_path):
    """`anvis round explain CITIZEN` explains from the round's stored instance and plan, the same
    text as `anvis explain` on those files; an unknown citizen exits 2."""
    from optimizer.rounds import workflow as R

    d = doc([{"id": "a"}, {"id": "b", "priority": 2}], [{"id": "u1"}])
    db = str(tmp_path / "l.db")
    R.open_round(db, models.from_dict(d))
    R.solve_round(db)
    R.commit_round(db)  # round explain shows the latest committed round
    runner = CliRunner()
    r = runner.invoke(main, ["round", "explain", "--db", db, "b", "--no-counterfactual", "--lang", "en"])
    assert r.exit_code == 0, r.output
    inst, plan = R.round_plan(db)
    assert r.output.strip() == explain(inst, plan, "b", counterfactuals=False, lang="en")["text"].strip()
    assert "taken by more urgent citizens" in r.output
    r = runner.invoke(main, ["round", "explain", "--db", db, "nobody"])
    assert r.exit_code == 2 and "unknown citizen 'nobody'" in r.output


# --------------------------------------------------------------------------- one more turn (anvis/2)


def v2_doc(citizens, units, **tables) -> dict:
    """A one-municipality anvis/2 document (see ``conftest.doc``): one rotation default pool per kind."""
    d = doc(citizens, units, **{"agreements": [], **tables})
    d["format"] = "anvis/2"
    return d


def turn_ids(inst: models.Instance, pool: str) -> list[str]:
    """The units of a pool the municipality may be given (turns and offered), by models.pools.turns."""
    from models.pools import turns

    of = models.unit_pools(inst)
    _, may = turns(inst, of, models.pools(inst, of))
    return [u.id for u, p, m in zip(inst.units, of, may.tolist(), strict=True) if p == pool and m]


def test_e5_citizen_e_one_more_turn_in_the_youth_pool():
    """e5's e fits only the youth units y1 and y2, vacancies 1 and 2 of a new pool at a quarter: no
    turn. The smallest share with a turn among them is 50 % (vacancy 2); as a new agreement for
    fsb's youth units in rotation, it leaves the family pool's turns (f4, f5) as they were."""
    from conftest import EXAMPLES

    if not EXAMPLES.is_dir():
        pytest.skip("reference data ../shared is absent")
    inst = models.load(EXAMPLES / "e5-rotation.json")
    plan = solved(inst.to_dict())
    assert "e" not in housed(plan)
    cf = explain(inst, plan, "e", lang="en")["counterfactual"]
    found = cf["found"]
    assert (found["kind"], found["pool"], found["turn_unit"], found["vacancy"]) == (
        "turn",
        "default:101:fsb:youth",
        "y2",
        2,
    )
    assert (found["from"], found["to"], found["points"]) == (0.25, 0.5, 25)
    assert (found["turns_from"], found["turns_to"]) == ([], ["y2"])
    assert found["unit"] == "y2" and found["delta"] == {"newly_housed": [], "no_longer_housed": [], "moved": []}
    assert found["text"].startswith("one more turn in pool 'default:101:fsb:youth': a share of 50% instead of")
    assert (
        "makes unit y2 (vacancy 2 of the pool) the municipality's turn (turns this round 0 → 1: none → y2)"
        in found["text"]
    )
    changed = models.from_dict(apply_change(inst, found).to_dict())
    new = changed.agreements[-1]
    assert (new.id, new.mode, new.kinds, new.share) == ("share-101-fsb", "rotation", ("youth",), 0.5)
    assert turn_ids(changed, new.id) == ["y2"]
    assert turn_ids(changed, "default:101:fsb:family") == ["f4", "f5"] == turn_ids(inst, "default:101:fsb:family")
    after = solved(changed.to_dict())
    assert housed(after) == housed(plan) | {"e"}


def test_one_more_turn_in_an_agreement_pool_may_move_other_turns():
    """Agreement P (rotation, a quarter) over u1..u8: turns u4 and u8. x fits only u6 (3 rooms).
    At 34-37 % u6 is a turn but so are u3 and u6 only (two turns, not one more); at 38 % the turns
    are u3, u6 and u8: the change says so, and y (housed in u4) is no longer housed."""
    units = [{"id": f"u{k}", "rooms": 3 if k == 6 else 2} for k in range(1, 9)]
    citizens = [{"id": "x", "min_rooms": 3, "priority": 2}, {"id": "y", "max_rooms": 2}]
    d = v2_doc(citizens, units, agreements=[{"id": "P", "municipality": "M", "share": 0.25, "mode": "rotation"}])
    inst, plan = setup(d)
    assert housed(plan) == {"y"}
    found = counterfactual(inst, plan, "x")["found"]
    assert (found["kind"], found["pool"], found["turn_unit"], found["to"], found["points"]) == (
        "turn",
        "P",
        "u6",
        0.38,
        13,
    )
    assert (found["turns_from"], found["turns_to"]) == (["u4", "u8"], ["u3", "u6", "u8"])
    assert found["text"] == (
        "one more turn in pool 'P': share of agreement 'P' 25% → 38% (+13 points) makes unit u6 "
        "(vacancy 6 of the pool) the municipality's turn (turns this round 2 → 3: u4, u8 → u3, u6, u8)"
    )
    assert "new_agreement" not in found
    assert found["unit"] == "u6"
    assert housed_after(inst, found) == {"x", "y"}  # y moves to u3 or u8


def test_no_turn_change_for_a_unit_the_citizen_does_not_fit():
    """A rotation pool's non-turns that the citizen does not fit (rent) are no turn candidates: the rent
    change alone is tried, and it cannot help (u1 and u2 are vacancies 1 and 2, no turn)."""
    d = v2_doc([{"id": "x", "max_rent_kr": 3000}], [{"id": "u1", "rent_kr": 4000}, {"id": "u2", "rent_kr": 4000}])
    inst, plan = setup(d)
    cf = counterfactual(inst, plan, "x")
    assert [t["kind"] for t in cf["tried"]] == ["rent"]
    assert cf["found"] is None


# --------------------------------------------------------------------------- Danish (the default)


def two_citizens_doc(scores: dict[tuple[str, str], int], c_max_rooms: int = 2) -> dict:
    """a and c, both priority 1, and units u1 (3 rooms) and u2 (2 rooms) with given scores."""
    return doc(
        [{"id": "a", "max_rooms": 3}, {"id": "c", "max_rooms": c_max_rooms}],
        [{"id": "u1", "rooms": 3}, {"id": "u2"}],
        scores=[{"citizen": c, "unit": u, "score": s} for (c, u), s in scores.items()],
    )


def test_housed_why_names_the_takers_only_unit():
    """a wanted u2 (90 against 50 for u1), but u2 was c's only eligible unit: the report says so."""
    d = two_citizens_doc({("a", "u1"): 50, ("a", "u2"): 90, ("c", "u2"): 10})
    inst, plan = setup(d)
    assert pairs_of(plan) == {("a", "u1"), ("c", "u2")}
    en = explain_all(inst, plan, lang="en")["a"]["text"]
    assert "Best of 1 other eligible unit: u2 (score 90), taken by c (priority 1), for whom it was the only " in en
    da = explain_all(inst, plan)["a"]["text"]
    assert da.startswith("Anvist til u1 (afdeling 'D', score 50; husleje efter tilskud 3.000 kr.).")
    assert "Bedste af 1 anden egnet bolig: u2 (score 90), taget af c (prioritet 1), for hvem den var den eneste " in da


def test_housed_why_names_the_takers_higher_score():
    """c scores 95 on u2 against a's 90: the plan gives u2 to c, and a's text gives both scores."""
    d = two_citizens_doc({("a", "u1"): 50, ("a", "u2"): 90, ("c", "u1"): 10, ("c", "u2"): 95}, c_max_rooms=3)
    inst, plan = setup(d)
    assert pairs_of(plan) == {("a", "u1"), ("c", "u2")}
    assert (
        "taken by c (priority 1), who scores 95 there against 90 here."
        in explain_all(inst, plan, lang="en")["a"]["text"]
    )
    assert "taget af c (prioritet 1), der scorer 95 på den mod 90 her." in explain_all(inst, plan)["a"]["text"]


def test_housed_why_when_the_taker_scores_lower():
    """c scores 80 on u2 against a's 90 but only 5 on u1: the plan as a whole scores higher, in words."""
    d = two_citizens_doc({("a", "u1"): 50, ("a", "u2"): 90, ("c", "u1"): 5, ("c", "u2"): 80}, c_max_rooms=3)
    inst, plan = setup(d)
    assert pairs_of(plan) == {("a", "u1"), ("c", "u2")}  # 130 against 95
    text = explain_all(inst, plan)["a"]["text"]
    assert "taget af c (prioritet 1), der scorer 80 på den mod 90 her, men ellers ville" in text


def test_danish_explanation_of_a_housed_citizen():
    inst, plan = setup(assigned_doc())
    text = explain(inst, plan, "a")["text"]
    assert text.startswith("Borger a (prioritet 2, kommune 'M') er anvist til bolig u1 (afdeling 'D', pulje 'all',")
    assert "Score 50: givet i scores." in text
    assert "taget af b (prioritet 1, mere akut)" in text
    assert "anvisningsretten i pulje 'zero' er opbrugt (0/0)" in text
    assert "ledig, men scorer lavere (40 mod 50)" in text
    assert "huslejegrænse 5.000 kr." in text
    for english in ("housed", "taken", "priority", "score 50:", "free", "pool 'zero' share cap"):
        assert english not in text, english


def test_danish_explanation_of_an_unhoused_citizen_explains_rules_and_code_in_words():
    d = doc(
        [{"id": "a", "max_rent_kr": 3500, "max_rooms": 2}],
        [{"id": "u1", "rooms": 5}, {"id": "u2", "rooms": 6}, {"id": "u3", "rooms": 7}, {"id": "u4", "rent_kr": 4000}],
    )
    inst, plan = setup(d)
    e = explain(inst, plan, "a", counterfactuals=False)
    assert e["code"] == "no_eligible_unit" and e["excluded"][0]["rule"].startswith("rooms outside")  # JSON: English
    text = e["text"]
    assert "er ikke anvist (ingen ledig bolig i denne runde passer til borgerens behov" in text
    assert "huslejegrænse 3.500 kr., værelser 1–2." in text
    assert "3 boliger: antal værelser uden for borgerens min_rooms..max_rooms (regel 3): u1..u3" in text
    assert "1 bolig: husleje over max_rent_kr, borgeren kan ikke få huslejetilskud (regel 8): u4" in text
    assert "no_eligible_unit" not in text
    every = explain_all(inst, plan)["a"]["text"]
    assert every == (
        "Ikke anvist: ingen af de 4 boliger i kommune 'M' er egnede: 3 uden for reglen om værelser (regel 3); "
        "1 uden for reglen om husleje og huslejetilskud (regel 8)."
    )


def test_danish_report_texts_name_no_attribute():
    """As in English (tests/plan/test_privacy.py): explain_all's Danish texts name a full mixed-city cap,
    frame or quota only as "en grænse for boligerne"; explain names it."""
    d = doc(
        [{"id": "v1", "vulnerable": True}, {"id": "v2", "vulnerable": True, "priority": 2}],
        [{"id": "a1"}, {"id": "a2"}],
        departments=[{"id": "D", "organisation": "O", "municipality": "M", "max_vulnerable": 1}],
    )
    inst, plan = setup(d)
    text = explain_all(inst, plan)["v2"]["text"]
    assert "en grænse for boligerne" in text, text
    for word in ("blandet by", "udsat", "tilsagnsramme", "kvote", "huslejegrænse", "værelser"):
        assert word not in text.lower(), word
    assert "loftet for blandet by i afdeling 'D' er opbrugt (1/1)" in explain(inst, plan, "v2")["text"]


def test_cli_explain_language(files):
    """`anvis explain` speaks Danish by default, English with --lang en or ANVIS_LANG=en; --json keeps its keys."""
    _, inst_path, plan_path = files
    da = run("explain", inst_path, plan_path, "b", "--no-counterfactual")
    assert da.exit_code == 0 and da.stdout.startswith("Borger b (prioritet 2")
    en = run("explain", "--lang", "en", inst_path, plan_path, "b", "--no-counterfactual")
    assert en.stdout.startswith("Citizen b (priority 2")
    env = CliRunner(env={"ANVIS_LANG": "en"}).invoke(
        main, ["explain", str(inst_path), str(plan_path), "b", "--no-counterfactual"]
    )
    assert env.stdout == en.stdout
    as_json = [
        json.loads(run("explain", inst_path, plan_path, "b", "--json", "--no-counterfactual", *lang).stdout)
        for lang in ((), ("--lang", "en"))
    ]
    assert as_json[0].keys() == as_json[1].keys()
    assert {k: v for k, v in as_json[0].items() if k != "text"} == {k: v for k, v in as_json[1].items() if k != "text"}
    bad = CliRunner().invoke(main, ["explain", "--lang", "sv", str(inst_path), str(plan_path), "b"])
    assert bad.exit_code == 2 and "sv" in bad.output


def test_danish_counterfactual_frame_change_in_words():
    """The smallest change found (one more frame slot) said in Danish, from the change's fields."""
    inst, plan = setup(frame_doc())
    text = explain(inst, plan, "b")["text"]
    assert (
        "Mindste enkeltændring: én plads mere i tilsagnsrammen for kommune 'M' (ramme 1 → 2) anviser borgeren til u2 "
        "(ny beregning for 1 kommune; 1 ændring prøvet)."
    ) in text
    assert "houses them" not in text and "re-solved" not in text
    every = explain_all(inst, plan, counterfactuals=True)["b"]["text"]
    assert every.endswith(
        "Mindste enkeltændring: én plads mere i tilsagnsrammen for kommune 'M' (ramme 1 → 2) "
        "anviser borgeren til u2 (ny beregning for 1 kommune; 1 ændring prøvet)."
    )


def test_danish_counterfactual_rent_and_rooms_changes():
    d = doc([{"id": "a", "max_rent_kr": 3000}], [{"id": "u1", "rent_kr": 3250}, {"id": "u2", "rent_kr": 3500}])
    inst, plan = setup(d)
    cf = counterfactual(inst, plan, "a")
    assert change_words(cf["found"], "da") == "huslejegrænse + 250 kr. (3.000 kr. → 3.250 kr.)"
    assert change_words(cf["found"], "en") == cf["found"]["text"]
    assert counterfactual_words(cf, "en") == cf["text"]
    rooms = {"kind": "rooms", "field": "max_rooms", "from": 2, "to": 3, "text": "x"}
    assert change_words(rooms, "da") == "ét værelse mere accepteret (max_rooms 2 → 3)"


def test_danish_counterfactual_of_a_share_change_names_the_agreement():
    """A pool change in Danish: the agreement, the share in per cent with a decimal comma, the points and the cap."""
    ch = {"kind": "share", "pool": "p", "from": 0.25, "to": 0.265, "points": 2, "cap_from": 1, "cap_to": 2, "text": ""}
    assert change_words(ch, "da") == "andelen i aftale 'p' 25 % → 26,5 % (+2 procentpoint; loft 1 → 2)"
    ledger = {"kind": "ledger", "pool": "p", "from": 99, "to": 98, "cap_from": 1, "cap_to": 2, "text": ""}
    assert change_words(ledger, "da") == (
        "anvisningsretten i pulje 'p' + 1: én anvisning færre i puljens regnskab (claimed_before 99 → 98; loft 1 → 2)"
    )


def test_danish_free_units_agree_in_number_and_score_parts_are_words():
    """ "1 egnet bolig var ledig" / "2 egnede boliger var ledige"; score parts named in Danish; "… (+N flere)"."""
    inst, plan = setup(frame_doc())
    text = explain(inst, plan, "b", counterfactuals=False)["text"]
    assert (
        "  1 egnet bolig var ledig, men spærret: tilsagnsrammen for huslejetilskud i kommune 'M' er opbrugt (1/1): u2"
        in (text)
    )
    assert "1 ledig, men spærret af et opbrugt loft" in explain_all(inst, plan)["b"]["text"]
    d = doc([{"id": "a", "max_rent_kr": 4000, "min_rooms": 1}], [{"id": "u1", "rent_kr": 3000}])
    inst, plan = setup(d)
    assert "0,45·ønske" in explain(inst, plan, "a")["text"]
    assert "0.45·pref" in explain(inst, plan, "a", lang="en")["text"]
    from optimizer import lang as L

    many = [f"x{i}" for i in range(0, 60, 2)]
    assert L.ids(many).endswith("… (+18 flere)") and L.ids(many, "en") == compact_ids(many)


def test_counterfactual_reports_each_re_solve_in_order_without_citizen_data():
    """The search tells its listener of the block re-solve, then change 1, 2, … with each one's stages."""
    d = json.loads(json.dumps(frame_doc()).replace('"a"', '"secret-a"').replace('"b"', '"secret-b"'))
    d["regions"][0]["grant_quota"] = 1
    d["municipalities"][0]["subsidy_frame"] = 1
    inst, plan = setup(d)
    heard: list[tuple[str, float | None]] = []
    cf = counterfactual(inst, plan, "secret-b", progress=lambda m, f: heard.append((m, f)))
    silent = counterfactual(inst, plan, "secret-b")
    assert cf == silent  # the answer does not depend on the listener
    steps = [m.split(": ")[0] for m, _ in heard]
    assert steps[0] == "re-solving the block as it is"
    tried = [
        f"change {k} of at most {min(len(cf['tried']) + cf['not_tried'], 10)}" for k in range(1, 1 + len(cf["tried"]))
    ]
    changes = [s.split(" (")[0] for s in steps if s.startswith("change ")]
    assert list(dict.fromkeys(changes)) == tried and len(tried) >= 2  # in order, each once in a row
    fractions = [f for _, f in heard if f is not None]
    assert fractions == sorted(fractions) and fractions[0] >= 0 and fractions[-1] <= 1
    assert not any("secret" in m for m, _ in heard)

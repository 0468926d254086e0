"""A simulation under given terms (optimizer.sim.simulate.simulate_terms): the year horizon's weekly loop."""

from __future__ import annotations

import pytest

import models
from models.io import dump_json
from optimizer.sim.simulate import regime_terms, simulate, simulate_terms, with_terms
from optimizer.sim.world import world


@pytest.mark.parametrize("regime", ["rotation", "extended"])
def test_unchanged_terms_give_the_regimes_report(regime):
    w = world(seed=2, scale=0.03)
    want = simulate(weeks=2, seed=2, scale=0.03, regimes=(regime,))["regimes"][regime]
    terms = models.from_dict(regime_terms(w, regime), "terms").to_dict()  # through the instance, as a variant is
    got = simulate_terms(w, terms, weeks=2, name=regime)
    assert want.pop("description") != got.pop("description")
    assert dump_json(got) == dump_json(want)


def test_with_terms_takes_caps_frames_and_quotas_by_id_and_keeps_the_rest():
    w = world(seed=0, scale=0.03)
    terms = regime_terms(w, "rotation")
    assert with_terms(w, terms).departments == w.departments
    dept = terms["departments"][3]["id"]
    terms["departments"][3] = {**terms["departments"][3], "max_vulnerable": 0}
    terms["municipalities"][0] = {**terms["municipalities"][0], "subsidy_frame": 99}
    terms["regions"][0] = {**terms["regions"][0], "grant_quota": 0}
    v = with_terms(w, terms)
    assert v.departments[w.dept_index[dept]]["max_vulnerable"] == 0
    assert v.municipalities[0]["subsidy_frame"] == 99 and v.regions[0]["grant_quota"] == 0
    assert sum(a != b for a, b in zip(v.departments, w.departments, strict=True)) == 1
    assert w.municipalities[0]["subsidy_frame"] != 99  # the world itself is not changed
    assert v.u_rent is w.u_rent and v.u_dept is w.u_dept  # the stock is shared, not copied


def test_the_subsidys_parameters_reach_every_round():
    w = world(seed=0, scale=0.03)
    terms = regime_terms(w, "rotation")
    base = simulate_terms(w, terms, weeks=3)
    richer = simulate_terms(w, {**terms, "parameters": {**terms["parameters"], "subsidy_amount_kr": 3000}}, weeks=3)
    # a larger subsidy lets more citizens afford a unit (rule 8, in the round and in its pre-filter)
    assert richer["totals"]["subsidised"] > base["totals"]["subsidised"]
    assert richer["subsidy"]["taper"]["cost_kr"] > base["subsidy"]["taper"]["cost_kr"]

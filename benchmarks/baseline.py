"""Reference points for the benchmarks (not used by anvis itself).

``consultant``: the same rules as a straightforward PuLP + CBC model, written the
way a competent consultant would (eligible pairs only, lpSum per constraint,
one MILP per lexicographic stage, every group constraint written out).

``flow_floor``: the min-cost-flow relaxation of the same eligible-pair graph
(side constraints dropped), the floor no exact method can beat.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pulp

from optimizer.engine.data import ProblemData
from optimizer.engine.methods.matching import max_weight_matching, packed_weights
from optimizer.engine.model import build
from optimizer.engine.pairs import eligible_pairs


def consultant(inst) -> tuple[dict, float]:
    """Solve lexicographically with PuLP/CBC; returns (housed by priority, total score)."""
    data = ProblemData.build(inst)
    pairs = eligible_pairs(data)
    prob = pulp.LpProblem("baseline", pulp.LpMaximize)
    # PuLP 3 creates variables through the problem (a plain LpVariable is deprecated there)
    new_var = getattr(prob, "add_variable", None) or pulp.LpVariable
    x = {k: new_var(f"x{k}", cat="Binary") for k in range(len(pairs))}
    groups = defaultdict(list)
    for k, (c, u, sub) in enumerate(
        zip(pairs.citizen.tolist(), pairs.unit.tolist(), pairs.subsidised.tolist(), strict=False)
    ):
        groups["c", c].append(k)
        groups["u", u].append(k)
        groups["pool", int(data.u_pool[u])].append(k)
        if data.c_vulnerable[c]:
            groups["dept", int(data.u_dept[u])].append(k)
        if sub:
            groups["frame", int(data.u_muni[u])].append(k)
            groups["quota", int(data.u_region[u])].append(k)
    cap = {
        "c": lambda g: 1,
        "u": lambda g: 1,
        "pool": lambda g: data.pool_cap[g],
        "dept": lambda g: data.dept_cap[g],
        "frame": lambda g: data.muni_frame[g],
        "quota": lambda g: data.region_quota[g],
    }
    for (kind, g), ks in groups.items():
        limit = int(cap[kind](g))
        if limit < len(ks):
            prob += pulp.lpSum(x[k] for k in ks) <= limit
    prio = data.c_prio[pairs.citizen]
    housed = {}
    solver = pulp.PULP_CBC_CMD(msg=False, threads=1)
    for p in inst.priorities:
        ks = np.flatnonzero(prio == p).tolist()
        prob.setObjective(pulp.lpSum(x[k] for k in ks))
        prob.solve(solver)
        housed[p] = round(pulp.value(prob.objective) or 0)
        prob += pulp.lpSum(x[k] for k in ks) >= housed[p]
    prob.setObjective(pulp.lpSum(float(s) * x[k] for k, s in enumerate(pairs.score.tolist())))
    prob.solve(solver)
    return housed, float(pulp.value(prob.objective) or 0)


def flow_floor(inst) -> float:
    """Time-relevant work of the floor: pairs, then one maximum-weight matching; returns its weight."""
    data = ProblemData.build(inst)
    pairs = eligible_pairs(data)
    milp = build(data, pairs)
    w = packed_weights(data, milp)
    found = max_weight_matching(milp, w) if w is not None else None
    return float(w @ found[0]) if found else float("nan")

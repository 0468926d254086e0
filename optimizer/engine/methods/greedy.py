"""A greedy plan: the warm start of every solve and a baseline for tests.

Citizens are served most urgent first, each pair taken in order of score
where every cap still has room. The plan is valid, rarely optimal.
"""

from __future__ import annotations

import numpy as np

from optimizer.engine.data import ProblemData
from optimizer.engine.model import Milp


def greedy(data: ProblemData, milp: Milp) -> np.ndarray:
    """A valid 0/1 solution of ``milp`` (one entry per column)."""
    p = milp.pairs
    x = np.zeros(len(p), dtype=np.int8)
    if len(p) == 0:
        return x
    order = np.lexsort((p.unit, p.citizen, -p.score, data.c_prio[p.citizen]))
    cit_free = np.ones(data.n_citizens, bool)
    unit_free = np.ones(data.n_units, bool)
    pool_left = data.pool_cap.copy()
    dept_left = data.dept_cap.copy()
    frame_left = data.muni_frame.copy()
    quota_left = data.region_quota.copy()
    ci, ui, sub = p.citizen.tolist(), p.unit.tolist(), p.subsidised.tolist()
    upool, udept, umuni, ureg = (a.tolist() for a in (data.u_pool, data.u_dept, data.u_muni, data.u_region))
    vul = data.c_vulnerable.tolist()
    for k in order.tolist():
        c, u = ci[k], ui[k]
        if not (cit_free[c] and unit_free[u]):
            continue
        if pool_left[upool[u]] <= 0:
            continue
        if vul[c] and dept_left[udept[u]] <= 0:
            continue
        if sub[k] and (frame_left[umuni[u]] <= 0 or quota_left[ureg[u]] <= 0):
            continue
        x[k] = 1
        cit_free[c] = unit_free[u] = False
        pool_left[upool[u]] -= 1
        if vul[c]:
            dept_left[udept[u]] -= 1
        if sub[k]:
            frame_left[umuni[u]] -= 1
            quota_left[ureg[u]] -= 1
    return x

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
    # Python lists and bytearrays: the loop reads them by Python int, where a numpy
    # array's item costs more (a national week's 15 MILP blocks: about 8 -> 7 ms)
    cit_free = bytearray(b"\x01") * data.n_citizens
    unit_free = bytearray(b"\x01") * data.n_units
    pool_left = data.pool_cap.tolist()
    dept_left = data.dept_cap.tolist()
    frame_left = data.muni_frame.tolist()
    quota_left = data.region_quota.tolist()
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
        cit_free[c] = unit_free[u] = 0
        pool_left[upool[u]] -= 1
        if vul[c]:
            dept_left[udept[u]] -= 1
        if sub[k]:
            frame_left[umuni[u]] -= 1
            quota_left[ureg[u]] -= 1
    return x

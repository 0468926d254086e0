"""The price of every binding limit: what one more (and one fewer) of it would change, exactly.

For each limit the base plan uses up (a choice pool's cap, a rotation pool's turns, a
department's mixed-city cap, a municipality's subsidy frame, a region's grant quota),
the instance is changed so that the limit is one more, and one fewer, and re-solved;
the gain is the difference of the two optima (FORMAT.md §4 form: housed per priority
and total score, and the weighted value where that is the objective). Nothing is
estimated: each gain is the difference of two exact solves.

Only the limit's **block** is re-solved: its region, which nothing couples to any
other (citizens are housed in their own municipality; pools, caps and frames are per
municipality, quotas per region), so the gain on the block is the gain on the whole
instance (the lexicographic optimum of independent blocks is the sum of theirs).

**Warm starts.** Each ±1 re-solve starts from the block's optimum (``warm_start``):
one more of a limit only relaxes the block, so its optimum is a feasible start of the
+1 solve as it is; for one fewer, :func:`minus_one_start` removes the least valuable
assignment that uses the limit (a rotation pool's: whatever stops being eligible is
left out by the engine's repair, :func:`optimizer.engine.start.start_columns`). A start
never changes an optimum's value, so the gains are the same with and without it.

How a limit moves by one:

- frame, grant quota, mixed-city cap: the number ± 1 (an unlimited one never binds);
- a choice pool's cap ``floor(share × (Vb + V)) − Cb``: its ledger row, with the
  fewest added earlier vacancies ``Vb`` and then ``Cb`` set so that the cap is exactly
  one more or one fewer (usually ``claimed_before`` ∓ 1);
- a rotation pool's turns: the nearest share that gives one turn more (fewer), as a
  ``share`` change of :mod:`optimizer.scenario.changes` (a default pool becomes an
  appended agreement, its ledger row moved with it). Which units are turns follows
  from that share, as FORMAT.md §6 rule 4 says.

**Estimates.** Limits past ``max_exact`` (all of them with ``max_exact=0``) are not
re-solved: their gains are LP duals (:func:`lp_dual_gains`), labelled ``"estimate":
"lp_dual"``. Each figure (housed of one priority, the total score, the weighted value)
is the dual of the limit's row in the LP relaxation that maximises that figure alone,
over the whole instance with its locks applied: the slope of that figure's LP optimum
in the limit, the same for one more and one fewer. It ignores the lexicographic order
of the figures and integrality, so it can over- or under-state the exact gain; a
rotation pool's turns have no row (its turns decide which pairs exist), so its
estimate is ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

import models
from models.pools import EPS, Pool, pools
from optimizer.engine.start import Start
from optimizer.explain.counterfactual import restrict
from optimizer.scenario.changes import apply_changes

if TYPE_CHECKING:
    from optimizer.engine.solve import Result

__all__ = [
    "ESTIMATE",
    "PRICES_FORMAT",
    "Limit",
    "binding_limits",
    "lp_dual_gains",
    "minus_one_start",
    "move_limit",
    "prices",
]

#: The label of an estimated price (``"estimate"`` of its row).
ESTIMATE = "lp_dual"

#: The ``format`` of the prices document.
PRICES_FORMAT = "anvis-prices/1"
# The largest number of earlier vacancies tried when a pool's cap is moved through its ledger.
_MAX_LEDGER_STEPS = 10_000


@dataclass(frozen=True)
class Limit:
    """A limit the base plan uses up.

    Attributes
    ----------
    kind
        ``"frame"`` (a municipality), ``"quota"`` (a region), ``"department"`` (its
        mixed-city cap), ``"pool"`` (a choice pool's cap, or a rotation pool's turns
        and offered units).
    id
        The municipality, region, department or pool.
    limit, used
        The limit and what the plan uses of it.
    region
        The region whose block is re-solved.
    """

    kind: str
    id: str
    limit: int
    used: int
    region: str


def binding_limits(inst: models.Instance, plan: models.Plan) -> list[Limit]:
    """Every limit the plan uses up and some pair the rules allow would use more of.

    In the order of the plan's usage tables. A pool binds only while it has more
    units than its cap allows; unlimited caps and quotas never bind; a full limit
    that no eligible pair can use (a mixed-city cap of 0 where no vulnerable citizen
    fits, a frame of 0 where nobody needs a subsidy) binds nothing: one more of it
    would change nothing, so it is left out. Rotation pools are kept whenever all
    their turns are used, as another turn can make a unit assignable that no pair
    may take now.
    """
    from optimizer.engine.data import ProblemData
    from optimizer.engine.pairs import eligible_pairs

    usage = plan.usage
    if usage is None:
        return []
    data = ProblemData.build(inst)
    pairs = eligible_pairs(data)
    unit, sub = pairs.unit, pairs.subsidised
    vulnerable = data.c_vulnerable[pairs.citizen]
    touched = {
        "pool": {data.pool_list[i].id for i in np.unique(data.u_pool[unit]).tolist()},
        "department": {inst.departments[i].id for i in np.unique(data.u_dept[unit[vulnerable]]).tolist()},
        "frame": {inst.municipalities[i].id for i in np.unique(data.u_muni[unit[sub]]).tolist()},
        "quota": {inst.regions[i].id for i in np.unique(data.u_region[unit[sub]]).tolist()},
    }
    region = {m.id: m.region for m in inst.municipalities}
    dept_muni = {d.id: d.municipality for d in inst.departments}
    pool_map = pools(inst)
    out: list[Limit] = []
    for p in usage.pools:
        q = pool_map.get(p.id)
        if q is None or p.used < p.cap or p.cap >= q.vacancies + q.offered:
            continue
        if q.mode == "rotation" or p.id in touched["pool"]:
            out.append(Limit("pool", p.id, p.cap, p.used, region[q.municipality]))
    for d in usage.departments:
        if d.max_vulnerable is not None and d.used >= d.max_vulnerable and d.id in touched["department"]:
            out.append(Limit("department", d.id, d.max_vulnerable, d.used, region[dept_muni[d.id]]))
    for f in usage.frames:
        if f.frame is not None and f.used >= f.frame and f.municipality in touched["frame"]:
            out.append(Limit("frame", f.municipality, f.frame, f.used, region[f.municipality]))
    for q_ in usage.quotas:
        if q_.quota is not None and q_.used >= q_.quota and q_.region in touched["quota"]:
            out.append(Limit("quota", q_.region, q_.quota, q_.used, q_.region))
    return out


def prices(
    inst: models.Instance,
    backend: str = "auto",
    time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_exact: int | None = None,
    warm_start: bool = True,
) -> dict[str, Any]:
    """The exact gain of one more and one fewer of every binding limit, sorted by value.

    Parameters
    ----------
    inst
        The instance.
    backend, time_limit
        Passed to each solve (:func:`optimizer.engine.solve.solve`).
    max_exact
        Re-solve only the first this many binding limits (in the order of
        :func:`binding_limits`); the others get LP-dual estimates (:func:`lp_dual_gains`),
        their rows labelled ``"estimate": "lp_dual"``. ``None``: all exact; 0: all estimated.
    progress
        Called with (limits priced, limits in all).
    warm_start
        Start each ±1 re-solve from the block's optimum (see the module docstring);
        the result is the same either way, only the time differs.

    Returns
    -------
    dict
        ``format`` ``anvis-prices/1``, the instance's name and hash, the base
        ``status`` and ``objective``, and ``limits``: per binding limit its ``kind``,
        ``id``, ``limit``, ``used``, ``gain_plus_one`` and ``gain_minus_one`` (each
        ``{"housed_by_priority", "total_score"[, "value"]}``, or ``None`` where the
        limit cannot move that way, e.g. below 0), and ``plus_one`` / ``minus_one``:
        how the limit was moved, in words. Sorted by ``gain_plus_one`` in the
        objective's order (the most valuable first), then kind and id. Statuses other
        than ``optimal`` of any solve are listed in ``warnings``. An estimated row has
        ``"estimate": "lp_dual"`` and float gains; exact rows have no ``estimate``.
    """
    from optimizer.engine.solve import solve
    from optimizer.plan.build import make_plan

    plan = make_plan(solve(inst, backend=backend, time_limit=time_limit))
    limits = binding_limits(inst, plan)
    prios = [str(p) for p in inst.priorities]
    weighted = inst.parameters.objective == "weighted"
    munis: dict[str, set[str]] = {}
    for m in inst.municipalities:
        munis.setdefault(m.region, set()).add(m.id)
    blocks: dict[str, tuple[models.Instance, dict[str, Any], Result]] = {}
    warnings: list[str] = [] if plan.status == "optimal" else [f"base: status {plan.status}"]

    def optimum(block: models.Instance, label: str, start: Start | None = None) -> tuple[dict[str, Any], Result]:
        result = solve(block, backend=backend, time_limit=time_limit, start=start if warm_start else None)
        if str(result.status) != "optimal":
            warnings.append(f"{label}: status {result.status}")
        figures = {
            "housed_by_priority": {p: result.housed_by_priority.get(int(p), 0) for p in prios},
            "total_score": float(result.total_score),
            "value": result.value,
        }
        return figures, result

    if max_exact is not None and (not isinstance(max_exact, int) or isinstance(max_exact, bool) or max_exact < 0):
        raise ValueError(f"max_exact must be a whole number ≥ 0, got {max_exact!r}")
    n_exact = len(limits) if max_exact is None else min(max_exact, len(limits))
    estimates = lp_dual_gains(inst, limits[n_exact:]) if n_exact < len(limits) else []
    rows: list[dict[str, Any]] = []
    for lim, est in zip(limits[n_exact:], estimates, strict=True):
        how = None if est is None else "estimate: the LP dual of its row"
        rows.append(
            {
                "kind": lim.kind,
                "id": lim.id,
                "limit": lim.limit,
                "used": lim.used,
                "estimate": ESTIMATE,
                "gain_plus_one": est,
                "plus_one": how,
                "gain_minus_one": None if est is None or lim.limit < 1 else _negated(est),
                "minus_one": None if lim.limit < 1 else how,
            }
        )
    for n, lim in enumerate(limits[:n_exact]):
        if lim.region not in blocks:
            block = restrict(inst, munis[lim.region])
            blocks[lim.region] = (block, *optimum(block, f"region {lim.region}"))
        block, before, base = blocks[lim.region]
        row: dict[str, Any] = {"kind": lim.kind, "id": lim.id, "limit": lim.limit, "used": lim.used}
        for step, key in ((1, "plus_one"), (-1, "minus_one")):
            moved = move_limit(block, lim, step)
            if moved is None:
                row[f"gain_{key}"], row[key] = None, None
                continue
            changed, how = moved
            start = base.start() if step > 0 else minus_one_start(base, lim)
            after, _ = optimum(changed, f"{lim.kind} {lim.id} {step:+d}", start)
            row[f"gain_{key}"] = _gain(before, after, weighted)
            row[key] = how
        rows.append(row)
        if progress is not None:
            progress(n + 1, n_exact)
    rows.sort(key=lambda r: (_rank(r["gain_plus_one"], prios, weighted), r["kind"], r["id"]))
    objective = plan.to_dict()["objective"]
    return {
        "format": PRICES_FORMAT,
        "instance": inst.name,
        "instance_sha256": inst.sha256,
        "status": plan.status,
        "objective": objective,
        "limits": rows,
        "warnings": warnings,
    }


def lp_dual_gains(inst: models.Instance, limits: list[Limit]) -> list[dict[str, Any] | None]:
    """The LP-dual estimate of the gain of one more of each limit (``None`` for a rotation pool's turns).

    One LP relaxation per figure (housed of each priority, the total score, and the
    weighted value where that is the objective), each maximising that figure alone over
    the instance's model with its locks applied (:func:`optimizer.engine.model.build`);
    a limit's gain in a figure is the dual of its row (0 where the model has no row for
    it: a limit that cannot bind the relaxation). Rounded to 4 decimals.
    """
    from scipy.optimize import linprog

    from optimizer.engine.data import ProblemData
    from optimizer.engine.model import DEPARTMENT, FRAME, POOL, QUOTA, build
    from optimizer.engine.overrides import apply_overrides
    from optimizer.engine.pairs import eligible_pairs

    full = ProblemData.build(inst)
    fixed = apply_overrides(full, eligible_pairs(full))
    data = fixed.data
    milp = build(data, fixed.pairs)
    ids = {
        POOL: [p.id for p in data.pool_list],
        DEPARTMENT: [d.id for d in inst.departments],
        FRAME: [m.id for m in inst.municipalities],
        QUOTA: [r.id for r in inst.regions],
    }
    kinds = {"pool": POOL, "department": DEPARTMENT, "frame": FRAME, "quota": QUOTA}
    row_of = {
        (int(k), ids[int(k)][int(g)]): r
        for r, (k, g) in enumerate(zip(milp.row_kind.tolist(), milp.row_group.tolist(), strict=True))
        if int(k) in ids
    }
    prio = data.c_prio[milp.pairs.citizen]
    figures: list[tuple[str, np.ndarray]] = [(str(p), (prio == p).astype(float)) for p in inst.priorities]
    figures.append(("total_score", milp.pairs.score.astype(float)))
    if inst.parameters.objective == "weighted":
        from optimizer.engine.solve import objectives

        figures.append(("value", objectives(data, milp)[0][1]))
    duals: dict[str, np.ndarray] = {}
    hi = np.ones(milp.n_cols) if milp.col_hi is None else milp.col_hi
    for name, cost in figures:
        if milp.n_cols == 0 or milp.n_rows == 0:
            duals[name] = np.zeros(milp.n_rows)
            continue
        res = linprog(-cost, A_ub=milp.A.scipy(), b_ub=milp.row_hi, bounds=np.column_stack([np.zeros(milp.n_cols), hi]))
        # the relaxation is feasible (x = 0) and bounded (0 ≤ x ≤ 1): anything else is a solver fault
        if res.status != 0:
            raise RuntimeError(f"the LP relaxation for {name} ended: {res.message}")
        duals[name] = -np.asarray(res.ineqlin.marginals, dtype=float)
    out: list[dict[str, Any] | None] = []
    pool_map = pools(inst)
    for lim in limits:
        if lim.kind == "pool" and pool_map[lim.id].mode == "rotation":
            out.append(None)
            continue
        r = row_of.get((kinds[lim.kind], lim.id))

        def dual(name: str, r: int | None = r) -> float:
            return 0.0 if r is None else _round(round(float(duals[name][r]), 4))

        gain: dict[str, Any] = {
            "housed_by_priority": {str(p): dual(str(p)) for p in inst.priorities},
            "total_score": dual("total_score"),
        }
        if "value" in duals:
            gain["value"] = dual("value")
        out.append(gain)
    return out


def _negated(gain: Mapping[str, Any]) -> dict[str, Any]:
    """The estimate of one fewer: the same slope, the other way."""
    out: dict[str, Any] = {"housed_by_priority": {p: _round(-n) for p, n in gain["housed_by_priority"].items()}}
    out.update({k: _round(-v) for k, v in gain.items() if k != "housed_by_priority"})
    return out


def _gain(before: Mapping[str, Any], after: Mapping[str, Any], weighted: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "housed_by_priority": {p: after["housed_by_priority"][p] - n for p, n in before["housed_by_priority"].items()},
        "total_score": _round(after["total_score"] - before["total_score"]),
    }
    if weighted:
        out["value"] = _round(after["value"] - before["value"])
    return out


def _round(x: float) -> float:
    """A difference of two sums of scores, without the float noise of the subtraction."""
    return round(x, 9) + 0.0


def _rank(gain: Mapping[str, Any] | None, prios: list[str], weighted: bool) -> tuple[float, ...]:
    """Sort key: the most valuable gain first (lexicographic by priority, then score; or the value)."""
    if gain is None:
        return (math.inf,)
    if weighted:
        return (-gain["value"], -gain["total_score"])
    return (*(-gain["housed_by_priority"][p] for p in prios), -gain["total_score"])


# --------------------------------------------------------------------------- moving a limit


def minus_one_start(base: Result, lim: Limit) -> Start:
    """A start for the solve with ``lim`` one fewer: ``base``'s plan using one fewer of it.

    ``base`` is the block's :class:`~optimizer.engine.solve.Result`. Of the assignments that
    use the limit (a municipality's subsidised ones for a frame, a region's for a quota,
    a department's vulnerable citizens for its mixed-city cap, a choice pool's), the
    least valuable one that no override locks is removed: of the least urgent priority,
    then the lowest score, then the last citizen and unit. So the start uses one fewer
    of the limit and breaks no other, and is feasible for the moved block as it is. A
    rotation pool's turns decide which units are eligible at all: its start is the base
    plan, from which the engine leaves out the pairs that stop being eligible.
    """
    data, chosen = base.data, base.chosen
    unit = chosen.unit
    if lim.kind == "frame":
        uses = chosen.subsidised & (data.u_muni[unit] == _position(data.inst.municipalities, lim.id))
    elif lim.kind == "quota":
        uses = chosen.subsidised & (data.u_region[unit] == _position(data.inst.regions, lim.id))
    elif lim.kind == "department":
        uses = data.c_vulnerable[chosen.citizen] & (data.u_dept[unit] == _position(data.inst.departments, lim.id))
    else:
        uses = data.u_pool[unit] == _position(data.pool_list, lim.id)
        if data.pool_list[_position(data.pool_list, lim.id)].mode == "rotation":
            uses = np.zeros(len(chosen), bool)
    locked = base.locked
    if locked is not None and len(locked):
        n = max(data.n_units, 1)
        uses &= ~np.isin(chosen.citizen.astype(np.int64) * n + unit, locked.citizen.astype(np.int64) * n + locked.unit)
    start = base.start()
    candidates = np.flatnonzero(uses)
    if len(candidates) == 0:
        return start
    citizens, units = data.inst.citizens, data.inst.units
    # least valuable: the least urgent priority, then the lowest score, then the last ids
    worst = max(
        candidates.tolist(),
        key=lambda k: (
            int(data.c_prio[chosen.citizen[k]]),
            -float(chosen.score[k]),
            citizens[int(chosen.citizen[k])].id,
            units[int(unit[k])].id,
        ),
    )
    return start - {(citizens[int(chosen.citizen[worst])].id, units[int(unit[worst])].id)}


def _position(items: Any, id_: str) -> int:
    """The index of the item with this id (−1 if none)."""
    return next((i for i, item in enumerate(items) if item.id == id_), -1)


def move_limit(block: models.Instance, lim: Limit, step: int) -> tuple[models.Instance, str] | None:
    """An instance (or block) with the limit one more (``step`` 1) or one fewer (−1), and how, in words.

    ``None`` where the limit cannot move so: below 0, or a pool whose share cannot
    give another turn or cap.
    """
    if lim.kind in ("frame", "quota", "department"):
        if lim.limit + step < 0:
            return None
        term, key = {
            "frame": ("subsidy_frame", "municipality"),
            "quota": ("grant_quota", "region"),
            "department": ("max_vulnerable", "department"),
        }[lim.kind]
        changed = apply_changes(block, [{"term": term, key: lim.id, "value": lim.limit + step}])
        return changed, f"{term} of {lim.id!r}: {lim.limit} → {lim.limit + step}"
    pool = pools(block)[lim.id]
    if pool.mode == "rotation":
        return _rotation_moved(block, pool, step)
    return _choice_moved(block, pool, step)


def _choice_moved(block: models.Instance, pool: Pool, step: int) -> tuple[models.Instance, str] | None:
    """A choice pool's cap ± 1 through its ledger row: the fewest added earlier vacancies, then the claims."""
    target = pool.cap + step
    if target < 0:
        return None
    for vb in range(pool.vacancies_before, pool.vacancies_before + _MAX_LEDGER_STEPS):
        floor = math.floor(pool.share * (vb + pool.vacancies) + EPS)
        cb = floor - target
        if 0 <= cb <= vb:
            break
    else:
        return None  # a share of 0 never gives a cap above 0
    rows = [r for r in block.terms()["ledger"] if r["pool"] != pool.id]
    # only the ledger changes: the citizens, units and scores of the block are not checked again
    changed = models.with_terms(block, ledger=[*rows, {"pool": pool.id, "vacancies_before": vb, "claimed_before": cb}])
    how = f"ledger of pool {pool.id!r}: claimed_before {pool.claimed_before} → {cb}"
    if vb != pool.vacancies_before:
        how += f", vacancies_before {pool.vacancies_before} → {vb}"
    return changed, how + f" (cap {pool.cap} → {target})"


def _turns(share: Fraction | float, before: int, vacancies: int) -> int:
    """Turns among vacancies ``before + 1 … before + vacancies`` (FORMAT.md §6 rule 4, telescoped)."""
    s = float(share)
    return math.floor(s * (before + vacancies) + EPS) - math.floor(s * before + EPS)


def _rotation_moved(block: models.Instance, pool: Pool, step: int) -> tuple[models.Instance, str] | None:
    """A rotation pool with one turn more (fewer): the nearest share whose turns differ so."""
    vb, v = pool.vacancies_before, pool.vacancies
    now = _turns(pool.share, vb, v)
    # the number of turns changes only where share × (vb + v) or share × vb crosses a whole number
    candidates = {Fraction(j, x) for x in (vb, vb + v) if x > 0 for j in range(x + 1)}
    if step > 0:
        found = sorted(s for s in candidates if s > Fraction(pool.share) and _turns(s, vb, v) > now)
    else:
        found = sorted((s for s in candidates if s < Fraction(pool.share) and _turns(s, vb, v) < now), reverse=True)
    if not found:
        return None
    share = float(found[0])
    changed = apply_changes(block, [{"term": "share", "pool": pool.id, "value": share}])
    turns = _turns(share, vb, v)
    return changed, f"share of pool {pool.id!r}: {pool.share:.4g} → {share:.4g} (turns {now} → {turns})"

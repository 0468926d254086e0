"""An instance and its plan compiled once for many explanations, with the helpers they share.

:func:`context` reads the plan (a :class:`models.Plan`, or a plan document,
which it checks against the instance) into arrays: who holds which unit, what
every cap holds (:mod:`optimizer.plan.usage`), the planner overrides in force.
:func:`citizen_units` gives, for one citizen, every unit of their municipality
with the rule that excludes it, the subsidy and the score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models import Instance, Plan
from models.schema import Override
from optimizer.engine.data import ProblemData
from optimizer.engine.pairs import ELIGIBLE, candidates, default_scores, failure_codes
from optimizer.plan.usage import ID_FIELD, FullCap, Used, assigned_pairs, count_used, full_caps


class UnknownCitizen(LookupError):
    """The asked-about citizen id is not in the instance."""

    def __init__(self, citizen_id: str):
        self.citizen_id = citizen_id
        super().__init__(f"unknown citizen {citizen_id!r}")

    def __str__(self) -> str:
        return str(self.args[0])


class PlanMismatch(ValueError):
    """The plan names a citizen or unit the instance does not have (another instance's plan)."""


@dataclass(eq=False)
class Context:
    """An instance and a plan, compiled once for many explanations.

    Attributes
    ----------
    data
        The instance's arrays.
    plan
        The plan.
    unit_of
        Per citizen, the index of the assigned unit, or -1.
    taker
        Per unit, the index of the citizen it was assigned to, or -1.
    used
        What the plan's assignments use of every pool, department cap, frame and quota.
    warnings
        Problems with the pair of files (e.g. the plan was made for other content).
    forbidden
        Forbidden pairs as sorted keys ``citizen * n_units + unit``.
    reserved
        Per unit, whether a planner reserved it.
    locked
        Per citizen, whether the plan gives them the unit a planner locked.
    overrides
        The planner overrides in force: the instance's, else those the plan honours.
    """

    data: ProblemData
    plan: Plan
    unit_of: np.ndarray
    taker: np.ndarray
    used: Used
    warnings: list[str] = field(default_factory=list)
    forbidden: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    reserved: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    locked: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    overrides: tuple[Override, ...] = ()
    given: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)  # cache of given_scores()

    @property
    def inst(self) -> Instance:
        """The instance."""
        return self.data.inst

    def subsidised(self, c: Any, u: Any) -> Any:
        """Whether the pair(s) are only affordable with the subsidy (rule 8)."""
        return self.data.u_rent[u] > self.data.c_max_rent[c]

    def overridden(self, ci: Any, ui: Any) -> np.ndarray:
        """Whether a planner override (forbid, or reserve of the unit) excludes each pair."""
        out = self.reserved[ui] if len(self.reserved) else np.zeros(len(ui), bool)
        if len(self.forbidden):
            out = out | np.isin(np.asarray(ci, np.int64) * self.data.n_units + ui, self.forbidden)
        return out

    def given_scores(self) -> tuple[np.ndarray, np.ndarray]:
        """The instance's given scores as sorted keys ``citizen * n_units + unit`` and values."""
        if self.given is None:
            data, given = self.data, self.inst.scores
            if len(given):
                cidx, uidx = data.citizen_index, data.unit_index
                keys = np.fromiter((cidx[c] for c in given.citizen), np.int64, len(given)) * data.n_units + np.fromiter(
                    (uidx[u] for u in given.unit), np.int64, len(given)
                )
                order = np.argsort(keys, kind="stable")
                self.given = (keys[order], np.asarray(given.score, float)[order])
            else:
                self.given = (np.zeros(0, np.int64), np.zeros(0))
        return self.given

    def index_of(self, citizen_id: str) -> int:
        """The index of a citizen.

        Raises
        ------
        UnknownCitizen
            When the id is not in the instance.
        """
        c = self.data.citizen_index.get(citizen_id)
        if c is None:
            raise UnknownCitizen(citizen_id)
        return c

    def who(self, t: int) -> dict[str, Any]:
        """Citizen ``t`` as other citizens' explanations may show them: id and priority only."""
        return {"citizen": self.inst.citizens[t].id, "priority": int(self.data.c_prio[t])}

    def with_overrides(self, inst: Instance) -> Instance:
        """The instance carrying the overrides the plan honours (for re-solving)."""
        if not self.overrides or inst.overrides:
            return inst
        return inst.replace(overrides=self.overrides)


def as_plan(inst: Instance, plan: Plan | Mapping[str, Any]) -> Plan:
    """A plan of ``inst``: a :class:`models.Plan` as is, a plan document checked and read.

    Raises
    ------
    PlanMismatch
        When the document assigns a citizen or unit the instance does not have.
    models.InstanceError
        When the document is not a well-formed plan (naming every malformed field).
    """
    if isinstance(plan, Plan):
        return plan
    cids, uids = {c.id for c in inst.citizens}, {u.id for u in inst.units}
    for a in plan.get("assignments") or []:
        cid, uid = (a.get("citizen"), a.get("unit")) if isinstance(a, Mapping) else (None, None)
        if cid not in cids:
            raise PlanMismatch(f"the plan assigns citizen {cid!r}, who is not in the instance")
        if uid not in uids:
            raise PlanMismatch(f"the plan assigns unit {uid!r}, which is not in the instance")
    return Plan.from_dict(plan)


def context(inst: Instance, plan: Plan | Mapping[str, Any]) -> Context:
    """Compile an instance and its plan for explanations.

    Parameters
    ----------
    inst
        The validated instance the plan was made for.
    plan
        Its plan, or an ``anvis-plan/1`` document.

    Returns
    -------
    Context

    Raises
    ------
    PlanMismatch
        When the plan assigns a citizen or unit the instance does not have.
    """
    plan = as_plan(inst, plan)
    data = ProblemData.build(inst)
    cidx, uidx = data.citizen_index, data.unit_index
    try:
        ci, ui, sub = assigned_pairs(data, plan)
    except KeyError:
        as_plan(inst, plan.to_dict())  # names the unknown id
        raise
    unit_of = np.full(data.n_citizens, -1, np.int64)
    taker = np.full(data.n_units, -1, np.int64)
    unit_of[ci] = ui
    taker[ui] = ci
    warnings = []
    if plan.instance_sha256 and plan.instance_sha256 != inst.sha256:
        warnings.append("the plan was made for other instance content (instance_sha256 differs)")
    overrides = inst.overrides or plan.overrides or ()
    known = [o for o in overrides if o.unit in uidx and (o.citizen is None or o.citizen in cidx)]
    forbidden = np.unique(
        np.array(
            [cidx[o.citizen] * data.n_units + uidx[o.unit] for o in known if o.action == "forbid" and o.citizen],
            np.int64,
        )
    )
    reserved = np.zeros(data.n_units, bool)
    reserved[[uidx[o.unit] for o in known if o.action in ("reserve", "hold")]] = True  # out of this round
    locked = np.zeros(data.n_citizens, bool)
    for o in known:
        if o.action == "lock" and o.citizen:
            locked[cidx[o.citizen]] = unit_of[cidx[o.citizen]] == uidx[o.unit]
    used = count_used(data, ci, ui, sub)
    return Context(data, plan, unit_of, taker, used, warnings, forbidden, reserved, locked, tuple(overrides))


def scores(ctx: Context, ci: np.ndarray, ui: np.ndarray, sub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores of eligible pairs and whether each was given in the instance's ``scores``."""
    score = default_scores(ctx.data, ci, ui, sub)
    gk, gv = ctx.given_scores()
    given = np.zeros(len(ci), bool)
    if len(gk) and len(ci):
        keys = ci.astype(np.int64) * ctx.data.n_units + ui
        pos = np.minimum(np.searchsorted(gk, keys), len(gk) - 1)
        given = gk[pos] == keys
        score = np.where(given, gv[pos], score)
    return score, given


def blocking_caps(ctx: Context, c: int, u: int, subsidised: bool, move_from: int = -1) -> list[dict[str, Any]]:
    """The full caps that stop citizen ``c`` from taking the free unit ``u`` in the plan.

    Parameters
    ----------
    ctx
        The compiled instance and plan.
    c, u
        Citizen and unit indices.
    subsidised
        Whether the pair needs the subsidy (frames and quotas count it).
    move_from
        The unit ``c`` holds now (-1 if none): moving frees its place in its own
        pool, department, frame and quota.

    Returns
    -------
    list of dict
        ``{"kind", <id field>, "used", "limit", "text"}`` per full cap
        (:func:`optimizer.plan.usage.full_caps`).
    """
    return [_cap_dict(cap) for cap in full_caps(ctx.data, ctx.used, c, u, subsidised, move_from)]


def _cap_dict(cap: FullCap) -> dict[str, Any]:
    return {"kind": cap.kind, ID_FIELD[cap.kind]: cap.id, "used": cap.used, "limit": cap.limit, "text": cap.text}


@dataclass
class Units:
    """Every unit of one citizen's municipality with the rule verdict, subsidy and score.

    Attributes
    ----------
    unit
        Unit indices, sorted.
    code
        The first rule that excludes each unit (``ELIGIBLE`` if none).
    subsidised, score, given
        For eligible units: whether the subsidy is needed, the score, and whether it was given.
    overridden
        Eligible by the rules, but a planner's forbid or reserve excludes it.
    """

    unit: np.ndarray
    code: np.ndarray
    subsidised: np.ndarray
    score: np.ndarray
    given: np.ndarray
    overridden: np.ndarray

    @property
    def eligible(self) -> np.ndarray:
        """Eligible by rules 2–8 and not excluded by an override."""
        return np.asarray((self.code == ELIGIBLE) & ~self.overridden, bool)


def citizen_units(ctx: Context, c: int) -> Units:
    """Every unit of citizen ``c``'s municipality with its verdict, subsidy and score."""
    data = ctx.data
    got = list(candidates(data, np.array([c])))
    ui = np.concatenate([u for _, u in got]) if got else np.zeros(0, np.int64)
    ui = np.sort(ui)
    ci = np.full(len(ui), c, np.int64)
    code = failure_codes(data, ci, ui)
    ok = code == ELIGIBLE
    sub = ok & ctx.subsidised(ci, ui)
    score = np.zeros(len(ui))
    given = np.zeros(len(ui), bool)
    if ok.any():
        score[ok], given[ok] = scores(ctx, ci[ok], ui[ok], sub[ok])
    return Units(ui, code, sub, score, given, ok & ctx.overridden(ci, ui))

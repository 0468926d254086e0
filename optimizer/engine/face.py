"""The optimal face of a stage: the columns every plan keeping its optimum has at a bound.

Let ``y`` be duals of a stage's LP (maximising ``cost · x``) whose value ``z`` bounds
every plan, and ``d = cost − Aᵀy`` the reduced costs. Then ``cost · x' ≤ z − P(x')`` for
every plan ``x'``, where the penalty ``P`` adds ``|d_j|`` per unit that column ``j`` stands
off the bound its reduced cost points to (0 for ``d_j < 0``, its upper bound for
``d_j > 0``) and ``|y_r|`` per unit of slack of each row. A plan worth at least
``cost · x`` (a plan that keeps the stage's optimum ``x``) has ``P(x') ≤ gap = z − cost · x``;
penalties come in whole units, so such a plan has every column with ``|d_j| > gap`` at
its bound, and every row with ``|y_r| > gap`` at its level in ``x``. Column generation
(:meth:`optimizer.engine.methods.pricing.GrowingModel.fix_face`) and HiGHS's stage
sessions (:meth:`optimizer.engine.backends.highs.HighsSession.hold_optimum`) fix them.
"""

from __future__ import annotations

#: Relative to the largest cost: reduced costs and duals this close to the gap count as within it.
FACE_TOL = 1e-6


def face_tolerance(gap: float, scale: float) -> float:
    """The reduced cost (or dual) above which a column (or row) is fixed, in absolute value.

    Parameters
    ----------
    gap
        The LP bound's excess over the kept plan's value (``z − cost · x``, at least 0).
    scale
        The largest cost in absolute value: floating-point round-off in the duals is
        relative to it.

    Returns
    -------
    float
        ``gap`` and a margin for round-off.
    """
    return gap + FACE_TOL * max(1.0, scale)

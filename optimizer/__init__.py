"""anvis: the best allocation of vacant social housing under the rules of kommunal boliganvisning.

The library's public surface::

    import optimizer

    inst = optimizer.load("week47.json")          # JSON, CSV folder or .xlsx; InstanceError lists every problem
    result = optimizer.solve(inst)                 # a Result: status, chosen pairs, bound, solver log
    plan = optimizer.make_plan(result)             # the typed FORMAT.md §5 plan
    assert not optimizer.check_plan(inst, plan)    # the independent checker: [] means valid
    print(plan.status is optimizer.Status.OPTIMAL)

The layers below (``optimizer.engine``, ``optimizer.plan``, ``optimizer.explain``,
``optimizer.report``, ``optimizer.rounds``, ``optimizer.sim``, ``optimizer.cli``)
are importable on their own. Names are loaded on first use, so ``import optimizer``
(and the command line) does not pay for the solvers until they are needed.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models import Instance, InstanceError, load
    from models.plan import Plan
    from optimizer.check import check_plan
    from optimizer.engine.solve import Result, solve
    from optimizer.engine.status import Status
    from optimizer.plan.build import make_plan

#: Public name → the module that defines it.
_HOME = {
    "load": "models",
    "Instance": "models",
    "InstanceError": "models",
    "Plan": "models.plan",
    "solve": "optimizer.engine.solve",
    "Result": "optimizer.engine.solve",
    "Status": "optimizer.engine.status",
    "make_plan": "optimizer.plan.build",
    "check_plan": "optimizer.check",
}

__all__ = ["Instance", "InstanceError", "Plan", "Result", "Status", "check_plan", "load", "make_plan", "solve"]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

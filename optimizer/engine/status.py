"""The one status vocabulary of anvis (FORMAT.md §5); every backend maps its codes into it."""

from enum import Enum


class Status(str, Enum):
    """Outcome of a solve.

    ``OPTIMAL``: proven best. ``FEASIBLE``: a valid plan whose optimality is not
    proven (a time limit). ``INFEASIBLE``: no valid plan exists (only possible
    with planner locks). ``ERROR``: the solver failed.
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value

"""The plan (``anvis-plan/1``, FORMAT.md §5) as typed, immutable records.

:class:`Plan` is what :func:`optimizer.plan.build.make_plan` returns and what
every reader of a plan (explain, check, report, rounds, simulation, CLI) works
with. :meth:`Plan.to_dict` gives exactly the JSON document the engine writes
(fields in the engine's order, optional fields only where they were given), and
:meth:`Plan.from_dict` reads one back, so a plan survives the round trip byte
for byte. Fields the engine may add later (and fields such as ``declined`` that
a round adds) are kept as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from operator import attrgetter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, StrictBool, StrictInt, StrictStr, ValidationError
from pydantic_core import PydanticCustomError, core_schema

from models.fastjson import dumps_bytes, exact, plain
from models.schema import Override
from models.validate import InstanceError, Problem, path_of

PLAN_FORMAT = "anvis-plan/1"
#: Homeless citizens housed below this effective rent are counted in plans of anvis/2 (FORMAT.md §6 rule 7).
HOMELESS_RENT_KR = 3500
STATUSES = ("optimal", "feasible", "infeasible", "error")
PlanStatus = Literal["optimal", "feasible", "infeasible", "error"]


def _number(value: object) -> int | float:
    """``value`` as it is if it is a JSON number (an int or a float, not a bool)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise PydanticCustomError("number_type", "Input should be a valid number")


class _NumberSchema:
    """The core schema of :data:`Number`: :func:`_number` validates, and values are written as they are.

    ``PlainValidator`` would write each value through a Python function wrapped around the
    ``int | float`` union's writer (0.35 µs a value, 1,800 values in a national week's
    plan); without a writer of its own the value is written by its type, in Rust: an int as
    an int, a float as a float, the same text. The JSON schema still says int or float.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        number = core_schema.union_schema([core_schema.int_schema(), core_schema.float_schema()])
        return core_schema.no_info_plain_validator_function(_number, json_schema_input_schema=number)


# JSON numbers keep their kind (an int stays an int), so a plan's bytes survive a round trip.
# One validator, not the union StrictInt | StrictFloat: a bad value is one problem at the
# field's own path, not one per member of the union ("score.int", "score.float").
Number = Annotated[int | float, _NumberSchema]


class PlanRecord(BaseModel):
    """Base of the plan's records: immutable, strict scalars, fields beyond FORMAT.md kept."""

    # Infinity and NaN are written as such by the JSON serialiser, so that to_dict keeps them
    # as floats (as model_dump does) and the strict plan writer refuses them, never a null.
    model_config = ConfigDict(frozen=True, extra="allow", ser_json_inf_nan="constants")


class Assignment(PlanRecord):
    """One citizen in one unit (FORMAT.md §5); the engine adds priority, department, pool, locked."""

    citizen: StrictStr
    unit: StrictStr
    subsidised: StrictBool
    effective_rent_kr: Number
    score: Number
    priority: StrictInt | None = None
    department: StrictStr | None = None
    pool: StrictStr | None = None
    locked: StrictBool | None = None


class Unassigned(PlanRecord):
    """A citizen the plan does not house, with a code, a reason a planner can defend and its details."""

    citizen: StrictStr
    priority: StrictInt | None = None
    code: StrictStr | None = None
    reason: StrictStr
    details: dict[str, Any] | None = None


class Objective(PlanRecord):
    """Citizens housed per priority (every priority present, as strings), total score, weighted value."""

    housed_by_priority: dict[str, StrictInt]
    total_score: Number
    value: Number | None = None


class PoolUsage(PlanRecord):
    """A pool's share, ledger, cap (FORMAT.md §2) and the assignments to its units."""

    id: StrictStr
    municipality: StrictStr | None = None
    share: Number | None = None
    vacancies: StrictInt | None = None
    vacancies_before: StrictInt | None = None
    claimed_before: StrictInt | None = None
    cap: StrictInt
    used: StrictInt


class DepartmentUsage(PlanRecord):
    """A department's mixed-city cap (``None``: unlimited) and vulnerable citizens placed."""

    id: StrictStr
    max_vulnerable: StrictInt | None = None
    used: StrictInt


class FrameUsage(PlanRecord):
    """A municipality's subsidy frame and its subsidised assignments."""

    municipality: StrictStr
    frame: StrictInt | None = None
    used: StrictInt


class QuotaUsage(PlanRecord):
    """A region's grant quota (``None``: unlimited) and its subsidised assignments."""

    region: StrictStr
    quota: StrictInt | None = None
    used: StrictInt


class Usage(PlanRecord):
    """What the plan uses of every pool, department cap, subsidy frame and grant quota."""

    pools: tuple[PoolUsage, ...] = ()
    departments: tuple[DepartmentUsage, ...] = ()
    frames: tuple[FrameUsage, ...] = ()
    quotas: tuple[QuotaUsage, ...] = ()


class Solver(PlanRecord):
    """Deterministic statistics of the solve (no times: plans are byte-identical).

    Attributes
    ----------
    backend
        The backend asked for (``auto``, ``highs``, ``cpsat``, ``cbc``).
    eligible_pairs, columns, rows, side_rows
        Size of the model: pairs the rules allow, the columns and rows built.
    blocks, matching_blocks
        Independent blocks, and how many were solved as plain matchings.
    milp_blocks
        Per block solved as a MILP: its size, backend and stages, as the engine logs them.
    overrides
        Locked pairs and pairs excluded by planner overrides (only when there are any).
    """

    backend: StrictStr | None = None
    eligible_pairs: StrictInt | None = None
    columns: StrictInt | None = None
    rows: StrictInt | None = None
    side_rows: StrictInt | None = None
    blocks: StrictInt | None = None
    matching_blocks: StrictInt | None = None
    milp_blocks: list[dict[str, Any]] | None = None
    overrides: dict[str, StrictInt] | None = None


class Plan(PlanRecord):
    """An ``anvis-plan/1`` plan.

    Attributes
    ----------
    format, instance, status, objective, assignments, unassigned
        The fixed fields of FORMAT.md §5.
    passed, homeless_housed_under_3500_kr
        The fields a plan of an ``anvis/2`` instance adds (FORMAT.md §6): the units it
        passes (turns and offered units left unassigned, in the order of ``units``),
        and the homeless citizens it houses at an effective rent under 3,500 kr.
    instance_sha256, objective_kind, bound, gap, usage, solver, overrides
        What the engine adds: the instance's hash, its objective, the bound and
        relative gap of the solve, usage of every cap, solver statistics, and the
        planner overrides the plan honours (only when there are any).
    """

    format: Literal["anvis-plan/1"]
    instance: StrictStr
    status: PlanStatus
    objective: Objective
    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassigned, ...]
    passed: tuple[StrictStr, ...] | None = None
    homeless_housed_under_3500_kr: StrictInt | None = None
    instance_sha256: StrictStr | None = None
    objective_kind: StrictStr | None = None
    bound: Number | None = None
    gap: Number | None = None
    usage: Usage | None = None
    solver: Solver | None = None
    overrides: tuple[Override, ...] | None = None

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], source: str = "plan") -> Plan:
        """Read a plan document (e.g. from :func:`models.read_plan`).

        Raises
        ------
        InstanceError
            Naming the field path of every problem (``assignments[3].score``).
        """
        try:
            return cls.model_validate(doc)
        except ValidationError as exc:
            raise InstanceError(source, [Problem(path_of(e["loc"]), e["msg"]) for e in exc.errors()]) from None

    def to_dict(self) -> dict[str, Any]:
        """The plan as the JSON document the engine writes (FORMAT.md §5), fields in its order.

        That is ``model_dump(mode="json", exclude_unset=True)``, by way of pydantic's JSON
        writer (Rust) and ``json.loads``: a quarter of the time for a national week's plan
        (6,000 records). Floats are written shortest-round-trip, so each reads back exactly.
        """
        doc: dict[str, Any] = json.loads(self.model_dump_json(exclude_unset=True))
        return doc

    def json_bytes(self) -> bytes:
        """The plan's JSON file: ``models.io.dump_json(self.to_dict())`` in UTF-8, without the document.

        pydantic's writer indents the plan itself (one Rust call, and checks: 0.02 s CPU for a national
        week's plan, against 0.04 s by way of :meth:`to_dict` and the Python writer). Its
        text is that of the document wherever :func:`models.fastjson.exact` finds no number
        written otherwise, and no object can name a key twice: :meth:`to_dict` reads the
        text back, so a dict holding both ``1`` and ``"1"`` would keep one key. Fields of a
        declared type hold it (``warnings="error"``: a value of another type is an error
        here, and the plan goes the way of :meth:`to_dict`); the fields of any type
        (``details``, ``milp_blocks``, fields beyond FORMAT.md) must be
        :func:`models.fastjson.plain`. Any other plan is written by way of :meth:`to_dict`,
        with its result or error.

        Raises
        ------
        ValueError, TypeError
            As :meth:`to_dict` and :func:`models.fastjson.dumps_bytes` raise them (NaN, a
            value pydantic cannot write, a lone surrogate).
        """
        try:
            data = self.__pydantic_serializer__.to_json(self, indent=1, exclude_unset=True, warnings="error")
        except (ValueError, TypeError):  # a value of another type: the slow way words it, or writes it with a warning
            return dumps_bytes(self.to_dict())
        try:
            free = plain(_free_values(self))
        except (AttributeError, TypeError):  # records that are not records (model_construct)
            free = False
        return data + b"\n" if free and exact(data) else dumps_bytes(self.to_dict())


def _free_values(plan: Plan) -> Iterator[Any]:
    """The values of the plan's fields of any type: ``details``, solver statistics, fields beyond FORMAT.md.

    The dicts themselves, so that their keys are checked too (a dict of declared key type
    is checked as it is written: ``warnings="error"``), and a value that is not plain
    where a field beyond FORMAT.md repeats a declared field's name.
    """
    usage, solver = plan.usage, plan.solver
    records: list[PlanRecord] = [plan, plan.objective, *plan.assignments, *plan.unassigned]
    if usage is not None:
        records += [usage, *usage.pools, *usage.departments, *usage.frames, *usage.quotas]
    if solver is not None:
        records.append(solver)
    extras = list(filter(None, map(attrgetter("__pydantic_extra__"), records)))
    if extras:  # rare: then a test per record with fields beyond FORMAT.md
        yield from extras
        clash = (r.__pydantic_extra__.keys() & type(r).model_fields.keys() for r in records if r.__pydantic_extra__)
        if any(clash):
            yield object()
    yield from map(attrgetter("details"), plan.unassigned)
    if solver is not None:
        yield solver.milp_blocks


def plan_document(plan: Plan | Mapping[str, Any]) -> dict[str, Any]:
    """The JSON document of a plan: :meth:`Plan.to_dict` of a :class:`Plan`, a document as it is.

    The plan writers take either, so a plan document another tool wrote is
    exported unchanged.
    """
    return plan.to_dict() if isinstance(plan, Plan) else dict(plan)

"""Typed, immutable records of an ``anvis/1`` or ``anvis/2`` instance (FORMAT.md §1, §6).

Each record checks its own field types and ranges; relations between records
(unique ids, references, pools) are checked in :mod:`models.validate`.
Defaults are exactly those of FORMAT.md §1.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StrictBool, StrictInt, StrictStr

FORMAT = "anvis/1"
FORMAT_V2 = "anvis/2"
FORMATS = (FORMAT, FORMAT_V2)
AREAS = ("ordinary", "prevention", "disadvantaged", "transformation")
KINDS = ("family", "youth", "elderly")

Id = Annotated[StrictStr, Field(min_length=1)]
Kr = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
Count = Annotated[StrictInt, Field(ge=0)]
Rooms = Annotated[StrictInt, Field(ge=1)]
Share = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]
Area = Literal["ordinary", "prevention", "disadvantaged", "transformation"]
Kind = Literal["family", "youth", "elderly"]
Mode = Literal["rotation", "choice"]
MODES = ("rotation", "choice")


def V2(default: Any) -> Any:
    """A field only ``anvis/2`` defines (FORMAT.md §6), with its default.

    It is left out of ``model_dump``, so that version-1 records dump as they always
    did; :meth:`models.Instance.to_dict` writes these fields for version-2 documents
    (see ``V2_FIELDS``).
    """
    return Field(default=default, exclude=True)


class Record(BaseModel):
    """Base of all records: immutable, strict scalars, unknown fields ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Parameters(Record):
    """Round-wide parameters (FORMAT.md §1, ``parameters``)."""

    default_share: Share = 0.25
    subsidy_amount_kr: Kr = 1414
    subsidy_band_kr: tuple[Kr, Kr] = (4500, 6500)
    objective: Literal["lexicographic", "weighted"] = "lexicographic"
    priority_weights: dict[StrictStr, Kr] | None = None
    # anvis/2 (FORMAT.md §6): the mode of default pools, and the unit kinds a subsidy is given to
    default_mode: Mode = V2("rotation")
    subsidy_kinds: tuple[Kind, ...] = V2(("family",))


class Region(Record):
    """A region (FORMAT.md §1, ``regions``) and its grant quota from Fonden for blandede byer (rule 10)."""

    id: Id
    name: StrictStr = ""
    grant_quota: Count | None = None  # None: unlimited


class Municipality(Record):
    """A municipality (``municipalities``): its region and its subsidy frame, the tilsagnsramme (rule 9)."""

    id: Id
    name: StrictStr = ""
    region: Id
    subsidy_frame: Count = 0


class Organisation(Record):
    """A housing organisation (``organisations``)."""

    id: Id
    name: StrictStr = ""


class Department(Record):
    """A department, an afdeling (``departments``): organisation, municipality, area, mixed-city cap (rule 12)."""

    id: Id
    organisation: Id
    municipality: Id
    area: Area = "ordinary"
    max_vulnerable: Count | None = None  # None: unlimited


class Unit(Record):
    """A vacant unit (``units``): its department, size, rent, kind and whether it is accessible or temporary."""

    id: Id
    department: Id
    rooms: Rooms
    rent_kr: Kr
    kind: Kind = "family"
    accessible: StrictBool = False
    temporary: StrictBool = False
    # anvis/2 (FORMAT.md §6): order of vacancy (None: position in ``units``), and a turn
    # offered in an earlier round that the municipality still holds
    sequence: Count | None = V2(None)
    offered: StrictBool = V2(False)


class Agreement(Record):
    """An udlejningsaftale: a share for the units matching all its filters."""

    id: Id
    municipality: Id
    share: Share
    organisation: Id | None = None
    max_rent_kr: Kr | None = None
    rooms: tuple[Rooms, ...] | None = None
    departments: tuple[Id, ...] | None = None
    # anvis/2 (FORMAT.md §6): the pool's mode and two more filters
    mode: Mode = V2("rotation")
    kinds: tuple[Kind, ...] | None = V2(None)
    units: tuple[Id, ...] | None = V2(None)


class LedgerEntry(Record):
    """Vacancies and claims of one pool in earlier rounds (FORMAT.md §2)."""

    pool: Id
    vacancies_before: Count = 0
    claimed_before: Count = 0


class Preference(Record):
    """A citizen's preference for a department, with its weight in the default score."""

    department: Id
    weight: Kr


class Citizen(Record):
    """A citizen on the urgent list (``citizens``): priority, needs, rent limit and preferences."""

    id: Id
    municipality: Id
    priority: Annotated[StrictInt, Field(ge=1)] = 1
    max_rent_kr: Kr
    min_rooms: Rooms = 1
    max_rooms: Rooms | None = None  # None: unlimited
    vulnerable: StrictBool = False
    subsidy_eligible: StrictBool = False
    needs_accessible: StrictBool = False
    kinds: tuple[Kind, ...] = ("family",)
    accepts_temporary: StrictBool = False
    barred_areas: tuple[Area, ...] = ()
    excluded_departments: tuple[Id, ...] = ()
    preferences: tuple[Preference, ...] = ()
    homeless: StrictBool = V2(False)  # anvis/2 (FORMAT.md §6): changes no rule, counted in plans


class Override(Record):
    """A planner's decision the solver must respect (an anvis extension of FORMAT.md).

    ``lock``: the citizen gets the unit. ``forbid``: the citizen does not get the
    unit. ``reserve``: the unit is not assigned this round (it still counts as a
    vacancy of its pool: it is vacant, the municipality just does not claim it).
    """

    action: Literal["lock", "forbid", "reserve"]
    unit: Id
    citizen: Id | None = None  # required for lock and forbid, absent for reserve
    note: StrictStr = ""  # the planner's reason, kept for the record


class Body(Record):
    """Every table of an instance but ``scores``, which is kept columnar."""

    format: StrictStr
    name: StrictStr = ""
    parameters: Parameters = Parameters()
    regions: tuple[Region, ...] = ()
    municipalities: tuple[Municipality, ...] = ()
    organisations: tuple[Organisation, ...] = ()
    departments: tuple[Department, ...] = ()
    units: tuple[Unit, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    ledger: tuple[LedgerEntry, ...] = ()
    citizens: tuple[Citizen, ...] = ()
    overrides: tuple[Override, ...] = ()


TABLES = (
    "regions",
    "municipalities",
    "organisations",
    "departments",
    "units",
    "agreements",
    "ledger",
    "citizens",
    "scores",
    "overrides",
)
# Fields that only anvis/2 defines: a version-1 document ignores them (as unknown
# fields) and never writes them, so its meaning and hash stay those of version 1.
V2_FIELDS = {
    "parameters": ("default_mode", "subsidy_kinds"),
    "units": ("sequence", "offered"),
    "agreements": ("mode", "kinds", "units"),
    "citizens": ("homeless",),
}
RECORD_OF = {
    "regions": Region,
    "municipalities": Municipality,
    "organisations": Organisation,
    "departments": Department,
    "units": Unit,
    "agreements": Agreement,
    "ledger": LedgerEntry,
    "citizens": Citizen,
    "overrides": Override,
}

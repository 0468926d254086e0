"""Typed, immutable records of an ``anvis/1`` or ``anvis/2`` instance (FORMAT.md §1, §6).

Each record checks its own field types and ranges; relations between records
(unique ids, references, pools) are checked in :mod:`models.validate`.
Defaults are exactly those of FORMAT.md §1.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StrictBool, StrictInt, StrictStr

FORMAT = "anvis/1"
FORMAT_V2 = "anvis/2"
FORMATS = (FORMAT, FORMAT_V2)
AREAS = ("ordinary", "prevention", "disadvantaged", "transformation")
KINDS = ("family", "youth", "elderly")
LIST_SEP = ";"
"""The separator of list items in a CSV or xlsx cell (see :mod:`models.tables`)."""

# Characters no copy of an instance can keep. XML 1.0 (xlsx) forbids these controls and
# turns CR into LF; lone surrogates cannot be encoded as UTF-8 at all.
_LOST_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def id_problem(value: str) -> str | None:
    """Why an id cannot be kept exactly in every file format, or None when it can.

    FORMAT.md allows any non-empty string; anvis refuses only what a CSV folder or
    workbook cannot hold and read back as the same id: blanks at either end (list
    items in a cell are read without them), control characters (line breaks, tabs,
    ...) and the list separator ``;``.
    """
    if value != value.strip():
        return "an id must not start or end with a blank (a CSV or xlsx copy would lose it)"
    bad = _CONTROL.search(value)
    if bad is not None:
        return f"an id must not hold the control character {bad.group()!r} (a CSV or xlsx copy would change it)"
    if LIST_SEP in value:
        return "an id must not hold ';', the list separator of CSV and xlsx cells"
    return None


def text_problem(value: str) -> str | None:
    """Why a free text (a name, a note) cannot be kept exactly in a workbook, or None."""
    bad = _LOST_IN_TEXT.search(value)
    if bad is None:
        return None
    return f"text must not hold the control character {bad.group()!r} (an xlsx copy would lose or change it)"


class Accepted(dict[str, str]):
    """The strings a check accepted, each mapped to itself: a C-level cache for a pydantic validator.

    The validator is this dict's ``__getitem__``: a string accepted before is found in C, with
    no Python call (a municipality in every citizen: 25,000 id fields in a national week, far
    fewer distinct ids); a new one is checked by :meth:`__missing__`, which raises for a refused
    string (not kept, so its message is worded each time) and keeps an accepted one.
    :func:`accept_ids` checks many strings at once, so that a document's own ids cost no Python
    call per id either. At most ``limit`` strings are kept (then the cache starts afresh):
    a long-running process (``anvis serve``) validates many documents.
    """

    def __init__(self, problem: Callable[[str], str | None], limit: int = 1 << 16):
        super().__init__()
        self.problem = problem
        self.limit = limit

    def __missing__(self, value: str) -> str:
        found = self.problem(value)
        if found:
            raise ValueError(found)
        self.keep([value])
        return value

    def keep(self, values: Collection[str]) -> None:
        """Remember accepted strings (each checked before)."""
        if len(self) + len(values) > self.limit:
            self.clear()
        if len(values) <= self.limit:
            self.update(zip(values, values, strict=True))


def ids_fine(values: Collection[str]) -> bool:
    r"""Whether :func:`id_problem` accepts every string of ``values``, found by a few scans of their joins.

    Joined, they hold a control character, a lone surrogate or ``;`` exactly when some id
    does. When none does and no id holds a blank (``\s``: the characters :meth:`str.strip`
    removes), every id is accepted; with blanks, ``\x00`` can separate the ids, and a blank
    next to a separator or an end of the join is a blank at an id's end.
    """
    chars = set("".join(values))
    if LIST_SEP in chars or _CONTROL.search("".join(chars)) is not None:
        return False
    if not any(c.isspace() for c in chars):
        return True
    return _BLANK_AT_END.search("\x00".join(values)) is None


_BLANK_AT_END = re.compile(r"(?:\A|\x00)\s|\s(?:\x00|\Z)")
_ID = Accepted(id_problem)
_TEXT = Accepted(text_problem)


def accept_ids(values: Iterable[object]) -> None:
    """Check the id strings among ``values`` at once, so that validating them costs no Python call per id.

    An optimisation only (:func:`models.validate.from_dict` passes a document's ids before
    validating it): ids are checked the same way with or without it. When some string is
    refused, none is remembered here; the validation words the problem.
    """
    strings = {v for v in values if type(v) is str} - _ID.keys()
    if strings and ids_fine(strings):
        _ID.keep(strings)


def accept_texts(values: Iterable[object]) -> None:
    """Check the free texts among ``values`` at once, as :func:`accept_ids` checks ids (names, notes).

    Joined, they hold a character :func:`text_problem` refuses exactly when some text does
    (the check is of single characters). An optimisation only: texts are checked the same
    way with or without it; when some text is refused, none is remembered here.
    """
    strings = {v for v in values if type(v) is str} - _TEXT.keys()
    if strings and _LOST_IN_TEXT.search("".join(strings)) is None:
        _TEXT.keep(strings)


def _positive_zero(value: float) -> float:
    return value + 0.0  # -0.0 + 0.0 is 0.0: a rent of -0 is 0 and prints as "0 kr"


Id = Annotated[StrictStr, Field(min_length=1), AfterValidator(_ID.__getitem__)]
Text = Annotated[StrictStr, AfterValidator(_TEXT.__getitem__)]
Kr = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False), AfterValidator(_positive_zero)]
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
    name: Text = ""
    grant_quota: Count | None = None  # None: unlimited


class Municipality(Record):
    """A municipality (``municipalities``): its region and its subsidy frame, the tilsagnsramme (rule 9)."""

    id: Id
    name: Text = ""
    region: Id
    subsidy_frame: Count = 0


class Organisation(Record):
    """A housing organisation (``organisations``)."""

    id: Id
    name: Text = ""


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
    # An anvis extension (``anvis round carry``): days on the urgent list so far. It changes no
    # rule; written only when given, so documents without it keep their form and hash.
    waiting_days: Annotated[StrictInt, Field(ge=0)] | None = Field(default=None, exclude=True)


class Override(Record):
    """A planner's decision the solver must respect (an anvis extension of FORMAT.md).

    ``lock``: the citizen gets the unit. ``forbid``: the citizen does not get the
    unit. ``reserve``: the unit is not assigned this round (it still counts as a
    vacancy of its pool: it is vacant, the municipality just does not claim it).
    ``hold`` (anvis/2, FORMAT.md §6): an offered turn of a rotation pool is not
    assigned this round, like a reserved unit, and is kept for the next round
    instead of being passed (``anvis round`` brings it back ``offered``).
    """

    action: Literal["lock", "forbid", "reserve", "hold"]
    unit: Id
    citizen: Id | None = None  # required for lock and forbid, absent for reserve and hold
    note: Text = ""  # the planner's reason, kept for the record


class Body(Record):
    """Every table of an instance but ``scores``, which is kept columnar."""

    format: StrictStr
    name: Text = ""
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
RECORD_OF: dict[str, type[Record]] = {
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

"""Conversion of a version-1 instance to ``anvis/2`` keeping its meaning (FORMAT.md §6)."""

from __future__ import annotations

from models.instance import Instance
from models.pools import default_pool_id
from models.schema import FORMAT_V2, KINDS, Agreement
from models.validate import InstanceError, Problem, from_dict


def to_v2(inst: Instance) -> Instance:
    """The instance as an ``anvis/2`` document with the same optimum (FORMAT.md §6).

    Every agreement and default pool becomes a ``choice`` pool (rule 11 as in version
    1), a subsidy is given for every unit kind, and an agreement
    ``default:<municipality>:<organisation>`` (share ``default_share``, filters
    municipality and organisation only) is appended for each municipality and
    organisation that has units, in order of their first unit, so that every
    version-1 pool and its ledger row stay as they were. A ledger row of a default
    pool without units this round gets its agreement too (after those), so that
    the row still names a pool.

    Parameters
    ----------
    inst
        A validated instance; one of version 2 is returned as it is.

    Returns
    -------
    Instance
        The converted instance, validated.

    Raises
    ------
    InstanceError
        When a municipality or organisation id contains ``:`` (such ids cannot be
        parts of version-2 default pool ids).
    """
    if inst.version == 2:
        return inst
    ids = {"municipalities": [m.id for m in inst.municipalities], "organisations": [o.id for o in inst.organisations]}
    problems = [
        Problem(f"{table}[{i}].id", f"{rid!r} contains ':', which anvis/2 does not allow in this id")
        for table, listed in ids.items()
        for i, rid in enumerate(listed)
        if ":" in rid
    ]
    if problems:
        raise InstanceError(inst.source, problems)
    departments = {d.id: d for d in inst.departments}
    places = dict.fromkeys(
        (departments[u.department].municipality, departments[u.department].organisation) for u in inst.units
    )
    municipalities = {m.id for m in inst.municipalities}
    organisations = {o.id for o in inst.organisations}
    for entry in inst.ledger:
        parts = entry.pool.split(":")
        if len(parts) == 3 and parts[0] == "default" and parts[1] in municipalities and parts[2] in organisations:
            places.setdefault((parts[1], parts[2]), None)
    share = inst.parameters.default_share
    agreements = tuple(a.model_copy(update={"mode": "choice"}) for a in inst.agreements) + tuple(
        Agreement(id=default_pool_id(m, o), municipality=m, organisation=o, share=share, mode="choice")
        for m, o in places
    )
    parameters = inst.parameters.model_copy(update={"default_mode": "choice", "subsidy_kinds": KINDS})
    converted = inst.replace(format=FORMAT_V2, parameters=parameters, agreements=agreements)
    return from_dict(converted.to_dict(), inst.source)

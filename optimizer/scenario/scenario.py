"""Scenario files: a base instance, variants, sweeps and grids, each solved and compared.

A scenario file is TOML::

    base = "week47.json"          # relative to this file; JSON, a CSV folder or .xlsx
    # or:  [base]  generate = "city-week"  seed = 0  scale = 1.0
    horizon = "round"

    [[variant]]
    name = "fsb a third"
    changes = [{ term = "share", pool = "default:101:fsb:family", value = 0.3333 }]

    [[sweep]]                     # one variant per value, named "quota H=0", "quota H=5", ...
    name = "quota H"
    term = "grant_quota"
    region = "H"
    values = [0, 5, 10]           # or deltas = [-2, -1, 1]

    [[grid]]                      # one variant per pair of values of two axes
    name = "frame × quota"
    axes = [{ term = "subsidy_frame", municipality = "101", values = [0, 2] },
            { term = "grant_quota", region = "H", values = [1, 3] }]

:func:`read_scenario` reads and checks all of it, applies every variant's changes
(:mod:`optimizer.scenario.changes`) and lists every problem at once;
:func:`run_scenario` solves the base and each variant (in this process, or on a Dask
cluster: :mod:`optimizer.scenario.parallel`) and gives the results document. The
results carry ids, counts and hashes only, never a citizen's circumstances.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import models
from models.validate import InstanceError, Problem
from optimizer.scenario.changes import TERMS, ScenarioError, apply_changes, describe, show_value
from optimizer.scenario.outcome import outcome

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    # mypy checks as Python 3.10, where tomli is the dependency; it is not installed beside 3.11
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "RESULTS_FORMAT",
    "Group",
    "Scenario",
    "Variant",
    "read_scenario",
    "results_document",
    "run_scenario",
]

#: The ``format`` of the results document.
RESULTS_FORMAT = "anvis-scenario/1"
#: The base's name among the results (always the first).
BASE = "base"
HORIZONS = ("round", "year")
_TOP_KEYS = ("base", "horizon", "variant", "sweep", "grid")
_BASE_KEYS = ("generate", "seed", "scale")


@dataclass(frozen=True)
class Variant:
    """One variant of a scenario: a name, its changes and, for sweeps and grids, where it lies.

    Attributes
    ----------
    name
        Unique in the scenario; ``"base"`` for the base.
    changes
        The changes, as the file gives them (:data:`optimizer.scenario.changes.TERMS`).
    group
        The sweep's or grid's name (``None`` for a plain variant and the base).
    at
        The value of each axis of its sweep or grid, in axis order.
    where
        The key path of its table in the scenario file (``variant[0]``, ``sweep[1]``), for messages.
    """

    name: str
    changes: tuple[Mapping[str, Any], ...] = ()
    group: str | None = None
    at: tuple[tuple[str, Any], ...] = ()
    where: str = ""


@dataclass(frozen=True)
class Group:
    """A sweep (one axis) or a grid (two axes): its name, kind and axis labels."""

    name: str
    kind: str
    axes: tuple[str, ...]


@dataclass(frozen=True)
class Scenario:
    """A checked scenario: its base, each variant with its changed instance (the base first).

    Attributes
    ----------
    source
        The scenario file.
    base
        The base instance.
    horizon
        ``"round"`` (one solve of each variant) or ``"year"``.
    variants
        The base (no changes) and every variant, in file order (variants, sweeps, grids).
    instances
        The instance of each variant, in the order of ``variants``.
    groups
        The sweeps and grids.
    """

    source: str
    base: models.Instance
    horizon: str
    variants: tuple[Variant, ...]
    instances: tuple[models.Instance, ...] = field(repr=False)
    groups: tuple[Group, ...] = ()


def read_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read, check and expand a scenario file, applying every variant's changes.

    Raises
    ------
    InstanceError
        Naming the scenario file and, one a line, the key path and what is wrong
        (``variant[0].changes[1]: no region 'X' in the instance``); or the base
        file's own problems.
    """
    source = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstanceError(source, [Problem("", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstanceError(source, [Problem("", f"cannot read: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise InstanceError(source, [Problem("", f"not valid TOML: {exc}")]) from None
    problems: list[Problem] = []
    for key in sorted(set(raw) - set(_TOP_KEYS)):
        problems.append(Problem(key, f"unknown key (a scenario has {', '.join(_TOP_KEYS)})"))
    horizon = raw.get("horizon", "round")
    if horizon not in HORIZONS:
        problems.append(Problem("horizon", f"is 'round' or 'year', got {horizon!r}"))
    elif horizon == "year":
        problems.append(Problem("horizon", "'year' is not available yet; use 'round'"))
    variants, groups = _variants(raw, problems)
    base = _base(raw, Path(path), problems)
    if base is None:
        raise InstanceError(source, problems or [Problem("base", "no base instance")])
    instances = [base]  # every variant's changes are checked even when the file has other problems
    document = base.to_dict()
    for v in variants[1:]:
        try:
            instances.append(apply_changes(base, v.changes, where=_where(v), document=document))
        except ScenarioError as exc:
            problems += [Problem("", line) for line in exc.problems]
    if base.overrides and not problems:
        problems += _lock_problems(variants, instances)
    if problems:
        raise InstanceError(source, problems)
    return Scenario(source, base, str(horizon), tuple(variants), tuple(instances), tuple(groups))


def _lock_problems(variants: Sequence[Variant], instances: Sequence[models.Instance]) -> list[Problem]:
    """The base's locks that a variant's changes make break a rule (a frame lowered below them, ...)."""
    from optimizer.engine.data import ProblemData
    from optimizer.engine.overrides import check_overrides

    problems = []
    for v, inst in zip(variants, instances, strict=True):
        try:
            check_overrides(ProblemData.build(inst))
        except InstanceError as exc:
            problems += [Problem("", f"variant {v.name!r}: {p}") for p in exc.problems]
    return problems


def _where(v: Variant) -> str:
    """The key path of a variant's changes in the file, for messages."""
    return f"{v.where}.changes" if v.group is None else f"{v.where} (variant {v.name!r}) change"


def _base(raw: Mapping[str, Any], path: Path, problems: list[Problem]) -> models.Instance | None:
    base = raw.get("base")
    if isinstance(base, str):
        file = path.parent / base  # relative to the scenario file, wherever it is run from
        try:
            return models.load(file)
        except InstanceError as exc:
            problems += [Problem("base", f"{base}: {p}") for p in exc.problems]
            return None
    if isinstance(base, dict):
        from optimizer.sim.generate import PRESET_NAMES, generate

        for key in sorted(set(base) - set(_BASE_KEYS)):
            problems.append(Problem(f"base.{key}", f"unknown key (a generated base has {', '.join(_BASE_KEYS)})"))
        preset, seed, scale = base.get("generate"), base.get("seed", 0), base.get("scale", 1.0)
        if preset not in PRESET_NAMES:
            problems.append(Problem("base.generate", f"is one of {', '.join(PRESET_NAMES)}, got {preset!r}"))
        if not _is_int(seed) or seed < 0:
            problems.append(Problem("base.seed", f"is a whole number ≥ 0, got {seed!r}"))
        if not _is_num(scale) or scale <= 0:
            problems.append(Problem("base.scale", f"is a number > 0, got {scale!r}"))
        if problems:
            return None
        return models.from_dict(generate(str(preset), seed=seed, scale=float(scale)), f"{preset} seed {seed}")
    problems.append(Problem("base", f"is a file name or a table with 'generate', got {base!r}"))
    return None


def _variants(raw: Mapping[str, Any], problems: list[Problem]) -> tuple[list[Variant], list[Group]]:
    variants = [Variant(BASE)]
    groups: list[Group] = []
    names = {BASE: "the base"}

    def add(v: Variant, where: str) -> None:
        if v.name in names:
            problems.append(Problem(where, f"the name {v.name!r} is taken (by {names[v.name]})"))
            return
        names[v.name] = where
        variants.append(v)

    for i, item in enumerate(_tables(raw, "variant", problems)):
        where = f"variant[{i}]"
        for key in sorted(set(item) - {"name", "changes"}):
            problems.append(Problem(f"{where}.{key}", "unknown key (a variant has name, changes)"))
        name, changes = item.get("name"), item.get("changes")
        if not isinstance(name, str) or not name:
            problems.append(Problem(f"{where}.name", f"a variant needs a name, got {name!r}"))
            continue
        if not isinstance(changes, list) or not changes:
            problems.append(Problem(f"{where}.changes", "a variant needs a list of changes"))
            continue
        add(Variant(name, tuple(changes), where=where), where)
    for i, item in enumerate(_tables(raw, "sweep", problems)):
        where = f"sweep[{i}]"
        name = item.get("name")
        if not isinstance(name, str) or not name:
            problems.append(Problem(f"{where}.name", f"a sweep needs a name, got {name!r}"))
            continue
        axis = _axis(item, where, problems, allowed=("name",))
        if axis is None:
            continue
        label, points = axis
        groups.append(Group(name, "sweep", (label,)))
        for value, change in points:
            add(Variant(f"{name}={show_value(value)}", (change,), name, ((label, value),), where), where)
    for i, item in enumerate(_tables(raw, "grid", problems)):
        where = f"grid[{i}]"
        name = item.get("name")
        for key in sorted(set(item) - {"name", "axes"}):
            problems.append(Problem(f"{where}.{key}", "unknown key (a grid has name, axes)"))
        if not isinstance(name, str) or not name:
            problems.append(Problem(f"{where}.name", f"a grid needs a name, got {name!r}"))
            continue
        axes = item.get("axes")
        if not isinstance(axes, list) or len(axes) != 2 or not all(isinstance(a, dict) for a in axes):
            problems.append(Problem(f"{where}.axes", "a grid has two axes, each a table with a term and values"))
            continue
        found = [_axis(a, f"{where}.axes[{j}]", problems, allowed=("name",)) for j, a in enumerate(axes)]
        if found[0] is None or found[1] is None:
            continue
        (la, pa), (lb, pb) = found[0], found[1]
        if la == lb:
            problems.append(Problem(f"{where}.axes", f"both axes are {la!r}: name them apart"))
            continue
        groups.append(Group(name, "grid", (la, lb)))
        for va, ca in pa:
            for vb, cb in pb:
                label = f"{name} {la}={show_value(va)}, {lb}={show_value(vb)}"
                add(Variant(label, (ca, cb), name, ((la, va), (lb, vb)), where), where)
    return variants, groups


def _tables(raw: Mapping[str, Any], key: str, problems: list[Problem]) -> list[dict[str, Any]]:
    items = raw.get(key, [])
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        problems.append(Problem(key, f"write each as a [[{key}]] table"))
        return []
    return items


def _axis(
    item: Mapping[str, Any], where: str, problems: list[Problem], allowed: Sequence[str]
) -> tuple[str, list[tuple[Any, dict[str, Any]]]] | None:
    """An axis' label and, per value, the change it makes (values or deltas of one term)."""
    term = item.get("term")
    if term not in TERMS:
        problems.append(Problem(f"{where}.term", f"unknown term {term!r} (choose from {', '.join(TERMS)})"))
        return None
    has_values, has_deltas = "values" in item, "deltas" in item
    if has_values == has_deltas:
        problems.append(Problem(where, "give 'values' or 'deltas' (a list), one of them"))
        return None
    key = "values" if has_values else "deltas"
    points = item[key]
    if not isinstance(points, list) or not points:
        problems.append(Problem(f"{where}.{key}", f"a non-empty list, got {points!r}"))
        return None
    fixed = {k: v for k, v in item.items() if k not in (*allowed, "values", "deltas")}
    extra = sorted(set(fixed) - {"term", *TERMS[term]} - {"value", "delta"})
    if extra:
        problems.append(
            Problem(f"{where}.{extra[0]}", f"not a key of term {term!r} (it takes {', '.join(TERMS[term])})")
        )
        return None
    if len({show_value(p) for p in points}) != len(points):
        problems.append(Problem(f"{where}.{key}", "a value is given twice"))
        return None
    target = next((str(fixed[k]) for k in TERMS[term] if k in fixed and k not in ("value", "delta")), None)
    label = item.get("name") if isinstance(item.get("name"), str) and "axes" in where else None
    label = label or " ".join(x for x in (term, target) if x)
    one = "value" if has_values else "delta"
    return label, [(p, {**fixed, one: p}) for p in points]


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_num(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


# --------------------------------------------------------------------------- solving


def run_scenario(
    scenario: Scenario,
    backend: str = "auto",
    time_limit: float | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Solve the base and every variant (:func:`~optimizer.scenario.outcome.outcome`); the results document.

    Parameters
    ----------
    scenario
        From :func:`read_scenario`.
    backend, time_limit
        Passed to :func:`optimizer.engine.solve.solve` for each variant.
    jobs
        Variants solved at once: 1 solves them here, one after the other (no Dask
        imported); more start a local Dask cluster of that many worker processes.
    scheduler
        The address of a running Dask scheduler (``tcp://host:8786``) to solve on
        instead; ``jobs`` is then ignored.
    progress
        Called with (variants done, variants in all) as each one finishes.

    Returns
    -------
    dict
        The same document however the work is split.
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if jobs == 1 and scheduler is None:
        outcomes = []
        for i, inst in enumerate(scenario.instances):
            outcomes.append(outcome(inst, backend, time_limit))
            if progress is not None:
                progress(i + 1, len(scenario.instances))
    else:
        from optimizer.scenario.parallel import solve_on_dask

        outcomes = solve_on_dask(scenario.instances, backend, time_limit, jobs, scheduler, progress)
    return results_document(scenario, outcomes)


def results_document(scenario: Scenario, outcomes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The results document of a scenario from the outcome of each variant (in order).

    ``format`` ``anvis-scenario/1``; ``base``: the base instance's name and hash;
    ``groups``: the sweeps and grids; ``results``: per variant (the base first) its
    ``name``, ``changes`` (each as given and in one line), ``group`` and ``at`` (the
    sweep's or grid's values) and its :func:`outcome`.
    """
    results = []
    for v, out in zip(scenario.variants, outcomes, strict=True):
        results.append(
            {
                "name": v.name,
                "changes": [dict(c) for c in v.changes],
                "described": [describe(c) for c in v.changes],
                "group": v.group,
                "at": dict(v.at),
                **out,
            }
        )
    return {
        "format": RESULTS_FORMAT,
        "scenario": Path(scenario.source).name,
        "horizon": scenario.horizon,
        "base": {"instance": scenario.base.name, "sha256": scenario.base.sha256},
        "groups": [{"name": g.name, "kind": g.kind, "axes": list(g.axes)} for g in scenario.groups],
        "results": results,
    }

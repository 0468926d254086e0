"""Scenario files: a base instance, variants, sweeps and grids, each solved and compared.

A scenario file is TOML::

    base = "week47.json"          # relative to this file; JSON, a CSV folder or .xlsx
    # or:  [base]  generate = "city-week"  seed = 0  scale = 1.0
    horizon = "round"             # or "year" with a [year] table (optimizer.scenario.year)

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
:func:`run_scenario` solves the base and each variant (in this process, or in parallel on
a local process pool or a Dask cluster: :mod:`optimizer.scenario.parallel`) and gives
the results document. The results carry ids, counts and hashes only, never a citizen's
circumstances.
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
from optimizer.scenario.year import (
    BASE_KEYS,
    WORLD_KEYS,
    YEAR_KEYS,
    Year,
    year_on_base,
    year_outcome,
    year_run,
    year_terms,
)

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
_TOP_KEYS = ("base", "horizon", "year", "variant", "sweep", "grid")
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
        ``"round"`` (one solve of each variant) or ``"year"`` (:mod:`optimizer.scenario.year`).
    variants
        The base (no changes) and every variant, in file order (variants, sweeps, grids).
    instances
        The instance of each variant, in the order of ``variants``.
    groups
        The sweeps and grids.
    year
        The year's options (``None`` for the round horizon). On the simulation's world,
        ``base`` and ``instances`` are the terms of the first seed (the runs apply the
        changes to each seed's terms again); on a base instance (``year.on_base``), they
        are the base and its variants, as for a round.
    """

    source: str
    base: models.Instance
    horizon: str
    variants: tuple[Variant, ...]
    instances: tuple[models.Instance, ...] = field(repr=False)
    groups: tuple[Group, ...] = ()
    year: Year | None = None


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
    if "year" in raw and horizon != "year":
        problems.append(Problem("year", "a [year] table needs horizon = 'year'"))
    variants, groups = _variants(raw, problems)
    year = None
    if horizon == "year":
        year = _year(raw.get("year", {}), problems, on_base="base" in raw)
        if "base" in raw:  # the user's own instance, resampled week by week
            base = _base(raw, Path(path), problems)
            if base is not None and base.overrides:
                problems.append(
                    Problem(
                        "base", "has overrides (locks, holds): they name one week's units and citizens; remove them"
                    )
                )
            bases = [] if base is None else [base]
            if year is not None and base is not None:
                year = year_on_base(year, base)
        else:
            bases = [] if year is None or problems else [year_terms(year, s) for s in year.seeds]
            base = bases[0] if bases else None
    else:
        base = _base(raw, Path(path), problems)
        bases = [] if base is None else [base]
    if base is None:
        raise InstanceError(source, problems or [Problem("base", "no base instance")])
    instances = [base]  # every variant's changes are checked even when the file has other problems
    seen: set[str] = set()
    for k, b in enumerate(bases):
        document = b.terms()  # what the changes touch, written out once per base
        # a year's changes must hold in every seed's world: each seed draws its own stock
        prefix = "" if year is None or year.on_base else f"seed {year.seeds[k]}: "
        for v in variants[1:]:
            try:
                changed = apply_changes(b, v.changes, where=_where(v), document=document)
            except ScenarioError as exc:
                new = [line for line in exc.problems if line not in seen]
                seen.update(new)
                problems += [Problem("", prefix + line) for line in new]
                continue
            if k == 0:
                instances.append(changed)
    if base.overrides and not problems and year is None:
        problems += _lock_problems(variants, instances)
    if problems:
        raise InstanceError(source, problems)
    return Scenario(source, base, str(horizon), tuple(variants), tuple(instances), tuple(groups), year)


def _year(raw: object, problems: list[Problem], on_base: bool = False) -> Year | None:
    """The ``[year]`` table checked, every problem listed; ``None`` when it has any.

    ``on_base``: the scenario has a base instance (then the keys of the simulation's world
    are refused, and those of the base's weeks allowed).
    """
    from optimizer.sim.simulate import REGIMES

    if not isinstance(raw, dict):
        problems.append(Problem("year", f"write it as a [year] table, got {raw!r}"))
        return None
    before = len(problems)
    for key in sorted(set(raw) - set(YEAR_KEYS)):
        problems.append(Problem(f"year.{key}", f"unknown key (a year has {', '.join(YEAR_KEYS)})"))
    d = Year()
    weeks, seeds, scale = raw.get("weeks", d.weeks), raw.get("seeds", list(d.seeds)), raw.get("scale", d.scale)
    regime, rate = raw.get("regime", d.regime), raw.get("decline_rate", d.decline_rate)
    munis = raw.get("municipalities")
    if not _is_int(weeks) or weeks < 1:
        problems.append(Problem("year.weeks", f"is a whole number ≥ 1, got {weeks!r}"))
    if not isinstance(seeds, list) or not seeds or not all(_is_int(x) and x >= 0 for x in seeds):
        problems.append(Problem("year.seeds", f"is a non-empty list of whole numbers ≥ 0, got {seeds!r}"))
    elif len(set(seeds)) != len(seeds):
        problems.append(Problem("year.seeds", "a seed is given twice"))
    if not _is_num(scale) or scale <= 0:
        problems.append(Problem("year.scale", f"is a number > 0, got {scale!r}"))
    if regime not in REGIMES:
        problems.append(Problem("year.regime", f"is one of {', '.join(REGIMES)}, got {regime!r}"))
    if not _is_num(rate) or not 0 <= rate <= 1:
        problems.append(Problem("year.decline_rate", f"is a number in [0, 1], got {rate!r}"))
    if munis is not None and (
        not isinstance(munis, list) or not munis or not all(isinstance(m, str) and m for m in munis)
    ):
        problems.append(Problem("year.municipalities", f"is a non-empty list of kommune codes, got {munis!r}"))
    for key in BASE_KEYS:
        x = raw.get(key)
        if x is not None and (not _is_num(x) or x < 0):
            problems.append(Problem(f"year.{key}", f"is a number ≥ 0, got {x!r}"))
    for key in sorted(set(raw) & set(WORLD_KEYS if on_base else BASE_KEYS)):
        problems.append(
            Problem(f"year.{key}", "describes the simulation's world; a year on a base instance takes its own terms")
            if on_base
            else Problem(f"year.{key}", "describes a base instance's weeks; give a base, or leave it out")
        )
    if len(problems) > before:
        return None
    if on_base:
        v, a = raw.get("vacancies_per_week"), raw.get("arrivals_per_week")
        return Year(
            int(weeks),
            tuple(seeds),
            decline_rate=float(rate),
            on_base=True,
            vacancies_per_week=None if v is None else float(v),
            arrivals_per_week=None if a is None else float(a),
        )
    try:
        return Year(int(weeks), tuple(seeds), float(scale), str(regime), float(rate), _municipalities(munis))
    except ValueError as exc:
        problems.append(Problem("year.municipalities", str(exc)))
        return None


def _municipalities(munis: list[str] | None) -> tuple[str, ...] | None:
    """The kommune codes, checked against the generator's (``ValueError`` naming an unknown one)."""
    if munis is None:
        return None
    from optimizer.sim.world import world

    world(seed=0, scale=0.001, municipalities=tuple(munis))  # raises for an unknown code
    return tuple(munis)


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
        Variants solved at once: 1 solves them here, one after the other; more start
        a local pool of that many worker processes (:mod:`optimizer.scenario.parallel`).
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
    if scenario.year is not None:
        return results_document(
            scenario, _run_year(scenario, scenario.year, backend, time_limit, jobs, scheduler, progress)
        )
    if jobs == 1 and scheduler is None:
        outcomes = []
        for i, inst in enumerate(scenario.instances):
            outcomes.append(outcome(inst, backend, time_limit))
            if progress is not None:
                progress(i + 1, len(scenario.instances))
    else:
        from optimizer.scenario.parallel import solve_variants

        changes = [v.changes for v in scenario.variants]
        outcomes = solve_variants(
            scenario.base, changes, scenario.instances, backend, time_limit, jobs, scheduler, progress
        )
    return results_document(scenario, outcomes)


def _run_year(
    scenario: Scenario,
    year: Year,
    backend: str,
    time_limit: float | None,
    jobs: int,
    scheduler: str | None,
    progress: Callable[[int, int], None] | None,
) -> list[dict[str, Any]]:
    """Every (variant, seed) run of a year, one task each; each variant's outcome over its seeds."""
    tasks = [(seed, v.changes) for v in scenario.variants for seed in year.seeds]
    base = scenario.base if year.on_base else None  # a year on the user's instance resamples it
    if jobs == 1 and scheduler is None:
        runs = []
        for i, task in enumerate(tasks):
            runs.append(year_run(task, year, backend, time_limit, base))
            if progress is not None:
                progress(i + 1, len(tasks))
    else:
        from optimizer.scenario.parallel import run_parallel

        runs = run_parallel(
            year_run, tasks, jobs, scheduler, progress, year=year, backend=backend, time_limit=time_limit, base=base
        )
    n = len(year.seeds)
    return [year_outcome(runs[i : i + n]) for i in range(0, len(runs), n)]


def results_document(scenario: Scenario, outcomes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The results document of a scenario from the outcome of each variant (in order).

    ``format`` ``anvis-scenario/1``; ``base``: the base instance's name and hash;
    ``groups``: the sweeps and grids; ``results``: per variant (the base first) its
    ``name``, ``changes`` (each as given and in one line), ``group`` and ``at`` (the
    sweep's or grid's values) and its :func:`outcome`; for the year horizon, ``year``:
    the options, and per variant its :func:`~optimizer.scenario.year.year_outcome`
    (the mean and spread of each figure over the seeds) instead.
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
    doc = {
        "format": RESULTS_FORMAT,
        "scenario": Path(scenario.source).name,
        "horizon": scenario.horizon,
        "base": {"instance": scenario.base.name, "sha256": scenario.base.sha256},
        "groups": [{"name": g.name, "kind": g.kind, "axes": list(g.axes)} for g in scenario.groups],
        "results": results,
    }
    if scenario.year is not None:
        doc["year"] = scenario.year.as_dict()
    return doc

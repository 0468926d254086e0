"""Shared test helpers: tiny instance builders and a solve that is always checked."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

import models
from optimizer.check import check_plan, format_violations
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EXAMPLES = SHARED / "spec" / "examples"
ORLIB = SHARED / "refdata" / "orlib-assign"

PG_ENV = "ANVIS_TEST_POSTGRES_URL"


def _reset_postgres(url: str) -> None:
    """Drop every ledger table of the test database (it must be a throwaway one)."""
    from optimizer.rounds import ledger as L

    eng = L.create_engine(url)
    with eng.begin() as conn:
        L.metadata.drop_all(conn)
    eng.dispose()
    L.dispose_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A fresh ledger: an SQLite file, or the PostgreSQL database named by $ANVIS_TEST_POSTGRES_URL."""
    from optimizer.rounds import ledger as L

    if request.param == "sqlite":
        yield str(tmp_path / "ledger.db")
    else:
        url = os.environ.get(PG_ENV)
        if not url:
            pytest.skip(f"PostgreSQL ledger tests: set {PG_ENV}=postgresql://user:pw@host/throwaway_db to run them")
        _reset_postgres(url)
        yield url
        _reset_postgres(url)
    L.dispose_all()


def worked_examples() -> list:
    """Every worked example of ../shared/spec/examples (``anvis/1`` and ``anvis/2``) as a
    pytest param named by its stem; the list is empty where ../shared is absent."""
    return [pytest.param(path, id=path.stem) for path in sorted(EXAMPLES.glob("e[0-9]*.json"))]


needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"reference data {SHARED} is absent (CI has ../shared beside the clone)"
)


def doc(citizens, units, **tables) -> dict:
    """A one-municipality instance: region R, municipality M, organisation O, department D.

    Citizens default to municipality M and max_rent_kr 5000; units to department D
    and 2 rooms. Keyword arguments replace or add tables (or ``parameters``).
    Every unit is in pool ``all`` (share 1.0) unless ``agreements`` is given.
    """
    base = {
        "format": "anvis/1",
        "name": "t",
        "parameters": {},
        "regions": [{"id": "R", "name": "R"}],
        "municipalities": [{"id": "M", "name": "M", "region": "R", "subsidy_frame": 0}],
        "organisations": [{"id": "O", "name": "O"}],
        "departments": [{"id": "D", "organisation": "O", "municipality": "M"}],
        "agreements": [{"id": "all", "municipality": "M", "share": 1.0}],
        "units": [{"department": "D", "rooms": 2, "rent_kr": 3000, **u} for u in units],
        "citizens": [{"municipality": "M", "max_rent_kr": 5000, **c} for c in citizens],
    }
    base.update(copy.deepcopy(tables))
    return base


def solved(document: dict, **options) -> dict:
    """Solve a document and return its plan document (as written), after the independent checker passed it."""
    inst = models.from_dict(document)
    plan = make_plan(solve(inst, **options)).to_dict()
    violations = check_plan(inst, plan)
    assert not violations, "\n".join(format_violations(violations))
    return plan


def assert_same_optimum(plan: dict, plain) -> None:
    """``plan`` (a plan document) reaches the optimum of ``plain`` (a solve result).

    Lexicographic: the same count per priority, then the same total score. Weighted: the
    same value, since plans of equal value may house other priorities (a corpus case: 5 + 0
    or 4 + 1 housed, weights 164 and 153, scores 384 and 395).
    """
    if plain.value is not None:
        assert plan["objective"]["value"] == pytest.approx(plain.value, abs=1e-6)
        return
    assert {int(k): v for k, v in plan["objective"]["housed_by_priority"].items()} == plain.housed_by_priority
    assert plan["objective"]["total_score"] == pytest.approx(plain.total_score, abs=1e-6)


def assert_lines_start(lines: list[str], prefix: str, expected: list[str]) -> None:
    """One message line per expected problem, each starting with ``prefix`` and its expected text."""
    assert len(lines) == len(expected), lines
    for line, want in zip(lines, expected, strict=True):
        assert line.startswith(f"{prefix}{want}"), line


def pairs_of(plan: dict) -> set[tuple[str, str]]:
    return {(a["citizen"], a["unit"]) for a in plan["assignments"]}


def housed(plan: dict) -> set[str]:
    return {a["citizen"] for a in plan["assignments"]}


def write_book(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook from ``{sheet: rows of cell values}``, as a planner would type it."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path

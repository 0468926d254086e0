"""The terminal summary of a plan (optimizer.report.summary.print_summary) reads the typed Plan."""

from __future__ import annotations

from rich.console import Console

import models
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
from optimizer.report.summary import print_summary

from conftest import doc


def summary(plan: models.Plan, **kwargs) -> str:
    console = Console(record=True, width=200, emoji=False, markup=False, highlight=False)
    print_summary(plan, console=console, **kwargs)
    return console.export_text()


def test_summary_shows_priorities_limits_and_reasons_of_a_plan():
    """Housed and waiting per priority, the full pool cap, a quota without limit as '-', the
    subsidy frame in use, reasons by code and where the plan was written."""
    d = doc(
        [
            {"id": "a", "subsidy_eligible": True, "max_rent_kr": 4000},
            {"id": "b", "priority": 2},
            {"id": "c", "priority": 2, "max_rent_kr": 100},
        ],
        [{"id": "u1", "rent_kr": 5000}, {"id": "u2", "rent_kr": 6000}],
        municipalities=[{"id": "M", "name": "M", "region": "R", "subsidy_frame": 1}],
        agreements=[{"id": "half", "municipality": "M", "share": 0.5}],
    )
    plan = make_plan(solve(models.from_dict(d)))
    text = summary(plan, path="out.plan.json", timings={"solve": 0.5}, lang="en")
    lines = [" ".join(line.replace("│", " ").split()) for line in text.splitlines()]
    assert "anvis plan for 't': optimal" in text
    assert "1 1 0" in lines and "2 0 2" in lines  # priority, housed, not housed
    assert "pool half 1 1" in lines
    assert "quota R 1 -" in lines
    assert "frame M 1 1" in lines
    assert "not housed, by reason: no_eligible_unit 1, outranked 1" in lines
    assert "time: solve 0.500s" in lines and "plan written to out.plan.json" in lines


def test_summary_in_danish_by_default():
    """Danish words, reason codes explained, Danish numbers and seconds; the same counts as in English."""
    d = doc(
        [{"id": f"c{i}", "priority": 1 + i % 2} for i in range(1200)],
        [{"id": f"u{i}"} for i in range(1100)],
        municipalities=[{"id": "M", "name": "M", "region": "R", "subsidy_frame": 1}],
    )
    plan = make_plan(solve(models.from_dict(d)))
    text = summary(plan, path="uge.plan.json", timings={"solve": 1.25})
    lines = [" ".join(line.replace("│", " ").replace("┃", " ").split()) for line in text.splitlines()]
    assert "anvis-plan for 't': optimal" in text
    assert "prioritet anvist ikke anvist" in lines
    assert "1 600 0" in lines and "2 500 100" in lines  # priority, housed, not housed
    assert "anvisningsret all 1.100 1.100" in lines  # thousands with "."
    assert "ikke anvist, efter årsag: gik til andre i en bedre samlet plan 100" in lines  # competition
    assert "tid: solve 1,250 s" in lines and "plan skrevet til uge.plan.json" in lines
    assert not {"housed", "priority", "written", "reason"} & set(" ".join(lines).split())

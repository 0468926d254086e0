"""The subsidy's years: tenancies recorded at commit, the taper schedule, ``anvis round subsidies``."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

import models
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R
from optimizer.rounds.subsidies import Tenancy, limit_below_from_year, subsidy_factor, taper_schedule, tenancies

from conftest import doc

AMOUNT = 1414.0


@pytest.fixture
def db(tmp_path):
    yield str(tmp_path / "ledger.db")
    L.dispose_all()


def tenancy(start: date, rent: float = 5000.0, limit: float = 4000.0, cid: str = "c") -> Tenancy:
    return Tenancy(1, cid, "u-" + cid, "M", start, AMOUNT, rent, limit_below_from_year(rent, AMOUNT, limit))


def subsidised_week(n: int = 1, limit: float = 4000.0) -> models.Instance:
    """One subsidy-eligible citizen who can afford unit u1 (5,000 kr) only with the subsidy."""
    d = doc(
        [{"id": f"c{n}", "max_rent_kr": limit, "subsidy_eligible": True}],
        [{"id": f"u{n}", "rent_kr": 5000}],
        municipalities=[{"id": "M", "name": "M", "region": "R", "subsidy_frame": 5}],
    )
    d["name"] = f"week-{n}"
    return models.from_dict(d)


def test_factor_full_four_years_then_linear_over_five():
    """Seed 001: full for 4 years, then tapered over 5, 9 years in all (linear: the source gives no shape)."""
    f = subsidy_factor(np.arange(0, 12))
    assert f.tolist() == pytest.approx([0, 1, 1, 1, 1, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6, 0, 0])
    assert (f[1:10] > 0).all() and f[10] == 0  # subsidy in exactly nine years


def test_schedule_january_start_years_and_cost():
    """A tenancy from January: calendar years are tenancy years, each cost 12 months × factor."""
    years = taper_schedule([tenancy(date(2025, 1, 15))])
    assert [y["year"] for y in years] == list(range(2025, 2034))
    assert [y["cost_kr"] for y in years] == pytest.approx(
        [12 * AMOUNT * k for k in (1, 1, 1, 1, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6)], abs=0.01
    )
    entering = [y["year"] for y in years if y["entering_taper"]]
    assert entering == [2029]
    assert years[4]["entering_taper"] == [
        {"round": 1, "citizen": "c", "unit": "u-c", "municipality": "M", "start": "2025-01-15"}
    ]
    assert [y["in_taper"] for y in years] == [0, 0, 0, 0, 1, 1, 1, 1, 1]


def test_schedule_taper_cost_is_the_tapered_months_part():
    """``taper_cost_kr``: the part of a year's cost paid in tapered months (none in the full years)."""
    years = {y["year"]: y for y in taper_schedule([tenancy(date(2026, 11, 2))])}
    assert [years[y]["taper_cost_kr"] for y in range(2026, 2030)] == [0, 0, 0, 0]
    assert years[2030]["taper_cost_kr"] == pytest.approx(2 * AMOUNT * 5 / 6, abs=0.01)
    assert years[2031]["taper_cost_kr"] == years[2031]["cost_kr"]
    assert sum(y["taper_cost_kr"] for y in years.values()) == pytest.approx(12 * AMOUNT * 15 / 6, abs=0.05)


def test_schedule_mid_year_start_splits_years():
    """A tenancy from November: the taper starts in November of the fourth year after."""
    years = {y["year"]: y for y in taper_schedule([tenancy(date(2026, 11, 2))])}
    assert years[2026]["cost_kr"] == pytest.approx(2 * AMOUNT)
    assert years[2030]["cost_kr"] == pytest.approx(10 * AMOUNT + 2 * AMOUNT * 5 / 6, abs=0.01)
    assert years[2030]["entering_taper"] and not years[2029]["entering_taper"]
    assert years[2035]["cost_kr"] == pytest.approx(10 * AMOUNT / 6, abs=0.01)  # year 10 pays nothing
    assert max(years) == 2035


def test_limit_below_tapered_rent_is_counted_per_year():
    """Rent 5,000, subsidy 1,414: tapered rents 3,822 → 4,057 → 4,293 → 4,529 → 4,764 (Jan starts).
    A limit of 4,100 is below the tapered rent from the taper's third year; 3,700 from its first;
    5,000 never; the count is of tenants, not amounts."""
    rows = [
        tenancy(date(2025, 1, 1), limit=4100, cid="a"),
        tenancy(date(2025, 1, 1), limit=3700, cid="b"),
        tenancy(date(2025, 1, 1), limit=5000, cid="c"),
    ]
    years = {y["year"]: y for y in taper_schedule(rows)}
    assert years[2028]["limit_below_tapered_rent"] == 0  # full subsidy: no taper yet
    assert years[2029]["limit_below_tapered_rent"] == 1
    assert [years[y]["limit_below_tapered_rent"] for y in range(2030, 2034)] == [1, 2, 2, 2]
    assert years[2029]["cost_kr"] == pytest.approx(3 * 12 * AMOUNT * 5 / 6, abs=0.01)
    # counts only: no rent limit appears anywhere in the schedule
    assert "4100" not in json.dumps(list(years.values())) and "3700" not in json.dumps(list(years.values()))


def test_limit_below_from_year():
    """Rent 5,000, subsidy 1,414: the tapered rent passes 4,000 in year 6, 4,500 in year 8, 4,999 in
    year 10 (no subsidy); a limit of 5,000 never falls below it."""
    assert [limit_below_from_year(5000, AMOUNT, x) for x in (3500, 3800, 4000, 4500, 4999, 5000)] == [
        1,
        5,
        6,
        8,
        10,
        None,
    ]


def test_schedule_of_nothing_is_empty():
    assert taper_schedule([]) == []


def test_commit_records_tenancy_and_rollback_drops_it(db):
    """A committed subsidised assignment is a tenancy from the commit date; a rolled-back round's is not."""
    R.open_round(db, subsidised_week(1))
    plan, _ = R.solve_round(db)
    assert [a.subsidised for a in plan.assignments] == [True]
    R.commit_round(db, by="t")
    got = tenancies(db)
    assert len(got) == 1
    t = got[0]
    assert (t.round_id, t.citizen, t.unit, t.municipality) == (1, "c1", "u1", "M")
    # limit 4,000: tapered rents 3,822 (year 5), 4,057 (year 6): below from year 6; the limit is not stored
    assert (t.monthly_subsidy_kr, t.rent_kr, t.limit_below_from_year) == (1414.0, 5000.0, 6)
    with L.open_engine(db).begin() as conn:
        stored = [tuple(r) for r in conn.execute(select(L.subsidies))]
    assert "4000" not in repr(stored) and 4000 not in stored[0]
    with L.open_engine(db).begin() as conn:
        committed = conn.execute(select(L.rounds.c.committed_at)).scalar_one()
    assert t.start.isoformat() == committed[:10]
    R.rollback_round(db)
    assert tenancies(db) == []


def test_unsubsidised_assignment_is_no_tenancy(db):
    R.open_round(db, subsidised_week(1, limit=6000))
    plan, _ = R.solve_round(db)
    assert len(plan.assignments) == 1 and not plan.assignments[0].subsidised
    R.commit_round(db, by="t")
    assert tenancies(db) == []


def test_cli_round_subsidies(db):
    """``anvis round subsidies``: per year the tenancies entering the taper, the cost, counts of limits."""
    from optimizer.cli import main

    for n in (1, 2):
        R.open_round(db, subsidised_week(n, limit=3900 if n == 1 else 4500))
        R.solve_round(db)
        R.commit_round(db, by="t")
    with L.open_engine(db).begin() as conn:  # a constructed ledger: known starts
        conn.execute(update(L.subsidies).where(L.subsidies.c.round_id == 1).values(start="2025-01-01"))
        conn.execute(update(L.subsidies).where(L.subsidies.c.round_id == 2).values(start="2025-07-01"))
    runner = CliRunner()
    res = runner.invoke(main, ["round", "subsidies", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["tenancies"] == 2 and (out["full_years"], out["taper_years"]) == (4, 5)
    years = {y["year"]: y for y in out["years"]}
    assert [t["citizen"] for t in years[2029]["entering_taper"]] == ["c1", "c2"]
    assert years[2025]["cost_kr"] == pytest.approx((12 + 6) * AMOUNT)
    assert years[2029]["cost_kr"] == pytest.approx(12 * AMOUNT * 5 / 6 + (6 + 6 * 5 / 6) * AMOUNT, abs=0.01)
    # tapered rents 3,822, 4,057, 4,293, 4,529, 4,764: c1 (limit 3,900) is below from 2030, c2 (4,500) from 2032
    assert years[2029]["limit_below_tapered_rent"] == 0
    assert years[2030]["limit_below_tapered_rent"] == 1
    assert years[2031]["limit_below_tapered_rent"] == 1
    assert years[2032]["limit_below_tapered_rent"] == 2
    assert max(years) == 2034
    text = runner.invoke(main, ["round", "subsidies", "--db", db, "--lang", "en"])
    assert text.exit_code == 0, text.output
    assert "2 subsidised tenancies" in text.stdout and "linear taper over 5" in text.stdout
    assert "2029: 2 entering the taper" in text.stdout
    assert "citizen c1 in unit u1" in text.stdout
    text = runner.invoke(main, ["round", "subsidies", "--db", db])  # Danish by default
    assert text.exit_code == 0, text.output
    assert "2 lejemål med huslejetilskud" in text.stdout and "aftrapning over 5" in text.stdout
    assert "2029: 2 går ind i aftrapningen" in text.stdout
    assert "borger c1 i bolig u1" in text.stdout
    assert "3900" not in text.stdout and "3,900" not in text.stdout and "4,500" not in text.stdout


def test_cli_round_subsidies_refuses_missing_ledger(tmp_path):
    from optimizer.cli import main

    res = CliRunner().invoke(main, ["round", "subsidies", "--db", str(tmp_path / "none.db")])
    assert res.exit_code == 2 and "no such ledger" in res.output

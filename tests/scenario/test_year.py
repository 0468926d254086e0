"""The year horizon (optimizer.scenario.year): each variant's terms through weekly rounds, over seeds."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import models
from models.io import dump_json
from optimizer.cli import main
from optimizer.scenario.compare import comparison_columns, csv_document, render_html
from optimizer.scenario.scenario import read_scenario, run_scenario
from optimizer.scenario.year import YEAR_MEASURES, Year, year_terms
from optimizer.sim.simulate import simulate

from conftest import assert_lines_start

# Small on purpose: scale 0.03, 3 weeks, 2 seeds (a run is about a second).
YEAR = """horizon = "year"

[year]
weeks = 3
seeds = [0, 1]
scale = 0.03
"""

SCENARIO = (
    YEAR
    + """
[[variant]]
name = "no frames"
changes = [{ term = "subsidy_frame", municipality = "*", value = 0 }]

[[sweep]]
name = "share"
term = "default_share"
values = [0.25, 0.5]
"""
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "y.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def year_doc(tmp_path_factory) -> dict:
    return run_scenario(read_scenario(write(tmp_path_factory.mktemp("year"), SCENARIO)))


def test_the_base_is_the_regimes_run_of_anvis_simulate_for_every_seed(year_doc):
    base = year_doc["results"][0]
    assert base["name"] == "base" and base["status"] == "completed"
    assert year_doc["year"] == {
        "weeks": 3,
        "seeds": [0, 1],
        "scale": 0.03,
        "regime": "rotation",
        "decline_rate": 0.1,
        "municipalities": None,
    }
    for k, seed in enumerate((0, 1)):
        report = simulate(weeks=3, seed=seed, scale=0.03, regimes=("rotation",))["regimes"]["rotation"]
        assert base["year"]["claims"]["values"][k] == report["totals"]["claims"]
        assert base["year"]["passed"]["values"][k] == report["totals"]["passed"]
        assert base["year"]["subsidised"]["values"][k] == report["totals"]["subsidised"]
        assert base["year"]["homeless_housed_under_3500_kr"]["values"][k] == report["homeless_housed_under_3500_kr"]
        assert base["year"]["still_waiting"]["values"][k] == report["waiting"]["still_waiting"]
        assert base["year"]["taper_cost_kr"]["values"][k] == report["subsidy"]["taper"]["taper_cost_kr"]
    assert set(base["year"]) == set(YEAR_MEASURES)


def test_mean_and_spread_over_the_seeds(year_doc):
    for r in year_doc["results"]:
        for m, f in r["year"].items():
            values = [v for v in f["values"] if v is not None]
            assert len(f["values"]) == 2, m
            if values:
                assert f["mean"] == pytest.approx(sum(values) / len(values), abs=1e-4)
                assert f["min"] == min(values) and f["max"] == max(values)


def test_a_change_holds_in_every_weeks_round(year_doc):
    by = {r["name"]: r for r in year_doc["results"]}
    # the base subsidises (so the test can fail): with no frame anywhere, no round can
    assert sum(by["base"]["year"]["subsidised"]["values"]) > 0
    assert by["no frames"]["year"]["subsidised"]["values"] == [0, 0]
    assert by["no frames"]["year"]["taper_cost_kr"]["values"] == [0, 0]
    # the sweep's value equal to the base's terms is the base; a larger share changes the rounds
    assert by["share=0.25"]["year"] == by["base"]["year"]
    assert by["share=0.5"]["year"]["passed"] != by["base"]["year"]["passed"]
    assert by["share=0.5"]["instance_sha256"] != by["base"]["instance_sha256"]


def test_terms_sha256_is_the_changed_terms_of_each_seed(year_doc):
    base = year_doc["results"][0]
    year = Year(weeks=3, seeds=(0, 1), scale=0.03)
    assert base["terms_sha256"] == [year_terms(year, s).sha256 for s in (0, 1)]
    assert base["instance_sha256"] == base["terms_sha256"][0] == year_doc["base"]["sha256"]


def test_serial_and_dask_give_the_same_bytes(tmp_path, year_doc):
    pytest.importorskip("distributed")
    from dask.distributed import LocalCluster

    scen = read_scenario(write(tmp_path, SCENARIO))
    seen: list[tuple[int, int]] = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        doc = run_scenario(scen, scheduler=cluster.scheduler_address, progress=lambda d, t: seen.append((d, t)))
    assert dump_json(doc) == dump_json(year_doc)
    assert seen[-1] == (8, 8)  # 4 variants × 2 seeds


def test_table_csv_and_page(year_doc):
    columns = comparison_columns(year_doc)
    assert columns[:3] == ["name", "changes", "status"] and columns[-1] == "instance sha256"
    assert "homeless housed under 3500 kr mean" in columns and "still waiting sd" in columns
    rows = list(csv.DictReader(io.StringIO(csv_document(year_doc))))
    assert [r["name"] for r in rows] == ["base", "no frames", "share=0.25", "share=0.5"]
    assert float(rows[0]["claims mean"]) == year_doc["results"][0]["year"]["claims"]["mean"]
    page = render_html(year_doc)
    assert page.count("<svg") == 1  # the sweep's plot of the main figure
    assert "Sweep: share" in page and "weekly rounds of the simulation" in page


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (YEAR + "weeks_ = 1\n", ["year.weeks_: unknown key"]),
        ('horizon = "year"\n[year]\nweeks = 0\nseeds = []\n', ["year.weeks: is a whole", "year.seeds: is a non-empty"]),
        (
            'horizon = "year"\n[year]\nseeds = [1, 1]\nregime = "x"\n',
            ["year.seeds: a seed is given twice", "year.regime"],
        ),
        (
            'horizon = "year"\n[year]\nscale = 0\ndecline_rate = 2\n',
            ["year.scale: is a number > 0", "year.decline_rate"],
        ),
        ('horizon = "year"\n[year]\nmunicipalities = ["nope"]\n', ["year.municipalities: "]),
        # a base is the user's own instance now (tests/scenario/test_year_base.py): the keys of
        # the simulation's world are refused with it
        (YEAR + '[base]\ngenerate = "city-week"\n', ["year.scale: describes the simulation's world"]),
        (
            YEAR + '[[variant]]\nname = "v"\nchanges = [{term = "max_vulnerable", department = "afd-x", value = 1}]\n',
            ["seed 0: variant[0].changes[0] (max_vulnerable afd-x =1): no department 'afd-x'"],
        ),
    ],
)
def test_bad_year_files_one_line_per_problem(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(models.InstanceError) as err:
        read_scenario(path)
    assert_lines_start(err.value.lines(), f"{path}: ", expected)


def test_cli_year_writes_results_and_says_the_figures(tmp_path):
    path = write(
        tmp_path,
        YEAR + '[[variant]]\nname = "no quotas"\nchanges = [{term = "grant_quota", region = "*", value = 0}]\n',
    )
    out = tmp_path / "r.json"
    res = CliRunner().invoke(main, ["scenario", str(path), "-o", str(out), "--csv", str(tmp_path / "r.csv")])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["horizon"] == "year" and [r["name"] for r in doc["results"]] == ["base", "no quotas"]
    assert "base: completed, homeless housed under 3500 kr" in res.output
    bad = write(tmp_path, 'horizon = "year"\n[year]\nweeks = 0\n')
    res = CliRunner().invoke(main, ["scenario", str(bad), "-o", str(tmp_path / "x.json")])
    assert res.exit_code == 2 and "year.weeks: is a whole number" in res.output
    assert not (tmp_path / "x.json").exists()


def test_the_demo_year_scenario_reads():
    scen = read_scenario(Path(__file__).resolve().parents[2] / "instances" / "demo-year.toml")
    assert scen.year == Year(weeks=52, seeds=(0, 1, 2), scale=0.02, regime="rotation", decline_rate=0.1)
    assert [v.name for v in scen.variants][:3] == [
        "base",
        "København: all 1-room family units in turn",
        "frames +1 everywhere",
    ]
    added = scen.instances[1].agreements[-1]
    assert added.id == "kbh-1room" and added.share == 1.0

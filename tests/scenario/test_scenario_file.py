"""Scenario files (optimizer.scenario.scenario): reading, expanding, solving, and every problem of a file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import models
from optimizer.check import check_plan, format_violations
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
from optimizer.scenario.scenario import read_scenario, results_document, run_scenario

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "instances" / "demo-scenario.toml"


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    (tmp_path / "week.json").write_text((ROOT / "instances" / "demo-week.json").read_text())
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(models.InstanceError) as err:
        read_scenario(path)
    assert err.value.source == str(path)
    return err.value.lines()


@pytest.fixture(scope="module")
def demo() -> dict:
    return run_scenario(read_scenario(DEMO))


def test_demo_scenario_expands_base_first(demo):
    names = [r["name"] for r in demo["results"]]
    assert names[:3] == ["base", "bo-147-1 a third", "one vulnerable fewer"]
    assert names[3:7] == ["quota H=0", "quota H=1", "quota H=3", "quota H=6"]
    assert names[7] == "subsidies frame 101=0, quota H=1"
    assert len(names) == 3 + 4 + 16 == len(set(names))
    assert demo["groups"] == [
        {"name": "quota H", "kind": "sweep", "axes": ["grant_quota H"]},
        {"name": "subsidies", "kind": "grid", "axes": ["frame 101", "quota H"]},
    ]
    base = demo["results"][0]
    assert base["changes"] == [] and base["group"] is None and base["at"] == {}
    assert base["instance_sha256"] == demo["base"]["sha256"] == models.load(ROOT / "instances/demo-week.json").sha256
    sweep = demo["results"][4]
    assert sweep["changes"] == [{"term": "grant_quota", "region": "H", "value": 1}]
    assert sweep["described"] == ["grant_quota H =1"]
    assert (sweep["group"], sweep["at"]) == ("quota H", {"grant_quota H": 1})
    json.dumps(demo, allow_nan=False)


def test_every_result_is_an_independent_solve_of_its_written_instance(demo, tmp_path):
    """Each variant's instance, written and read back, solves to the result's objective, and its plan checks."""
    scenario = read_scenario(DEMO)
    for result, inst in zip(demo["results"], scenario.instances, strict=True):
        path = tmp_path / "v.json"
        models.save(inst, path)
        again = models.load(path)
        assert again.sha256 == result["instance_sha256"]
        plan = make_plan(solve(again))
        assert not check_plan(again, plan.to_dict()), format_violations(check_plan(again, plan.to_dict()))
        assert plan.to_dict()["objective"] == result["objective"]
        assert result["status"] == "optimal"
        assert result["subsidised"] == sum(a.subsidised for a in plan.assignments)


def test_results_bind_as_the_changes_say(demo):
    by = {r["name"]: r for r in demo["results"]}
    quota = [sum(by[f"quota H={v}"]["objective"]["housed_by_priority"].values()) for v in (0, 1, 3, 6)]
    assert quota == sorted(quota) and quota[0] < quota[-1]  # more grants never house fewer, here more
    assert by["quota H=0"]["subsidised"] == 0
    assert by["quota H=1"]["subsidised"] == 1 and by["quota H=1"]["limits_full"]["quotas"] == ["H"]
    assert by["subsidies frame 101=0, quota H=5"]["subsidised"] == 0
    assert by["base"]["passed"] is None  # version 1: no turns


def test_results_are_deterministic(demo):
    again = run_scenario(read_scenario(DEMO))
    assert json.dumps(again) == json.dumps(demo)


def test_generated_base_and_v2_fields(tmp_path):
    path = write(
        tmp_path,
        """
[base]
generate = "tiny"
seed = 3

[[sweep]]
name = "mode"
term = "default_mode"
values = ["rotation", "choice"]
""",
    )
    doc = run_scenario(read_scenario(path))
    assert [r["name"] for r in doc["results"]] == ["base", "mode=rotation", "mode=choice"]
    assert doc["base"]["instance"] == "tiny-s3"
    assert all(isinstance(r["passed"], int) for r in doc["results"])
    assert all(isinstance(r["homeless_housed_under_3500_kr"], int) for r in doc["results"])
    assert doc["results"][0]["instance_sha256"] == doc["results"][1]["instance_sha256"]  # rotation is the default
    assert doc["results"][2]["instance_sha256"] != doc["results"][0]["instance_sha256"]


def test_base_relative_to_the_file_from_any_folder(tmp_path, monkeypatch):
    path = write(
        tmp_path, 'base = "week.json"\n[[variant]]\nname = "v"\nchanges = [{term = "default_share", value = 0.5}]\n'
    )
    monkeypatch.chdir(ROOT)
    assert [v.name for v in read_scenario(path).variants] == ["base", "v"]


def test_deltas_sweep(tmp_path):
    path = write(
        tmp_path,
        'base = "week.json"\n[[sweep]]\nname = "vuln"\nterm = "max_vulnerable"\ndepartment = "*"\ndeltas = [-1, 1]\n',
    )
    s = read_scenario(path)
    assert [v.name for v in s.variants] == ["base", "vuln=-1", "vuln=1"]
    assert s.variants[1].changes == ({"term": "max_vulnerable", "department": "*", "delta": -1},)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('base = "week.json"\nbase_line = 1\n', ["s.toml: base_line: unknown key"]),
        ('base = "nope.json"\n', ["s.toml: base: nope.json: no such file or folder"]),
        ("base = 3\n", ["s.toml: base: is a file name or a table with 'generate', got 3"]),
        ('[base]\ngenerate = "x"\nseed = -1\n', ["s.toml: base.generate: is one of", "s.toml: base.seed: is a whole"]),
        ('base = "week.json"\nhorizon = "month"\n', ["s.toml: horizon: is 'round' or 'year', got 'month'"]),
        # a year on the base file is allowed now (test_year_base.py); the world's keys are not
        (
            'base = "week.json"\nhorizon = "year"\n[year]\nregime = "choice"\n',
            ["s.toml: year.regime: describes the simulation's world"],
        ),
        ('base = "week.json"\n[year]\nweeks = 2\n', ["s.toml: year: a [year] table needs horizon = 'year'"]),
        (
            'base = "week.json"\n[[variant]]\nname = "base"\nchanges = [{term="default_share", value=0.5}]\n',
            ["s.toml: variant[0]: the name 'base' is taken (by the base)"],
        ),
        ('base = "week.json"\n[[variant]]\nname = "v"\n', ["s.toml: variant[0].changes: a variant needs a list"]),
        (
            'base = "week.json"\n[[variant]]\nname = "v"\n'
            'changes = [{term = "grant_quota", region = "X", value = 1}]\n',
            ["s.toml: variant[0].changes[0] (grant_quota X =1): no region 'X' in the instance"],
        ),
        (
            'base = "week.json"\n[[sweep]]\nname = "s"\nterm = "nope"\nvalues = [1]\n',
            ["s.toml: sweep[0].term: unknown term 'nope'"],
        ),
        (
            'base = "week.json"\n[[sweep]]\nname = "s"\nterm = "grant_quota"\nregion = "H"\n',
            ["s.toml: sweep[0]: give 'values' or 'deltas'"],
        ),
        (
            'base = "week.json"\n[[sweep]]\nname = "s"\nterm = "grant_quota"\nregion = "H"\nvalues = [1, 1]\n',
            ["s.toml: sweep[0].values: a value is given twice"],
        ),
        (
            'base = "week.json"\n[[sweep]]\nname = "s"\nterm = "grant_quota"\nregio = "H"\nvalues = [1]\n',
            ["s.toml: sweep[0].regio: not a key of term 'grant_quota'"],
        ),
        (
            'base = "week.json"\n[[sweep]]\nname = "s"\nterm = "grant_quota"\nregion = "Q"\nvalues = [1]\n',
            ["s.toml: sweep[0] (variant 's=1') change[0] (grant_quota Q =1): no region 'Q' in the instance"],
        ),
        (
            'base = "week.json"\n[[grid]]\nname = "g"\naxes = [{term = "grant_quota", region = "H", values = [1]}]\n',
            ["s.toml: grid[0].axes: a grid has two axes"],
        ),
        (
            'base = "week.json"\n[[grid]]\nname = "g"\naxes = [{term = "grant_quota", region = "H", values = [1]},'
            '{term = "grant_quota", region = "H", values = [2]}]\n',
            ["s.toml: grid[0].axes: both axes are 'grant_quota H'"],
        ),
        ("base = [\n", ["s.toml: not valid TOML: "]),
    ],
)
def test_bad_files_one_line_per_problem_with_key_path(tmp_path, text, expected):
    lines = problems(write(tmp_path, text))
    assert len(lines) == len(expected), lines
    for line, want in zip(lines, expected, strict=True):
        assert line.startswith(str(tmp_path / want)), line


def test_every_problem_of_a_file_is_listed(tmp_path):
    path = write(
        tmp_path,
        'base = "week.json"\nextra = 1\n[[variant]]\nname = "a"\nchanges = [{term = "share", pool = "x", value = 1},'
        '{term = "subsidy_frame", municipality = "101", delta = 1.5}]\n',
    )
    lines = problems(path)
    assert len(lines) == 1 + 2
    assert lines[1].endswith(
        "no agreement or default pool 'x' in the instance (a default pool needs units or a ledger row)"
    )
    assert lines[2].endswith("'delta' is a whole number, got 1.5")


def test_a_missing_file(tmp_path):
    assert problems(tmp_path / "none.toml") == [f"{tmp_path / 'none.toml'}: no such file"]


def test_the_default_run_imports_no_dask():
    code = (
        "import sys\n"
        "from optimizer.scenario.scenario import read_scenario, run_scenario\n"
        f"run_scenario(read_scenario({str(DEMO)!r}))\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')], 'dask imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_results_document_keeps_order():
    s = read_scenario(DEMO)
    fake = [{"status": "optimal", "i": i} for i in range(len(s.variants))]
    doc = results_document(s, fake)
    assert [r["i"] for r in doc["results"]] == list(range(len(s.variants)))


def test_the_readme_example_reads():
    """The README's København scenario reads and applies (solving it is the README's worked example)."""
    s = read_scenario(ROOT / "instances" / "kbh-negotiation.toml")
    assert [v.name for v in s.variants][:4] == [
        "base",
        "1-room agreement a quarter",
        "extended with bo-101-1 and bo-101-2",
        "bo-101-1 family by choice",
    ]
    assert len({i.sha256 for i in s.instances}) == len(s.instances) == 12


@pytest.mark.parametrize(("preset", "seed"), [("tiny", 3), ("small", 1)])
def test_outcome_has_the_plans_figures(preset, seed):
    """A result's figures are those of the plan anvis solve writes (it is not made, to save its reasons)."""
    from optimizer.scenario.outcome import outcome
    from optimizer.sim.generate import generate

    inst = models.from_dict(generate(preset, seed=seed))
    out = outcome(inst)
    plan = make_plan(solve(inst))
    doc = plan.to_dict()
    assert out["status"] == doc["status"] and out["objective"] == doc["objective"]
    assert out["subsidised"] == sum(a["subsidised"] for a in doc["assignments"])
    assert out["passed"] == len(doc["passed"])
    assert out["homeless_housed_under_3500_kr"] == doc["homeless_housed_under_3500_kr"]
    usage = doc["usage"]
    assert out["limits_full"] == {
        "pools": [p["id"] for p in usage["pools"] if 0 < p["cap"] <= p["used"]],
        "departments": [
            d["id"]
            for d in usage["departments"]
            if (d.get("max_vulnerable") or 0) > 0 and d["max_vulnerable"] <= d["used"]
        ],
        "frames": [f["municipality"] for f in usage["frames"] if (f.get("frame") or 0) > 0 and f["frame"] <= f["used"]],
        "quotas": [q["region"] for q in usage["quotas"] if (q.get("quota") or 0) > 0 and q["quota"] <= q["used"]],
    }
    assert out["instance_sha256"] == doc["instance_sha256"]

"""``anvis scenario``: results, comparison page and table, written instances, bad input, safe outputs."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import models
from models.io import dump_json
from optimizer.cli import main
from optimizer.scenario.compare import comparison_rows, pareto_front
from optimizer.scenario.scenario import read_scenario, run_scenario

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "instances" / "demo-scenario.toml"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def demo(tmp_path) -> Path:
    """The demo scenario and its base, copied beside each other."""
    shutil.copy(ROOT / "instances" / "demo-week.json", tmp_path / "demo-week.json")
    shutil.copy(DEMO, tmp_path / "s.toml")
    return tmp_path / "s.toml"


def test_all_outputs(demo, tmp_path):
    out = tmp_path / "out"
    res = run(
        "scenario", str(demo), "-o", str(out / "r.json"), "--html", str(out / "r.html"), "--csv", str(out / "r.csv"),
        "--write-instances", str(out / "inst"),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "r.json").read_text())
    assert (out / "r.json").read_text() == dump_json(run_scenario(read_scenario(demo)))
    assert res.output.splitlines()[0] == "base: optimal, housed 12 (p1 10, p2 0, p3 2), score 368, subsidised 2"
    page = (out / "r.html").read_text()
    assert page.count("<svg") == 3  # one sweep, and a heat map and a Pareto front for the grid
    assert "<script" not in page and "<link" not in page and "src=" not in page
    rows = list(csv.DictReader((out / "r.csv").open(encoding="utf-8")))
    assert [r["name"] for r in rows] == [r["name"] for r in doc["results"]]
    assert rows[4]["changes"] == "grant_quota H =1" and rows[4]["housed"] == "11"
    files = sorted(p.name for p in (out / "inst").iterdir())
    assert files[:3] == ["000-base.json", "001-bo-147-1-a-third.json", "002-one-vulnerable-fewer.json"]
    assert len(files) == len(doc["results"])
    for name, result in zip(files, doc["results"], strict=True):
        assert models.load(out / "inst" / name).sha256 == result["instance_sha256"]


def test_a_written_variant_solves_alone_to_its_result(demo, tmp_path):
    assert (
        run(
            "scenario", str(demo), "-q", "-o", str(tmp_path / "r.json"), "--write-instances", str(tmp_path / "i")
        ).exit_code
        == 0
    )
    doc = json.loads((tmp_path / "r.json").read_text())
    res = run("solve", str(tmp_path / "i" / "004-quota-H-1.json"), "-q", "-o", str(tmp_path / "p.json"))
    assert res.exit_code == 0, res.output
    plan = json.loads((tmp_path / "p.json").read_text())
    assert doc["results"][4]["name"] == "quota H=1"
    assert plan["objective"] == doc["results"][4]["objective"]


def test_outputs_are_byte_identical_run_to_run_and_with_jobs(demo, tmp_path):
    for name, jobs in (("a", "1"), ("b", "1"), ("c", "2")):
        args = ["-o", str(tmp_path / f"{name}.json"), "--html", str(tmp_path / f"{name}.html")]
        assert (
            run("scenario", str(demo), "-q", "--jobs", jobs, *args, "--csv", str(tmp_path / f"{name}.csv")).exit_code
            == 0
        )
    for ext in ("json", "html", "csv"):
        a = (tmp_path / f"a.{ext}").read_bytes()
        assert a == (tmp_path / f"b.{ext}").read_bytes() == (tmp_path / f"c.{ext}").read_bytes(), ext


def test_bad_scenario_exits_2_one_line_each_nothing_written(demo, tmp_path):
    demo.write_text(
        'base = "demo-week.json"\nhorizon = "week"\n[[variant]]\nname = "v"\n'
        'changes = [{term = "grant_quota", region = "Z", value = 1}]\n'
    )
    res = run("scenario", str(demo), "-o", str(tmp_path / "r.json"), "--write-instances", str(tmp_path / "i"))
    assert res.exit_code == 2
    assert res.output.splitlines() == [
        f"{demo}: horizon: is 'round' or 'year', got 'week'",
        f"{demo}: variant[0].changes[0] (grant_quota Z =1): no region 'Z' in the instance",
        f"{demo}: 2 problems; nothing written",
    ]
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "i").exists()


def test_bad_base_names_the_base_file(demo, tmp_path):
    (tmp_path / "demo-week.json").write_text('{"format": "anvis/1", "units": 3}')
    res = run("scenario", str(demo), "-o", str(tmp_path / "r.json"))
    assert res.exit_code == 2
    assert f"{demo}: base: demo-week.json: units: " in res.output
    assert "Traceback" not in res.output and not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("target", ["s.toml", "demo-week.json"])
def test_never_over_an_input(demo, tmp_path, target):
    before = (tmp_path / target).read_bytes()
    res = run("scenario", str(demo), "-o", str(tmp_path / "r.json"), "--html", str(tmp_path / target))
    assert res.exit_code == 2
    assert "it is the input" in res.output
    assert (tmp_path / target).read_bytes() == before and not (tmp_path / "r.json").exists()


def test_outputs_must_differ(demo, tmp_path):
    res = run("scenario", str(demo), "-o", str(tmp_path / "r"), "--csv", str(tmp_path / "r"))
    assert res.exit_code == 2 and "must be different files" in res.output


def test_names_are_escaped_and_csv_is_formula_safe(demo, tmp_path):
    demo.write_text(
        'base = "demo-week.json"\n[[variant]]\nname = "=HYPERLINK(\\"x\\") <b>bold</b>"\n'
        'changes = [{term = "default_share", value = 0.5}]\n'
    )
    res = run("scenario", str(demo), "-q", "-o", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"),
              "--csv", str(tmp_path / "r.csv"), "--write-instances", str(tmp_path / "i"))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "<b>bold</b>" not in (tmp_path / "r.html").read_text()
    assert "&lt;b&gt;bold&lt;/b&gt;" in (tmp_path / "r.html").read_text()
    rows = list(csv.reader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert rows[2][0] == '\'=HYPERLINK("x") <b>bold</b>'
    assert sorted(p.name for p in (tmp_path / "i").iterdir())[1] == "001-HYPERLINK-x-b-bold-b.json"


def test_comparison_rows_and_pareto_front():
    doc = run_scenario(read_scenario(DEMO))
    rows = comparison_rows(doc)
    assert rows[0]["name"] == "base" and rows[0]["housed"] == 12 and rows[0]["housed p1"] == 10
    assert pareto_front([(0, 10), (1, 11), (1, 10), (2, 12), (3, 12), (2, 12)]) == [0, 1, 3, 5]
    assert pareto_front([]) == []


def test_an_unreachable_scheduler_is_one_line(demo, tmp_path, monkeypatch):
    import socket

    import optimizer.scenario.parallel as parallel

    monkeypatch.setattr(parallel, "SCHEDULER_TIMEOUT_S", 1)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = run("scenario", str(demo), "-q", "-o", str(tmp_path / "r.json"), "--scheduler", f"tcp://127.0.0.1:{port}")
    assert res.exit_code == 2, res.output
    (line,) = res.output.splitlines()
    assert line.startswith(f"error: cannot use the Dask scheduler tcp://127.0.0.1:{port}: ")
    assert not (tmp_path / "r.json").exists()


def test_base_warnings_and_locks_a_variant_breaks(demo, tmp_path):
    base = json.loads((tmp_path / "demo-week.json").read_text())
    base["colour"] = "blue"
    # lock a subsidised assignment of the base's optimum, then let a variant take the frame away
    doc = run_scenario(read_scenario(demo))
    assert doc["results"][0]["subsidised"] > 0
    from optimizer.engine.solve import solve
    from optimizer.plan.build import make_plan

    inst = models.load(tmp_path / "demo-week.json")
    sub = next(a for a in make_plan(solve(inst)).assignments if a.subsidised)
    base["overrides"] = [{"action": "lock", "citizen": sub.citizen, "unit": sub.unit}]
    (tmp_path / "demo-week.json").write_text(json.dumps(base))
    municipality = next(c["municipality"] for c in base["citizens"] if c["id"] == sub.citizen)
    demo.write_text(
        'base = "demo-week.json"\n[[variant]]\nname = "no frame"\n'
        f'changes = [{{term = "subsidy_frame", municipality = "{municipality}", value = 0}}]\n'
    )
    res = CliRunner().invoke(main, ["scenario", str(demo), "-o", str(tmp_path / "r.json")])
    assert res.exit_code == 2, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith(f"warning: {tmp_path / 'demo-week.json'}: ignoring fields not in anvis/1: colour")
    assert lines[1].startswith(f"{demo}: variant 'no frame': overrides[0]: ")
    assert lines[-1] == f"{demo}: 1 problem; nothing written"
    assert not (tmp_path / "r.json").exists()

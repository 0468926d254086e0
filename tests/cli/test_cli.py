"""The ``anvis`` command line (optimizer.cli): exit codes, messages and files written.

Exit codes: 0 success; 1 a plan breaks a rule (``check``) or the solver failed;
2 bad input, with every problem on its own line starting with the file path,
no traceback, and no output file created or overwritten.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import models
from optimizer.cli import main

from conftest import EXAMPLES, doc, needs_shared, worked_examples

ANVIS = Path(sys.executable).with_name("anvis")
E1 = EXAMPLES / "e1-ledger-and-subsidy.json"
E2 = EXAMPLES / "e2-random-small.json"
E3 = EXAMPLES / "e3-random-regions.json"
E4 = EXAMPLES / "e4-weighted.json"


# --------------------------------------------------------------------------- helpers


def run(*args: str | Path):
    """Invoke ``anvis ARGS`` in process; stdout and stderr are kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def write_json(path: Path, document) -> Path:
    path.write_text(json.dumps(document))
    return path


def good_doc() -> dict:
    """Three citizens and three units, all of which can be housed."""
    return doc(
        [{"id": "c1"}, {"id": "c2", "priority": 2}, {"id": "c3"}],
        [{"id": "u1"}, {"id": "u2", "rooms": 1}, {"id": "u3", "rent_kr": 4500}],
    )


def bad_doc() -> dict:
    """A document with three problems: duplicate unit id, unknown department, share 1.5."""
    d = good_doc()
    d["units"][1]["id"] = "u1"
    d["units"][2]["department"] = "ghost"
    d["agreements"][0]["share"] = 1.5
    return d


BAD_PATHS = ("units[1].id", "units[2].department", "agreements[0].share")


@pytest.fixture
def good(tmp_path) -> Path:
    return write_json(tmp_path / "good.json", good_doc())


@pytest.fixture
def bad(tmp_path) -> Path:
    return write_json(tmp_path / "bad.json", bad_doc())


def assert_bad_input(result, path: Path, paths=BAD_PATHS):
    """Exit 2; every stderr line starts with the file path; every problem is listed; no traceback."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert lines
    for line in lines:
        assert line.startswith(f"{path}: "), line
    for p in paths:
        assert any(line.startswith(f"{path}: {p}: ") for line in lines), f"{p} not reported:\n{result.stderr}"
    assert "Traceback" not in result.output
    assert "nothing written" in lines[-1]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- validate


def test_validate_ok(good):
    """``validate`` on a valid file exits 0 and states counts on stdout."""
    result = run("validate", good)
    assert result.exit_code == 0, result.output
    assert "valid anvis/1 instance" in result.stdout and "3 citizens" in result.stdout and "3 units" in result.stdout
    assert result.stderr == ""


@needs_shared
@pytest.mark.parametrize("example", worked_examples())
def test_validate_shared_examples(example):
    """Every worked example of the shared spec is a valid instance."""
    result = run("validate", example)
    assert result.exit_code == 0, result.output


def test_validate_bad(bad):
    """``validate`` on a bad file exits 2 and lists every problem, each line starting with the path."""
    result = run("validate", bad)
    assert_bad_input(result, bad)
    assert result.stdout == ""
    assert "3 problems" in result.stderr


def test_validate_invalid_json(tmp_path):
    """Broken JSON syntax is bad input (exit 2), not a crash."""
    path = tmp_path / "broken.json"
    path.write_text('{"format": "anvis/1", ')
    result = run("validate", path)
    assert_bad_input(result, path, paths=())
    assert "not valid JSON" in result.stderr


def test_validate_missing_file(tmp_path):
    """A missing file is bad input (exit 2)."""
    path = tmp_path / "absent.json"
    result = run("validate", path)
    assert_bad_input(result, path, paths=())
    assert "no such file" in result.stderr


def test_validate_non_object(tmp_path):
    """A JSON array at the top level is bad input (exit 2)."""
    path = write_json(tmp_path / "list.json", [1, 2])
    assert_bad_input(run("validate", path), path, paths=())


def test_validate_deeply_nested_json(tmp_path):
    """JSON nested beyond Python's recursion limit is bad input (exit 2), not a RecursionError."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    result = run("validate", path)
    assert_bad_input(result, path, paths=())


def test_validate_nan_in_file(tmp_path):
    """NaN/Infinity literals in the JSON text are rejected with their paths (exit 2)."""
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(good_doc()).replace('"rent_kr": 4500', '"rent_kr": Infinity'))
    assert_bad_input(run("validate", path), path, paths=("units[2].rent_kr",))


def test_validate_unknown_fields_warn(tmp_path):
    """Unknown fields give a warning on stderr and exit 0 (they are not errors)."""
    d = good_doc()
    d["units"][0]["floor"] = 3
    path = write_json(tmp_path / "extra.json", d)
    result = run("validate", path)
    assert result.exit_code == 0, result.output
    assert "warning" in result.stderr and "units[*].floor" in result.stderr


def test_validate_csv_folder_and_xlsx(tmp_path, good):
    """``validate`` accepts the CSV folder and xlsx forms of an instance too."""
    assert run("convert", good, tmp_path / "folder").exit_code == 0
    assert run("convert", good, tmp_path / "book.xlsx").exit_code == 0
    assert run("validate", tmp_path / "folder").exit_code == 0
    assert run("validate", tmp_path / "book.xlsx").exit_code == 0


def test_subprocess_bad_file_no_traceback(tmp_path, bad):
    """The installed ``anvis`` script exits 2 on a bad file, prints no traceback and writes nothing."""
    assert ANVIS.exists(), f"{ANVIS} not installed"
    out = tmp_path / "plan.json"
    for args in (
        ["validate", str(bad)],
        ["solve", str(bad), "-o", str(out)],
        ["convert", str(bad), str(tmp_path / "copy.xlsx")],
    ):
        proc = subprocess.run(
            [str(ANVIS), *args], capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False
        )
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
        for line in proc.stderr.splitlines():
            assert line.startswith(f"{bad}: "), line
        for p in BAD_PATHS:
            assert f"{bad}: {p}: " in proc.stderr
    assert not out.exists() and not (tmp_path / "copy.xlsx").exists()


def test_subprocess_deeply_nested_no_traceback(tmp_path):
    """The installed script handles pathologically nested JSON as bad input (exit 2, no traceback)."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    proc = subprocess.run([str(ANVIS), "validate", str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- solve and check


def test_solve_writes_a_plan_that_check_accepts(tmp_path, good):
    """``solve -o`` writes an anvis-plan/1 JSON that ``check`` accepts (exit 0)."""
    plan = tmp_path / "out" / "plan.json"
    result = run("solve", good, "-o", plan)
    assert result.exit_code == 0, result.output
    doc_ = json.loads(plan.read_text())
    assert doc_["format"] == "anvis-plan/1" and doc_["status"] == "optimal"
    assert len(doc_["assignments"]) == 3
    checked = run("check", good, plan)
    assert checked.exit_code == 0, checked.output
    assert "valid plan" in checked.stdout


@needs_shared
@pytest.mark.parametrize("example", worked_examples())
def test_solve_and_check_shared_examples(tmp_path, example):
    """Each shared example solves to a plan that ``check`` accepts, with the optimum of expected.json."""
    plan = tmp_path / f"{example.stem}.plan.json"
    result = run("solve", example, "-o", plan, "-q")
    assert result.exit_code == 0, result.output
    assert run("check", example, plan).exit_code == 0
    want = json.loads((EXAMPLES / "expected.json").read_text())[example.stem]
    got = json.loads(plan.read_text())["objective"]
    params = json.loads(example.read_text()).get("parameters", {})
    if params.get("objective") == "weighted":  # optima may differ in split; their value may not
        w = params["priority_weights"]

        def value(o):
            return sum(w[p] * n for p, n in o["housed_by_priority"].items()) + o["total_score"]

        assert value(got) == pytest.approx(value(want), abs=1e-6)
    else:
        assert got["housed_by_priority"] == want["housed_by_priority"]
        assert got["total_score"] == pytest.approx(want["total_score"], abs=1e-6)


def test_solve_default_output_name(tmp_path, good, monkeypatch):
    """Without ``-o`` the plan goes to ``<stem>.plan.json`` in the working directory."""
    monkeypatch.chdir(tmp_path)
    result = run("solve", good, "-q")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "good.plan.json").read_text())["format"] == "anvis-plan/1"


def test_solve_bad_file_creates_nothing(tmp_path, bad, monkeypatch):
    """``solve`` on a bad file exits 2 and creates neither ``-o`` nor the default plan file."""
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)
    out = tmp_path / "plan.json"
    assert_bad_input(run("solve", bad, "-o", out), bad)
    assert not out.exists()
    assert_bad_input(run("solve", bad), bad)
    assert not (tmp_path / "bad.plan.json").exists()
    assert tree(tmp_path) == before


@pytest.mark.parametrize("target", ["plan.json", "plan.xlsx", "plan-folder"])
def test_solve_bad_file_does_not_overwrite(tmp_path, bad, target):
    """``solve`` on a bad file leaves an existing output (file or CSV folder) byte for byte unchanged."""
    out = tmp_path / target
    if target.endswith("folder"):
        out.mkdir()
        (out / "assignments.csv").write_text("citizen,unit\nold,plan\n")
    else:
        out.write_bytes(b"previous plan \x00\xff")
    before = tree(tmp_path)
    assert_bad_input(run("solve", bad, "-o", out), bad)
    assert tree(tmp_path) == before


def test_check_rejects_tampered_plan(tmp_path):
    """``check`` exits 1 and prints the violations when two citizens share a unit."""
    d = good_doc()
    inst_path = write_json(tmp_path / "inst.json", d)
    plan_path = tmp_path / "plan.json"
    assert run("solve", inst_path, "-o", plan_path, "-q").exit_code == 0
    plan = json.loads(plan_path.read_text())
    assert len(plan["assignments"]) >= 2
    plan["assignments"][1]["unit"] = plan["assignments"][0]["unit"]
    tampered = write_json(tmp_path / "tampered.json", plan)
    result = run("check", inst_path, tampered)
    assert result.exit_code == 1, result.output
    assert "R1" in result.stdout and plan["assignments"][0]["unit"] in result.stdout
    assert "violation" in result.stdout.splitlines()[-1]


@needs_shared
def test_check_rejects_tampered_shared_plan(tmp_path):
    """On a shared example, a plan claiming a unit twice fails ``check`` with exit 1."""
    plan_path = tmp_path / "e2.plan.json"
    assert run("solve", E2, "-o", plan_path, "-q").exit_code == 0
    plan = json.loads(plan_path.read_text())
    plan["assignments"].append(dict(plan["assignments"][0]))
    write_json(plan_path, plan)
    result = run("check", E2, plan_path)
    assert result.exit_code == 1
    assert result.stdout.strip()


def test_check_bad_instance_or_unreadable_plan(tmp_path, good, bad):
    """``check`` with a bad instance or a non-JSON plan is bad input (exit 2)."""
    plan = tmp_path / "plan.json"
    assert run("solve", good, "-o", plan, "-q").exit_code == 0
    assert_bad_input(run("check", bad, plan), bad)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    result = run("check", good, garbage)
    assert result.exit_code == 2 and result.stderr.startswith(f"{garbage}: ")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    result = run("check", good, deep)
    assert result.exit_code == 2 and result.stderr.startswith(f"{deep}: ")


def test_plan_file_with_a_malformed_field_is_bad_input_except_for_check(tmp_path, good):
    """``report`` and ``explain`` read a plan file into a Plan: a malformed field is bad input (exit 2),
    one line per problem naming the file and the field's path, nothing written; ``check`` reports
    the same file as format violations (exit 1)."""
    plan_path = tmp_path / "plan.json"
    assert run("solve", good, "-o", plan_path, "-q").exit_code == 0
    plan = json.loads(plan_path.read_text())
    plan["assignments"][0]["score"] = "high"
    del plan["objective"]["total_score"]
    write_json(plan_path, plan)
    out = tmp_path / "r.html"
    paths = ["assignments[0].score", "objective.total_score"]
    assert_bad_input(run("report", good, plan_path, "-o", out), plan_path, paths)
    assert not out.exists()
    assert_bad_input(run("explain", good, plan_path, "c1", "--no-counterfactual"), plan_path, paths)
    checked = run("check", good, plan_path)
    assert checked.exit_code == 1, checked.output
    assert "assignments[0].score" in checked.stdout and "violation" in checked.stdout.splitlines()[-1]


def test_solve_time_limit(tmp_path, good):
    """``solve --time-limit 5`` runs and writes a valid plan."""
    plan = tmp_path / "plan.json"
    result = run("solve", good, "--time-limit", "5", "-o", plan)
    assert result.exit_code == 0, result.output
    assert json.loads(plan.read_text())["status"] in ("optimal", "feasible")
    assert run("check", good, plan).exit_code == 0


def test_solve_negative_time_limit_is_a_usage_error(tmp_path, good):
    """A negative time limit is refused by the option parser (click usage error, exit 2) and writes nothing."""
    plan = tmp_path / "plan.json"
    result = run("solve", good, "--time-limit", "-1", "-o", plan)
    assert result.exit_code == 2
    assert not plan.exists()


@pytest.mark.parametrize("source", ["tiny", "e3-random-regions"])
def test_solve_is_deterministic(tmp_path, good, source):
    """Solving the same instance twice gives byte-identical plan files."""
    if source == "tiny":
        inst = good
    else:
        inst = EXAMPLES / f"{source}.json"
        if not inst.exists():
            pytest.skip(f"shared example {inst} absent")
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run("solve", inst, "-o", a, "-q").exit_code == 0
    assert run("solve", inst, "-o", b, "-q").exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_solve_exports_xlsx_and_csv_folder(tmp_path, good):
    """``-o plan.xlsx`` writes a workbook and ``-o folder/`` a CSV folder, holding the assignments."""
    book = tmp_path / "plan.xlsx"
    assert run("solve", good, "-o", book, "-q").exit_code == 0
    wb = openpyxl.load_workbook(book, read_only=True)
    assert wb.sheetnames
    cells = {str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row}
    assert {"c1", "c2", "c3", "u1", "u2", "u3"} <= cells
    folder = tmp_path / "plan-csv"
    assert run("solve", good, "-o", f"{folder}/", "-q").exit_code == 0
    assert folder.is_dir()
    with open(folder / "anvisninger.csv", newline="", encoding="utf-8-sig") as f:  # Danish (Excel) by default
        rows = list(csv.DictReader(f, delimiter=";"))
    assert {r["borger"] for r in rows} == {"c1", "c2", "c3"}


def test_solve_prints_summary(tmp_path, good):
    """Without ``-q`` a summary table (status, housed per priority, where written) goes to stdout."""
    plan = tmp_path / "plan.json"
    result = CliRunner(env={"ANVIS_LANG": "en"}).invoke(main, ["solve", str(good), "-o", str(plan)])
    assert result.exit_code == 0
    out = result.stdout
    assert "optimal" in out and "priority" in out and "housed" in out
    assert "total score" in out and f"plan written to {plan}" in out.replace("\n", "")
    quiet = run("solve", good, "-o", plan, "-q")
    assert quiet.stdout == ""


@needs_shared
def test_solve_summary_of_shared_example(tmp_path):
    """The summary of e1 shows the optimum of its README: one citizen of priority 1 housed, score 70."""
    result = CliRunner(env={"ANVIS_LANG": "en"}).invoke(main, ["solve", str(E1), "-o", str(tmp_path / "e1.plan.json")])
    assert result.exit_code == 0, result.output
    assert "total score 70" in result.stdout
    assert "e1-ledger-and-subsidy" in result.stdout


def test_plan_and_summary_hold_no_citizen_attributes(tmp_path):
    """Plans and the summary name citizens by id only: no max_rent or other personal attribute values leak."""
    secret_rents = [4987.25, 1234.75]
    d = doc(
        [
            {
                "id": "c-a",
                "max_rent_kr": secret_rents[0],
                "min_rooms": 1,
                "max_rooms": 7,
                "vulnerable": True,
                "subsidy_eligible": True,
            },
            {"id": "c-b", "max_rent_kr": secret_rents[1], "priority": 3},
        ],  # cannot afford any unit
        [{"id": "u1", "rent_kr": 3000}, {"id": "u2", "rent_kr": 3500}],
    )
    inst = write_json(tmp_path / "inst.json", d)
    plan = tmp_path / "plan.json"
    result = run("solve", inst, "-o", plan)
    assert result.exit_code == 0, result.output
    plan_text = plan.read_text()
    for rent in secret_rents:
        for text in (f"{rent}", f"{rent:g}", f"{int(rent)}", f"{rent:,.0f}", f"{rent:.0f}"):
            assert text not in result.output, f"{text} in summary"
            assert text not in plan_text, f"{text} in plan"
    assert '"vulnerable"' not in plan_text and '"max_rent_kr"' not in plan_text
    assert '"subsidy_eligible"' not in plan_text and '"max_rooms"' not in plan_text
    # c-b is unhoused, and named by id.
    assert "c-b" in plan_text


# --------------------------------------------------------------------------- convert


def test_convert_round_trip(tmp_path, good):
    """JSON → CSV folder → xlsx → JSON gives back an equal instance document."""
    folder, book, back = tmp_path / "folder", tmp_path / "book.xlsx", tmp_path / "back.json"
    for src, dst in ((good, folder), (folder, book), (book, back)):
        result = run("convert", src, dst)
        assert result.exit_code == 0, result.output
    assert json.loads(back.read_text()) == models.load(good).to_dict()
    assert models.load(back).sha256 == models.load(good).sha256


@needs_shared
@pytest.mark.parametrize("example", ["e1-ledger-and-subsidy", "e4-weighted"])
def test_convert_round_trip_shared(tmp_path, example):
    """The shared examples survive JSON → CSV folder → xlsx → JSON unchanged."""
    src = EXAMPLES / f"{example}.json"
    folder, book, back = tmp_path / "f", tmp_path / "b.xlsx", tmp_path / "back.json"
    for a, b in ((src, folder), (folder, book), (book, back)):
        assert run("convert", a, b).exit_code == 0
    assert json.loads(back.read_text()) == models.load(src).to_dict()


@pytest.mark.parametrize("target", ["copy.json", "copy.xlsx", "copy-folder"])
def test_convert_bad_file_writes_nothing(tmp_path, bad, target):
    """``convert`` of a bad file exits 2 and neither creates nor overwrites the target."""
    out = tmp_path / target
    assert_bad_input(run("convert", bad, out), bad)
    assert not out.exists()
    # An existing target is left byte for byte.
    if target.endswith("folder"):
        out.mkdir()
        (out / "units.csv").write_text("id\nold\n")
    else:
        out.write_bytes(b"old \x00 bytes")
    before = tree(tmp_path)
    assert_bad_input(run("convert", bad, out), bad)
    assert tree(tmp_path) == before


def test_convert_bad_csv_folder_names_the_folder(tmp_path, good):
    """Errors in a CSV folder name the folder and the field path; nothing is written."""
    folder = tmp_path / "folder"
    assert run("convert", good, folder).exit_code == 0
    units = folder / "units.csv"
    units.write_text(units.read_text().replace("4500", "-4500", 1))
    out = tmp_path / "out.json"
    result = run("convert", folder, out)
    assert result.exit_code == 2, result.output
    place = f"{folder}: units.csv, row 4, column D 'rent_kr'"  # the row as a spreadsheet shows it
    assert any(line.startswith(place) for line in result.stderr.splitlines()), result.stderr
    assert not out.exists()

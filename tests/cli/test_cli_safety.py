"""The command line never loses data (issue 10): an output that is an input is refused,
writes are atomic and follow the umask, an unwritable output is one clean line, names are
printed without control characters, and ``--lock`` takes any id.

Every refusal: exit 2, one line on stderr, no traceback, and every file as it was.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

import models
from optimizer.cli import main
from optimizer.cli.common import printable

from conftest import doc

ESC = "\x1b[2J"


def run(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def good_doc(**tables) -> dict:
    return doc(
        [{"id": "c1"}, {"id": "c2", "priority": 2}, {"id": "c3"}],
        [{"id": "u1"}, {"id": "u2", "rooms": 1}, {"id": "u3", "rent_kr": 4500}],
        **tables,
    )


def tree(folder: Path) -> dict[str, bytes | str]:
    """Every file under ``folder`` (bytes) and every folder and link (marked), by relative path."""
    out: dict[str, bytes | str] = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = "link -> " + os.readlink(p)
        elif p.is_dir():
            out[rel] = "folder"
        else:
            out[rel] = p.read_bytes()
    return out


def assert_refused(result, *words: str) -> None:
    """Exit 2, exactly one line on stderr naming ``words``, nothing on stdout, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """A folder with an instance (JSON, xlsx, CSV folder), a plan of it and a ledger with one solved round."""
    monkeypatch.chdir(tmp_path)
    Path("in.json").write_text(json.dumps(good_doc()))
    for args in (
        ("convert", "in.json", "in.xlsx"),
        ("convert", "in.json", "incsv"),
        ("solve", "in.json", "-o", "plan.json", "-q"),
        ("round", "open", "in.json", "--db", "L.db"),
        ("round", "solve", "--db", "L.db", "-q"),
    ):
        res = run(*args)
        assert res.exit_code == 0, res.output
    return tmp_path


# --------------------------------------------------------------------------- 1. output = input


REFUSED_OUTPUTS = {
    "solve json over itself": ["solve", "in.json", "-o", "in.json", "-q"],
    "solve xlsx over itself": ["solve", "in.xlsx", "-o", "in.xlsx", "-q"],
    "solve csv folder over itself": ["solve", "incsv", "-o", "incsv", "-q"],
    "solve into the input csv folder": ["solve", "incsv", "-o", "incsv/plan.json", "-q"],
    "solve over a symlink to the input": ["solve", "in.json", "-o", "link.json", "-q"],
    "solve over a hard link to the input": ["solve", "in.json", "-o", "hard.json", "-q"],
    "solve default output is the input": ["solve", "in.plan.json", "-q"],
    "convert json onto itself": ["convert", "in.json", "in.json"],
    "convert csv onto itself": ["convert", "incsv", "incsv/"],
    "convert into the csv folder": ["convert", "incsv", "incsv/copy.json"],
    "convert through a linked folder": ["convert", "incsv", "linkdir/copy.xlsx"],
    "report over the plan": ["report", "in.json", "plan.json", "-o", "plan.json"],
    "report over the instance": ["report", "in.json", "plan.json", "-o", "in.json"],
    "report default output is the plan": ["report", "in.json", "plan.html"],
    "round report over the ledger": ["round", "report", "--db", "L.db", "-o", "L.db"],
    "round report over the ledger by URL": ["round", "report", "--db", "sqlite:///L.db", "-o", "L.db"],
    "round report over a link to the ledger": ["round", "report", "--db", "L.db", "-o", "ledger-link.html"],
    "round solve over the ledger": ["round", "solve", "--db", "L.db", "-q", "-o", "L.db"],
    "round open over the ledger": ["round", "open", "in2.json", "--db", "L.db", "-o", "L.db"],
    "round open over its instance": ["round", "open", "in2.json", "--db", "L.db", "-o", "in2.json"],
}


@pytest.mark.parametrize("args", REFUSED_OUTPUTS.values(), ids=REFUSED_OUTPUTS.keys())
def test_an_output_that_is_an_input_is_refused(work, args):
    """The output may not be an input, the ledger, or inside an input folder (links resolved):
    exit 2, one line naming the output, every file and the ledger untouched."""
    os.symlink("in.json", "link.json")
    os.link("in.json", "hard.json")
    os.symlink("incsv", "linkdir")
    os.symlink("L.db", "ledger-link.html")
    Path("in.plan.json").write_text(Path("in.json").read_text())
    Path("plan.html").write_text(Path("plan.json").read_text())  # a plan named .html: its report's default name
    Path("in2.json").write_text(json.dumps(good_doc(name="week 2")))
    before = tree(work)
    res = run(*args)
    assert_refused(res, "cannot write", "nothing written")
    assert tree(work) == before


def test_distinct_outputs_beside_the_inputs_still_work(work):
    """The guard refuses only collisions: outputs beside the inputs, or a CSV folder beside them, are written."""
    assert run("solve", "incsv", "-o", "p.json", "-q").exit_code == 0
    assert run("convert", "incsv", "incsv2").exit_code == 0
    # round 1 is solved, not committed: --round names it
    assert run("round", "report", "--db", "L.db", "--round", "1", "-o", "r.html").exit_code == 0
    assert Path("p.json").is_file() and Path("incsv2/citizens.csv").is_file() and Path("r.html").is_file()


# --------------------------------------------------------------------------- 2. atomic, writable, umask


UNWRITABLE = {
    "solve under a file": ["solve", "in.json", "-q", "-o", "in.json/plan.json"],
    "solve csv folder over a file": ["solve", "in.json", "-q", "-o", "afile"],
    "solve xlsx under a file": ["solve", "in.json", "-q", "-o", "afile/plan.xlsx"],
    "convert under a file": ["convert", "in.json", "in.json/x/y.xlsx"],
    "generate under a file": ["generate", "tiny", "-o", "in.json/tiny.json"],
    "report under a file": ["report", "in.json", "plan.json", "-o", "plan.json/r.html"],
    "round solve under a file": ["round", "solve", "--db", "L.db", "-q", "-o", "in.json/p.json"],
    "round report under a file": ["round", "report", "--db", "L.db", "-o", "in.json/r.html"],
}


@pytest.mark.parametrize("args", UNWRITABLE.values(), ids=UNWRITABLE.keys())
def test_an_unwritable_output_is_one_line_and_changes_nothing(work, args):
    """A file where a folder should be: exit 2, one line, no traceback, and nothing changed
    (solve, convert, generate, round solve -o all raised NotADirectoryError before)."""
    Path("afile").write_text("keep me")
    before = tree(work)
    res = run(*args)
    assert_refused(res, "cannot write")
    assert tree(work) == before


def test_round_open_with_an_unwritable_output_opens_no_round(tmp_path, monkeypatch):
    """``round open -o`` checks its output before the ledger: a bad output leaves no ledger at all."""
    monkeypatch.chdir(tmp_path)
    Path("in.json").write_text(json.dumps(good_doc()))
    res = run("round", "open", "in.json", "--db", "L.db", "-o", "in.json/filled.json")
    assert_refused(res, "cannot write", "in.json/filled.json")
    assert not Path("L.db").exists()


def test_round_solve_with_an_unwritable_output_leaves_the_round_unsolved(tmp_path, monkeypatch):
    """The output is checked before the solve, so the ledger's round stays opened, without a plan."""
    from optimizer.rounds import ledger as L
    from optimizer.rounds.workflow import history

    monkeypatch.chdir(tmp_path)
    Path("in.json").write_text(json.dumps(good_doc()))
    assert run("round", "open", "in.json", "--db", "L.db").exit_code == 0
    res = run("round", "solve", "--db", "L.db", "-q", "-o", "in.json/p.json")
    assert_refused(res, "cannot write")
    assert [r["status"] for r in history("L.db")] == ["opened"]
    L.dispose_all()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files and folders")
def test_a_read_only_output_is_refused(work):
    Path("ro.json").write_text("{}")
    os.chmod("ro.json", 0o444)
    assert_refused(run("solve", "in.json", "-q", "-o", "ro.json"), "read-only")
    os.mkdir("rodir", 0o555)
    assert_refused(run("solve", "in.json", "-q", "-o", "rodir/p.json"), "not writable")


def _failing_after_one_file(real):
    """A table writer that writes its first file, then fails as a full disk does."""

    def write(doc, path, *args):
        real(doc, path, *args)
        raise OSError(28, "No space left on device")

    return write


@pytest.mark.parametrize("target", ["new.json", "new.xlsx", "newcsv", "incsv"])
def test_a_failed_write_leaves_no_half_output(work, monkeypatch, target):
    """A write that fails half-way leaves the target as it was (absent, or the old files) and no
    temporary file: JSON and xlsx go through one rename, a CSV folder is written beside first."""
    import models.io
    import models.tables

    monkeypatch.setattr(models.tables, "write_csv_folder", _failing_after_one_file(models.tables.write_csv_folder))
    monkeypatch.setattr(models.tables, "write_xlsx", _failing_after_one_file(models.tables.write_xlsx))
    monkeypatch.setattr(models.io, "json_bytes", lambda doc: (_ for _ in ()).throw(OSError(28, "No space left")))
    other = good_doc(name="other")
    Path("other.json").write_text(json.dumps(other))
    before = tree(work)
    res = run("convert", "other.json", target)
    assert_refused(res, "cannot write", target)
    assert tree(work) == before


def test_a_failed_plan_csv_export_keeps_the_old_export(work, monkeypatch):
    """Re-exporting a plan as CSV into an existing folder: a failure keeps every old table."""
    import models.tables

    assert run("solve", "in.json", "-q", "-o", "plancsv").exit_code == 0
    before = tree(work)
    monkeypatch.setattr(models.tables, "write_plan_csv", _failing_after_one_file(models.tables.write_plan_csv))
    assert_refused(run("solve", "in.json", "-q", "-o", "plancsv"), "cannot write")
    assert tree(work) == before


def test_plan_csv_export_into_an_existing_folder_replaces_tables_and_keeps_other_files(work):
    """Into an existing folder the tables are replaced, stale usage tables removed, other files kept."""
    Path("plancsv").mkdir()
    Path("plancsv/notes.txt").write_text("mine")
    Path("plancsv/usage_old.csv").write_text("stale")
    assert run("solve", "in.json", "-q", "-o", "plancsv").exit_code == 0
    names = sorted(p.name for p in Path("plancsv").iterdir())
    assert "notes.txt" in names and "usage_old.csv" not in names and "anvisninger.csv" in names
    assert not [n for n in os.listdir(".") if n.startswith(".")]  # no temporary folder left


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_files_follow_the_umask(work, mask):
    """Every file written (JSON, xlsx, CSV tables, a new CSV folder, HTML) has mode 0o666 & ~umask
    (0o777 & ~umask for a folder): not mkstemp's 0600 nor a forced 0644."""
    old = os.umask(mask)
    try:
        for args in (
            ("convert", "in.json", "u.json"),
            ("convert", "in.json", "u.xlsx"),
            ("convert", "in.json", "ucsv"),
            ("solve", "in.json", "-q", "-o", "uplan"),
            ("report", "in.json", "plan.json", "-o", "u.html"),
        ):
            res = run(*args)
            assert res.exit_code == 0, res.output
    finally:
        os.umask(old)
    files = [Path("u.json"), Path("u.xlsx"), Path("u.html"), *Path("ucsv").iterdir(), *Path("uplan").iterdir()]
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o666 & ~mask}
    assert {stat.S_IMODE(Path(d).stat().st_mode) for d in ("ucsv", "uplan")} == {0o777 & ~mask}


# --------------------------------------------------------------------------- 13. control characters


def test_printable_removes_control_characters_only():
    assert printable(f"week{ESC} 1\tA\nB\x7f\x9bæøå é ✓\u202e") == "week[2J 1ABæøå é ✓"
    assert printable(12) == "12"


def test_round_history_and_status_print_no_control_characters(tmp_path, monkeypatch):
    """An instance named with an escape sequence is refused at validation (it could not be
    copied to a spreadsheet); one that reached a ledger anyway (an older anvis wrote it) does not
    clear the screen: status and history print it without its control characters, one
    tab-separated line per round."""
    import sqlite3

    from optimizer.rounds import ledger as L

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANVIS_DB", "anvis-ledger.db")  # the round commands have no default ledger
    evil = f"evil{ESC}\tname\nline"
    Path("evil.json").write_text(json.dumps(good_doc(name=evil)))
    refused = run("validate", "evil.json")
    assert refused.exit_code == 2 and "\x1b" not in refused.output and "control character" in refused.output
    Path("in.json").write_text(json.dumps(good_doc(name="plain")))
    outs = [run(*a) for a in (("round", "open", "in.json"), ("round", "solve", "-q"), ("round", "commit"))]
    L.dispose_all()
    with sqlite3.connect("anvis-ledger.db") as conn:
        conn.execute("UPDATE rounds SET name = ?", (evil,))
    outs += [run("round", "status"), run("round", "history")]
    for res in outs:
        assert res.exit_code == 0, res.output
        assert not any(ch in res.output for ch in "\x1b\r") and "\tname" not in res.output
    hist = outs[-1].stdout.splitlines()
    assert len(hist) == 1 and hist[0].split("\t")[:3] == ["1", "evil[2Jnameline", "godkendt"]
    L.dispose_all()


def test_error_lines_print_no_control_characters(tmp_path, monkeypatch):
    """A file name or an id with control characters is echoed without them in error lines."""
    monkeypatch.chdir(tmp_path)
    res = run("validate", f"no{ESC}such.json")
    assert res.exit_code == 2 and "\x1b" not in res.output and "no[2Jsuch.json" in res.output
    bad = good_doc()
    bad["units"][0]["department"] = f"ghost{ESC}"
    Path("bad.json").write_text(json.dumps(bad))
    res = run("solve", "bad.json", "-q")
    assert res.exit_code == 2 and "\x1b" not in res.output and "ghost" in res.output


# --------------------------------------------------------------------------- 15. ids holding '='


def eq_doc() -> dict:
    """Ids with '=': citizens a and a=b, units b=c and c (so 'a=b=c' can be read two ways), and c=1, u1."""
    return doc(
        [{"id": "a"}, {"id": "a=b"}, {"id": "c=1"}],
        [{"id": "b=c"}, {"id": "c"}, {"id": "u1"}],
    )


def assigned(path: str) -> dict[str, str]:
    return {a["citizen"]: a["unit"] for a in json.loads(Path(path).read_text())["assignments"]}


def test_lock_splits_where_the_ids_are_known(tmp_path, monkeypatch):
    """``--lock c=1=u1``: only citizen 'c=1' with unit 'u1' names known ids, so it is that pair."""
    monkeypatch.chdir(tmp_path)
    Path("eq.json").write_text(json.dumps(eq_doc()))
    res = run("solve", "eq.json", "-q", "-o", "p.json", "--lock", "c=1=u1")
    assert res.exit_code == 0, res.output
    assert assigned("p.json")["c=1"] == "u1"


def test_an_ambiguous_lock_is_refused_with_the_pair_form_as_hint(tmp_path, monkeypatch):
    """``--lock a=b=c`` names both (a, b=c) and (a=b, c): refused, naming the option and --lock-pair."""
    monkeypatch.chdir(tmp_path)
    Path("eq.json").write_text(json.dumps(eq_doc()))
    res = run("solve", "eq.json", "-q", "-o", "p.json", "--lock", "a=b=c")
    assert res.exit_code == 2 and not Path("p.json").exists()
    assert "--lock a=b=c" in res.stderr and "ambiguous" in res.stderr and "--lock-pair CITIZEN UNIT" in res.stderr
    res = run("solve", "eq.json", "-q", "-o", "p.json", "--forbid", "a=b=c")
    assert res.exit_code == 2 and "--forbid-pair CITIZEN UNIT" in res.stderr


@pytest.mark.parametrize(("citizen", "unit"), [("a=b", "c"), ("a", "b=c")])
def test_lock_pair_takes_any_ids(tmp_path, monkeypatch, citizen, unit):
    monkeypatch.chdir(tmp_path)
    Path("eq.json").write_text(json.dumps(eq_doc()))
    res = run("solve", "eq.json", "-q", "-o", "p.json", "--lock-pair", citizen, unit)
    assert res.exit_code == 0, res.output
    assert assigned("p.json")[citizen] == unit
    res = run("solve", "eq.json", "-q", "-o", "f.json", "--forbid-pair", citizen, unit)
    assert res.exit_code == 0 and assigned("f.json").get(citizen) != unit


def test_lock_pair_unknown_id_is_named_by_its_option(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("eq.json").write_text(json.dumps(eq_doc()))
    res = run("solve", "eq.json", "-q", "-o", "p.json", "--lock-pair", "ghost", "c")
    assert res.exit_code == 2 and "--lock-pair ghost c" in res.stderr and not Path("p.json").exists()


def test_help_documents_the_pair_form():
    for args in (("solve", "--help"), ("round", "open", "--help"), ("round", "solve", "--help")):
        out = " ".join(run(*args).output.split())
        assert "--lock-pair CITIZEN UNIT" in out and "Ids may hold '='" in out, args


def test_single_equals_lock_is_as_before(tmp_path, monkeypatch):
    """``--lock c1=u3`` (one '=') works as it always did, and a missing '=' is a usage error."""
    monkeypatch.chdir(tmp_path)
    Path("in.json").write_text(json.dumps(good_doc()))
    res = run("solve", "in.json", "-q", "-o", "p.json", "--lock", "c1=u3")
    assert res.exit_code == 0 and assigned("p.json")["c1"] == "u3"
    res = run("solve", "in.json", "-q", "-o", "q.json", "--lock", "c1u3")
    assert res.exit_code == 2 and "CITIZEN=UNIT" in res.output and not Path("q.json").exists()


def test_instances_written_by_models_are_unchanged(work):
    """The atomic CSV folder writer writes the same tables as before (a round trip is exact)."""
    assert models.load("incsv").to_dict() == models.load("in.json").to_dict()


def test_explain_of_a_damaged_plan_is_one_line(work):
    """A plan whose assignments are not a list (found by the fuzz test): exit 2, one line, no traceback."""
    plan = json.loads(Path("plan.json").read_text())
    plan["assignments"] = True
    Path("bad-plan.json").write_text(json.dumps(plan))
    res = run("explain", "in.json", "bad-plan.json", "c1", "--no-counterfactual")
    assert res.exit_code == 2 and res.stdout == "" and "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.stderr.splitlines() == [
        "bad-plan.json: assignments: Input should be a valid tuple",
        "bad-plan.json: 1 problem; nothing written",
    ]


def test_plan_summaries_print_no_control_characters():
    """The plan summary shows ids without control characters (a plan read from an older file
    or ledger may hold them; validation refuses them in new instances)."""
    import io

    from rich.console import Console

    from models.plan import Plan
    from optimizer.report.summary import print_summary

    pool = f"pool{ESC}"
    doc = {
        "format": "anvis-plan/1",
        "instance": f"week{ESC}[2J",
        "status": "optimal",
        "objective": {"housed_by_priority": {"1": 0}, "total_score": 0},
        "assignments": [],
        "unassigned": [],
        "usage": {
            "pools": [
                {
                    "id": pool,
                    "share": 1.0,
                    "vacancies_before": 0,
                    "vacancies": 1,
                    "claimed_before": 0,
                    "cap": 1,
                    "used": 1,
                }
            ],
            "departments": [],
            "frames": [],
            "quotas": [],
        },
    }
    out = io.StringIO()
    print_summary(Plan.from_dict(doc), path=f"p{ESC}.json", console=Console(file=out, width=200), lang="en")
    text = out.getvalue()
    assert "\x1b" not in text
    assert "pool pool[2J" in text and "plan written to p[2J.json" in text


def test_simulate_refuses_an_unwritable_report_before_simulating(work, monkeypatch):
    """``simulate -o`` under a file is refused at once, not after a simulation of minutes."""
    import optimizer.sim.simulate as sim

    def never(**_options):
        raise AssertionError("simulated although the report cannot be written")

    monkeypatch.setattr(sim, "simulate", never)
    before = tree(work)
    assert_refused(run("simulate", "--weeks", "1", "-q", "-o", "in.json/sim.json"), "cannot write", "in.json")
    assert tree(work) == before

"""Render a pytest-benchmark JSON file as the measured part of benchmarks/RESULTS.md.

Usage: ``python benchmarks/report.py latest.json RESULTS.md``. The text above
the first marker line of RESULTS.md (targets, analysis) is kept. Below it come two
measured sections: the in-process benchmarks (``test_bench.py``) and the whole-process
ones (``test_process.py``: anvis against the plain PuLP + CBC model, each a fresh
process, and where anvis's time goes). A run that has none of one kind (say,
``pytest benchmarks/test_process.py`` alone) keeps that section as it was.
"""

import json
import platform
import sys
from pathlib import Path

MARKER = "<!-- measured: everything below is written by benchmarks/report.py -->"
PROCESS_MARKER = "<!-- measured: whole process (benchmarks/test_process.py) -->"
PHASES = ("startup", "import", "parse", "validate", "prepare", "build", "solve", "plan", "write")


def _is_process(bench: dict) -> bool:
    return bench["name"].startswith("test_whole_process")


def _run_line(run: dict) -> str:
    m = run["machine_info"]
    return (
        f"Run {run['datetime'][:19]} UTC on {m.get('cpu', {}).get('brand_raw', m.get('processor'))}, "
        f"{m.get('cpu', {}).get('count', '?')} cores, {platform.system()}, Python {m['python_version']}."
    )


def in_process_table(run: dict, benches: list[dict]) -> list[str]:
    """The table of the in-process benchmarks: times and their extra_info."""
    lines = [
        _run_line(run),
        "",
        "| benchmark | min s | median s | max s | rounds | extra |",
        "|---|---|---|---|---|---|",
    ]
    for b in benches:
        s = b["stats"]
        extra = ", ".join(f"{k}={v}" for k, v in b["extra_info"].items())
        lines.append(f"| {b['name']} | {s['min']:.3f} | {s['median']:.3f} | {s['max']:.3f} | {s['rounds']} | {extra} |")
    return lines


def process_table(run: dict, benches: list[dict]) -> list[str]:
    """The whole-process table: wall clocks, ratio, and anvis's seconds per phase."""
    lines = [
        _run_line(run),
        "",
        "Wall clock and CPU seconds (user + system) of a fresh process each, medians of 3 rounds (1 on "
        "hard-city and city-year), each round the plain model and then anvis; ratios of the medians; "
        "peak MB: anvis's peak resident size. "
        "Phases (wall s): a separate fresh `python -m benchmarks.phases FILE`; `startup` is `python -c pass`.",
        "",
        "| instance | file MB | anvis s | plain PuLP+CBC s | ratio | anvis CPU s | plain CPU s | CPU ratio | peak MB | "
        + " | ".join(PHASES)
        + " |",
        "|---|---|---|---|---|---|---|---|---|" + "---|" * len(PHASES),
    ]
    for b in benches:
        e = b["extra_info"]
        name = b["name"].split("[", 1)[-1].rstrip("]")
        cells = [name, e.get("file_mb", ""), e.get("anvis_s", ""), e.get("plain_s", "—"), e.get("speedup", "—")]
        cells += [e.get("anvis_cpu_s", ""), e.get("plain_cpu_s", "—"), e.get("cpu_speedup", "—"), e.get("peak_mb", "")]
        cells += [e.get(p, "") for p in PHASES]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines


def main(src: str, dst: str) -> None:
    """Rewrite the measured sections of ``dst`` from the benchmark JSON ``src``."""
    run = json.loads(Path(src).read_text())
    inside = [b for b in run["benchmarks"] if not _is_process(b)]
    whole = [b for b in run["benchmarks"] if _is_process(b)]
    out = Path(dst)
    text = out.read_text() if out.exists() else "# Benchmark results\n\n"
    head, _, measured = text.partition(MARKER)
    old_inside, _, old_whole = measured.partition(PROCESS_MARKER)
    first = "\n".join(in_process_table(run, inside)) + "\n" if inside else old_inside.strip("\n") + "\n"
    second = "\n".join(process_table(run, whole)) + "\n" if whole else old_whole.strip("\n") + "\n"
    out.write_text(head + MARKER + "\n\n" + first.lstrip("\n") + "\n" + PROCESS_MARKER + "\n\n" + second.lstrip("\n"))


if __name__ == "__main__":
    main(*sys.argv[1:3])

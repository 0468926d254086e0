"""Render a pytest-benchmark JSON file as the measured part of benchmarks/RESULTS.md.

Usage: ``python benchmarks/report.py latest.json RESULTS.md``. The text above
the marker line of RESULTS.md (targets, analysis) is kept; the tables below it
are replaced.
"""

import json
import platform
import sys
from pathlib import Path

MARKER = "<!-- measured: everything below is written by benchmarks/report.py -->"


def main(src: str, dst: str) -> None:
    run = json.loads(Path(src).read_text())
    m = run["machine_info"]
    lines = [
        MARKER,
        "",
        f"Run {run['datetime'][:19]} UTC on {m.get('cpu', {}).get('brand_raw', m.get('processor'))}, "
        f"{m.get('cpu', {}).get('count', '?')} cores, {platform.system()}, Python {m['python_version']}.",
        "",
        "| benchmark | min s | median s | max s | rounds | extra |",
        "|---|---|---|---|---|---|",
    ]
    for b in run["benchmarks"]:
        s = b["stats"]
        extra = ", ".join(f"{k}={v}" for k, v in b["extra_info"].items())
        lines.append(f"| {b['name']} | {s['min']:.3f} | {s['median']:.3f} | {s['max']:.3f} | {s['rounds']} | {extra} |")
    out = Path(dst)
    head = out.read_text().split(MARKER)[0] if out.exists() else "# Benchmark results\n\n"
    out.write_text(head + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])

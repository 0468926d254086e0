"""A readable summary of a plan on the terminal (rich)."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from models.plan import Plan, Usage
from optimizer.text import printable


def print_summary(
    plan: Plan,
    timings: dict[str, float] | None = None,
    path: str | None = None,
    console: Console | None = None,
) -> None:
    """Print status, housed per priority, caps in use and why citizens went unhoused.

    Parameters
    ----------
    plan
        The plan.
    timings
        Seconds per phase of the solve, printed when given.
    path
        Where the plan was written, printed when given.
    console
        Where to print; the terminal by default.
    """
    # Ids are data, not markup: "[x]" or ":100:" must print as typed, and without
    # control characters (a name must not clear the planner's screen).
    console = console or Console(emoji=False, markup=False, highlight=False)
    obj = plan.objective
    waiting = Counter("?" if u.priority is None else str(u.priority) for u in plan.unassigned)
    t = Table(title=f"anvis plan for {printable(repr(plan.instance))}: {plan.status}", title_justify="left")
    t.add_column("priority", justify="right")
    t.add_column("housed", justify="right")
    t.add_column("not housed", justify="right")
    for p, n in obj.housed_by_priority.items():
        t.add_row(p, str(n), str(waiting.get(p, 0)))
    console.print(t)
    line = f"total score {obj.total_score:g}"
    if obj.value is not None:
        line += f", weighted objective {obj.value:g}"
    if plan.gap and plan.bound is not None:
        line += f", bound {plan.bound:g}, gap {100 * plan.gap:.3g}%"
    console.print(line)
    usage = plan.usage or Usage()
    caps = Table(title="limits in use", title_justify="left")
    for col in ("limit", "used", "cap"):
        caps.add_column(col, justify="right" if col != "limit" else "left")
    # A cap of None is no limit (a region without grant quota): shown as "-", never full.
    rows: list[tuple[str, int, int | None]] = [(f"pool {p.id}", p.used, p.cap) for p in usage.pools]
    rows += [(f"mixed-city {d.id}", d.used, d.max_vulnerable) for d in usage.departments]
    rows += [(f"frame {f.municipality}", f.used, f.frame) for f in usage.frames if f.frame or f.used]
    rows += [(f"quota {q.region}", q.used, q.quota) for q in usage.quotas]
    full = [r for r in rows if r[2] is not None and r[1] >= r[2]]
    for name, used, cap in rows if len(rows) <= 15 else full[:15]:
        caps.add_row(printable(name), str(used), "-" if cap is None else str(cap))
    if rows:
        if len(rows) > 15:
            caps.caption = f"{len(full)} of {len(rows)} limits full; all in the plan's usage section"
        console.print(caps)
    codes = Counter("?" if u.code is None else u.code for u in plan.unassigned)
    if codes:
        console.print("not housed, by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(codes.items())))
    if timings:
        console.print("time: " + ", ".join(f"{k} {v:.3f}s" for k, v in timings.items()))
    if path:
        console.print(f"plan written to {printable(path)}")

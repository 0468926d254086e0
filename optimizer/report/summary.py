"""A readable summary of a plan on the terminal (rich), in Danish or English (:mod:`optimizer.lang`)."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from models.plan import Plan, Usage
from optimizer import lang as L
from optimizer.text import printable

#: Limits listed one a line; beyond this only full ones are (all are in the plan's usage section).
SHOWN_LIMITS = 15


def print_summary(
    plan: Plan,
    timings: dict[str, float] | None = None,
    path: str | None = None,
    console: Console | None = None,
    *,
    lang: str = L.DEFAULT_LANG,
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
    lang
        ``"da"`` (default) or ``"en"``: words, numbers and reason codes (explained in
        words in Danish).
    """
    L.say("sm.limits", lang)  # an unknown language fails here, before anything is printed
    t = L.TEXT[lang]
    # Ids are data, not markup: "[x]" or ":100:" must print as typed, and without
    # control characters (a name must not clear the planner's screen).
    console = console or Console(emoji=False, markup=False, highlight=False)
    obj = plan.objective
    waiting = Counter("?" if u.priority is None else str(u.priority) for u in plan.unassigned)
    status = t.get(f"status.{plan.status}", plan.status)
    tab = Table(title=L.say("sm.title", lang, name=printable(repr(plan.instance)), status=status), title_justify="left")
    for col in ("sm.priority", "sm.housed", "sm.not_housed"):
        tab.add_column(t[col], justify="right")
    for p, n in obj.housed_by_priority.items():
        tab.add_row(p, L.number(n, lang), L.number(waiting.get(p, 0), lang))
    console.print(tab)
    line = L.say("sm.score", lang, score=L.short(obj.total_score, lang))
    if obj.value is not None:
        line += L.say("sm.weighted", lang, value=L.short(obj.value, lang))
    if plan.gap and plan.bound is not None:
        line += L.say("sm.gap", lang, bound=L.short(plan.bound, lang), gap=L.short(100 * plan.gap, lang, ".3g"))
    console.print(line)
    usage = plan.usage or Usage()
    caps = Table(title=t["sm.limits"], title_justify="left")
    for col in ("sm.limit", "sm.used", "sm.cap"):
        caps.add_column(t[col], justify="left" if col == "sm.limit" else "right")
    # A cap of None is no limit (a region without grant quota): shown as "-", never full.
    rows: list[tuple[str, int, int | None]] = [(L.say("sm.pool", lang, id=p.id), p.used, p.cap) for p in usage.pools]
    rows += [(L.say("sm.mixed", lang, id=d.id), d.used, d.max_vulnerable) for d in usage.departments]
    rows += [(L.say("sm.frame", lang, id=f.municipality), f.used, f.frame) for f in usage.frames if f.frame or f.used]
    rows += [(L.say("sm.quota", lang, id=q.region), q.used, q.quota) for q in usage.quotas]
    full = [r for r in rows if r[2] is not None and r[1] >= r[2]]
    for name, used, cap in rows if len(rows) <= SHOWN_LIMITS else full[:SHOWN_LIMITS]:
        caps.add_row(printable(name), L.number(used, lang), "-" if cap is None else L.number(cap, lang))
    if rows:
        if len(rows) > SHOWN_LIMITS:
            caps.caption = L.say("sm.caption", lang, full=L.number(len(full), lang), n=L.number(len(rows), lang))
        console.print(caps)
    codes = Counter("?" if u.code is None else u.code for u in plan.unassigned)
    if codes:
        words = ", ".join(
            f"{k if lang == 'en' else t.get(f'reason.short.{k}', k)} {L.number(v, lang)}"
            for k, v in sorted(codes.items())
        )
        console.print(L.say("sm.reasons", lang, reasons=words))
    if timings:
        console.print(L.say("sm.time", lang, times=", ".join(f"{k} {_seconds(v, lang)}" for k, v in timings.items())))
    if path:
        console.print(L.say("sm.written", lang, path=printable(path)))


def _seconds(x: float, lang: str) -> str:
    text = f"{x:.3f}s"
    return text.replace(".", ",").replace("s", " s") if lang == "da" else text

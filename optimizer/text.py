"""Numbers, kroner and plurals in the engine's English: machine texts and terminal safety.

Used for the texts of machine formats (plans' reasons, FORMAT.md §5; the engine's
own wording of rules, caps and changes) and for what the CLI echoes
(:func:`printable`). What planners read (reports, summaries, explanations) is
worded and formatted by :mod:`optimizer.lang`, in Danish or English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, SupportsFloat

SHOWN_IDS = 12  # ids listed per group in texts
# An amount this close to a whole krone is written without øre.
KR_TOLERANCE = 0.005


def number(x: SupportsFloat, digits: int | None = None) -> int | float:
    """A number as JSON and text should show it: an int when whole, else a float.

    Parameters
    ----------
    x
        The number.
    digits
        Round to this many decimals first (for display); ``None`` keeps it exact,
        as plans must (an effective rent is exactly rent − subsidy).
    """
    x = float(x)
    if digits is not None:
        x = round(x, digits)
    return int(x) if x.is_integer() else x


def amount(x: SupportsFloat) -> str:
    """A kroner amount without unit: thousands separators, øre only where there are any (``1,414``, ``3,386.50``)."""
    x = float(x)
    return f"{x:,.0f}" if abs(x - round(x)) < KR_TOLERANCE else f"{x:,.2f}"


def kr(x: SupportsFloat) -> str:
    """A kroner amount with its unit: ``1,414 kr``."""
    return f"{amount(x)} kr"


def plural(n: int, word: str) -> str:
    """``1 unit``, ``2 units``, ``0 units``."""
    return f"{n} {word}{'s' * (n != 1)}"


_SUFFIX = re.compile(r"^(.*?)(0|[1-9]\d*)$")


def compact_ids(ids: Iterable[str], limit: int = SHOWN_IDS, *, more: str = "more") -> str:
    """Ids in a short form: three or more with one prefix and consecutive numbers as ``u3..u7``.

    At most ``limit`` items are written, then ``… (+N more)`` counting the ids left out
    (``more`` is the word; :func:`optimizer.lang.ids` gives it in the planner's language).
    """
    items: list[tuple[str, int]] = []  # (text, number of ids)
    run: list[str] = []  # ids of the current run

    def flush() -> None:
        if len(run) >= 3:
            items.append((f"{run[0]}..{run[-1]}", len(run)))
        else:
            items.extend((x, 1) for x in run)
        run.clear()

    prev: tuple[str, int] | None = None  # (prefix, number) of the last id in the run
    for x in ids:
        m = _SUFFIX.match(x)
        key = (m.group(1), int(m.group(2))) if m else None
        if not (key and prev and key[0] == prev[0] and key[1] == prev[1] + 1):
            flush()
        run.append(x)
        prev = key
    flush()
    text = ", ".join(t for t, _ in items[:limit])
    if len(items) > limit:
        text += f", … (+{sum(n for _, n in items[limit:])} {more})"
    return text


#: Control characters (C0, DEL, C1) and bidirectional overrides: never echoed to a terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    r"""``text`` (or ``str(text)``) without control characters, for one line on a terminal.

    Used for every id, name and path the CLI echoes: an instance named
    ``"\x1b[2J"`` must not clear the planner's screen. Tabs and newlines go too,
    so a name cannot break the one-line-per-item layout of a listing.
    """
    return _CONTROL.sub("", str(text))


def printable_tree(value: Any) -> Any:
    """A JSON-like value with :func:`printable` applied to every string in it (keys too)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_tree(k): printable_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_tree(v) for v in value]
    return value

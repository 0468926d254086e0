"""Planners' words in Danish and English: the one catalogue of phrases and formats for people.

Everything a planner reads (the round report, terminal summaries, explanations)
takes its phrases from :data:`TEXT` and its numbers, amounts and dates from
:func:`number`, :func:`kr` and :func:`date`, so one word is translated once and an
amount reads the same on every page. Danish is the default: anvis is a tool for
Danish municipal planners (kommunal anvisning). English gives the engine's own
wording, as before there was a catalogue.

Machine formats do not come from here: a plan's ``reason`` texts stay English
(FORMAT.md §5), and explanations keep their JSON keys.
"""

from __future__ import annotations

import datetime as dt
from typing import SupportsFloat

from optimizer.text import KR_TOLERANCE

__all__ = ["DEFAULT_LANG", "LANGS", "TEXT", "amount", "date", "datetime", "kr", "number", "percent", "plural", "say"]

#: The languages of the catalogue; the first is the default.
LANGS = ("da", "en")
DEFAULT_LANG = "da"

_MONTHS_DA = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)

#: ``TEXT[lang][key]``: a phrase, with ``{name}`` fields filled by :func:`say`.
TEXT: dict[str, dict[str, str]] = {
    "da": {
        # page and header
        "report.title": "Anvisningsrapport: {name}",
        "report.instance": "Datasæt",
        "report.plan_names": "planen nævner {name}",
        "report.status": "Status",
        "report.sha": "Datasættets sha256",
        "report.objective": "Mål",
        "report.objective_text": "{kind}: anvist {housed}; samlet score {score}",
        "report.weighted": "; vægtet mål {value}",
        "report.bound_gap": "Grænse / afstand",
        "report.warning": "Advarsel",
        "report.footer": "Lavet af anvis {version} ud fra datasættet og planen alene. Borgere vises kun med id, "
        "prioritet og anvisning.",
        "report.contents": "Indhold",
        "report.print_hint": "Ved udskrift åbnes alle afsnit; lange tabeller fortsætter over flere sider.",
        # round
        "round.round": "Runde",
        "round.status": "Rundens status",
        "round.committed_by": "Godkendt af",
        "round.committed_at": "Godkendt",
        "round.opened_at": "Åbnet",
        "round.not_committed": "ikke godkendt",
        "round.status.open": "åben",
        "round.status.solved": "løst",
        "round.status.committed": "godkendt",
        "round.status.abandoned": "opgivet",
        # overrides
        "ov.heading": "Tilsidesættelser",
        "ov.intro": "Planlæggerens tilsidesættelser i denne runde, med noten og hvad hver kostede.",
        "ov.none": "Ingen tilsidesættelser i denne runde.",
        "ov.kind": "art",
        "ov.citizen": "borger",
        "ov.unit": "bolig",
        "ov.note": "note",
        "ov.effect": "virkning",
        "ov.kind.lock": "låst",
        "ov.kind.forbid": "forbudt",
        "ov.kind.reserve": "reserveret",
        "ov.kind.hold": "holdt tilbage",
        "ov.moved": "{n} borger(e) fik en anden bolig: {ids}",
        "ov.lost": "{n} borger(e) mistede deres bolig: {ids}",
        "ov.priority_lost": "tabte pladser: {parts}",
        "ov.priority_part": "prioritet {p}: {n}",
        "ov.no_effect": "ingen ændring for andre borgere",
        "ov.unknown_effect": "virkning ikke beregnet",
    },
    "en": {
        "report.title": "anvis round report: {name}",
        "report.instance": "Instance",
        "report.plan_names": "plan names {name}",
        "report.status": "Status",
        "report.sha": "Instance sha256",
        "report.objective": "Objective",
        "report.objective_text": "{kind}: housed {housed}; total score {score}",
        "report.weighted": "; weighted objective {value}",
        "report.bound_gap": "Bound / gap",
        "report.warning": "Warning",
        "report.footer": "Made by anvis {version} from the instance and the plan alone. Citizens are shown by id "
        "with their priority and assignment only.",
        "report.contents": "Contents",
        "report.print_hint": "When printed, every section opens; long tables continue over several pages.",
        "round.round": "Round",
        "round.status": "Round status",
        "round.committed_by": "Committed by",
        "round.committed_at": "Committed",
        "round.opened_at": "Opened",
        "round.not_committed": "not committed",
        "round.status.open": "open",
        "round.status.solved": "solved",
        "round.status.committed": "committed",
        "round.status.abandoned": "abandoned",
        "ov.heading": "Overrides",
        "ov.intro": "The planner's overrides in this round, with their note and what each cost.",
        "ov.none": "No overrides in this round.",
        "ov.kind": "kind",
        "ov.citizen": "citizen",
        "ov.unit": "unit",
        "ov.note": "note",
        "ov.effect": "effect",
        "ov.kind.lock": "lock",
        "ov.kind.forbid": "forbid",
        "ov.kind.reserve": "reserve",
        "ov.kind.hold": "hold",
        "ov.moved": "{n} citizen(s) moved to another unit: {ids}",
        "ov.lost": "{n} citizen(s) lost their unit: {ids}",
        "ov.priority_lost": "places lost: {parts}",
        "ov.priority_part": "priority {p}: {n}",
        "ov.no_effect": "no change for other citizens",
        "ov.unknown_effect": "effect not computed",
    },
}


def _check(lang: str) -> str:
    if lang not in TEXT:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    return lang


def say(key: str, lang: str = DEFAULT_LANG, /, **fields: object) -> str:
    """The phrase ``key`` in ``lang`` with its ``{fields}`` filled.

    Raises
    ------
    ValueError
        For a language not in :data:`LANGS`.
    KeyError
        For a key not in the catalogue (every key is in every language; a test holds this).
    """
    text = TEXT[_check(lang)][key]
    return text.format(**fields) if fields else text


def number(x: SupportsFloat, lang: str = DEFAULT_LANG, digits: int = 0) -> str:
    """A number with thousands separators: ``3.690`` and ``3.386,50`` in Danish, ``3,690`` in English.

    Parameters
    ----------
    x
        The number.
    lang
        ``"da"`` or ``"en"``.
    digits
        Decimals shown.
    """
    text = f"{float(x):,.{digits}f}"
    if _check(lang) == "da":
        # Swap the separators through a placeholder: "," groups thousands in Python's format.
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def amount(x: SupportsFloat, lang: str = DEFAULT_LANG) -> str:
    """A kroner amount without unit, øre only where there are any (``3.690``, ``3.386,50``)."""
    x = float(x)
    return number(x, lang, 0 if abs(x - round(x)) < KR_TOLERANCE else 2)


def kr(x: SupportsFloat, lang: str = DEFAULT_LANG) -> str:
    """A kroner amount with its unit: ``3.690 kr.`` in Danish, ``3,690 kr`` in English."""
    return f"{amount(x, lang)} kr." if _check(lang) == "da" else f"{amount(x, lang)} kr"


def percent(x: SupportsFloat, lang: str = DEFAULT_LANG, digits: int = 0) -> str:
    """A share in per cent of ``x`` (a fraction): ``12 %`` (Danish ``12,5 %``)."""
    return f"{number(100 * float(x), lang, digits)} %"


def _parse(d: dt.date | str) -> dt.date:
    if isinstance(d, dt.date):
        return d
    text = d.strip()
    # ISO 8601 with "Z" (UTC) is what the ledger writes; fromisoformat takes "Z" from Python 3.11.
    return dt.datetime.fromisoformat(text) if ("T" in text or " " in text) else dt.date.fromisoformat(text)


def date(d: dt.date | str, lang: str = DEFAULT_LANG) -> str:
    """A day: ``29. november 2026`` in Danish, ``2026-11-29`` in English.

    ``d`` is a date, a datetime (its day is shown) or an ISO 8601 string; a string
    that is not ISO 8601 is returned as it is (the ledger's text is never lost).
    """
    try:
        day = _parse(d)
    except ValueError:
        return str(d)
    if _check(lang) == "da":
        return f"{day.day}. {_MONTHS_DA[day.month - 1]} {day.year}"
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def datetime(d: dt.date | str, lang: str = DEFAULT_LANG) -> str:
    """A moment: ``29. november 2026 kl. 14.05`` in Danish, ``2026-11-29 14:05`` in English (UTC as given)."""
    try:
        when = _parse(d)
    except ValueError:
        return str(d)
    if not isinstance(when, dt.datetime):
        return date(when, lang)
    zone = " UTC" if when.utcoffset() == dt.timedelta(0) else ""
    if lang == "da":
        return f"{date(when, lang)} kl. {when.hour:02d}.{when.minute:02d}{zone}"
    return f"{date(when, lang)} {when.hour:02d}:{when.minute:02d}{zone}"


def plural(n: int, one: str, many: str, lang: str = DEFAULT_LANG) -> str:
    """``1 bolig``, ``2 boliger``: the count in the language's digits with the word for it."""
    return f"{number(n, lang)} {one if n == 1 else many}"

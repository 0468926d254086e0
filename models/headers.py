"""The names of tables and columns in Danish and English: one table, for writing and for reading.

A field of an instance or a plan has a canonical name (its JSON name, ``rent_kr``), a
Danish name that the plan sheets are written with (``husleje``) and Danish synonyms that
reading accepts, as a municipality's own sheets name their columns (``Husleje pr. md.``).
Matching ignores case, blanks, punctuation and a unit ``kr`` at the end, so
``Max husleje (kr)``, ``max_husleje`` and ``MAX HUSLEJE`` all name ``max_rent_kr``.

:func:`column_lookup` gives the names one table accepts; :func:`header_name` the name a
column is written with in a language (:data:`LANGS`). A planner's own names are mapped
with a ``--columns`` file (:func:`read_column_map`).
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from models.validate import InstanceError, Problem

DA = "da"
EN = "en"
LANGS = (DA, EN)
"""The languages plans are written in: Danish (the default) and English."""

# ---------------------------------------------------------------------------
# The names
# ---------------------------------------------------------------------------

#: Canonical table → its Danish name (written) and Danish synonyms (read).
TABLE_NAMES: dict[str, tuple[str, ...]] = {
    "parameters": ("parametre", "indstillinger"),
    "regions": ("regioner", "region"),
    "municipalities": ("kommuner", "kommune"),
    "organisations": ("boligorganisationer", "boligorganisation", "organisationer"),
    "departments": ("afdelinger", "afdeling", "boligafdelinger"),
    "units": ("boliger", "ledige boliger", "lejemål"),
    "agreements": ("aftaler", "udlejningsaftaler", "aftale"),
    "ledger": ("tidligere runder", "regnskab"),
    "citizens": ("borgere", "boligsøgende", "venteliste", "akutliste"),
    "scores": ("point", "matchpoint"),
    "overrides": ("indgreb", "planlæggerens indgreb"),
    # plan sheets
    "assignments": ("anvisninger",),
    "unassigned": ("ikke anvist", "ikke anviste"),
    "reasons": ("begrundelser",),
    "usage_pools": ("forbrug puljer",),
    "usage_departments": ("forbrug afdelinger",),
    "usage_frames": ("forbrug rammer",),
    "usage_quotas": ("forbrug kvoter",),
    "summary": ("oversigt",),
}

#: Canonical field → its Danish name (written) and Danish synonyms (read), for every table.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "nr", "nummer"),
    "name": ("navn",),
    "key": ("nøgle", "parameter"),
    "value": ("værdi",),
    "region": ("region", "regionsnr"),
    "municipality": ("kommune", "kommunenr", "kommunenummer"),
    "organisation": ("boligorganisation", "organisation", "boligselskab"),
    "department": ("afdeling", "boligafdeling", "afdelingsnr"),
    "grant_quota": ("tilskudskvote", "kvote fra fonden"),
    "subsidy_frame": ("tilsagnsramme", "tilskudsramme"),
    "area": ("områdetype", "område"),
    "max_vulnerable": ("max udsatte", "maks udsatte", "loft over udsatte"),
    "rooms": ("værelser", "antal værelser", "vær"),
    "rent_kr": ("husleje", "husleje pr md", "husleje pr måned", "månedlig husleje", "månedshusleje", "leje"),
    "kind": ("boligtype", "type"),
    "accessible": ("tilgængelig", "handicapvenlig", "tilgængelig bolig"),
    "temporary": ("midlertidig", "midlertidig bolig"),
    "sequence": ("ledighedsrækkefølge", "rækkefølge"),
    "offered": ("tilbudt", "tilbudt tur"),
    "share": ("andel", "anvisningsandel"),
    "max_rent_kr": ("max husleje", "maks husleje", "maksimal husleje", "højeste husleje", "huslejegrænse"),
    "departments": ("afdelinger",),
    "mode": ("anvisningsmåde", "måde"),
    "kinds": ("boligtyper", "typer"),
    "units": ("boliger",),
    "pool": ("pulje", "anvisningspulje"),
    "vacancies_before": ("ledige før", "tidligere ledige"),
    "claimed_before": ("anvist før", "tidligere anvist"),
    "priority": ("prioritet", "hastegrad"),
    "waiting_days": ("ventetid dage", "ventetid", "ventedage", "dage på venteliste"),
    "min_rooms": ("min værelser", "mindst værelser", "minimum værelser"),
    "max_rooms": ("max værelser", "maks værelser", "højst værelser"),
    "vulnerable": ("udsat", "socialt udsat"),
    "subsidy_eligible": ("tilskudsberettiget", "ret til huslejetilskud"),
    "needs_accessible": ("behov for tilgængelighed", "kræver tilgængelig bolig"),
    "accepts_temporary": ("accepterer midlertidig", "accepterer midlertidig bolig"),
    "barred_areas": ("udelukkede områder", "fravalgte områder"),
    "excluded_departments": ("udelukkede afdelinger", "fravalgte afdelinger"),
    "preferences": ("ønsker", "præferencer", "ønskede afdelinger"),
    "weight": ("vægt",),
    "homeless": ("hjemløs",),
    "citizen": ("borger", "borger id"),
    "unit": ("bolig", "bolig id", "lejemål"),
    "score": ("score", "point", "matchscore"),
    "action": ("handling",),
    "note": ("note", "bemærkning"),
    # parameters (keys of the parameters table)
    "format": ("format",),
    "default_share": ("standardandel",),
    "subsidy_amount_kr": ("huslejetilskud", "tilskudsbeløb"),
    "subsidy_band_kr": ("tilskudsinterval", "huslejeinterval for tilskud"),
    "objective": ("målfunktion", "mål"),
    "priority_weights": ("prioritetsvægte",),
    "default_mode": ("standard anvisningsmåde",),
    "subsidy_kinds": ("boligtyper med tilskud",),
    # plan fields
    "subsidised": ("tilskud", "med tilskud"),
    "effective_rent_kr": ("husleje efter tilskud", "nettohusleje"),
    "subsidy_kr": ("huslejetilskud", "tilskudsbeløb"),
    "locked": ("låst",),
    "code": ("kode", "årsagskode"),
    "reason": ("årsag", "begrundelse"),
    "details": ("detaljer",),
    "plan_reason": ("planens tekst", "planens begrundelse"),
    "used": ("brugt", "forbrug"),
    "cap": ("loft",),
    "frame": ("ramme",),
    "quota": ("kvote",),
    "vacancies": ("ledige",),
    "vulnerable_used": ("udsatte",),
    # plan summary keys
    "instance": ("instans",),
    "status": ("status",),
    "total_score": ("samlet score",),
    "objective_value": ("målværdi",),
    "instance_sha256": ("instansens sha256",),
    "objective_kind": ("målfunktion",),
    "bound": ("grænse",),
    "gap": ("afstand til grænse",),
    "passed": ("overladte ture",),
    "homeless_housed_under_3500_kr": ("hjemløse anvist under 3500 kr",),
    "solver": ("løser",),
    "overrides": ("indgreb",),
}

#: Per table, names that differ from :data:`FIELD_NAMES` (an ``id`` is a bolig, a borger, ...).
TABLE_FIELD_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "regions": {"id": ("region", "regionsnr", "id")},
    "municipalities": {"id": ("kommune", "kommunenr", "kommunenummer", "id")},
    "organisations": {"id": ("boligorganisation", "organisation", "id")},
    "departments": {"id": ("afdeling", "afdelingsnr", "id")},
    "units": {"id": ("bolig", "bolig id", "lejemål", "lejemålsnr", "id")},
    "agreements": {"id": ("aftale", "aftalenr", "id"), "max_rent_kr": ("max husleje", "maks husleje", "huslejeloft")},
    "citizens": {"id": ("borger", "borger id", "løbenr", "id")},
    "usage_pools": {"id": ("pulje", "pool", "id")},
    "usage_departments": {"id": ("afdeling", "department", "id"), "used": ("udsatte anvist", "brugt", "used")},
}

#: English names other than the canonical one: how a plan is written with ``lang="en"``
#: (a usage table's ``id`` is its ``pool`` or ``department``) and what reading also accepts.
ENGLISH_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "": {"rent_kr": ("rent",), "max_rent_kr": ("max rent",), "subsidy_kr": ("subsidy kr",)},
    "usage_pools": {"id": ("pool",)},
    "usage_departments": {"id": ("department",)},
}

# ---------------------------------------------------------------------------
# Reason codes in words
# ---------------------------------------------------------------------------

#: A plan's reason code (:mod:`optimizer.plan.reasons`, ``declined`` from rounds) in
#: words: ``CODE_WORDS[lang][code] = (short, long)``. The one place these words live:
#: the plan sheets write them (and read them back to the code) and
#: :data:`optimizer.lang.TEXT` takes its ``reason.<code>`` / ``reason.short.<code>``
#: phrases from here, because ``models`` writes the sheets and cannot import ``optimizer``.
#: English words are the codes themselves (short) and the engine's wording (long).
CODE_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    DA: {
        "no_eligible_unit": (
            "ingen egnet bolig",
            "ingen ledig bolig i denne runde passer til borgerens behov, huslejegrænse og reglerne",
        ),
        "capacity": (
            "loft eller ramme opbrugt",
            "egnede boliger var ledige, men en anvisningsret, et loft for blandet by, en tilsagnsramme eller "
            "en kvote var opbrugt",
        ),
        "outranked": (
            "boligerne gik til borgere med højere prioritet",
            "alle egnede boliger gik til mere akutte borgere",
        ),
        "competition": (
            "gik til andre i en bedre samlet plan",
            "egnede boliger gik til borgere med samme eller lavere prioritet, i en plan der anviser flere "
            "akutte borgere eller passer bedre samlet",
        ),
        "time_limit": ("tidsgrænse", "en egnet bolig er stadig ledig: løsningen blev afbrudt af tidsgrænsen"),
        "declined": ("takkede nej", "borgeren takkede nej til den anviste bolig"),
    },
    EN: {
        "no_eligible_unit": (
            "no eligible unit",
            "no vacant unit this round fits their needs, rent limit and the rules",
        ),
        "capacity": (
            "cap or frame full",
            "suitable units were free, but a share cap, mixed-city cap, subsidy frame or grant quota was full",
        ),
        "outranked": ("outranked", "every suitable unit went to a more urgent citizen"),
        "competition": (
            "competition",
            "suitable units went to citizens of equal or lower urgency, in a plan that houses more urgent "
            "citizens or fits better overall",
        ),
        "time_limit": ("time limit", "a suitable unit is still free: the solve was cut short by its time limit"),
        "declined": ("declined", "the citizen declined the unit offered"),
    },
}


def code_words(code: Any, lang: str = DA) -> Any:
    """A reason code's short words in ``lang`` (``outranked`` → ``boligerne gik til ...``); other values as given."""
    words = CODE_WORDS.get(lang, {}).get(code) if isinstance(code, str) else None
    return words[0] if words else code


def code_of(text: Any) -> Any:
    """The reason code a sheet's cell names: the code itself or its words in any language; other values as given."""
    if not isinstance(text, str):
        return text
    key = normal(text)
    for words in CODE_WORDS.values():
        for code, (short, _) in words.items():
            if key in (normal(short), normal(code)):
                return code
    return text


# ---------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------

_UNIT = re.compile(r"(kr|dkk)$")


def normal(name: str) -> str:
    """A name for matching: case, accents of Latin letters other than æøå, blanks and punctuation removed.

    >>> normal("Max husleje (kr.)")
    'maxhusleje'
    """
    text = unicodedata.normalize("NFKC", str(name)).casefold().replace("aa", "å")
    kept = "".join(ch for ch in text if ch.isalnum())
    bare = _UNIT.sub("", kept)
    return bare or kept


def danish_names(table: str, name: str) -> tuple[str, ...]:
    """The Danish name of field ``name`` in ``table`` first, then its synonyms (``()`` when it has none)."""
    return TABLE_FIELD_NAMES.get(table, {}).get(name) or FIELD_NAMES.get(name, ())


def header_name(table: str, name: str, lang: str = DA) -> str:
    """The header a column of ``table`` is written with in ``lang`` (its canonical name when it has no other)."""
    names = danish_names(table, name) if lang == DA else ENGLISH_NAMES.get(table, {}).get(name, ())
    return names[0] if names else name


def table_name(table: str, lang: str = DA) -> str:
    """The sheet title (and CSV file stem) of ``table`` in ``lang``: Danish words joined by ``_`` in files."""
    names = TABLE_NAMES.get(table, ()) if lang == DA else ()
    return names[0].replace(" ", "_") if names else table


@dataclass(frozen=True)
class Lookup:
    """The column names one table accepts: normalised name → canonical field.

    ``danish`` holds the normalised names that only Danish uses (so a sheet naming one
    of them is a Danish sheet, where ``4.500`` is four thousand five hundred).
    """

    fields: dict[str, str]
    danish: frozenset[str] = field(default_factory=frozenset)

    def find(self, header: str) -> str | None:
        """The canonical field a column header names, or None."""
        return self.fields.get(normal(header))

    def is_danish(self, header: str) -> bool:
        """Whether ``header`` is a Danish name (not a canonical or English one)."""
        return normal(header) in self.danish

    def near(self, name: str, headers: Iterable[str]) -> str | None:
        """The header most like field ``name`` (by :mod:`difflib`), for a hint, or None."""
        import difflib  # only for a hint: not imported by every run

        wanted = [k for k, v in self.fields.items() if v == name]
        by_normal = {normal(h): h for h in headers if self.find(h) is None}
        best: tuple[float, str] | None = None
        for w in wanted:
            for match in difflib.get_close_matches(w, by_normal, n=1, cutoff=0.6):
                ratio = difflib.SequenceMatcher(None, w, match).ratio()
                if best is None or ratio > best[0]:
                    best = (ratio, by_normal[match])
        return best[1] if best else None


def column_lookup(table: str, fields: Iterable[str]) -> Lookup:
    """The names ``table``'s columns may have: each field's canonical, English and Danish names.

    A name two fields of one table share (``huslejetilskud`` in the parameters) goes to
    the first; tests pin that no table has such a clash.
    """
    out: dict[str, str] = {}
    danish: set[str] = set()
    for name in fields:
        out.setdefault(normal(name), name)
        for en in (*ENGLISH_NAMES[""].get(name, ()), *ENGLISH_NAMES.get(table, {}).get(name, ())):
            out.setdefault(normal(en), name)
    for name in fields:
        for da in danish_names(table, name):
            key = normal(da)
            if out.setdefault(key, name) == name and key != normal(name):
                danish.add(key)
    return Lookup(out, frozenset(danish))


def find_table(title: str, tables: Iterable[str]) -> str | None:
    """The canonical table a sheet title or CSV file stem names (any language), or None."""
    key = normal(title.replace("_", " "))
    for table in tables:
        if key == normal(table.replace("_", " ")) or key in (normal(t) for t in TABLE_NAMES.get(table, ())):
            return table
    return None


def near_table(title: str, tables: Iterable[str]) -> str:
    """A hint for a sheet or file that names no table: `` (is it 'boliger', the table units?)``, or ``""``."""
    import difflib  # only for a hint

    names = {normal(n): (n, t) for t in tables for n in (*TABLE_NAMES.get(t, ()), t.replace("_", " "))}
    match = difflib.get_close_matches(normal(title.replace("_", " ")), names, n=1, cutoff=0.7)
    if not match:
        return ""
    name, table = names[match[0]]
    return f" (is it {name!r}, the table {table}?)" if name != table else f" (is it {table!r}?)"


# ---------------------------------------------------------------------------
# A planner's column map (--columns MAP.toml)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnMap:
    """A planner's own column names: ``{table: {normalised header: field}}``; table ``""`` is every table."""

    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def find(self, table: str, header: str) -> str | None:
        """The field the map gives ``header`` in ``table``, or None."""
        key = normal(header)
        return self.columns.get(table, {}).get(key) or self.columns.get("", {}).get(key)


def read_column_map(path: str | os.PathLike[str], known: Mapping[str, Iterable[str]]) -> ColumnMap:
    """Read a ``--columns`` file: which of a municipality's columns is which field.

    The file is TOML; ``[columns]`` maps a header to a field in every sheet, and
    ``[columns.<table>]`` (``units``, or a Danish sheet name such as ``boliger``) in one::

        [columns]
        "Husleje pr. md." = "rent_kr"

        [columns.borgere]
        "Løbenr." = "id"

    A field may be given by any of its names (``husleje`` for ``rent_kr``).

    Parameters
    ----------
    path
        The TOML file.
    known
        Every table the map may name, with its fields.

    Raises
    ------
    InstanceError
        Naming the file and each entry that is not a known table or field.
    """
    # imported here: only --columns reads TOML, and the parser is 1-2 ms of every run's start-up
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    source = str(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise InstanceError(source, [Problem("", f"cannot read: {exc.strerror or exc}")]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InstanceError(source, [Problem("", f"not TOML: {exc}")]) from None
    problems: list[Problem] = []
    section = data.get("columns")
    if not isinstance(section, dict):
        raise InstanceError(source, [Problem("", 'expected a [columns] table, e.g. [columns] "Husleje" = "rent_kr"')])
    out: dict[str, dict[str, str]] = {}
    every = {name for fields in known.values() for name in fields}

    def add(table: str, header: str, target: Any, where: str) -> None:
        fields = every if table == "" else set(known[table])
        tables = list(known) if table == "" else [table]
        found: set[str] = set()
        if isinstance(target, str):
            if target in fields:
                found = {target}
            else:
                found = {f for t in tables if (f := column_lookup(t, known[t]).find(target)) is not None}
        if len(found) > 1:
            problems.append(
                Problem(where, f"{target!r} names {' and '.join(sorted(found))}: map it under [columns.<table>]")
            )
        elif not found:
            import difflib  # only for a hint

            hint = difflib.get_close_matches(str(target), sorted(fields), n=1)
            more = f" (did you mean {hint[0]!r}?)" if hint else ""
            what = "a field" if table == "" else f"a field of {table}"
            problems.append(Problem(where, f"{target!r} is not {what}{more}"))
        else:
            out.setdefault(table, {})[normal(header)] = found.pop()

    for header, target in section.items():
        if isinstance(target, dict):
            table = find_table(header, known)
            if table is None:
                problems.append(Problem(f"columns.{header}", f"{header!r} is not a table ({', '.join(known)})"))
                continue
            for name, value in target.items():
                add(table, name, value, f"columns.{header}.{name}")
        else:
            add("", header, target, f"columns.{header}")
    if problems:
        raise InstanceError(source, problems)
    return ColumnMap(out)

"""The catalogue of planners' words (optimizer.lang): complete in both languages, Danish formats."""

from __future__ import annotations

import datetime as dt
import string

import pytest

from optimizer import lang as L


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_phrase_is_in_both_languages_with_the_same_fields():
    """A key missing in one language, or a {field} only one language fills, would fail at run time."""
    assert L.LANGS == ("da", "en") and L.DEFAULT_LANG == "da"
    assert L.TEXT["da"].keys() == L.TEXT["en"].keys()
    assert L.NOUNS["da"].keys() == L.NOUNS["en"].keys()
    only_english = {"turn.every": {"suffix"}}  # "every 4th": Danish writes "hver 4."
    for key, da in L.TEXT["da"].items():
        assert fields(da) | only_english.get(key, set()) == fields(L.TEXT["en"][key]), key
        assert da.strip() and L.TEXT["en"][key].strip(), key


def test_danish_phrases_are_danish():
    """No Danish phrase is left in English (a few words are the same in both, and codes are named as such)."""
    same = {
        "report.status",  # "Status"
        "ov.note",  # "note"
        "status.optimal",
        "col.score",
        "all.score",  # ", score {score}"
        "ex.score_parts",  # "Score {score} = 100 × (...)"
        "cap.use",  # "{name} ({used}/{limit})"
        "ex.alt",
        "ex.excluded",
        "all.rule_count",
        "all.eligible",  # "{n}: {parts}."
        "plan.rule",  # "{n} {rule}"
        "rnd.round",  # "{label}: {id} {name} {status}{extra}"
        "plan.eligible",  # "{n}: {parts}"
    }
    for key, da in L.TEXT["da"].items():
        if key not in same:
            assert da != L.TEXT["en"][key], key


def test_rules_in_danish_cover_every_failure_code():
    from optimizer.engine.pairs import RULES

    assert L.RULES_DA.keys() == RULES.keys()
    for code, (caseworker, plan) in L.RULES_DA.items():
        assert caseworker.endswith(")") and plan.endswith(")"), code  # each names its rule number


@pytest.mark.parametrize(
    "x, da, en",
    [(3690, "3.690", "3,690"), (1234567.0, "1.234.567", "1,234,567"), (-1500, "-1.500", "-1,500"), (0, "0", "0")],
)
def test_numbers(x, da, en):
    assert L.number(x, "da") == da and L.number(x, "en") == en


def test_kroner_decimals_and_percent():
    assert L.kr(3690) == "3.690 kr." and L.kr(3690, "en") == "3,690 kr"
    assert L.kr(3386.5) == "3.386,50 kr." and L.kr(3386.5, "en") == "3,386.50 kr"
    assert L.kr(2000.001) == "2.000 kr."
    assert L.decimal(83.5) == "83,5" and L.decimal(80.0) == "80" and L.decimal(1234.567, "en") == "1,234.57"
    assert L.percent(0.125, "da", 1) == "12,5 %" and L.percent(0.5, "en") == "50 %"


def test_dates():
    assert L.date(dt.date(2026, 11, 29)) == "29. november 2026" and L.date("2026-11-29", "en") == "2026-11-29"
    assert L.date("2026-01-05T10:00:00Z") == "5. januar 2026"
    assert L.datetime("2026-11-29T14:05:00Z") == "29. november 2026 kl. 14.05 UTC"
    assert L.datetime("2026-11-29T14:05:00+00:00", "en") == "2026-11-29 14:05 UTC"
    assert L.datetime("2026-11-29T14:05:00") == "29. november 2026 kl. 14.05"  # no zone: none claimed
    assert L.datetime("last tuesday") == "last tuesday"  # not ISO 8601: kept as written, never lost


def test_plurals_and_phrases():
    assert L.plural(1, "unit") == "1 bolig" and L.plural(2000, "unit") == "2.000 boliger"
    assert L.plural(0, "citizen", "en") == "0 citizens"
    assert L.say("sum.priority", "da", p=1, most="", k="3", n="4") == "Prioritet 1: 3 af 4 anvist."


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language 'sv'"):
        L.say("report.title", "sv", name="x")
    with pytest.raises(ValueError):
        L.number(1, "de")


def test_short_numbers_keep_the_engines_digits():
    assert L.short(83.456) == "83,456" and L.short(83.456, "en") == "83.456" and L.short(1e6, "en") == "1e+06"
    assert L.short(26.5, "da", ".4g") == "26,5" and L.short(80.0) == "80"

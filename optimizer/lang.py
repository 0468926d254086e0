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
import re
from collections.abc import Iterable, Mapping
from typing import Any, SupportsFloat

from models.headers import CODE_WORDS, LANGS
from optimizer.text import KR_TOLERANCE, SHOWN_IDS, compact_ids

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "NOUNS",
    "TEXT",
    "amount",
    "date",
    "datetime",
    "decimal",
    "kr",
    "number",
    "percent",
    "plan_reason",
    "plural",
    "say",
]

#: The languages (one list, :data:`models.headers.LANGS`); the first is the default.
DEFAULT_LANG = LANGS[0]

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

#: ``TEXT[lang][key]``: a phrase, with ``{name}`` fields filled by :func:`say`. Every key is in
#: both languages. Where the engine already words a thing in English (a rule, a cap, a
#: counterfactual change, the plans' reasons), English output uses the engine's text and the
#: English entry here only mirrors it, so that both languages have the same keys and fields.
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
        "objective.lexicographic": "prioritet først (leksikografisk)",
        "objective.weighted": "vægtet",
        "report.warning": "Advarsel",
        "report.footer": "Lavet af anvis {version} ud fra datasættet og planen alene. Borgere vises kun med id, "
        "prioritet og anvisning.",
        "report.contents": "Indhold",
        "report.print_footer": "anvis: anvisningsrapport",
        # round
        "round.round": "Runde",
        "round.status": "Rundens status",
        "round.committed_by": "Godkendt af",
        "round.committed_at": "Godkendt",
        "round.opened_at": "Åbnet",
        "round.not_committed": "ikke godkendt",
        "round.status.opened": "åben",
        "round.status.solved": "løst",
        "round.status.committed": "godkendt",
        "round.status.rolled_back": "rullet tilbage",
        "round.status.abandoned": "opgivet",
        "round.status.purged": "opgivet (data slettet)",
        "round.status.new_period": "ny periode",
        "round.status.purge": "sletning af data",
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
        "ov.moved": "{n} fik en anden bolig: {ids}",
        "ov.lost": "{n} mistede sin bolig: {ids}",
        "ov.priority_lost": "tabte pladser: {parts}",
        "ov.priority_part": "prioritet {p}: {n}",
        "ov.no_effect": "ingen ændring for andre borgere",
        "ov.unknown_effect": "virkning ikke beregnet",
        # counterfactuals (the smallest single change), from the change's fields
        "cf.frame": "én plads mere i tilsagnsrammen for kommune {municipality} (ramme {frm} → {to})",
        "cf.quota": "én plads mere i kvoten for region {region} (kvote {frm} → {to})",
        "cf.department": "loftet for blandet by i afdeling {department} + 1 (max_vulnerable {frm} → {to})",
        "cf.ledger": "anvisningsretten i pulje {pool} + 1: én anvisning færre i puljens regnskab (claimed_before "
        "{frm} → {to}; loft {cap_from} → {cap_to})",
        "cf.share": "andelen i aftale {pool} {frm} → {to} ({points}; loft {cap_from} → {cap_to})",
        "cf.share_default": "en andel på {to} i stedet for standarden {frm} for boligorganisation {organisation} i "
        "kommune {municipality} (pulje {pool}, {points}; loft {cap_from} → {cap_to}; som ny aftale {new})",
        "cf.turn": "én tur mere i pulje {pool}: {how} gør bolig {unit} (ledig bolig nr. {vacancy} i puljen) til "
        "kommunens tur (ture i denne runde {n_from} → {n_to}: {was} → {now})",
        "cf.turn_share": "andelen i aftale {pool} {frm} → {to} ({points})",
        "cf.turn_default": "en andel på {to} i stedet for standarden {frm} for boligorganisation {organisation} i "
        "kommune {municipality} ({points}; som ny aftale {new})",
        "cf.points": "+{k} procentpoint",
        "cf.rent": "huslejegrænse + {n} ({frm} → {to})",
        "cf.min_rooms": "ét værelse færre accepteret (min_rooms {frm} → {to})",
        "cf.max_rooms": "ét værelse mere accepteret (max_rooms {frm} → {to})",
        "cf.none": "ingen ændring: en ny beregning af blokken, som den er, anviser borgeren",
        "cf.none_ids": "ingen",
        "cf.found": "{change} anviser borgeren til {unit} (ny beregning for {scope}; {n} prøvet)",
        "cf.unchanged": "en ny beregning for {scope} uden ændringer anviser borgeren til {unit}: planen valgte "
        "mellem lige gode planer eller var ikke optimal",
        "cf.not_found": "ingen af de {n}, der blev prøvet, ville anvise borgeren (ny beregning for {scope}{more})",
        "cf.not_tried": "; {n} mere ikke prøvet (--max-candidates)",
        "cf.housed": "anvist i planen: ingen ændring nødvendig",
        # terminal summary
        "sm.title": "anvis-plan for {name}: {status}",
        "sm.priority": "prioritet",
        "sm.housed": "anvist",
        "sm.not_housed": "ikke anvist",
        "sm.score": "samlet score {score}",
        "sm.weighted": ", vægtet mål {value}",
        "sm.gap": ", grænse {bound}, afstand {gap} %",
        "sm.limits": "lofter og rammer i brug",
        "sm.limit": "loft",
        "sm.used": "brugt",
        "sm.cap": "grænse",
        "sm.pool": "anvisningsret {id}",
        "sm.mixed": "blandet by {id}",
        "sm.frame": "tilsagnsramme {id}",
        "sm.quota": "kvote {id}",
        "sm.caption": "{full} af {n} lofter er fulde; alle står i planens usage-afsnit",
        "sm.reasons": "ikke anvist, efter årsag: {reasons}",
        "sm.time": "tid: {times}",
        "sm.written": "plan skrevet til {path}",
        "cli.report_written": "rapport skrevet til {path}",
        # explanations (explain, explain_all); rule and cap words are in RULES_DA and CAPS
        "ex.head": "Borger {citizen} (prioritet {priority}, kommune {municipality})",
        "ex.warning": "advarsel: {w}",
        "ex.housed": "{head} er anvist til bolig {unit} (afdeling {department}, pulje {pool}, {rooms} værelser)"
        "{locked}.",
        "ex.locked": ", låst af planlæggeren",
        "ex.not_eligible": "  Planens bolig er ikke egnet til denne borger: {why}.",
        "ex.score_given": "  Score {score}: givet i scores.",
        "ex.score_parts": "  Score {score} = 100 × ({parts})",
        "ex.rent_sub": "  Husleje {rent}, med huslejetilskud: husleje efter tilskud {eff} (huslejegrænse {limit}).",
        "ex.rent": "  Husleje {rent}, uden huslejetilskud (huslejegrænse {limit}).",
        "ex.no_other": "  Ingen anden bolig var egnet.",
        "ex.others": "  {n}; de bedste efter score:",
        "ex.alt": "    {unit}  score {score}  {reason}",
        "ex.not_housed": "{head} er ikke anvist ({code}); huslejegrænse {limit}, værelser {rooms}{sub}{vul}.",
        "ex.sub": ", kan få huslejetilskud",
        "ex.vul": ", udsat",
        "ex.no_units": "  Ingen ledig bolig i kommune {municipality} i denne runde (regel 2).",
        "ex.units": "  {n} i kommunen i denne runde; {eligible} egnede.",
        "ex.excluded": "  {n}: {rule}: {ids}",
        "ex.overridden": "  {n}: egnede efter reglerne, men udelukket af planlæggerens tilsidesættelse (forbud eller "
        "reservation): {ids}",
        "ex.to_more_urgent": "  {n} taget af mere akutte borgere: {taken}",
        "ex.to_other": "  {n} taget af borgere med samme eller lavere prioritet (planen anviser flere akutte borgere "
        "eller scorer højere sådan): {taken}",
        "ex.blocked": "  {n}, men spærret: {cap}: {ids}",
        "ex.free": "  {n} og ikke spærret (løsningen blev afbrudt): {ids}",
        "ex.cf": "  Mindste enkeltændring: {text}.",
        "ex.cf_delta": "    Ændring i planen: {delta}.",
        "ex.cf_tried": "    prøvet, ikke anvist: {text}",
        "ex.taken": "{unit} ({citizen}, prioritet {priority})",
        "ex.more": ", … (+{n} flere)",
        "ex.delta_moved": "{n} flytter ({moves})",
        "ex.delta_new": "også anvist: {who}",
        "ex.delta_gone": "ikke længere anvist: {who}",
        "ex.delta_who": "{citizen} (prioritet {priority})",
        "ex.delta_none": "ingen andre ændres",
        # why another unit went elsewhere
        "alt.more_urgent": "taget af {citizen} (prioritet {priority}, mere akut)",
        "alt.other": "taget af {citizen} (prioritet {priority}): planen som helhed anviser flere borgere eller "
        "scorer højere sådan",
        "alt.other_better": "taget af {citizen} (prioritet {priority}), der scorer {theirs} på den mod {ours} her",
        "alt.other_only": "taget af {citizen} (prioritet {priority}), for hvem den var den eneste egnede bolig",
        "alt.other_worse": "taget af {citizen} (prioritet {priority}), der scorer {theirs} på den mod {ours} her, "
        "men ellers ville en anden borger stå uden bolig eller planens samlede score blive lavere",
        "alt.cap": "ledig, men {caps}",
        "alt.lower": "ledig, men scorer lavere ({score} mod {own})",
        "alt.same": "ledig, men scorer det samme ({score} mod {own})",
        "alt.higher": "ledig og scorer højere: planen er ikke optimal (afbrudt?)",
        # the report's one-paragraph texts (explain_all)
        "all.housed": "Anvist til {unit} (afdeling {department}{score}; husleje efter tilskud {eff}{sub}).",
        "all.score": ", score {score}",
        "all.sub": ", med huslejetilskud",
        "all.best": " Bedste af {n}: {unit} (score {score}), {reason}.",
        "all.only": " Ingen anden bolig var egnet.",
        "all.no_units": "ingen ledig bolig i kommune {municipality} i denne runde.",
        "all.none_eligible": "ingen af de {n} i kommune {municipality} er egnede: {rules}.",
        "all.not_housed": "Ikke anvist ({code}): {why}",
        "all.not_housed_plain": "Ikke anvist: {why}",
        "all.eligible": "{n}: {parts}.",
        "all.overridden": "{n} mere udelukket af planlæggerens tilsidesættelser",
        "all.more_urgent": "{n} taget af mere akutte borgere",
        "all.same": "{n} taget af borgere med samme eller lavere prioritet",
        "all.blocked": "{n}, men spærret af et opbrugt loft: {caps}",
        "all.free": "{n} (løsningen blev afbrudt)",
        "all.cf": " Mindste enkeltændring: {text}.",
        "all.rule_count": "{n} {rule}",
        "ids.more": "flere",
        "part.pref": "ønske",
        "part.rent": "husleje",
        "part.rooms": "størrelse",
        "part.access": "tilgængelighed",
        "cap.unnamed": "en grænse for boligerne",
        "cap.unnamed_full": "en grænse for boligerne er opbrugt",
        "cap.full": "{name} er opbrugt ({used}/{limit})",
        "cap.use": "{name} ({used}/{limit})",
        "cap.pool": "anvisningsretten i pulje {id}",
        "cap.department": "loftet for blandet by i afdeling {id}",
        "cap.frame": "tilsagnsrammen for huslejetilskud i kommune {id}",
        "cap.quota": "kvoten for særligt billige boliger i region {id}",
        "rule.overridden": "udelukket af planlæggerens tilsidesættelse (forbud eller reservation)",
        "rule.other_municipality": "bolig i en anden kommune (regel 2)",
        "turn.head": "ikke kommunens tur i pulje {pool}: ledig bolig nr. {vacancy} i puljen",
        "turn.none": "{head}, som ikke har nogen ture (andel 0)",
        "turn.every": "{head}, turene er hver {n}.",
        "turn.share": "{head}, turene er en andel {share} af de ledige boliger",
        # sections
        "sec.summary": "Sammenfatning",
        "sec.priority": "Anvist pr. prioritet",
        "sec.departments": "Pr. afdeling",
        "sec.plots": "Figurer",
        "sec.assigned": "Anviste borgere ({n})",
        "sec.unassigned": "Ikke anviste borgere ({n})",
        "sec.pools": "Anvisningsret: anvisninger mod puljens andel",
        "sec.rotation": "Turnus: ture brugt og givet videre",
        "sec.mixed": "Blandet by: lofter over udsatte lejere",
        # status
        "status.optimal": "optimal",
        "status.feasible": "gyldig",
        "status.infeasible": "umulig",
        "status.error": "fejl",
        "status_text.optimal": "Planen er bevist optimal: ingen plan, der overholder reglerne, anviser flere akutte "
        "borgere eller passer dem bedre.",
        "status_text.feasible": "Planen overholder alle regler, men er ikke bevist bedst: løsningen stoppede ved "
        "tidsgrænsen.",
        "status_text.infeasible": "Ingen plan overholder alle regler (planlæggerens låsninger eller "
        "tilsidesættelser strider mod hinanden).",
        "status_text.error": "Løseren fejlede; planen anviser ingen.",
        # a plan's reason in words (plan_reason): the sheets of a Danish plan
        "plan.no_vacant": "ingen egnet bolig: ingen ledig bolig i borgerens kommune i denne runde",
        "plan.ruled_out": "ingen egnet bolig: af {m} i borgerens kommune er {parts}",
        "plan.rule": "{n} {rule}",
        "plan.eligible": "{n}: {parts}",
        "plan.overridden": "{n} mere udelukket af planlæggerens tilsidesættelser (forbud eller reservation)",
        "plan.more_urgent": "{n} gik til mere akutte borgere",
        "plan.same_or_less": "{n} gik til borgere med samme eller lavere prioritet i en plan, der anviser flere "
        "akutte borgere eller passer bedre",
        "plan.blocked": "blokeret af et fuldt loft: {caps}",
        "plan.pool_full": "puljen {pool} har ingen anvisningsret tilbage ({used}/{cap}) [{n}]",
        "plan.limit_full": "et loft over boligerne er nået [{n}]",
        "plan.free": "{units} stadig ledig: løsningen blev afbrudt af tidsgrænsen",
        # rounds in the terminal (anvis round ...)
        "rnd.created": "oprettede et nyt regnskab i {path}",
        "rnd.warning": "advarsel: {where}: {line}",
        "rnd.housed_citizen": "borger {citizen} blev allerede anvist bolig {unit} i runde {round} ({name})",
        "rnd.let_unit": "bolig {unit} blev allerede udlejet til borger {citizen} i runde {round} ({name})",
        "rnd.overrides": "tilsidesættelser: {cost}",
        "rnd.committed": "runde {id} ({name}) godkendt: {claims}{passes}{held}",
        "rnd.claims": "{n} anvisninger",
        "rnd.passed": ", {n} givet videre",
        "rnd.held": ", {n} holdt",
        "rnd.rolled_back": "runde {id} ({name}) rullet tilbage",
        "rnd.history_by": " af {by} den {at}",
        "rnd.new_period": "ny periode startet ({kinds}) som post {id}: {counts} nulstillet",
        "rnd.purge_none": "ingen opgivet runde at slette",
        "rnd.purged": "slettede {rounds} ({ids}) som post {id}",
        "rnd.abandoned": "runde {id} ({name}) opgivet",
        "rnd.ledger": "regnskab {db} (skemaversion {version})",
        "rnd.open_round": "åben runde",
        "rnd.last_committed": "senest godkendte",
        "rnd.none": "{label}: ingen",
        "rnd.round": "{label}: {id} {name} {status}{extra}",
        "rnd.by_at": " af {by} {at}",
        "rnd.state.open": "åben",
        "rnd.state.solved": "løst",
        "rnd.state.committed": "godkendt",
        "rnd.state.abandoned": "opgivet",
        "rnd.state.rolled_back": "rullet tilbage",
        "rnd.pool": "pulje {key}: {vacancies} ledige, {claimed} anvist{turns}",
        "rnd.rotation": ", turnus, {n} givet videre",
        "rnd.department": "afdeling {key}: {n} udsatte anvist",
        "rnd.municipality": "kommune {key}: {n} med huslejetilskud",
        "rnd.region": "region {key}: {n} med huslejetilskud",
        "rnd.held_unit": "holdt {unit} (pulje {pool}, {rent} om måneden): {weeks}, {cost} tomgangsleje",
        "rnd.weeks": "{n} uge",
        "rnd.weeks_many": "{n} uger",
        "rnd.tomgangsleje": "tomgangsleje betalt for holdte boliger: {kr}",
        "rnd.override": "tilsidesættelse {line}",
        "rnd.open_cost": "den åbne rundes tilsidesættelser: {cost}",
        "rnd.last_cost": "den senest godkendte rundes tilsidesættelser: {cost}",
        "rnd.cost_who": "{citizen} (prioritet {priority})",
        "rnd.cost_more": ", +{n} flere",
        "rnd.cost_moved": "{n} flyttet til en anden bolig: {ids}",
        "rnd.cost_lost": "{n} mistede deres plads: {ids}",
        "rnd.cost_gained": "{n} anvist i stedet: {ids}",
        "rnd.cost_none": "ingen anden borger anvist anderledes",
        "rnd.no_overrides": "runde {id} har ingen tilsidesættelser",
        "rnd.added": "tilsidesættelse {n} tilføjet: {kind} {target} (løs runden igen)",
        "rnd.removed": "tilsidesættelse {n} fjernet: {kind} {target} (løs runden igen)",
        "rnd.note": "bemærk: {note}",
        "rnd.carry_note": "pulje {pool}: dens {claims} anvisninger overstiger dens {vacancies} talte ledige boliger "
        "(tilbudte ture), hvad en regnskabslinje ikke kan udtrykke: udeladt ('round open' udfylder den fra "
        "regnskabet)",
        "rnd.carried": "{output}: {citizens} venter stadig (+{days} dage), {units} tilbage som tilbudt",
        "rnd.subsidies": "{n} {tenancies} med huslejetilskud: fuldt tilskud i {full} år fra godkendelsen, derefter "
        "lineær aftrapning over {taper} (beløb ved starten, ikke pristalsreguleret)",
        "rnd.subsidy_year": "{year}: {entering} går ind i aftrapningen, {in_taper} i den, {tenancies} med "
        "tilskud; udgift {cost}; {below} med en huslejegrænse under deres aftrappede husleje",
        "rnd.subsidy_entering": "  runde {round}: borger {citizen} i bolig {unit} (kommune {municipality}, siden "
        "{start})",
        # summary sentences
        "sum.housed": "Denne runde anviste {h} af {n} borgere på den akutte liste",
        "sum.priority": "Prioritet {p}{most}: {k} af {n} anvist.",
        "sum.most_urgent": " (mest akut)",
        "sum.rent": "Den gennemsnitlige husleje for de anviste boliger er {rent} om måneden; efter "
        "huslejetilskud betaler borgerne {after} i gennemsnit. {n} huslejetilskuddet på "
        "{amount} om måneden.",
        "sum.mixed": "Blandet by: {full} af {n} afdelinger med loft over udsatte lejere har nået loftet efter "
        "denne runde; {used} fik udsatte borgere.",
        "sum.frames": "{full} af {n} kommuners tilsagnsrammer til huslejetilskud er opbrugt ({used} brugt, "
        "{left} tilbage).",
        "sum.quotas": "{full} af {n} regioners kvoter for særligt billige boliger er opbrugt ({used} brugt, "
        "{left} tilbage).",
        "sum.pools": "{full} af {n} puljer har ingen anvisningsret tilbage i denne runde ({used} anvisninger af "
        "{cap} tilladte).",
        "sum.rotation": "Turnus: kommunen havde {may} i {pools} ({offered} tilbudt i "
        "tidligere runder og holdt); den brugte {used} og gav {passed} tilbage til boligorganisationerne.",
        "sum.homeless": "{h} anvist til en husleje efter tilskud under {limit} om måneden.",
        "sum.why_not": "Hvorfor borgere ikke blev anvist:",
        # tables
        "col.citizen": "borger",
        "col.unit": "bolig",
        "col.department": "afdeling",
        "col.organisation": "boligorganisation",
        "col.municipality": "kommune",
        "col.area": "område",
        "col.priority": "prioritet",
        "col.rent": "husleje (kr.)",
        "col.paid": "husleje efter tilskud (kr.)",
        "col.subsidised": "huslejetilskud",
        "col.score": "score",
        "col.why": "hvorfor",
        "col.reason": "årsag",
        "col.details": "detaljer",
        "col.citizens": "borgere",
        "col.housed": "anvist",
        "col.not_housed": "ikke anvist",
        "col.share_housed": "andel anvist",
        "col.vacant": "ledige boliger",
        "col.with_subsidy": "med huslejetilskud",
        "col.vulnerable": "udsatte anvist",
        "col.cap": "loft",
        "col.pool": "pulje",
        "col.share": "andel",
        "col.vacancies": "ledige",
        "col.before": "anvist / ledige før",
        "col.claims": "anvisninger",
        "col.left": "tilbage",
        "col.turns": "ture",
        "col.offered": "tilbudt",
        "col.used": "brugt",
        "col.passed": "givet videre",
        "yes": "ja",
        "no": "nej",
        "area.ordinary": "almindeligt",
        "area.prevention": "forebyggelsesområde",
        "area.disadvantaged": "udsat boligområde",
        "area.transformation": "omdannelsesområde",
        "tbl.search": "Søg",
        "tbl.search_hint": "skriv for at filtrere; klik på en kolonne for at sortere",
        "tbl.none_housed": "Ingen borger blev anvist i denne plan.",
        "tbl.all_housed": "Alle borgere på listen blev anvist.",
        "tbl.unassigned_summary": "{n} borgere ikke anvist, med årsagen",
        "tbl.click": "(klik for at åbne)",
        "tbl.pools_summary": "{n} puljer, {full} uden anvisningsret tilbage",
        "tbl.mixed_summary": "{n} afdelinger med loft, {full} fulde",
        "tbl.departments_summary": "{n} afdelinger med ledige boliger eller anvisninger",
        "tbl.no_departments": "Ingen afdeling har ledige boliger i denne runde.",
        "tbl.no_mixed": "Ingen afdeling har loft over udsatte lejere.",
        "tbl.no_rotation": "Ingen pulje er i turnus.",
        "rotation.intro": "I en turnuspulje må kommunen kun tage sine ture (hver fjerde ledige bolig, eller "
        "puljens andel, talt i den rækkefølge boligerne bliver ledige) og bruger eller giver hver tur videre; en "
        "tilbudt bolig er en tur fra en tidligere runde, som kommunen har holdt. En bolig givet videre går "
        "tilbage til boligorganisationen.",
        # plots
        "plot.dept.title": "Blandet by: udsatte borgere anvist mod loft pr. afdeling",
        "plot.dept.x": "udsatte borgere",
        "plot.dept.empty": "Ingen afdeling med loft over udsatte lejere er i brug eller fuld.",
        "plot.dept.placed": "anvist",
        "plot.dept.full": "anvist, loft nået",
        "plot.dept.cap": "loft (højst udsatte)",
        "plot.rent.title": "Husleje for de anviste boliger, før og efter huslejetilskud",
        "plot.rent.empty": "Ingen anvisninger i denne plan.",
        "plot.rent.band": "tilskudsinterval {lo}–{hi} kr.",
        "plot.rent.before": "husleje (før tilskud)",
        "plot.rent.after": "betalt husleje (efter tilskud)",
        "plot.rent.x": "kr. om måneden",
        "plot.rent.y": "anvisninger",
        "plot.prio.title": "Anvist pr. prioritet (1 er mest akut)",
        "plot.prio.empty": "Ingen borgere i dette datasæt.",
        "plot.prio.housed": "anvist",
        "plot.prio.not_housed": "ikke anvist",
        "plot.prio.bar": "{h} af {n} anvist",
        "plot.prio.x": "prioritet",
        "plot.prio.y": "borgere",
        "plot.lim.title": "Tilsagnsrammer (kommuner) og kvoter (regioner): brugt og tilbage",
        "plot.lim.x": "anvisninger med huslejetilskud",
        "plot.lim.empty": "Ingen tilsagnsramme eller kvote i dette datasæt.",
        "plot.lim.used": "brugt",
        "plot.lim.left": "tilbage",
        "plot.lim.over": "over grænsen",
        "plot.lim.frame": "ramme",
        "plot.lim.quota": "kvote",
        "cap.dept": "Udsatte borgere anvist i hver afdeling med loft for blandet by (søjle) mod loftet (ramme); "
        "rød: loft nået.",
        "cap.dept_shown": " Vist: de {shown} mest belastede af de {n} afdelinger, der fik udsatte borgere eller "
        "er fulde",
        "cap.dept_all": "; alle afdelinger med loft står i tabellen nedenfor",
        "cap.rent": "Månedlig husleje for de anviste boliger (grå) og den husleje, borgerne betaler efter "
        "huslejetilskud (blå linje); det skraverede interval er, hvor tilskud kan gives.",
        "cap.prio": "Borgere anvist og ikke anvist pr. prioritet.",
        "cap.lim": "Anvisninger med huslejetilskud mod hver kommunes tilsagnsramme og hver regions kvote (kun "
        "dem, der har en)",
        "cap.lim_shown": "; de {shown} mest brugte af {n} er vist",
        # warnings (the page's; the terminal's stay English)
        "warn.sha": "planen blev lavet til datasæt sha256 {plan}…, ikke dette datasæt ({inst}…); belastning "
        "og lofter nedenfor er dette datasæts",
        "warn.name": "planen nævner datasættet {plan}, dette datasæt hedder {inst}",
        "warn.passed": "planen siger, at den giver {plan} videre, genoptællingen ud fra dens "
        "anvisninger giver {recount} videre (siden viser genoptællingen)",
        "warn.homeless": "planen siger, at den anviser {plan} hjemløse borgere under {limit}, genoptællingen ud "
        "fra dens anvisninger {recount} (siden viser genoptællingen)",
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
        "objective.lexicographic": "lexicographic",
        "objective.weighted": "weighted",
        "report.warning": "Warning",
        "report.footer": "Made by anvis {version} from the instance and the plan alone. Citizens are shown by id "
        "with their priority and assignment only.",
        "report.contents": "Contents",
        "report.print_footer": "anvis: round report",
        "round.round": "Round",
        "round.status": "Round status",
        "round.committed_by": "Committed by",
        "round.committed_at": "Committed",
        "round.opened_at": "Opened",
        "round.not_committed": "not committed",
        "round.status.opened": "opened",
        "round.status.solved": "solved",
        "round.status.committed": "committed",
        "round.status.rolled_back": "rolled back",
        "round.status.abandoned": "abandoned",
        "round.status.purged": "purged",
        "round.status.new_period": "new period",
        "round.status.purge": "purge",
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
        "ov.moved": "{n} moved to another unit: {ids}",
        "ov.lost": "{n} lost their unit: {ids}",
        "ov.priority_lost": "places lost: {parts}",
        "ov.priority_part": "priority {p}: {n}",
        "ov.no_effect": "no change for other citizens",
        "ov.unknown_effect": "effect not computed",
        "cf.frame": "one more subsidy frame slot for municipality {municipality} (frame {frm} → {to})",
        "cf.quota": "one more grant-quota slot for region {region} (quota {frm} → {to})",
        "cf.department": "department {department} mixed-city cap + 1 (max_vulnerable {frm} → {to})",
        "cf.ledger": "pool {pool} cap + 1: one claim fewer in its ledger (claimed_before {frm} → {to}; cap "
        "{cap_from} → {cap_to})",
        "cf.share": "share of agreement {pool} {frm} → {to} ({points}; cap {cap_from} → {cap_to})",
        "cf.share_default": "a share of {to} instead of the default {frm} for organisation {organisation} in "
        "municipality {municipality} (pool {pool}, {points}; cap {cap_from} → {cap_to}; as new agreement {new})",
        "cf.turn": "one more turn in pool {pool}: {how} makes unit {unit} (vacancy {vacancy} of the pool) the "
        "municipality's turn (turns this round {n_from} → {n_to}: {was} → {now})",
        "cf.turn_share": "share of agreement {pool} {frm} → {to} ({points})",
        "cf.turn_default": "a share of {to} instead of the default {frm} for organisation {organisation} in "
        "municipality {municipality} ({points}; as new agreement {new})",
        "cf.points": "+{k} point(s)",
        "cf.rent": "rent limit + {n} ({frm} → {to})",
        "cf.min_rooms": "one room fewer accepted (min_rooms {frm} → {to})",
        "cf.max_rooms": "one room more accepted (max_rooms {frm} → {to})",
        "cf.none": "no change: re-solving the block as it is houses them",
        "cf.none_ids": "none",
        "cf.found": "{change} houses them in {unit} (re-solved {scope}; {n} tried)",
        "cf.unchanged": "re-solving {scope} unchanged houses them in {unit}: the plan chose among equally good "
        "plans or was not optimal",
        "cf.not_found": "none of the {n} tried would house them (re-solved {scope}{more})",
        "cf.not_tried": "; {n} more not tried (--max-candidates)",
        "cf.housed": "housed in the plan: no change needed",
        "sm.title": "anvis plan for {name}: {status}",
        "sm.priority": "priority",
        "sm.housed": "housed",
        "sm.not_housed": "not housed",
        "sm.score": "total score {score}",
        "sm.weighted": ", weighted objective {value}",
        "sm.gap": ", bound {bound}, gap {gap}%",
        "sm.limits": "limits in use",
        "sm.limit": "limit",
        "sm.used": "used",
        "sm.cap": "cap",
        "sm.pool": "pool {id}",
        "sm.mixed": "mixed-city {id}",
        "sm.frame": "frame {id}",
        "sm.quota": "quota {id}",
        "sm.caption": "{full} of {n} limits full; all in the plan's usage section",
        "sm.reasons": "not housed, by reason: {reasons}",
        "sm.time": "time: {times}",
        "sm.written": "plan written to {path}",
        "cli.report_written": "report written to {path}",
        "ex.head": "Citizen {citizen} (priority {priority}, municipality {municipality})",
        "ex.warning": "warning: {w}",
        "ex.housed": "{head} is housed in unit {unit} (department {department}, pool {pool}, {rooms} rooms){locked}.",
        "ex.locked": ", locked by the planner",
        "ex.not_eligible": "  The plan's unit is not eligible for this citizen: {why}.",
        "ex.score_given": "  Score {score}: given in scores.",
        "ex.score_parts": "  Score {score} = 100 × ({parts})",
        "ex.rent_sub": "  Rent {rent}, subsidised: effective rent {eff} (rent limit {limit}).",
        "ex.rent": "  Rent {rent}, no subsidy (rent limit {limit}).",
        "ex.no_other": "  No other unit was eligible.",
        "ex.others": "  {n}; the best by score:",
        "ex.alt": "    {unit}  score {score}  {reason}",
        "ex.not_housed": "{head} is not housed ({code}); rent limit {limit}, rooms {rooms}{sub}{vul}.",
        "ex.sub": ", subsidy-eligible",
        "ex.vul": ", vulnerable",
        "ex.no_units": "  No vacant unit in municipality {municipality} this round (rule 2).",
        "ex.units": "  {n} in the municipality this round; {eligible} eligible.",
        "ex.excluded": "  {n}: {rule}: {ids}",
        "ex.overridden": "  {n}: eligible by the rules, but excluded by a planner override (forbid or reserve): {ids}",
        "ex.to_more_urgent": "  {n} taken by more urgent citizens: {taken}",
        "ex.to_other": "  {n} taken by citizens of equal or lower urgency (the plan houses more urgent citizens or "
        "scores higher this way): {taken}",
        "ex.blocked": "  {n} free but blocked: {cap}: {ids}",
        "ex.free": "  {n} free and unblocked (the solve was cut short): {ids}",
        "ex.cf": "  Smallest single change: {text}.",
        "ex.cf_delta": "    Plan delta: {delta}.",
        "ex.cf_tried": "    tried, not housed: {text}",
        "ex.taken": "{unit} ({citizen}, priority {priority})",
        "ex.more": ", … (+{n} more)",
        "ex.delta_moved": "{n} move ({moves})",
        "ex.delta_new": "also housed: {who}",
        "ex.delta_gone": "no longer housed: {who}",
        "ex.delta_who": "{citizen} (priority {priority})",
        "ex.delta_none": "nobody else changes",
        "alt.more_urgent": "taken by {citizen} (priority {priority}, more urgent)",
        "alt.other": "taken by {citizen} (priority {priority}): the plan as a whole houses more citizens or scores "
        "higher this way",
        "alt.other_better": "taken by {citizen} (priority {priority}), who scores {theirs} there against {ours} here",
        "alt.other_only": "taken by {citizen} (priority {priority}), for whom it was the only eligible unit",
        "alt.other_worse": "taken by {citizen} (priority {priority}), who scores {theirs} there against {ours} here, "
        "but otherwise another citizen would go unhoused or the plan would score lower overall",
        "alt.cap": "free, but {caps}",
        "alt.lower": "free, but scores lower ({score} vs {own})",
        "alt.same": "free, but scores the same ({score} vs {own})",
        "alt.higher": "free and scores higher: the plan is not optimal (cut short?)",
        "all.housed": "Housed in {unit} (department {department}{score}; effective rent {eff}{sub}).",
        "all.score": ", score {score}",
        "all.sub": ", subsidised",
        "all.best": " Best of {n}: {unit} (score {score}), {reason}.",
        "all.only": " No other unit was eligible.",
        "all.no_units": "no vacant unit in municipality {municipality} this round.",
        "all.none_eligible": "none of the {n} of municipality {municipality} is eligible: {rules}.",
        "all.not_housed": "Not housed ({code}): {why}",
        "all.not_housed_plain": "Not housed: {why}",
        "all.eligible": "{n}: {parts}.",
        "all.overridden": "{n} more excluded by planner overrides",
        "all.more_urgent": "{n} taken by more urgent citizens",
        "all.same": "{n} taken by citizens of equal or lower urgency",
        "all.blocked": "{n} but blocked by a full cap: {caps}",
        "all.free": "{n} (the solve was cut short)",
        "all.cf": " Smallest single change: {text}.",
        "all.rule_count": "{n} {rule}",
        "ids.more": "more",
        "part.pref": "pref",
        "part.rent": "rent",
        "part.rooms": "rooms",
        "part.access": "access",
        "cap.unnamed": "a limit on the units",
        "cap.unnamed_full": "a limit on the units full",
        "cap.full": "{name} full ({used}/{limit})",
        "cap.use": "{name} ({used}/{limit})",
        "cap.pool": "pool {id} share cap",
        "cap.department": "department {id} mixed-city cap",
        "cap.frame": "subsidy frame of municipality {id}",
        "cap.quota": "grant quota of region {id}",
        "rule.overridden": "excluded by a planner override (forbid or reserve)",
        "rule.other_municipality": "unit of another municipality (rule 2)",
        "turn.head": "not the municipality's turn in pool {pool}: vacancy {vacancy} of the pool",
        "turn.none": "{head}, which has no turns (share 0)",
        "turn.every": "{head}, turns are every {n}{suffix}",
        "turn.share": "{head}, turns are a share {share} of the vacancies",
        "sec.summary": "Summary",
        "sec.priority": "Housed by priority",
        "sec.departments": "By department",
        "sec.plots": "Plots",
        "sec.assigned": "Assignments ({n})",
        "sec.unassigned": "Not housed ({n})",
        "sec.pools": "Pools: claims against the share cap",
        "sec.rotation": "Rotation pools: turns used and passed",
        "sec.mixed": "Mixed-city caps",
        "status.optimal": "optimal",
        "status.feasible": "feasible",
        "status.infeasible": "infeasible",
        "status.error": "error",
        "status_text.optimal": "The plan is proven optimal: no plan obeying the rules houses more urgent citizens "
        "or fits them better.",
        "status_text.feasible": "The plan obeys every rule but is not proven best: the solve stopped at its time "
        "limit.",
        "status_text.infeasible": "No plan obeys every rule (planner locks or overrides conflict).",
        "status_text.error": "The solver failed; this plan houses no one.",
        "plan.no_vacant": "no eligible unit: no vacant unit in the citizen's municipality this round",
        "plan.ruled_out": "no eligible unit: of {m} in the citizen's municipality, {parts}",
        "plan.rule": "{n} {rule}",
        "plan.eligible": "{n}: {parts}",
        "plan.overridden": "{n} more excluded by planner overrides (forbid or reserve)",
        "plan.more_urgent": "{n} went to more urgent citizens",
        "plan.same_or_less": "{n} went to citizens of equal or lower urgency in a plan that houses more urgent "
        "citizens or scores higher",
        "plan.blocked": "blocked by a full cap: {caps}",
        "plan.pool_full": "pool {pool} share cap full ({used}/{cap}) [{n}]",
        "plan.limit_full": "a limit on the units full [{n}]",
        "plan.free": "unit(s) {units} still free: the solve was cut short",
        "rnd.created": "created a new ledger at {path}",
        "rnd.warning": "warning: {where}: {line}",
        "rnd.housed_citizen": "citizen {citizen} was already housed in unit {unit} by round {round} ({name})",
        "rnd.let_unit": "unit {unit} was already let to citizen {citizen} in round {round} ({name})",
        "rnd.overrides": "overrides: {cost}",
        "rnd.committed": "round {id} ({name}) committed: {claims}{passes}{held}",
        "rnd.claims": "{n} claims",
        "rnd.passed": ", {n} passed",
        "rnd.held": ", {n} held",
        "rnd.rolled_back": "round {id} ({name}) rolled back",
        "rnd.history_by": " by {by} at {at}",
        "rnd.new_period": "new period started ({kinds}) as entry {id}: {counts} zeroed",
        "rnd.purge_none": "no abandoned round to purge",
        "rnd.purged": "purged {rounds} ({ids}) as entry {id}",
        "rnd.abandoned": "round {id} ({name}) abandoned",
        "rnd.ledger": "ledger {db} (schema version {version})",
        "rnd.open_round": "open round",
        "rnd.last_committed": "last committed",
        "rnd.none": "{label}: none",
        "rnd.round": "{label}: {id} {name} {status}{extra}",
        "rnd.by_at": " by {by} at {at}",
        "rnd.state.open": "open",
        "rnd.state.solved": "solved",
        "rnd.state.committed": "committed",
        "rnd.state.abandoned": "abandoned",
        "rnd.state.rolled_back": "rolled_back",
        "rnd.pool": "pool {key}: {vacancies} vacancies, {claimed} claimed{turns}",
        "rnd.rotation": ", rotation, {n} passed",
        "rnd.department": "department {key}: {n} vulnerable placed",
        "rnd.municipality": "municipality {key}: {n} subsidised",
        "rnd.region": "region {key}: {n} subsidised",
        "rnd.held_unit": "held {unit} (pool {pool}, {rent} a month): {weeks}, {cost} tomgangsleje",
        "rnd.weeks": "{n} week",
        "rnd.weeks_many": "{n} weeks",
        "rnd.tomgangsleje": "tomgangsleje paid for held units: {kr}",
        "rnd.override": "override {line}",
        "rnd.open_cost": "open round's overrides: {cost}",
        "rnd.last_cost": "last committed round's overrides: {cost}",
        "rnd.cost_who": "{citizen} (priority {priority})",
        "rnd.cost_more": ", +{n} more",
        "rnd.cost_moved": "{n} moved to another unit: {ids}",
        "rnd.cost_lost": "{n} lost their place: {ids}",
        "rnd.cost_gained": "{n} housed instead: {ids}",
        "rnd.cost_none": "no other citizen housed differently",
        "rnd.no_overrides": "round {id} has no overrides",
        "rnd.added": "override {n} added: {kind} {target} (solve the round again)",
        "rnd.removed": "override {n} removed: {kind} {target} (solve the round again)",
        "rnd.note": "note: {note}",
        "rnd.carry_note": "pool {pool}: its {claims} claims exceed its {vacancies} counted vacancies (offered "
        "turns), which a ledger entry cannot say: left out ('round open' fills it from the ledger)",
        "rnd.carried": "{output}: {citizens} still waiting (+{days} days), {units} back offered",
        "rnd.subsidies": "{n} subsidised {tenancies}: full subsidy for {full} years from the commit date, then a "
        "linear taper over {taper} (amounts at their start, not indexed)",
        "rnd.subsidy_year": "{year}: {entering} entering the taper, {in_taper} in it, {tenancies} subsidised; "
        "cost {cost}; {below} with a rent limit below their tapered rent",
        "rnd.subsidy_entering": "  round {round}: citizen {citizen} in unit {unit} (municipality {municipality}, "
        "since {start})",
        "sum.housed": "This round housed {h} of {n} citizens on the urgent list",
        "sum.priority": "Priority {p}{most}: {k} of {n} housed.",
        "sum.most_urgent": " (most urgent)",
        "sum.rent": "Average rent of the units assigned is {rent} a month; after subsidy the citizens pay {after} "
        "on average. {n} the rent subsidy of {amount} a month.",
        "sum.mixed": "Mixed city: {full} of {n} departments with a cap on vulnerable tenants are at their cap "
        "after this round; {used} received vulnerable citizens.",
        "sum.frames": "{full} of {n} municipalities' subsidy frames are used up ({used} used, {left} left).",
        "sum.quotas": "{full} of {n} regions' grant quotas are used up ({used} used, {left} left).",
        "sum.pools": "{full} of {n} pools have no claim left this round ({used} claims of {cap} allowed).",
        "sum.rotation": "Rotation: the municipality had {may} in {pools} ({offered} "
        "offered in earlier rounds and held); it used {used} and passed {passed} back to the organisations.",
        "sum.homeless": "{h} housed at an effective rent under {limit} a month.",
        "sum.why_not": "Why citizens were not housed:",
        "col.citizen": "citizen",
        "col.unit": "unit",
        "col.department": "department",
        "col.organisation": "organisation",
        "col.municipality": "municipality",
        "col.area": "area",
        "col.priority": "priority",
        "col.rent": "rent (kr)",
        "col.paid": "rent paid (kr)",
        "col.subsidised": "subsidised",
        "col.score": "score",
        "col.why": "why",
        "col.reason": "code",
        "col.details": "reason",
        "col.citizens": "citizens",
        "col.housed": "housed",
        "col.not_housed": "not housed",
        "col.share_housed": "share housed",
        "col.vacant": "vacant units",
        "col.with_subsidy": "subsidised",
        "col.vulnerable": "vulnerable placed",
        "col.cap": "cap",
        "col.pool": "pool",
        "col.share": "share",
        "col.vacancies": "vacancies",
        "col.before": "claimed / vacancies before",
        "col.claims": "claims",
        "col.left": "left",
        "col.turns": "turns",
        "col.offered": "offered",
        "col.used": "used",
        "col.passed": "passed",
        "yes": "yes",
        "no": "no",
        "area.ordinary": "ordinary",
        "area.prevention": "prevention",
        "area.disadvantaged": "disadvantaged",
        "area.transformation": "transformation",
        "tbl.search": "Search",
        "tbl.search_hint": "type to filter; click a column to sort",
        "tbl.none_housed": "No citizen was housed in this plan.",
        "tbl.all_housed": "Every citizen on the list was housed.",
        "tbl.unassigned_summary": "{n} citizens not housed, with the reason",
        "tbl.click": "(click to open)",
        "tbl.pools_summary": "{n} pools, {full} with no claim left",
        "tbl.mixed_summary": "{n} departments with a cap, {full} full",
        "tbl.departments_summary": "{n} departments with vacant units or assignments",
        "tbl.no_departments": "No department has vacant units this round.",
        "tbl.no_mixed": "No department has a cap on vulnerable tenants.",
        "tbl.no_rotation": "No pool is in rotation mode.",
        "rotation.intro": "In a rotation pool the municipality may take only its turns (every fourth vacancy, or "
        "the pool's share, counted in the order units fall vacant) and uses or passes each; an offered unit is a "
        "turn of an earlier round that it held. A passed unit goes back to the organisation.",
        "plot.dept.title": "Mixed city: vulnerable tenants placed vs cap per department",
        "plot.dept.x": "vulnerable citizens",
        "plot.dept.empty": "No department with a cap on vulnerable tenants is in use or full.",
        "plot.dept.placed": "placed",
        "plot.dept.full": "placed, cap reached",
        "plot.dept.cap": "cap (max_vulnerable)",
        "plot.rent.title": "Rent of the units assigned, before and after subsidy",
        "plot.rent.empty": "No assignments in this plan.",
        "plot.rent.band": "subsidy band {lo}–{hi} kr",
        "plot.rent.before": "rent (before subsidy)",
        "plot.rent.after": "rent paid (after subsidy)",
        "plot.rent.x": "kr per month",
        "plot.rent.y": "assignments",
        "plot.prio.title": "Housed by priority (1 is the most urgent)",
        "plot.prio.empty": "No citizens in this instance.",
        "plot.prio.housed": "housed",
        "plot.prio.not_housed": "not housed",
        "plot.prio.bar": "{h} of {n} housed",
        "plot.prio.x": "priority",
        "plot.prio.y": "citizens",
        "plot.lim.title": "Subsidy frames (municipalities) and grant quotas (regions): used and left",
        "plot.lim.x": "subsidised assignments",
        "plot.lim.empty": "No subsidy frame or grant quota in this instance.",
        "plot.lim.used": "used",
        "plot.lim.left": "left",
        "plot.lim.over": "over the limit",
        "plot.lim.frame": "frame",
        "plot.lim.quota": "quota",
        "cap.dept": "Vulnerable citizens placed in each department with a mixed-city cap (bar) against its cap "
        "(outline); red: cap reached.",
        "cap.dept_shown": " Shown: the {shown} most loaded of the {n} departments that received vulnerable "
        "citizens or are full",
        "cap.dept_all": "; every department with a cap is in the table below",
        "cap.rent": "Monthly rent of the units assigned (grey) and the rent the citizens pay after the rent "
        "subsidy (blue line); the shaded band is where a subsidy can apply.",
        "cap.prio": "Citizens housed and not housed, per priority.",
        "cap.lim": "Subsidised assignments against each municipality's subsidy frame and each region's grant "
        "quota (only those that have one)",
        "cap.lim_shown": "; the {shown} most used of {n} are shown",
        "warn.sha": "the plan was made for instance sha256 {plan}…, not this instance ({inst}…); loads and caps "
        "below are this instance's",
        "warn.name": "the plan names instance {plan}, this instance is {inst}",
        "warn.passed": "the plan says it passes {plan}, the recount from its assignments passes {recount} "
        "(the page shows the recount)",
        "warn.homeless": "the plan says it houses {plan} homeless citizens under {limit}, the recount from its "
        "assignments {recount} (the page shows the recount)",
    },
}

#: ``NOUNS[lang][key]``: a counted word, (one, many), for :func:`plural`.
#: The reason codes in words come from :data:`models.headers.CODE_WORDS` (the plan sheets,
#: written in ``models``, use the same words): ``reason.<code>`` long, ``reason.short.<code>`` short.
for _lang, _words in CODE_WORDS.items():
    TEXT[_lang]["reason."] = {"da": "planen angiver ingen årsag", "en": "no reason given in the plan"}[_lang]
    TEXT[_lang]["reason.short."] = {"da": "ingen årsag", "en": "no reason"}[_lang]
    for _code, (_short, _long) in _words.items():
        TEXT[_lang][f"reason.{_code}"] = _long
        TEXT[_lang][f"reason.short.{_code}"] = _short

NOUNS: dict[str, dict[str, tuple[str, str]]] = {
    "da": {
        "citizen": ("borger", "borgere"),
        "held_unit": ("holdt bolig", "holdte boliger"),
        "tenancy": ("lejemål", "lejemål"),
        "unit": ("bolig", "boliger"),
        "assignment_uses": ("anvisning bruger", "anvisninger bruger"),
        "turn": ("tur", "ture"),
        "rotation_pool": ("turnuspulje", "turnuspuljer"),
        "homeless_citizen": ("hjemløs borger", "hjemløse borgere"),
        "eligible_unit": ("egnet bolig", "egnede boliger"),
        "other_eligible_unit": ("anden egnet bolig", "andre egnede boliger"),
        "free_unit": ("ledig bolig", "ledige boliger"),
        "change": ("ændring", "ændringer"),
        "single_change": ("enkeltændring", "enkeltændringer"),
        "municipality": ("kommune", "kommuner"),
        "eligible_free": ("egnet bolig var ledig", "egnede boliger var ledige"),
        "free": ("ledig", "ledige"),
        "count": ("tælling", "tællinger"),
        "abandoned_round": ("opgivet runde", "opgivne runder"),
    },
    "en": {
        "citizen": ("citizen", "citizens"),
        "held_unit": ("held unit", "held units"),
        "tenancy": ("tenancy", "tenancies"),
        "unit": ("unit", "units"),
        "assignment_uses": ("assignment uses", "assignments use"),
        "turn": ("turn", "turns"),
        "rotation_pool": ("rotation pool", "rotation pools"),
        "homeless_citizen": ("homeless citizen", "homeless citizens"),
        "eligible_unit": ("eligible unit", "eligible units"),
        "other_eligible_unit": ("other eligible unit", "other eligible units"),
        "free_unit": ("free unit", "free units"),
        "change": ("change", "changes"),
        "single_change": ("single change", "single changes"),
        "municipality": ("municipality", "municipalities"),
        "eligible_free": ("eligible unit", "eligible units"),
        "free": ("free", "free"),
        "count": ("count", "counts"),
        "abandoned_round": ("abandoned round", "abandoned rounds"),
    },
}

#: The rules as Danish planners and caseworkers read them, per failure code of
#: :func:`optimizer.engine.pairs.failure_codes`: (the caseworker's wording, which may state
#: the citizen's attributes, for ``anvis explain``; the wording of reports, which names the
#: rule and the units only). English is the engine's own ``RULES``.
RULES_DA: dict[int, tuple[str, str]] = {
    1: ("antal værelser uden for borgerens min_rooms..max_rooms (regel 3)", "uden for reglen om værelser (regel 3)"),
    2: ("boligtypen er ikke blandt borgerens typer (regel 4)", "uden for reglen om boligtype (regel 4)"),
    3: (
        "ikke tilgængelig, borgeren har brug for en tilgængelig bolig (regel 5)",
        "uden for reglerne om boligens indretning og område (regel 5-7)",
    ),
    4: (
        "midlertidig bolig, borgeren tager ikke imod en midlertidig bolig (regel 6)",
        "uden for reglerne om boligens indretning og område (regel 5-7)",
    ),
    5: (
        "afdelingen er udelukket for borgeren (regel 7)",
        "uden for reglerne om boligens indretning og område (regel 5-7)",
    ),
    6: (
        "områdetypen er spærret for borgeren (regel 7)",
        "uden for reglerne om boligens indretning og område (regel 5-7)",
    ),
    7: (
        "husleje over max_rent_kr, borgeren kan ikke få huslejetilskud (regel 8)",
        "uden for reglen om husleje og huslejetilskud (regel 8)",
    ),
    8: (
        "husleje over max_rent_kr og uden for tilskudsintervallet (regel 8)",
        "uden for reglen om husleje og huslejetilskud (regel 8)",
    ),
    9: (
        "husleje over max_rent_kr selv med huslejetilskud (regel 8)",
        "uden for reglen om husleje og huslejetilskud (regel 8)",
    ),
    10: (
        "husleje over max_rent_kr, og intet huslejetilskud til denne boligtype (regel 8, FORMAT.md §6)",
        "uden for reglen om husleje og huslejetilskud (regel 8)",
    ),
    11: ("ikke kommunens tur (turnus, FORMAT.md §6)", "ikke kommunens tur (turnus, FORMAT.md §6)"),
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
    return _swap(text) if _check(lang) == "da" else text


def decimal(x: SupportsFloat, lang: str = DEFAULT_LANG, digits: int = 2) -> str:
    """A number rounded to ``digits`` decimals, without trailing zeros: ``83,5`` (Danish), ``83.5``."""
    text = f"{round(float(x), digits):,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return _swap(text) if _check(lang) == "da" else text


def ids(items: Iterable[str], lang: str = DEFAULT_LANG, limit: int = SHOWN_IDS) -> str:
    """Ids in :func:`optimizer.text.compact_ids`'s short form, "… (+N flere)" in Danish."""
    return compact_ids(items, limit, more=TEXT[_check(lang)]["ids.more"])


def short(x: SupportsFloat, lang: str = DEFAULT_LANG, spec: str = "g") -> str:
    """A number in Python's short ``spec`` format (``g``: ``83.5``, ``1e+06``), with the language's decimal mark.

    For scores and shares, which English writes as ``:g`` does; no thousands separator.
    """
    text = format(float(x), spec)
    return text.replace(".", ",") if _check(lang) == "da" else text


def _swap(text: str) -> str:
    """English separators to Danish: "," groups thousands, "." marks decimals in Python's format."""
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


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


def plural(n: int, noun: str, lang: str = DEFAULT_LANG) -> str:
    """``1 bolig``, ``2.000 boliger``: the count in the language's digits with the word for it (:data:`NOUNS`)."""
    one, many = NOUNS[_check(lang)][noun]
    return f"{number(n, lang)} {one if n == 1 else many}"


#: A plan's rule wording (``outside the room rule (rule 3)``) → its Danish words, by the rule
#: number(s) both name (``rule 3`` / ``rules 5-7`` ↔ ``regel 3`` / ``regel 5-7``).
_RULE_NUMBERS = re.compile(r"\((?:rules?|regel) ([\d-]+)")
_PLAN_RULES_DA = {m.group(1): text for _, text in RULES_DA.values() if (m := _RULE_NUMBERS.search(text)) is not None}
_POOL_FULL = re.compile(r"pool (?P<pool>'.*') share cap full \((?P<used>\d+)/(?P<cap>\d+)\)")


def _plan_rule(text: str) -> str:
    """A plan's rule wording in Danish (the text as written when it names no known rule)."""
    if "rotation" in text:
        return RULES_DA[11][1]
    m = _RULE_NUMBERS.search(text)
    return _PLAN_RULES_DA.get(m.group(1), text) if m else text


def _plan_cap(text: str, n: int, lang: str) -> str:
    m = _POOL_FULL.fullmatch(text)
    units = plural(n, "unit", lang)
    if m:
        return say("plan.pool_full", lang, pool=m["pool"], used=m["used"], cap=m["cap"], n=units)
    return say("plan.limit_full", lang, n=units) if text.endswith(" full") else f"{text} [{units}]"


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def plan_reason(row: Mapping[str, Any], lang: str = DEFAULT_LANG) -> Any:
    """An unassigned citizen's reason as a planner reads it in ``lang``, from the plan's code and details.

    English (and any row without ``details`` in the form :mod:`optimizer.plan.reasons`
    writes) gives the plan's own ``reason`` as written. Danish words the same counts:
    ``16 egnede boliger: 12 gik til mere akutte borgere; blokeret af et fuldt loft: ...``.
    The plan itself keeps its English text (FORMAT.md §5); the Danish plan sheets show
    this one (:func:`models.tables.plan_tables`).
    """
    reason, code, details = row.get("reason"), row.get("code"), row.get("details")
    if _check(lang) == "en" or not isinstance(details, Mapping):
        return reason
    if code == "no_eligible_unit":
        m = _count(details.get("units_in_municipality"))
        ruled = details.get("ruled_out_by")
        if m == 0 or not isinstance(ruled, Mapping):
            return say("plan.no_vacant", lang)
        parts = [say("plan.rule", lang, n=number(_count(n), lang), rule=_plan_rule(str(k))) for k, n in ruled.items()]
        return say("plan.ruled_out", lang, m=plural(m, "unit", lang), parts="; ".join(parts))
    if "eligible_units" not in details:
        return reason
    parts = []
    if _count(details.get("excluded_by_overrides")):
        parts.append(say("plan.overridden", lang, n=number(_count(details["excluded_by_overrides"]), lang)))
    if _count(details.get("to_more_urgent")):
        parts.append(say("plan.more_urgent", lang, n=number(_count(details["to_more_urgent"]), lang)))
    if _count(details.get("to_equal_or_less_urgent")):
        parts.append(say("plan.same_or_less", lang, n=number(_count(details["to_equal_or_less_urgent"]), lang)))
    blocked = details.get("blocked_by")
    if isinstance(blocked, Mapping) and blocked:
        caps = "; ".join(_plan_cap(str(k), _count(n), lang) for k, n in blocked.items())
        parts.append(say("plan.blocked", lang, caps=caps))
    free = details.get("free")
    if isinstance(free, list) and free:
        parts.append(say("plan.free", lang, units=", ".join(str(u) for u in free[:5])))
    n = plural(_count(details.get("eligible_units")), "eligible_unit", lang)
    return say("plan.eligible", lang, n=n, parts="; ".join(parts))

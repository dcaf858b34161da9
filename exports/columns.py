"""The export's columns, each written once: header, width, kind, source fields, conversion.

The CSV writer (exports/writers.py), the XLSX writer (exports/xlsx.py), the database query and
both scopes are all driven by these records: adding a column is adding one Column to COLUMNS (or
to COMPANY_COLUMNS, for the one-line-per-company export only).

A column's source names the fields it is made of as seen from a call: "company__name",
"status_numero", "operator__username"; names starting with "export_" are annotations that both
export querysets add (exports/writers.py). In the one-line-per-company export an uncalled
company's call fields are all None.

A conversion turns the source fields into cells a chunk of rows at a time: it receives the
export's CellContext and one sequence per source field (aligned, a few hundred values)
and returns the column's cells. An export converts up to a million rows: one comprehension per
column and chunk, rather than one function call per cell, is what keeps the CSV within three
times sqlite3's own CSV output (docs/PERFORMANCE.md, « Export »). Without a conversion the one
source field is the cell as the database gives it, which suits text and whole numbers (None is
an empty cell); dates, decimals and choices need theirs (local_time, decimal, labels_of).

Cells are typed: str, int, float, naive local datetime, and "" when empty, so that both formats
say exactly the same thing; each writer renders them by the column's kind.

A company's other numbers and its contact persons are rows of their own tables, several per
company: their columns take the company's id ("company__id") and find it in what CellContext
read for the companies of a whole block of rows (CellContext.numbers(), .people()): one query
per block of BLOCK_ROWS rows (exports/writers.py) for each table, shared by the columns that
need it, never one per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import repeat
from typing import Any

from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.models import CallRecord, CallStatus, Consent, Level, NumberStatus, health_label
from companies.aapor import Disposition
from companies.lifecycle import Status
from companies.models import Company, CompanyPhone, ContactPerson, PhoneLabel

# What a column holds, which says how each format writes it: text people typed (neutralised in
# CSV when it looks like a formula, see core/spreadsheet.py), the export's own words (choice
# labels, « oui »/« non »: never formula-like), numbers, dates.
TEXT, LABEL, NUMBER, DATETIME = "text", "label", "number", "datetime"


@dataclass(frozen=True)
class Column:
    header: Any  # a lazy French string
    width: float  # in Excel character units
    kind: str  # TEXT, LABEL, NUMBER or DATETIME
    source: str | tuple[str, ...]  # the field(s) it is made of, seen from a call
    convert: Callable[..., list] | None = None  # (context, *source values) -> cells

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.source,) if isinstance(self.source, str) else self.source


class CellContext:
    """What conversions need, resolved once per export: labels and words in the active language
    (the CSV is streamed after the view returned, maybe under another language), the site's time
    zone, and the recording link as (prefix, suffix) around the recording id."""

    def __init__(self, link_template: tuple[str, str]):
        self.link_template = link_template
        self.yes, self.no, self.purged = str(_("oui")), str(_("non")), str(_("purgé"))
        self.dead = str(_("hors service"))
        self.local = wall_clock(timezone.get_default_timezone())
        self.label_maps: dict[type, dict] = {}
        self.health_words: dict[str | None, str] = {None: ""}
        # The companies of the rows being converted (a block of several chunks), and their
        # numbers and people, read when a column first asks for them.
        self.block: Sequence = ()
        self.numbers_of: dict[int, list] | None = None
        self.people_of: dict[int, list] | None = None

    def labels(self, choices) -> dict:
        """{code: label} for a TextChoices, empty for no code (None: not called)."""
        if choices not in self.label_maps:
            labels = {value: str(label) for value, label in choices.choices}
            self.label_maps[choices] = {**labels, "": "", None: ""}
        return self.label_maps[choices]

    def start_block(self, company_ids: Sequence) -> None:
        """The companies of the next rows (the export calls this before converting them)."""
        self.block, self.numbers_of, self.people_of = company_ids, None, None

    def numbers(self) -> dict[int, str]:
        """{company id: its numbers but the main one, as one cell} for the block's companies
        that have any: « Mobile : 699 11 22 33 | Autre : 233 42 11 00 (hors service) »."""
        if self.numbers_of is None:
            labels, dead = self.labels(PhoneLabel), f" ({self.dead})"
            self.numbers_of = {
                company_id: SEPARATOR.join(
                    f"{labels.get(label, label)} : {number}{dead if is_dead else ''}"
                    for label, number, is_dead in numbers
                )
                for company_id, numbers in of_companies(OTHER_NUMBERS_SQL, self.block).items()
            }
        return self.numbers_of

    def people(self) -> dict[int, tuple[str, str, str, str]]:
        """{company id: (names, roles, direct lines, e-mails) of its contact persons, each as
        one cell} for the block's companies that have any; people in the order of their names,
        the same from one cell to the next."""
        if self.people_of is None:
            self.people_of = {
                company_id: tuple(SEPARATOR.join(field) for field in zip(*people, strict=True))
                for company_id, people in of_companies(PEOPLE_SQL, self.block).items()
            }
        return self.people_of


def of_companies(sql: str, company_ids: Sequence) -> dict[int, list[tuple]]:
    """{company id: [the rest of each row]} of a query whose rows start with a company id and
    whose « IN ({ids}) » is given these companies' ids (each once).

    Plain SQL: through the ORM, preparing each id of the list one by one and building the
    query cost more than the query itself."""
    connection = connections[Company.objects.db]
    ids = list(set(company_ids))
    if not ids:
        return {}
    # As many ids as the next power of two, the first one repeated: a dozen statements at most,
    # which the driver prepares once, instead of one per count of companies, each kept in its
    # statement cache (128 on SQLite: the export grew by 10 MB over its first 200,000 rows).
    ids += ids[:1] * ((1 << (len(ids) - 1).bit_length()) - len(ids))
    groups: dict[int, list[tuple]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql.format(ids=", ".join(["%s"] * len(ids))), ids)
        for company_id, *values in cursor.fetchall():
            groups.setdefault(company_id, []).append(values)
    return groups


PHONES, COMPANIES, PEOPLE = (m._meta.db_table for m in (CompanyPhone, Company, ContactPerson))
# A company's numbers in their order, but its main one (Company.phone: the same E.164 form, or
# the same text).
OTHER_NUMBERS_SQL = f"""
    SELECT p.company_id, p.label, p.number, p.is_dead
    FROM "{PHONES}" p INNER JOIN "{COMPANIES}" c ON c.id = p.company_id
    WHERE p.company_id IN ({{ids}})
        AND NOT (p.e164 <> '' AND p.e164 = c.phone_e164) AND p.number <> c.phone
    ORDER BY p.company_id, p."position", p.id
"""
PEOPLE_SQL = f"""
    SELECT company_id, name, "role", phone, email FROM "{PEOPLE}"
    WHERE company_id IN ({{ids}}) ORDER BY company_id, name, id
"""
SEPARATOR = " | "  # between the numbers, or the people, of one company in one cell


# --- Conversions --------------------------------------------------------------------------------


def labels_of(choices) -> Callable[..., list]:
    """A choice's label; an unknown code as it is stored; empty when there is none."""

    def labels(context: CellContext, codes: Sequence) -> list:
        names = context.labels(choices)
        return list(map(names.get, codes, codes))

    return labels


def decimal(context: CellContext, numbers: Sequence) -> list:
    # SQLite gives int or float, PostgreSQL Decimal: a float cell either way.
    return [float(number) if number is not None else "" for number in numbers]


def local_time(context: CellContext, moments: Sequence) -> list:
    local = context.local
    return [local(moment) if moment is not None else "" for moment in moments]


def yes_no(context: CellContext, flags: Sequence) -> list:
    yes, no = context.yes, context.no
    return [yes if flag else no for flag in flags]


def survey_accepted(context: CellContext, statuses: Sequence) -> list:
    """« oui » when the call went on to the questionnaire; empty when there was no call."""
    words = {CallStatus.ACCEPTED.value: context.yes, None: ""}
    return list(map(words.get, statuses, repeat(context.no, len(statuses))))


def has_audio(context: CellContext, submitted: Sequence, recording_ids: Sequence) -> list:
    """« oui », « non », or « purgé » when the latest recording's audio was deleted (retention or
    erasure): the query gives that recording's id negated (writers.recording_annotations)."""
    yes, no, purged = context.yes, context.no, context.purged
    return [
        (no if recording is None else yes if recording > 0 else purged) if at is not None else ""
        for at, recording in zip(submitted, recording_ids, strict=True)
    ]


def operator_name(
    context: CellContext, usernames: Sequence, first_names: Sequence, last_names: Sequence
) -> list:
    """The operator's full name, or login when it has none: each operator's once per chunk."""
    names = {
        username: f"{first} {last}".strip() or username
        for username, first, last in set(zip(usernames, first_names, last_names, strict=True))
    }
    names[None] = ""  # no call
    return list(map(names.__getitem__, usernames))


def whole_seconds(context: CellContext, submitted: Sequence, seconds: Sequence) -> list:
    """The audible recordings' total duration, rounded to the second (0 without any)."""
    return [
        int((total or 0) + 0.5) if at is not None else ""
        for at, total in zip(submitted, seconds, strict=True)
    ]


def aapor_code(context: CellContext, codes: Sequence, *outcomes: Sequence) -> list:
    """The stored AAPOR code's label; for a call submitted before codes were stored (its code
    is "", None being no call), the label of the code its outcome gives."""
    names = context.labels(Disposition)
    cells = list(map(names.get, codes, codes))
    if "" in codes:
        for i, code in enumerate(codes):
            if code == "":
                cells[i] = names[outcome_code(*(values[i] for values in outcomes))]
    return cells


def recording_link(context: CellContext, recording_ids: Sequence) -> list:
    prefix, suffix = context.link_template
    return [f"{prefix}{pk}{suffix}" if (pk or 0) > 0 else "" for pk in recording_ids]


def recording_health(context: CellContext, values: Sequence) -> list:
    """The linked recording's health in words (« complet », « incomplet : 2 morceaux
    manquants »...) from "health:missing" (exports/writers.py); empty without a recording."""
    words = context.health_words
    for value in set(values).difference(words):
        health, _colon, missing = value.partition(":")
        words[value] = health_label(health, int(missing or 0))
    return list(map(words.__getitem__, values))


def other_numbers(context: CellContext, company_ids: Sequence) -> list:
    """The company's numbers but its main one (the « Téléphone » column), with their labels."""
    numbers = context.numbers()
    return [numbers.get(company_id, "") for company_id in company_ids]


def people_field(index: int) -> Callable[..., list]:
    """One field of the company's contact persons: 0 name, 1 role, 2 direct line, 3 e-mail."""

    def cells(context: CellContext, company_ids: Sequence) -> list:
        people = context.people()
        return [
            people[company_id][index] if company_id in people else "" for company_id in company_ids
        ]

    return cells


def outcome_code(number_status, call_status, *levels) -> str:
    """The AAPOR code of an outcome, for a call submitted before codes were stored."""
    return CallRecord(
        status_numero=number_status,
        call_status=call_status,
        presentation_level=levels[0],
        questions_libres_level=levels[1],
        questions_orientees_level=levels[2],
    ).outcome_disposition()


OUTCOME = (
    "status_numero",
    "call_status",
    "presentation_level",
    "questions_libres_level",
    "questions_orientees_level",
)

# The columns the survey team's client expects, in this order, then those the team asked for.
# fmt: off
COLUMNS = [
    Column(_("Entreprise"), 34, TEXT, "company__name"),
    Column(_("Téléphone"), 18, TEXT, "company__phone"),
    Column(_("Produit"), 16, TEXT, "company__product"),
    Column(_("Activité"), 18, TEXT, "company__activity"),
    Column(_("Localisation"), 16, TEXT, "company__location"),
    Column(_("Forme juridique"), 15, TEXT, "company__legal_form"),
    Column(_("NIU"), 18, TEXT, "company__niu"),
    Column(_("Score"), 8, NUMBER, "company__validity_score", decimal),
    Column(_("Statut numéros"), 16, LABEL, "status_numero", labels_of(NumberStatus)),
    Column(_("Statut appel"), 22, LABEL, "call_status", labels_of(CallStatus)),
    Column(_("Présentation"), 13, LABEL, "presentation_level", labels_of(Level)),
    Column(_("Questions libres"), 16, LABEL, "questions_libres_level", labels_of(Level)),
    Column(_("Questions orientées"), 19, LABEL, "questions_orientees_level", labels_of(Level)),
    Column(_("Enquête"), 9, LABEL, "call_status", survey_accepted),
    Column(_("Horodatage"), 20, DATETIME, "submitted_at", local_time),
    Column(_("Audio"), 7, LABEL, ("submitted_at", "export_recording_id"), has_audio),
    Column(_("Campagne"), 28, TEXT, "company__campaign__name"),
    Column(
        _("Opérateur"), 20, TEXT,
        ("operator__username", "operator__first_name", "operator__last_name"), operator_name,
    ),
    Column(_("Tentative"), 10, NUMBER, "attempt"),
    Column(_("Rappel prévu"), 20, DATETIME, "callback_at", local_time),
    Column(
        _("Durée audio (s)"), 15, NUMBER, ("submitted_at", "export_audio_seconds"), whole_seconds
    ),
    Column(_("Code AAPOR"), 40, LABEL, ("disposition", *OUTCOME), aapor_code),
    Column(_("Lien de l'enregistrement"), 50, TEXT, "export_recording_id", recording_link),
    Column(_("Santé audio"), 34, LABEL, "export_recording_health", recording_health),
    Column(_("Numéro appelé"), 18, TEXT, "phone__number"),
    Column(_("Type du numéro appelé"), 14, LABEL, "phone__label", labels_of(PhoneLabel)),
    Column(_("Autres numéros"), 44, TEXT, "company__id", other_numbers),
    Column(_("Personne à contacter"), 24, TEXT, "company__id", people_field(0)),
    Column(_("Fonction du contact"), 20, TEXT, "company__id", people_field(1)),
    Column(_("Ligne directe du contact"), 18, TEXT, "company__id", people_field(2)),
    Column(_("E-mail du contact"), 28, TEXT, "company__id", people_field(3)),
    # Whether the company's numbers or NIU are on the do-not-call list now (not when called).
    Column(_("Ne plus appeler"), 15, LABEL, "export_do_not_call", yes_no),
    Column(
        _("Consentement enregistrement"), 26, LABEL, "recording_consent", labels_of(Consent)
    ),
]
COMPANY_COLUMNS = [
    Column(_("Statut de l'entreprise"), 20, LABEL, "company__status", labels_of(Status)),
    Column(_("Archivée"), 10, LABEL, "company__is_archived", yes_no),
]
# fmt: on


def wall_clock(tz: tzinfo) -> Callable[[datetime | str], datetime]:
    """A function giving the wall-clock time in `tz`, to the second and without a zone
    (spreadsheets have none), of a moment as the database driver gives it: naive UTC from
    SQLite (USE_TZ = True), aware from PostgreSQL, or an ISO string.

    It runs twice per exported row, so it avoids datetime.replace() and astimezone(), the slow
    part of doing it plainly: the zone's offset is looked up once per UTC hour and cached. An
    hour in which the offset changes (a zone whose transition is not on the hour) is not
    cached and each of its moments is converted exactly.
    """
    offsets: dict[tuple, timedelta | None] = {}

    def hour_offset(moment: datetime) -> timedelta | None:
        start = datetime(moment.year, moment.month, moment.day, moment.hour, tzinfo=UTC)
        first = start.astimezone(tz).utcoffset()
        last = (start + timedelta(hours=1, microseconds=-1)).astimezone(tz).utcoffset()
        return first if first == last else None

    def local(moment: datetime | str) -> datetime:
        if moment.__class__ is str:
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)  # its fields are now UTC, like SQLite's
        key = (moment.year, moment.month, moment.day, moment.hour)
        try:
            offset = offsets[key]
        except KeyError:
            offset = offsets[key] = hour_offset(moment)
        if offset is None:
            offset = moment.replace(tzinfo=UTC).astimezone(tz).utcoffset()
        moment += offset
        return datetime(
            moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second
        )

    return local

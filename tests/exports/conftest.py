"""Export fixtures: a campaign whose calls cover every outcome, and readers for both formats."""

import csv
import io
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest

# 09:00 in Douala (UTC+1), the settings' TIME_ZONE.
BASE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

LEVEL_COMBINATIONS = list(itertools.product(["complete", "partial"], repeat=3))
OUTCOMES = [
    ("invalid", "", ("", "", "")),
    ("no_answer", "", ("", "", "")),
    ("voicemail", "", ("", "", "")),
    ("answered", "bad_number", ("", "", "")),
    ("answered", "not_transformer", ("", "", "")),
    ("answered", "callback", ("", "", "")),
    ("answered", "refused", ("", "", "")),
] + [("answered", "accepted", levels) for levels in LEVEL_COMBINATIONS]


@dataclass
class World:
    campaign: object
    companies: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    recordings: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def make_call(company, operator, number_status, call_status="", levels=("", "", ""), **fields):
    from tests.factories import CallFactory

    return CallFactory(
        company=company,
        operator=operator,
        status_numero=number_status,
        call_status=call_status,
        presentation_level=levels[0],
        questions_libres_level=levels[1],
        questions_orientees_level=levels[2],
        **fields,
    )


def make_recording(call, seconds, size_bytes=4096, created_at=None, **health):
    from calls.models import Recording
    from tests.factories import RecordingFactory

    recording = RecordingFactory(call=call, seconds=seconds, stored_file=b"", **health)
    Recording.objects.filter(pk=recording.pk).update(
        size_bytes=size_bytes, **({"created_at": created_at} if created_at else {})
    )
    recording.refresh_from_db()
    return recording


@pytest.fixture
def outcome_world(campaign, make_company, operator, operator2) -> World:
    return build_outcome_world(campaign, make_company, operator, operator2)


def build_outcome_world(campaign, make_company, operator, operator2) -> World:
    """One company per possible outcome (15), each with one submitted call, plus: a company
    called twice, an archived company with a call, an uncalled company, a company with only a
    draft. Recordings: none, one, two (summed, link to the latest), and an empty one."""
    world = World(campaign=campaign)
    for n, (number_status, call_status, levels) in enumerate(OUTCOMES, start=1):
        company = make_company(
            name=f"Entreprise {n:02d}", validity_score=Decimal(f"{n}.50"), status="done"
        )
        callback_at = BASE + timedelta(days=3, hours=5) if call_status == "callback" else None
        call = make_call(
            company,
            operator if n % 2 else operator2,
            number_status,
            call_status,
            levels,
            attempt=1,
            callback_at=callback_at,
            submitted_at=BASE + timedelta(minutes=n),
        )
        world.companies.append(company)
        world.calls.append(call)
    by_n = dict(enumerate(world.calls, start=1))
    world.recordings[6] = [make_recording(by_n[6], 42.4)]
    world.recordings[8] = [
        make_recording(by_n[8], 30.2, created_at=BASE + timedelta(minutes=8)),
        make_recording(
            by_n[8],
            60.5,
            created_at=BASE + timedelta(minutes=9),
            health="incomplete",
            missing_chunks=2,
        ),
    ]
    world.recordings[9] = [make_recording(by_n[9], 5.0, size_bytes=0)]
    # The disposition stored at submit is what the export shows; a call stored without one
    # (older data) gets it computed from its outcome.
    from calls.models import CallRecord

    CallRecord.objects.filter(pk=by_n[7].pk).update(disposition="")
    # Consent to record: given for the calls with audio, refused (so no audio) on the 7th.
    CallRecord.objects.filter(pk__in=[by_n[6].pk, by_n[8].pk]).update(
        recording_consent="given", consent_at=BASE
    )
    CallRecord.objects.filter(pk=by_n[7].pk).update(
        recording_consent="refused", consent_at=BASE, without_recording=True
    )

    twice = make_company(name="Société Deux Appels", validity_score=None, status="done")
    first = make_call(
        twice, operator, "no_answer", attempt=1, submitted_at=BASE + timedelta(hours=1)
    )
    second = make_call(
        twice,
        operator2,
        "answered",
        "refused",
        attempt=2,
        submitted_at=BASE + timedelta(hours=3),
    )
    archived = make_company(
        name="Ancienne Coopérative", is_archived=True, validity_score=Decimal("-5"), status="done"
    )
    archived_call = make_call(
        archived, operator, "invalid", attempt=1, submitted_at=BASE + timedelta(hours=2)
    )
    # Several numbers: the company called twice has a mobile its second call used, and a
    # number found dead; company 8 has two contact persons, one with a direct line.
    from companies.models import ContactPerson, PhoneLabel

    twice.merge_numbers([("699 00 00 16", PhoneLabel.MOBILE), ("233 00 00 16", PhoneLabel.OTHER)])
    main, mobile, other = twice.phones.all()
    other.record_call("4.30", BASE)
    CallRecord.objects.filter(pk=first.pk).update(phone=main)
    CallRecord.objects.filter(pk=second.pk).update(phone=mobile)
    with_people = world.companies[7]
    ContactPerson(
        company=with_people,
        name="Mme Ngo Bénoué",
        role="Directrice",
        phone="655 44 33 22",
        email="ngo.benoue@etoile.cm",
    ).save()
    ContactPerson(company=with_people, name="M. Abena", role="Comptable").save()
    uncalled = make_company(name="Entreprise Jamais Appelée", validity_score=Decimal("70"))
    draft_only = make_company(name="Brouillon SARL", status="pending")
    draft = make_call(draft_only, operator, "answered", "accepted", ("partial",) * 3)
    world.extra = {
        "twice": twice,
        "twice_calls": [first, second],
        "archived": archived,
        "archived_call": archived_call,
        "uncalled": uncalled,
        "draft_only": draft_only,
        "draft": draft,
    }
    return world


def read_csv(content: bytes, delimiter: str = ",") -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM missing"
    text = content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def read_xlsx(content: bytes):
    """The workbook's sheets as {title: rows of cells} (openpyxl cells, to look at types)."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return workbook, {sheet.title: list(sheet.iter_rows()) for sheet in workbook.worksheets}


def cell_values(rows) -> list[list]:
    """Cell values of each row, None for an empty cell."""
    return [[cell.value for cell in row] for row in rows]

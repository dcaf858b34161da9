"""A company with personal data everywhere Naumur keeps some: imported from a file (kept, with a
rejected duplicate row in its report), a second number, a contact person with a direct line, a
pinned note, two submitted calls with notes, a finished recording and one never finalised (its
chunks still stored), a review comment, a correction whose reason names the company, an entry
in Django admin's log. Beside it, a neighbour that an erasure must leave untouched."""

from dataclasses import dataclass

import pytest
from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.utils import timezone

from calls.models import CallRecord, Recording
from calls.recordings import Chunk, add_chunks
from companies import importing
from companies.models import Campaign, Company, ImportBatch, ImportMode, PhoneLabel
from quality.corrections import correct_call
from quality.models import ReviewItem
from tests.conftest import ALWAYS_OPEN
from tests.factories import (
    AUDIO,
    ContactPersonFactory,
    PinnedNoteFactory,
    RecordingFactory,
)
from tests.quality.helpers import submit_call

NAME = "Boulangerie Zebulon Nkolbisson"
PHONE = "6 99 12 34 56"
MOBILE = "+237 6 55 44 33 22"
NIU = "P098765432109Z"
PERSON = "Madame Ekotto Bidjocka"
EMAIL = "ekotto@zebulon.cm"
DIRECT = "677 88 99 00"
PINNED = "Gerant absent le lundi matin"
FIRST_NOTE = "Personne ne repond au 699 12 34 56"
CALL_NOTE = "Rappeler Mme Ekotto Bidjocka apres 10 h"
# What must be found nowhere once the company is erased: its values, its numbers however
# written (ASCII, so a JSON column's escapes cannot hide one from the search).
NEEDLES = [
    NAME,
    "Zebulon",
    "699123456",
    "99 12 34 56",
    "655443322",
    "55 44 33 22",
    NIU,
    "Ekotto",
    EMAIL,
    "677889900",
    "77 88 99 00",
    PINNED,
    "ne repond",
]

CSV = (
    "nom;telephone;produit;activite;localisation;forme juridique;niu\r\n"
    f"{NAME};{PHONE};pain;boulangerie;Yaounde;SARL;{NIU}\r\n"
    "Ets Voisin;6 77 00 00 01;cacao;transformation;Douala;SA;M000000000001A\r\n"
    f"{NAME};{PHONE};pain;boulangerie;Yaounde;SARL;{NIU}\r\n"  # a duplicate: rejected
).encode()


@dataclass
class World:
    campaign: Campaign
    company: Company
    neighbour: Company
    batch: ImportBatch
    calls: list
    recording: Recording
    open_recording: Recording
    audio_names: list  # every stored object of the company's audio


def build_world(supervisor, operator) -> World:
    preview = importing.analyse(CSV, mode=ImportMode.NEW)
    batch = ImportBatch(
        uploaded_by=supervisor, campaign_name="Boulangeries 2027", original_name="liste.csv"
    )
    preview.store_on(batch)
    batch.file.save("liste.csv", ContentFile(CSV), save=False)
    batch.save()
    importing.apply_batch(batch)
    batch.refresh_from_db()
    assert batch.rows_rejected == 1
    # Calls are made now, whatever the day: the imported campaign is open at every hour.
    Campaign.objects.filter(pk=batch.campaign_id).update(**ALWAYS_OPEN)
    company = Company.objects.get(niu=NIU)
    neighbour = Company.objects.get(name="Ets Voisin")
    company.merge_numbers([(MOBILE, PhoneLabel.MOBILE)])
    ContactPersonFactory(company=company, name=PERSON, email=EMAIL, phone=DIRECT)
    PinnedNoteFactory(company=company, text=PINNED, pinned_by=supervisor)

    first = submit_call(
        company,
        operator,
        "no_answer",
        phone=company.phones.get(e164="+237699123456"),
        notes=FIRST_NOTE,
    )
    Company.objects.filter(pk=company.pk).update(next_call_at=None)
    second = submit_call(
        company,
        operator,
        "refused",
        without_recording=False,
        phone=company.phones.get(e164="+237677889900"),
        notes=CALL_NOTE,
    )
    recording = RecordingFactory(call=first, seconds=42)
    open_recording = Recording.objects.create(call=second, mime_type="audio/webm")
    add_chunks(open_recording, [Chunk(0, AUDIO), Chunk(1, b"\x00" * 32)], operator)
    open_recording.refresh_from_db()
    Recording.objects.filter(pk=open_recording.pk).update(duration_seconds=12.5)

    item, _created = ReviewItem.objects.get_or_create(
        call=second,
        defaults={"operator": operator, "campaign": company.campaign, "day": timezone.localdate()},
    )
    item.comment = f"Bonne présentation ; {PERSON} a refusé poliment."
    item.save()
    corrected = CallRecord.objects.get(pk=second.pk)
    corrected.call_status = "not_transformer"
    correct_call(corrected, supervisor, f"Réécoute : {PERSON} ne transforme pas (699123456)")

    AdminLogEntry.objects.create(
        user=supervisor,
        content_type=ContentType.objects.get_for_model(Company),
        object_id=str(company.pk),
        object_repr=NAME,
        action_flag=CHANGE,
        change_message=f'[{{"changed": {{"fields": ["NIU"]}}}}, "{NIU}"]',
    )
    neighbour_call = submit_call(neighbour, operator, "complete", notes="Tout s'est bien passé")
    RecordingFactory(call=neighbour_call, seconds=30)

    chunk_names = list(open_recording.chunks.values_list("file", flat=True))
    assert len(chunk_names) == 2
    return World(
        campaign=company.campaign,
        company=Company.objects.get(pk=company.pk),
        neighbour=neighbour,
        batch=batch,
        calls=[first, second],
        recording=recording,
        open_recording=open_recording,
        audio_names=[recording.file.name, *chunk_names],
    )


@pytest.fixture
def world(supervisor, operator):
    return build_world(supervisor, operator)


@pytest.fixture
def s3_world(s3_storage, supervisor, operator):
    return build_world(supervisor, operator)


def found_in_database(needles: list[str]) -> list[str]:
    """Every (table, column, needle) where a needle appears in any column of any table, cast
    to text and compared without case."""
    from django.db import connection

    quote = connection.ops.quote_name
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                sql = (
                    f"SELECT COUNT(*) FROM {quote(table)} "
                    f"WHERE LOWER(CAST({quote(column.name)} AS TEXT)) LIKE %s"
                )
                for needle in needles:
                    cursor.execute(sql, [f"%{needle.lower()}%"])
                    if cursor.fetchone()[0]:
                        found.append(f"{table}.{column.name}: {needle}")
    return found

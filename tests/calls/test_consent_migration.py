"""The consent migrations on a populated database: existing campaigns get the default
sentence, existing calls say « non demandé », and their recordings are untouched."""

import pytest
from django.utils import timezone

from companies.models import CONSENT_SENTENCE
from tests.companies.test_numbers_migration import migrated_from_before


def populate(old):
    User = old.get_model("auth", "User")
    Campaign = old.get_model("companies", "Campaign")
    Company = old.get_model("companies", "Company")
    CallRecord = old.get_model("calls", "CallRecord")
    Recording = old.get_model("calls", "Recording")
    operator = User.objects.create(username="operateur-historique")
    campaign = Campaign.objects.create(name="Campagne d'avant")
    company = Company.objects.create(campaign=campaign, name="Ancienne", phone="677000001")
    call = CallRecord.objects.create(
        company=company,
        operator=operator,
        status_numero="no_answer",
        submitted_at=timezone.now(),
    )
    recording = Recording.objects.create(
        call=call, file="recordings/2026/01/call_1_1.webm", size_bytes=1234
    )
    return campaign, call, recording


@pytest.mark.django_db(transaction=True)
def test_existing_campaigns_and_calls_get_their_consent_defaults():
    new, (campaign, call, recording) = migrated_from_before(
        [("companies", "_campaign_consent_sentence"), ("calls", "_call_recording_consent")],
        populate,
    )
    assert new.get_model("companies", "Campaign").objects.get(pk=campaign.pk).consent_sentence == (
        CONSENT_SENTENCE
    )
    migrated = new.get_model("calls", "CallRecord").objects.get(pk=call.pk)
    assert (migrated.recording_consent, migrated.consent_at) == ("not_asked", None)
    kept = new.get_model("calls", "Recording").objects.get(pk=recording.pk)
    assert (kept.file.name, kept.size_bytes, kept.call_id) == (recording.file.name, 1234, call.pk)

"""`manage.py purge_recordings`: a dry run by default, the audio of recordings past their
retention deleted with --apply (local folder and S3), each campaign's own period winning over
--older-than; the rows stay, marked « purgé », so exports, the review page and the dashboard
keep working; every purge leaves an audit entry on its campaign."""

import io
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from calls.dashboard import Filters as DashboardFilters
from calls.dashboard import PeriodChoice, figures
from calls.models import Recording, RecordingChunk
from calls.recordings import Chunk, add_chunks
from exports.writers import Export, Filters, Scope, recording_link_template
from privacy.models import PendingFileDeletion
from quality.models import ReviewItem
from tests.conftest import page_text
from tests.factories import (
    AUDIO,
    CallFactory,
    CampaignFactory,
    CompanyFactory,
    RecordingFactory,
    campaign_form_data,
)


def aged(recording: Recording, days: int) -> Recording:
    Recording.objects.filter(pk=recording.pk).update(
        created_at=timezone.now() - timedelta(days=days)
    )
    recording.refresh_from_db()
    return recording


def recorded(campaign, operator, days: int, seconds: int = 30) -> Recording:
    call = CallFactory(company=CompanyFactory(campaign=campaign), operator=operator, submitted=True)
    return aged(RecordingFactory(call=call, seconds=seconds), days)


def make_shelf(operator):
    """Campaign « Courte » keeps recordings 30 days; « Sans durée » has no period of its own."""
    short = CampaignFactory(name="Courte", recording_retention_days=30)
    plain = CampaignFactory(name="Sans durée")
    recordings = {
        "short_old": recorded(short, operator, 40),
        "short_new": recorded(short, operator, 10),
        "plain_old": recorded(plain, operator, 100),
        "plain_mid": recorded(plain, operator, 40),
    }
    # A recording never finalised (its tab closed 50 days ago): its chunks are stored objects.
    call = CallFactory(company=CompanyFactory(campaign=short), operator=operator, submitted=True)
    open_recording = Recording.objects.create(call=call, mime_type="audio/webm")
    add_chunks(open_recording, [Chunk(0, AUDIO)], operator)
    recordings["short_open"] = aged(open_recording, 50)
    return short, plain, recordings


@pytest.fixture
def shelf(operator):
    return make_shelf(operator)


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def run(*args) -> str:
    out = io.StringIO()
    call_command("purge_recordings", *args, stdout=out)
    return out.getvalue()


def names(recording: Recording) -> list[str]:
    chunks = RecordingChunk.objects.filter(recording=recording).values_list("file", flat=True)
    return [name for name in [recording.file.name, *chunks] if name]


def test_a_dry_run_reports_and_deletes_nothing(shelf):
    short, plain, recordings = shelf
    files = [name for r in recordings.values() for name in names(r)]

    report = run("--older-than", "60")

    assert "essai : rien n'est supprimé" in report
    assert "Campagne « Courte » : conservation 30 jours (réglage de la campagne)" in report
    assert "Campagne « Sans durée » : conservation 60 jours (--older-than)" in report
    assert "2 enregistrement(s) d'avant le" in report  # Courte: the old one and the open one
    assert "Total : 3 enregistrement(s)" in report
    assert all(default_storage.exists(name) for name in files)
    assert not Recording.objects.filter(purged_at__isnull=False).exists()


def test_without_older_than_only_campaigns_with_a_period_are_purged(shelf):
    report = run()
    assert "Campagne « Sans durée » : conservation aucune durée" in report
    assert "Total : 2 enregistrement(s)" in report


def check_apply(shelf, capture):
    short, plain, recordings = shelf
    files = {key: names(r) for key, r in recordings.items()}
    assert all(files.values())

    with capture(execute=True):
        report = run("--older-than", "60", "--apply")

    assert "Purgés : 3 enregistrement(s)" in report
    gone = {"short_old", "short_open", "plain_old"}
    for key, recording in recordings.items():
        recording.refresh_from_db()
        if key in gone:
            assert recording.purged_at is not None and recording.file.name == ""
            assert not any(default_storage.exists(name) for name in files[key]), key
        else:
            assert recording.purged_at is None
            assert all(default_storage.exists(name) for name in files[key]), key
    # The rows keep their figures.
    assert recordings["short_old"].duration_seconds == 30
    assert recordings["short_old"].size_bytes == len(AUDIO)
    assert not RecordingChunk.objects.filter(recording=recordings["short_open"]).exists()
    assert not PendingFileDeletion.objects.exists()


def test_apply_on_the_local_storage(shelf, capture):
    check_apply(shelf, capture)


def test_apply_on_s3(s3_storage, operator, capture):
    assert default_storage.__class__.__name__ == "S3Storage"
    check_apply(make_shelf(operator), capture)


def test_a_campaign_period_longer_than_the_command_wins(operator, capture):
    keeps_long = CampaignFactory(recording_retention_days=365)
    recording = recorded(keeps_long, operator, 100)
    with capture(execute=True):
        run("--older-than", "30", "--apply")
    recording.refresh_from_db()
    assert recording.purged_at is None and default_storage.exists(recording.file.name)


def test_each_purge_leaves_an_audit_entry_on_its_campaign(shelf, capture):
    short, plain, recordings = shelf
    with capture(execute=True):
        run("--older-than", "60", "--apply")

    entry = LogEntry.objects.filter(object_id=short.pk, content_type__model="campaign").latest("pk")
    assert entry.actor is None  # the command, run by cron
    assert entry.additional_data["reason"].startswith(
        "Conservation des enregistrements : 30 jours (réglage de la campagne)"
    )
    purge = entry.additional_data["purge"]
    assert purge["recordings"] == 2 and purge["retention_days"] == 30
    assert sorted(purge["recording_ids"]) == sorted(
        [recordings["short_old"].pk, recordings["short_open"].pk]
    )
    assert entry.changes == {"son des enregistrements": ["2", "purgé"]}
    assert entry.serialized_data is None


def test_purging_again_purges_nothing_more(shelf, capture):
    with capture(execute=True):
        run("--older-than", "60", "--apply")
    entries = LogEntry.objects.count()
    with capture(execute=True):
        report = run("--older-than", "60", "--apply")
    assert "Purgés : 0 enregistrement(s)" in report
    assert LogEntry.objects.count() == entries


@pytest.mark.parametrize("value", ["0", "-3", "abc", "99999"])
def test_a_bad_period_is_refused_in_french(db, value):
    with pytest.raises(CommandError, match="un nombre de jours entre 1 et 36500"):
        run("--older-than", value, "--apply")


def test_purged_recordings_still_count_and_say_purged(shelf, capture, client, supervisor, operator):
    short, plain, recordings = shelf
    recording = recordings["short_old"]
    ReviewItem.objects.create(
        call=recording.call, operator=operator, campaign=short, day=timezone.localdate()
    )
    filters = DashboardFilters(campaign=short, period=PeriodChoice.CAMPAIGN)
    before = figures(filters).operators_total

    with capture(execute=True):
        run("--apply")

    assert figures(filters).operators_total == before  # recorded minutes included
    export = Export(Scope.CALLS, Filters(campaign=short), recording_link_template(None))
    # (audio, audio seconds, a link): the purged ones say so, keep their duration, lose the link.
    cells = sorted((row[15], row[20], bool(row[22])) for row in export.rows())
    assert cells == [("oui", 30, True), ("purgé", 0, False), ("purgé", 30, False)]
    client.force_login(supervisor)
    review = page_text(client.get(reverse("quality:review", kwargs={"call_id": recording.call_id})))
    assert "Son purgé le" in review and "<audio" not in review
    company = page_text(
        client.get(reverse("companies:company", kwargs={"pk": recording.call.company_id}))
    )
    assert "purgé le" in company and "Écouter" not in company
    playback = client.get(reverse("calls:recording", kwargs={"recording_id": recording.pk}))
    assert playback.status_code == 404
    player = client.get(reverse("calls:player", kwargs={"company_id": recording.call.company_id}))
    assert player.status_code == 404


@pytest.mark.parametrize(
    ("value", "stored", "error"),
    [
        ("90", 90, None),
        ("", None, None),
        ("0", "unchanged", "supérieure ou égale à 1"),
        ("abc", "unchanged", "Saisissez un nombre entier"),
        ("100000", "unchanged", "inférieure ou égale à 36500"),
    ],
)
def test_a_campaign_sets_its_own_retention_on_its_page(as_supervisor, value, stored, error):
    campaign = CampaignFactory(recording_retention_days=365)
    url = reverse("companies:campaign_edit", kwargs={"pk": campaign.pk})
    data = campaign_form_data(name=campaign.name)
    response = as_supervisor.post(url, {**data, "recording_retention_days": value})
    campaign.refresh_from_db()
    if error:
        assert error in page_text(response)
        assert campaign.recording_retention_days == 365
    else:
        assert response.status_code == 302
        assert campaign.recording_retention_days == stored

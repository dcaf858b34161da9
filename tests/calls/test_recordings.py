"""Recordings: batched chunk uploads, health, caps, and playback that changes nothing."""

import threading
from functools import partial
from urllib.parse import urlencode

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse

from calls.models import CallRecord, Health, Recording, RecordingChunk, RecordingDay
from calls.recordings import MAX_CHUNKS, finalise
from companies.models import Company
from tests.conftest import run_threads

WEBM_HEAD = b"\x1a\x45\xdf\xa3" + b"\x42\x86\x81\x01" * 4
MP4_HEAD = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 8
OGG_HEAD = b"OggS\x00\x02" + b"\x00" * 10
WAV_HEAD = b"RIFF\x24\x08\x00\x00WAVEfmt " + b"\x10\x00\x00\x00"
# Starts like WebM, then carries a page: what a hostile operator would plant.
POLYGLOT = WEBM_HEAD + b"<html><script>alert(document.cookie)</script></html>"


def start_recording(client, company, **data):
    response = client.post(reverse("calls:recording_start", args=[company.pk]), data)
    assert response.status_code == 200, response.content
    return Recording.objects.get(pk=response.json()["recording_id"])


@pytest.fixture
def recording(client, operator, company):
    client.force_login(operator)
    Company.objects.claim(company, operator)
    return start_recording(client, company, mime_type="audio/webm;codecs=opus")


def chunk_url(recording, index, **query) -> str:
    url = reverse("calls:recording_chunk", kwargs={"recording_id": recording.pk, "index": index})
    return url + ("?" + urlencode(query) if query else "")


def send(client, recording, index, data):
    """One chunk, as the simplest client sends it."""
    return client.post(chunk_url(recording, index), data=data, content_type="audio/webm")


def send_batch(client, recording, first, parts, durations=None, levels=None):
    """Consecutive chunks in one request, as the browser's recorder sends them."""
    query = {"sizes": ",".join(str(len(part)) for part in parts)}
    query["durations"] = ",".join(str(ms) for ms in (durations or [1000] * len(parts)))
    query["levels"] = ",".join(str(level) for level in (levels or [0.3] * len(parts)))
    return client.post(
        chunk_url(recording, first, **query),
        data=b"".join(parts),
        content_type="application/octet-stream",
    )


def stop(client, recording, duration="3.5", chunk_count=None):
    data = {"duration_seconds": duration}
    if chunk_count is not None:
        data["chunk_count"] = chunk_count
    return client.post(reverse("calls:recording_stop", args=[recording.pk]), data)


def stored(recording) -> bytes:
    with recording.file.open("rb") as handle:
        return handle.read()


def read(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def chunk_files(recording) -> list[str]:
    folder = f"recordings/chunks/{recording.created_at:%Y/%m}/rec_{recording.pk}"
    return default_storage.listdir(folder)[1] if default_storage.exists(folder) else []


# --- Starting and sending ---------------------------------------------------------------------


def test_starting_the_mic_stamps_the_call_and_opens_the_pickers(recording):
    call = recording.call
    assert call.recording_started_at is not None and call.pickers_enabled
    assert recording.health == Health.RECORDING and recording.mime_type == ""


def test_chunks_are_appended_in_order_into_one_file(
    client, recording, django_capture_on_commit_callbacks
):
    parts = [WEBM_HEAD + b"a" * 1000, b"b" * 2000, b"c" * 500]
    for index, part in enumerate(parts):
        assert send(client, recording, index, part).status_code == 200
    recording.refresh_from_db()
    assert recording.size_bytes == sum(map(len, parts)) == 3520 and recording.chunk_count == 3
    with django_capture_on_commit_callbacks(execute=True):
        response = stop(client, recording)
    assert response.json()["size_bytes"] == 3520
    recording.refresh_from_db()
    assert recording.is_complete and recording.duration_seconds == 3.5
    assert recording.file.name.startswith("recordings/") and recording.file.name.endswith(".webm")
    assert stored(recording) == b"".join(parts)
    assert not RecordingChunk.objects.exists() and chunk_files(recording) == []
    assert recording.call.recording_stopped_at is not None


def test_a_batch_carries_consecutive_chunks_in_one_request(client, recording):
    parts = [WEBM_HEAD + b"0" * 300, b"1" * 200, b"2" * 100, b"3" * 50, b"4" * 25]
    response = send_batch(client, recording, 0, parts[:3], durations=[1000, 1000, 990])
    assert response.status_code == 200
    assert response.json() == {"received": [0, 1, 2], "size_bytes": 620, "chunks": 3}
    assert send_batch(client, recording, 3, parts[3:]).json()["received"] == [3, 4]
    assert len(chunk_files(recording)) == 2  # one stored object per request
    chunks = RecordingChunk.objects.filter(recording=recording).order_by("index")
    assert [(c.index, c.offset, c.size_bytes) for c in chunks] == [
        (0, 0, 320),
        (1, 320, 200),
        (2, 520, 100),
        (3, 0, 50),
        (4, 50, 25),
    ]
    assert chunks[2].duration_ms == 990 and chunks[0].level == 0.3

    stop(client, recording, duration="5.0", chunk_count=5)
    recording.refresh_from_db()
    assert stored(recording) == b"".join(parts)
    assert recording.health == Health.COMPLETE and recording.received_seconds == 4.99


def test_a_chunk_received_twice_is_acknowledged_and_stored_once(client, recording):
    first = [WEBM_HEAD, b"one", b"two"]
    assert send_batch(client, recording, 0, first).status_code == 200
    # The answer was lost on the way back: the browser sends 1 and 2 again, with 3 and 4.
    response = send_batch(client, recording, 1, [b"one", b"two", b"three", b"four"])
    assert response.status_code == 200 and response.json()["received"] == [1, 2, 3, 4]
    assert send(client, recording, 0, WEBM_HEAD).status_code == 200
    recording.refresh_from_db()
    assert recording.chunk_count == 5
    assert recording.size_bytes == len(WEBM_HEAD + b"onetwothreefour")
    stop(client, recording)
    recording.refresh_from_db()
    assert stored(recording) == WEBM_HEAD + b"onetwothreefour"


@pytest.mark.parametrize(
    "query, body",
    [
        ({"sizes": "10,10"}, b"x" * 25),  # sizes do not add up
        ({"sizes": "10,abc"}, b"x" * 20),
        ({"sizes": "20,0"}, b"x" * 20),
        ({"sizes": "10,10", "levels": "0.5"}, b"x" * 20),  # one level for two chunks
        ({"sizes": "10,10", "levels": "0.5,nan"}, b"x" * 20),
        ({"sizes": "10,10", "levels": "0.5,7"}, b"x" * 20),
        ({"sizes": "10,10", "durations": "1000,-5"}, b"x" * 20),
        ({"sizes": ",".join(["1"] * 101)}, b"x" * 101),
    ],
)
def test_a_malformed_upload_is_refused_with_a_clear_message(client, recording, query, body):
    send(client, recording, 0, WEBM_HEAD)
    response = client.post(
        chunk_url(recording, 1, **query), data=body, content_type="application/octet-stream"
    )
    assert response.status_code == 400 and response.json()["error"]
    assert RecordingChunk.objects.count() == 1


@pytest.mark.parametrize(
    ("head", "extension", "mime_type"),
    [
        (WEBM_HEAD, ".webm", "audio/webm"),
        (MP4_HEAD, ".mp4", "audio/mp4"),
        (OGG_HEAD, ".ogg", "audio/ogg"),
        (WAV_HEAD, ".wav", "audio/wav"),
    ],
)
def test_webm_mp4_ogg_and_wav_are_recognised_from_their_bytes(
    client, recording, head, extension, mime_type
):
    assert send(client, recording, 0, head + b"frames").status_code == 200
    stop(client, recording)
    recording.refresh_from_db()
    assert recording.file.name.endswith(extension) and recording.mime_type == mime_type
    response = client.get(reverse("calls:recording", args=[recording.pk]))
    assert response["Content-Type"] == mime_type


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
        b"<html>hello</html>",
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"MZ\x90\x00binary",
        b"RIFF\x00\x00\x00\x00AVI LIST",
    ],
)
def test_anything_but_audio_is_refused_on_the_first_chunk_with_a_clear_message(
    client, recording, data
):
    response = send(client, recording, 0, data)
    assert response.status_code == 400
    assert "Format audio non reconnu" in response.json()["error"]
    assert not RecordingChunk.objects.exists() and chunk_files(recording) == []
    recording.refresh_from_db()
    assert recording.size_bytes == 0 and recording.mime_type == ""


def test_a_chunk_before_the_first_is_refused(client, recording):
    response = send(client, recording, 1, b"x" * 10)
    assert response.status_code == 400 and "début" in response.json()["error"]


def test_an_empty_chunk_is_refused(client, recording):
    assert send(client, recording, 0, b"").status_code == 400


def test_chunks_of_an_own_draft_still_arrive_after_the_lock_is_lost(
    client, recording, operator2, company
):
    """Audio kept by the browser through a cut belongs to the operator's draft, held or not;
    nobody else's, and not once the call is submitted."""
    send(client, recording, 0, WEBM_HEAD)
    company.release()
    assert send(client, recording, 1, b"late").status_code == 200
    client.force_login(operator2)
    assert send(client, recording, 2, b"intruder").status_code == 404
    CallRecord.objects.filter(pk=recording.call_id).update(status_numero="invalid")
    CallRecord.objects.filter(pk=recording.call_id).update(submitted_at="2026-11-29T10:00Z")
    assert send(client, recording, 2, b"after").status_code == 404


def test_only_the_lock_holder_may_start_a_recording(client, operator, company):
    client.force_login(operator)
    response = client.post(reverse("calls:recording_start", args=[company.pk]))
    assert response.status_code == 409 and response.json()["error"]
    assert not Recording.objects.exists()


def test_recording_views_accept_posts_only(client, recording):
    assert client.get(chunk_url(recording, 0)).status_code == 405
    assert client.get(reverse("calls:recording_stop", args=[recording.pk])).status_code == 405
    assert client.get(reverse("calls:recording_start", args=[1])).status_code == 405


# --- Health -----------------------------------------------------------------------------------


def test_stop_reports_the_health(client, recording):
    send_batch(client, recording, 0, [WEBM_HEAD, b"a", b"b"])
    response = stop(client, recording, duration="3.0", chunk_count=3)
    assert response.json() == {
        "size_bytes": len(WEBM_HEAD) + 2,
        "duration_seconds": 3.0,
        "health": "complete",
        "health_label": "complet",
        "missing_chunks": 0,
    }
    recording.refresh_from_db()
    assert recording.expected_chunks == 3 and recording.received_seconds == 3.0


def test_a_chunk_missing_in_the_middle_makes_the_recording_incomplete(client, recording):
    send_batch(client, recording, 0, [WEBM_HEAD, b"1", b"2"])
    send_batch(client, recording, 4, [b"4", b"5"])  # 3 never arrived
    stop(client, recording, duration="6.0", chunk_count=6)
    recording.refresh_from_db()
    assert recording.health == Health.INCOMPLETE
    assert recording.missing_chunks == 1 and recording.missing_indexes == "3"
    assert recording.received_seconds == 5.0 and recording.duration_seconds == 6.0


def test_chunks_recorded_but_never_sent_make_the_recording_incomplete(client, recording):
    send_batch(client, recording, 0, [WEBM_HEAD, b"1"])
    stop(client, recording, duration="4.0", chunk_count=4)
    recording.refresh_from_db()
    assert recording.health == Health.INCOMPLETE and recording.missing_indexes == "2, 3"


def test_less_audio_than_the_recorded_span_is_incomplete(client, recording):
    send_batch(client, recording, 0, [WEBM_HEAD, b"1"], durations=[1000, 1000])
    stop(client, recording, duration="9.0", chunk_count=2)
    recording.refresh_from_db()
    assert recording.missing_chunks == 0 and recording.health == Health.INCOMPLETE


def test_a_recording_that_is_mostly_silence_is_silent(client, recording):
    levels = [0.002] * 9 + [0.2]
    send_batch(client, recording, 0, [WEBM_HEAD] + [b"s"] * 9, levels=levels)
    stop(client, recording, duration="10.0", chunk_count=10)
    recording.refresh_from_db()
    assert recording.health == Health.SILENT
    assert recording.silent_seconds == 9.0 and recording.silence_share == 0.9


def test_a_recording_without_audio_is_empty(client, recording, company):
    stop(client, recording, duration="2.0")
    recording.refresh_from_db()
    assert recording.is_complete and recording.health == Health.EMPTY


@pytest.mark.parametrize(
    ("duration", "chunk_count"), [("nan", "10**9"), ("inf", "-3"), ("-5", "999999999"), ("", "")]
)
def test_a_stop_with_absurd_figures_keeps_what_arrived(client, recording, duration, chunk_count):
    send_batch(client, recording, 0, [WEBM_HEAD, b"1"])
    response = stop(client, recording, duration=duration, chunk_count=chunk_count)
    assert response.status_code == 200
    recording.refresh_from_db()
    assert recording.is_complete and recording.expected_chunks == 2
    assert recording.duration_seconds == 2.0 and recording.health == Health.COMPLETE


def test_a_stop_sent_twice_changes_nothing(client, recording):
    send_batch(client, recording, 0, [WEBM_HEAD, b"1"])
    first = stop(client, recording, duration="2.0", chunk_count=2).json()
    assert stop(client, recording, duration="99", chunk_count=50).json() == first


# --- Finishing, abandoning, submitting ---------------------------------------------------------


def test_abandoning_keeps_what_was_recorded_as_one_file(client, recording, company):
    send(client, recording, 0, WEBM_HEAD + b"z" * 100)
    client.post(reverse("calls:abandon", args=[company.pk]))
    recording.refresh_from_db()
    assert recording.is_complete and recording.size_bytes == len(WEBM_HEAD) + 100
    assert stored(recording).startswith(WEBM_HEAD)


def test_a_closing_page_with_audio_waiting_leaves_the_recording_open(
    client, recording, company, operator
):
    """The page's beacon says audio is still waiting in the browser: the lock is given back,
    the recording stays open for the next page to complete."""
    token = "a1b2c3d4"
    Company.objects.open_page(company, operator, token)  # this page holds the lease
    send(client, recording, 0, WEBM_HEAD)
    beacon = {"beacon": "1", "token": token, "audio_pending": "4"}
    assert client.post(reverse("calls:abandon", args=[company.pk]), beacon).status_code == 204
    company.refresh_from_db()
    recording.refresh_from_db()
    assert company.locked_by is None and not recording.is_complete
    assert send(client, recording, 1, b"recovered").status_code == 200


def test_submitting_finalises_open_recordings(client, recording, company):
    send(client, recording, 0, WEBM_HEAD)
    response = client.post(reverse("calls:submit", args=[company.pk]), {"status_numero": "invalid"})
    assert response.status_code == 302
    recording.refresh_from_db()
    call = CallRecord.objects.get()
    assert recording.is_complete and call.submitted_at is not None
    assert call.recording_stopped_at is not None  # the submission's save keeps the stop


# --- Playback ---------------------------------------------------------------------------------


@pytest.fixture
def finished(client, recording):
    send(client, recording, 0, WEBM_HEAD + bytes(range(256)) * 4)
    stop(client, recording)
    recording.refresh_from_db()
    return recording


def assert_never_rendered(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"


def test_playback_serves_the_whole_file(client, finished):
    response = client.get(reverse("calls:recording", args=[finished.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/webm" and response["Accept-Ranges"] == "bytes"
    assert read(response) == WEBM_HEAD + bytes(range(256)) * 4
    assert_never_rendered(response)


def test_playback_answers_range_requests_with_206(client, finished):
    size = finished.size_bytes
    url = reverse("calls:recording", args=[finished.pk])
    response = client.get(url, headers={"Range": "bytes=4-11"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 4-11/{size}"
    assert read(response) == WEBM_HEAD[4:12]
    assert_never_rendered(response)
    tail = client.get(url, headers={"Range": "bytes=-3"})
    assert tail.status_code == 206 and read(tail) == bytes([253, 254, 255])
    open_ended = client.get(url, headers={"Range": f"bytes={size - 2}-"})
    assert read(open_ended) == bytes([254, 255])


def test_an_unsatisfiable_range_gives_416(client, finished):
    response = client.get(
        reverse("calls:recording", args=[finished.pk]), headers={"Range": "bytes=999999-"}
    )
    assert response.status_code == 416


def test_operators_hear_only_their_own_calls_supervisors_all(
    client, finished, operator2, supervisor
):
    client.force_login(operator2)
    assert client.get(reverse("calls:recording", args=[finished.pk])).status_code == 404
    client.force_login(supervisor)
    assert client.get(reverse("calls:recording", args=[finished.pk])).status_code == 200


def test_x_accel_redirect_hands_the_file_to_the_web_server(client, finished, settings):
    settings.RECORDINGS_SENDFILE = "x-accel-redirect"
    response = client.get(reverse("calls:recording", args=[finished.pk]))
    assert response["X-Accel-Redirect"] == "/protected-media/" + finished.file.name
    assert response.content == b"" and response["Content-Type"] == "audio/webm"
    assert_never_rendered(response)


# --- Issue 11, point 1: planted content -----------------------------------------------------


def test_the_type_comes_from_the_bytes_never_from_the_browser(client, operator, company):
    client.force_login(operator)
    Company.objects.claim(company, operator)
    recording = start_recording(client, company, mime_type="text/html")
    assert send(client, recording, 0, POLYGLOT).status_code == 200
    recording.refresh_from_db()
    assert recording.mime_type == "audio/webm"
    stop(client, recording)
    recording.refresh_from_db()
    assert recording.file.name.endswith(".webm")
    response = client.get(reverse("calls:recording", args=[recording.pk]))
    assert response["Content-Type"] == "audio/webm"
    assert_never_rendered(response)


@pytest.mark.parametrize(
    "bad_type", ["text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript", ""]
)
def test_a_recording_stored_with_a_bad_type_is_served_as_a_download(client, finished, bad_type):
    """Rows written by older versions took the browser's word for the type."""
    Recording.objects.filter(pk=finished.pk).update(mime_type=bad_type)
    response = client.get(reverse("calls:recording", args=[finished.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert_never_rendered(response)


# --- Issue 11, point 3: listening changes nothing ------------------------------------------


def test_listening_to_a_recording_in_progress_plays_what_arrived_and_changes_nothing(
    client, recording, operator, supervisor, company
):
    send(client, recording, 0, WEBM_HEAD)
    send(client, recording, 1, b"middle")
    client.force_login(supervisor)
    response = client.get(reverse("calls:recording", args=[recording.pk]))
    assert response.status_code == 200 and read(response) == WEBM_HEAD + b"middle"
    assert_never_rendered(response)
    ranged = client.get(
        reverse("calls:recording", args=[recording.pk]), headers={"Range": "bytes=10-"}
    )
    assert ranged.status_code == 206 and read(ranged) == (WEBM_HEAD + b"middle")[10:]
    player = client.get(reverse("calls:player", args=[company.pk]))
    assert player.status_code == 200
    recording.refresh_from_db()
    assert not recording.is_complete and recording.health == Health.RECORDING
    assert recording.call.recording_stopped_at is None

    client.force_login(operator)
    assert send(client, recording, 2, b"end").status_code == 200  # recording goes on
    stop(client, recording)
    recording.refresh_from_db()
    assert stored(recording) == WEBM_HEAD + b"middleend"


def test_a_recording_with_nothing_received_yet_answers_404(client, recording, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("calls:recording", args=[recording.pk]))
    assert response.status_code == 404


# --- Issue 11, point 5: caps --------------------------------------------------------------


def test_recordings_per_call_are_capped(client, recording, company, settings):
    settings.RECORDINGS_PER_CALL_MAX = 2
    start_recording(client, company)
    response = client.post(reverse("calls:recording_start", args=[company.pk]))
    assert response.status_code == 400 and "Trop d'enregistrements" in response.json()["error"]
    assert Recording.objects.count() == 2


def test_the_size_of_a_recording_is_capped(client, recording, settings):
    settings.RECORDING_MAX_BYTES = 100
    assert send(client, recording, 0, WEBM_HEAD + b"x" * 50).status_code == 200
    response = send(client, recording, 1, b"x" * 60)
    assert response.status_code == 400 and "taille maximale" in response.json()["error"]
    recording.refresh_from_db()
    assert recording.size_bytes == len(WEBM_HEAD) + 50


def test_the_bytes_of_a_call_are_capped_across_its_recordings(client, recording, company, settings):
    settings.RECORDING_CALL_MAX_BYTES = 100
    assert send(client, recording, 0, WEBM_HEAD + b"x" * 60).status_code == 200
    second = start_recording(client, company)
    response = send(client, second, 0, WEBM_HEAD + b"y" * 30)
    assert response.status_code == 400 and "cet appel" in response.json()["error"]
    assert chunk_files(second) == []


def test_the_bytes_of_an_operator_are_capped_per_day(
    client, recording, operator, make_company, settings
):
    settings.RECORDING_OPERATOR_DAY_MAX_BYTES = 100
    assert send(client, recording, 0, WEBM_HEAD + b"x" * 60).status_code == 200
    other = make_company()
    Company.objects.claim(other, operator)
    second = start_recording(client, other)
    response = send(client, second, 0, WEBM_HEAD + b"y" * 30)
    assert response.status_code == 400 and "journée" in response.json()["error"]
    assert RecordingDay.objects.get(operator=operator).size_bytes == len(WEBM_HEAD) + 60


@pytest.mark.parametrize("index", [MAX_CHUNKS, 2**31, 10**20])
def test_the_chunk_index_is_bounded(client, recording, index):
    send(client, recording, 0, WEBM_HEAD)
    response = send(client, recording, index, b"far away")
    assert response.status_code == 400 and "hors limites" in response.json()["error"]


@pytest.mark.django_db(transaction=True)
def test_parallel_uploads_cannot_pass_the_cap_of_a_call(operator, company, settings):
    """Eight recordings of one call each send a first chunk at the same moment, with room for
    three: exactly three are stored, on SQLite as on PostgreSQL."""
    from django.test import Client

    settings.RECORDING_CALL_MAX_BYTES = 3 * (len(WEBM_HEAD) + 100)
    Company.objects.claim(company, operator)
    call = CallRecord.objects.draft_for(company, operator)
    recordings = [Recording.objects.create(call=call) for _ in range(8)]
    barrier = threading.Barrier(len(recordings))
    statuses = []

    def upload(target):
        client = Client()
        client.force_login(operator)
        barrier.wait()
        statuses.append(send(client, target, 0, WEBM_HEAD + b"p" * 100).status_code)

    run_threads(*[partial(upload, recording) for recording in recordings])
    assert sorted(statuses) == [200] * 3 + [400] * 5
    assert RecordingChunk.objects.count() == 3
    assert sum(Recording.objects.values_list("size_bytes", flat=True)) <= (
        settings.RECORDING_CALL_MAX_BYTES
    )


# --- Issue 11, point 8: chunks deleted after the commit only ----------------------------------


def test_chunk_files_stay_when_the_finalising_transaction_rolls_back(client, recording):
    send_batch(client, recording, 0, [WEBM_HEAD, b"kept"])
    files = chunk_files(recording)
    assert len(files) == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        finalise(recording)
        raise RuntimeError("the database failed after the assembly")
    assert chunk_files(recording) == files
    assert RecordingChunk.objects.filter(recording=recording).count() == 2
    recording.refresh_from_db()
    assert not recording.is_complete


def test_chunk_files_are_deleted_once_finalising_committed(
    client, recording, django_capture_on_commit_callbacks
):
    send_batch(client, recording, 0, [WEBM_HEAD, b"gone"])
    with django_capture_on_commit_callbacks() as callbacks:
        finalise(recording)
        assert len(chunk_files(recording)) == 1  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert chunk_files(recording) == []


# --- Object storage, cost ---------------------------------------------------------------------


def test_on_object_storage_chunks_assemble_and_playback_is_a_signed_url(
    client, s3_storage, operator, company, django_capture_on_commit_callbacks
):
    import urllib.request

    client.force_login(operator)
    Company.objects.claim(company, operator)
    recording = start_recording(client, company, mime_type="text/html")
    parts = [WEBM_HEAD + b"s3" * 500, b"next" * 300]
    assert send_batch(client, recording, 0, parts).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        stop(client, recording)
    recording.refresh_from_db()
    assert s3_storage.exists(recording.file.name)
    assert chunk_files(recording) == []

    response = client.get(reverse("calls:recording", args=[recording.pk]))
    assert response.status_code == 302
    assert "X-Amz-Signature" in response["Location"]
    assert_never_rendered(response)
    with urllib.request.urlopen(response["Location"]) as signed:
        assert signed.headers["Content-Type"] == "audio/webm"
        assert signed.read() == b"".join(parts)


def test_a_server_killed_while_assembling_loses_no_chunk(client, s3_storage, operator, company):
    """The assembly rolled back (the app server died before its commit): every piece is still
    in storage and the next « fin », from any server, gives the same bytes."""
    client.force_login(operator)
    Company.objects.claim(company, operator)
    recording = start_recording(client, company)
    parts = [WEBM_HEAD + b"k" * 700, b"i" * 900, b"l" * 300]
    for index, part in enumerate(parts):
        assert send(client, recording, index, part).status_code == 200
    pieces = list(RecordingChunk.objects.values_list("file", flat=True))

    with pytest.raises(RuntimeError), transaction.atomic():
        finalise(recording)
        raise RuntimeError("SIGKILL before the commit")

    assert all(s3_storage.exists(name) for name in pieces)
    assert RecordingChunk.objects.count() == 3
    assert stop(client, recording).status_code == 200
    recording.refresh_from_db()
    with recording.file.open("rb") as handle:
        assert handle.read() == b"".join(parts)


def test_a_bad_type_stored_on_object_storage_is_overridden_by_the_signed_url(
    client, s3_storage, finished_on_s3
):
    import urllib.request

    Recording.objects.filter(pk=finished_on_s3.pk).update(mime_type="text/html")
    response = client.get(reverse("calls:recording", args=[finished_on_s3.pk]))
    with urllib.request.urlopen(response["Location"]) as signed:
        assert signed.headers["Content-Type"] == "application/octet-stream"


@pytest.fixture
def finished_on_s3(client, s3_storage, operator, company):
    """A recording whose object was stored as text/html, as an older version could."""
    from django.core.files.base import ContentFile

    client.force_login(operator)
    Company.objects.claim(company, operator)
    recording = start_recording(client, company)
    content = ContentFile(POLYGLOT)
    content.content_type = "text/html"
    recording.file.save("audio.webm", content, save=False)
    recording.is_complete, recording.size_bytes = True, len(POLYGLOT)
    recording.save()
    return recording


def test_an_upload_costs_a_handful_of_queries(client, recording, django_assert_max_num_queries):
    """A recording operator sends one every 5 s: session, user and permissions, the recording,
    the chunks already received, the day's count, the recording's conditional update, the
    chunk rows, and the transaction around the last three."""
    assert send(client, recording, 0, WEBM_HEAD).status_code == 200
    with django_assert_max_num_queries(12):
        response = send_batch(client, recording, 1, [b"b" * 1000, b"c" * 1000])
    assert response.json() == {"received": [1, 2], "size_bytes": len(WEBM_HEAD) + 2000, "chunks": 3}

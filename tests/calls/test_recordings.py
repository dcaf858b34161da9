"""Chunked recording uploads and playback with HTTP Range."""

import pytest
from django.urls import reverse

from calls.models import CallRecord, Recording, RecordingChunk
from companies.models import Company

WEBM_HEAD = b"\x1a\x45\xdf\xa3" + b"\x42\x86\x81\x01" * 4
MP4_HEAD = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 8
OGG_HEAD = b"OggS\x00\x02" + b"\x00" * 10


@pytest.fixture
def recording(client, operator, company):
    client.force_login(operator)
    Company.objects.claim(company, operator)
    response = client.post(
        reverse("calls:recording_start", args=[company.pk]), {"mime_type": "audio/webm;codecs=opus"}
    )
    assert response.status_code == 200
    return Recording.objects.get(pk=response.json()["recording_id"])


def send(client, recording, index, data):
    url = reverse("calls:recording_chunk", kwargs={"recording_id": recording.pk, "index": index})
    return client.post(url, data=data, content_type="audio/webm")


def stop(client, recording, duration="3.5"):
    return client.post(
        reverse("calls:recording_stop", args=[recording.pk]), {"duration_seconds": duration}
    )


def test_starting_the_mic_stamps_the_call_and_opens_the_pickers(recording):
    call = recording.call
    assert call.recording_started_at is not None and call.pickers_enabled


def test_chunks_are_appended_in_order_into_one_file(client, recording):
    parts = [WEBM_HEAD + b"a" * 1000, b"b" * 2000, b"c" * 500]
    for index, part in enumerate(parts):
        assert send(client, recording, index, part).status_code == 200
    recording.refresh_from_db()
    assert recording.size_bytes == sum(map(len, parts)) == 3520 and recording.chunk_count == 3
    response = stop(client, recording)
    assert response.json()["size_bytes"] == 3520
    recording.refresh_from_db()
    assert recording.is_complete and recording.duration_seconds == 3.5
    assert recording.file.name.startswith("recordings/") and recording.file.name.endswith(".webm")
    with recording.file.open("rb") as handle:
        assert handle.read() == b"".join(parts)
    assert not RecordingChunk.objects.exists()
    assert recording.call.recording_stopped_at is not None


@pytest.mark.parametrize(("head", "extension"), [(MP4_HEAD, ".mp4"), (OGG_HEAD, ".ogg")])
def test_mp4_and_ogg_are_recognised(client, operator, company, head, extension):
    client.force_login(operator)
    Company.objects.claim(company, operator)
    rid = client.post(reverse("calls:recording_start", args=[company.pk])).json()["recording_id"]
    recording = Recording.objects.get(pk=rid)
    assert send(client, recording, 0, head).status_code == 200
    stop(client, recording)
    recording.refresh_from_db()
    assert recording.file.name.endswith(extension)


@pytest.mark.parametrize(
    "data", [b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, b"<html>hello</html>", b"MZ\x90\x00binary"]
)
def test_anything_but_audio_is_refused_with_a_clear_message(client, recording, data):
    response = send(client, recording, 0, data)
    assert response.status_code == 400
    assert "Format audio non reconnu" in response.json()["error"]
    assert not RecordingChunk.objects.exists()


def test_a_chunk_before_the_first_is_refused(client, recording):
    response = send(client, recording, 1, b"x" * 10)
    assert response.status_code == 400 and "début" in response.json()["error"]


def test_a_retried_chunk_is_stored_once(client, recording):
    send(client, recording, 0, WEBM_HEAD)
    assert send(client, recording, 0, WEBM_HEAD).status_code == 200
    recording.refresh_from_db()
    assert recording.chunk_count == 1 and recording.size_bytes == len(WEBM_HEAD)


def test_the_size_cap_refuses_more(client, recording, settings):
    settings.RECORDING_MAX_BYTES = 100
    assert send(client, recording, 0, WEBM_HEAD + b"x" * 50).status_code == 200
    response = send(client, recording, 1, b"x" * 60)
    assert response.status_code == 400 and "taille maximale" in response.json()["error"]


def test_an_empty_chunk_is_refused(client, recording):
    assert send(client, recording, 0, b"").status_code == 400


def test_only_the_lock_holder_may_upload(client, recording, operator2, company):
    company.release()
    response = send(client, recording, 0, WEBM_HEAD)
    assert response.status_code == 409
    client.force_login(operator2)
    assert send(client, recording, 0, WEBM_HEAD).status_code == 404


def test_abandoning_keeps_what_was_recorded_as_one_file(client, recording, company):
    send(client, recording, 0, WEBM_HEAD + b"z" * 100)
    client.post(reverse("calls:abandon", args=[company.pk]))
    recording.refresh_from_db()
    assert recording.is_complete and recording.size_bytes == len(WEBM_HEAD) + 100
    with recording.file.open("rb") as handle:
        assert handle.read().startswith(WEBM_HEAD)


@pytest.fixture
def finished(client, recording):
    send(client, recording, 0, WEBM_HEAD + bytes(range(256)) * 4)
    stop(client, recording)
    recording.refresh_from_db()
    return recording


def read(response) -> bytes:
    return b"".join(response.streaming_content)


def test_playback_serves_the_whole_file(client, finished):
    response = client.get(reverse("calls:recording", args=[finished.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/webm" and response["Accept-Ranges"] == "bytes"
    assert read(response) == WEBM_HEAD + bytes(range(256)) * 4


def test_playback_answers_range_requests_with_206(client, finished):
    size = finished.size_bytes
    response = client.get(
        reverse("calls:recording", args=[finished.pk]), headers={"Range": "bytes=4-11"}
    )
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 4-11/{size}"
    assert read(response) == WEBM_HEAD[4:12]
    tail = client.get(reverse("calls:recording", args=[finished.pk]), headers={"Range": "bytes=-3"})
    assert tail.status_code == 206 and read(tail) == bytes([253, 254, 255])
    open_ended = client.get(
        reverse("calls:recording", args=[finished.pk]), headers={"Range": f"bytes={size - 2}-"}
    )
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
    assert response.content == b""


def test_a_recording_left_unfinished_is_assembled_when_played(client, recording, supervisor):
    send(client, recording, 0, WEBM_HEAD)
    send(client, recording, 1, b"tail")
    client.force_login(supervisor)
    response = client.get(reverse("calls:recording", args=[recording.pk]))
    assert read(response) == WEBM_HEAD + b"tail"


def test_submitting_finalises_open_recordings(client, recording, company):
    send(client, recording, 0, WEBM_HEAD)
    response = client.post(reverse("calls:submit", args=[company.pk]), {"status_numero": "invalid"})
    assert response.status_code == 302
    recording.refresh_from_db()
    assert recording.is_complete and CallRecord.objects.get().submitted_at is not None


def test_on_object_storage_chunks_assemble_and_playback_is_a_signed_url(
    client, s3_storage, operator, company, django_capture_on_commit_callbacks
):
    import urllib.request

    client.force_login(operator)
    Company.objects.claim(company, operator)
    rid = client.post(
        reverse("calls:recording_start", args=[company.pk]), {"mime_type": "audio/webm"}
    ).json()["recording_id"]
    recording = Recording.objects.get(pk=rid)
    parts = [WEBM_HEAD + b"s3" * 500, b"next" * 300]
    for index, part in enumerate(parts):
        assert send(client, recording, index, part).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        stop(client, recording)
    recording.refresh_from_db()
    assert s3_storage.exists(recording.file.name)
    assert not s3_storage.exists(
        f"recordings/chunks/{recording.created_at:%Y/%m}/rec_{recording.pk}/000000.part"
    )

    response = client.get(reverse("calls:recording", args=[recording.pk]))
    assert response.status_code == 302
    assert "Signature" in response["Location"] or "X-Amz-Signature" in response["Location"]
    with urllib.request.urlopen(response["Location"]) as signed:
        assert signed.headers["Content-Type"] == "audio/webm"
        assert signed.read() == b"".join(parts)


def test_a_server_killed_while_assembling_loses_no_chunk(client, s3_storage, operator, company):
    """The assembly rolled back (the app server died before its commit): every piece is still
    in storage and the next « fin », from any server, gives the same bytes."""
    from django.db import transaction

    from calls.recordings import finalise

    client.force_login(operator)
    Company.objects.claim(company, operator)
    rid = client.post(
        reverse("calls:recording_start", args=[company.pk]), {"mime_type": "audio/webm"}
    ).json()["recording_id"]
    recording = Recording.objects.get(pk=rid)
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


def test_a_chunk_costs_a_handful_of_queries(client, recording, django_assert_max_num_queries):
    """A recording operator sends one every few seconds: the bulk of the traffic (session,
    user and permissions, the recording, the lock, received chunks, insert, size update, and the
    transaction around the last two)."""
    assert send(client, recording, 0, WEBM_HEAD).status_code == 200
    with django_assert_max_num_queries(11):
        response = send(client, recording, 1, b"b" * 2000)
    assert response.json() == {"size_bytes": len(WEBM_HEAD) + 2000, "chunks": 2}

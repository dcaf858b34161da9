"""The storage API contract recordings and imports rely on, on the local media folder and on
S3-compatible object storage (the project's S3 settings against moto's server on loopback).

Recording chunks are separate objects (S3 has no append), assembled into one object on
finalise by streaming them through storage.save(), then deleted; playback reads byte ranges.
"""

import io
import urllib.request

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from calls.models import Recording, RecordingChunk
from companies.models import ImportBatch
from tests.factories import CallFactory

# 3 chunks of 3 MiB: the assembled object (9 MiB) goes over boto3's 8 MiB multipart threshold.
CHUNK_SIZES = [3 * 1024 * 1024, 3 * 1024 * 1024, 1234]


def chunk_payload(index: int, size: int) -> bytes:
    """Distinct, non-repeating-looking bytes per chunk, so an order mistake shows."""
    pattern = bytes((index * 37 + i * 11) % 251 for i in range(251))
    return (pattern * (size // len(pattern) + 1))[:size]


class ChunkStream(io.RawIOBase):
    """Read several stored objects one after the other, as one stream, never all in memory."""

    def __init__(self, storage, names):
        self.storage = storage
        self.names = list(names)
        self.current = None

    def readable(self):
        return True

    def readinto(self, buffer):
        while True:
            if self.current is None:
                if not self.names:
                    return 0
                self.current = self.storage.open(self.names.pop(0), "rb")
            data = self.current.read(len(buffer))
            if data:
                buffer[: len(data)] = data
                return len(data)
            self.current.close()
            self.current = None


@pytest.fixture(params=["filesystem", "s3"])
def storage(request, settings):
    if request.param == "s3":
        return request.getfixturevalue("s3_storage")
    assert settings.STORAGES["default"]["BACKEND"].endswith("FileSystemStorage")
    return default_storage


def s3_client(storage):
    return boto3.client(
        "s3",
        endpoint_url=storage.endpoint_url,
        region_name=storage.region_name,
        aws_access_key_id=storage.access_key,
        aws_secret_access_key=storage.secret_key,
    )


def save_chunks(storage, prefix="recordings/chunks/rec_1"):
    names = []
    for index, size in enumerate(CHUNK_SIZES):
        name = storage.save(f"{prefix}/{index:06d}.part", ContentFile(chunk_payload(index, size)))
        names.append(name)
    return names


def test_chunks_are_stored_as_separate_objects_and_read_back_in_order(storage):
    names = save_chunks(storage)

    directories, files = storage.listdir("recordings/chunks/rec_1")
    assert directories == []
    assert sorted(files) == ["000000.part", "000001.part", "000002.part"]
    for index, name in enumerate(sorted(names)):
        assert storage.size(name) == CHUNK_SIZES[index]
        with storage.open(name, "rb") as chunk:
            assert chunk.read() == chunk_payload(index, CHUNK_SIZES[index])


def test_chunks_assemble_into_one_object_by_streaming_through_save(storage):
    names = save_chunks(storage)

    final = storage.save("recordings/2026/01/call_1_1.webm", ChunkStream(storage, names))

    expected = b"".join(chunk_payload(i, size) for i, size in enumerate(CHUNK_SIZES))
    assert final == "recordings/2026/01/call_1_1.webm"
    assert storage.size(final) == len(expected) == sum(CHUNK_SIZES)
    with storage.open(final, "rb") as assembled:
        assert assembled.read() == expected


def test_a_recording_reads_by_byte_range_for_http_range_playback(storage):
    payload = chunk_payload(7, 100_000)
    name = storage.save("recordings/2026/01/call_2_2.webm", ContentFile(payload))

    with storage.open(name, "rb") as audio:
        assert audio.size == len(payload)
        audio.seek(50_000)
        assert audio.read(1000) == payload[50_000:51_000]
        audio.seek(len(payload) - 10)
        assert audio.read(100) == payload[-10:]  # a range past the end is cut short
        audio.seek(0)
        assert audio.read(4) == payload[:4]


def test_chunks_are_deleted_after_assembly_and_the_recording_stays(storage):
    names = save_chunks(storage)
    final = storage.save("recordings/2026/01/call_3_3.webm", ChunkStream(storage, names))

    for name in names:
        storage.delete(name)

    for name in names:
        assert not storage.exists(name)
        with pytest.raises(FileNotFoundError):
            storage.open(name, "rb")
    assert storage.listdir("recordings/chunks/rec_1")[1] == []
    assert storage.exists(final)
    assert storage.size(final) == sum(CHUNK_SIZES)


def test_saving_under_an_existing_name_never_overwrites_a_recording(storage):
    first = storage.save("recordings/2026/01/call_4_4.webm", ContentFile(b"first take"))
    second = storage.save("recordings/2026/01/call_4_4.webm", ContentFile(b"second take"))

    assert second != first
    with storage.open(first, "rb") as original:
        assert original.read() == b"first take"
    with storage.open(second, "rb") as other:
        assert other.read() == b"second take"


def test_recording_and_chunk_file_fields_go_through_the_storage(storage, operator, company):
    call = CallFactory(company=company, operator=operator, outcome="draft")
    recording = Recording.objects.create(call=call, mime_type="audio/webm")
    chunk = RecordingChunk(recording=recording, index=0, size_bytes=5)
    chunk.file.save(f"recordings/chunks/{recording.pk}/000000.part", ContentFile(b"\x1aE\xdf\xa3!"))
    recording.file.save("audio.webm", ContentFile(b"\x1aE\xdf\xa3 full audio"))

    recording.refresh_from_db()
    chunk.refresh_from_db()
    created = recording.created_at
    assert recording.file.name == (f"recordings/{created:%Y/%m}/call_{call.pk}_{recording.pk}.webm")
    with recording.file.open("rb") as audio:
        assert audio.read() == b"\x1aE\xdf\xa3 full audio"
    with chunk.file.open("rb") as part:
        assert part.read() == b"\x1aE\xdf\xa3!"
    assert recording.file.size == len(b"\x1aE\xdf\xa3 full audio")


def test_import_file_is_kept_and_read_back_byte_for_byte(storage, supervisor, campaign):
    # Windows-1252 with a BOM-less header, as Excel writes it: the import must see these bytes.
    content = "nom;téléphone;ville\r\nSociété Générale Étoile;699001122;Douala\r\n".encode("cp1252")
    batch = ImportBatch(campaign=campaign, uploaded_by=supervisor, original_name="liste.csv")
    batch.file.save("liste.csv", ContentFile(content))

    batch = ImportBatch.objects.get(pk=batch.pk)
    assert batch.file.name.startswith(f"imports/{batch.created_at:%Y/%m}/")
    with batch.file.open("rb") as upload:
        assert upload.read() == content
    assert storage.exists(batch.file.name)


def test_s3_objects_land_in_the_bucket_and_nothing_on_local_disk(s3_storage, settings):
    audio = ContentFile(b"opus frames")
    audio.content_type = "audio/webm;codecs=opus"  # else guessed from ".webm": video/webm
    name = s3_storage.save("recordings/2026/01/call_5_5.webm", audio)

    head = s3_client(s3_storage).head_object(Bucket=s3_storage.bucket_name, Key=name)
    assert head["ContentLength"] == len(b"opus frames")
    assert head["ContentType"] == "audio/webm;codecs=opus"
    media_root = settings.MEDIA_ROOT
    assert not media_root.exists() or not any(media_root.rglob("*"))


def test_s3_signed_url_serves_byte_ranges_and_expires(s3_storage):
    payload = chunk_payload(3, 10_000)
    name = s3_storage.save("recordings/2026/01/call_6_6.webm", ContentFile(payload))

    url = s3_storage.url(name)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    request = urllib.request.Request(url, headers={"Range": "bytes=100-199"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 206
        assert response.read() == payload[100:200]
    unsigned = url.split("?", 1)[0]
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(unsigned, timeout=10)
    assert denied.value.code == 403

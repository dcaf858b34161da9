"""Call recordings through Django's storage API only (local disk or S3-compatible storage).

The browser's MediaRecorder sends a chunk every few seconds. Each chunk is stored as its own
object (S3 has no append), so a crash or a closed tab keeps everything already sent. Finalising
concatenates the chunks, in order, into one file and only then removes the chunk objects.
"""

import io
import re

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.models import Recording, RecordingChunk

# What the first bytes of a recording must look like, and the file extension that goes with it.
SIGNATURES = [
    (lambda head: head.startswith(b"\x1a\x45\xdf\xa3"), "webm", "audio/webm"),
    (lambda head: head[4:8] == b"ftyp", "mp4", "audio/mp4"),
    (lambda head: head.startswith(b"OggS"), "ogg", "audio/ogg"),
]


class RecordingRefused(Exception):
    """A chunk that must not be stored; the message is shown to the operator."""


def sniff(head: bytes) -> tuple[str, str] | None:
    for matches, extension, mime_type in SIGNATURES:
        if matches(head):
            return extension, mime_type
    return None


def chunk_name(recording: Recording, index: int) -> str:
    return f"recordings/chunks/{recording.created_at:%Y/%m}/rec_{recording.pk}/{index:06d}.part"


def add_chunk(recording: Recording, index: int, data: bytes) -> None:
    """Store one chunk. The first must be audio we know; sizes are capped; a chunk sent twice
    (a retried upload) is accepted once."""
    if recording.is_complete:
        raise RecordingRefused(_("Cet enregistrement est déjà terminé."))
    if not data:
        raise RecordingRefused(_("Morceau d'enregistrement vide."))
    if len(data) > settings.RECORDING_CHUNK_MAX_BYTES:
        raise RecordingRefused(_("Morceau d'enregistrement trop volumineux."))
    if recording.size_bytes + len(data) > settings.RECORDING_MAX_BYTES:
        raise RecordingRefused(
            _("Enregistrement trop long : la taille maximale est atteinte, arrêtez le micro.")
        )
    # The sizes of the first chunk and of this one, if already received: one query.
    received = dict(
        RecordingChunk.objects.filter(recording_id=recording.pk, index__in={0, index}).values_list(
            "index", "size_bytes"
        )
    )
    if index == 0:
        sniffed = sniff(data[:16])
        if sniffed is None:
            raise RecordingRefused(
                _("Format audio non reconnu : seuls WebM, MP4 et Ogg sont acceptés.")
            )
        recording.mime_type = recording.mime_type or sniffed[1]
    elif 0 not in received:
        raise RecordingRefused(_("Le début de l'enregistrement manque : relancez le micro."))

    if index in received:
        if received[index] == len(data):
            return  # the same chunk retried
        raise RecordingRefused(_("Ce morceau d'enregistrement a déjà été reçu."))

    name = default_storage.save(chunk_name(recording, index), ContentFile(data))
    try:
        with transaction.atomic():
            RecordingChunk.objects.create(
                recording=recording, index=index, file=name, size_bytes=len(data)
            )
            Recording.objects.filter(pk=recording.pk).update(
                size_bytes=F("size_bytes") + len(data),
                chunk_count=F("chunk_count") + 1,
                mime_type=recording.mime_type,
                updated_at=timezone.now(),
            )
    except IntegrityError:
        default_storage.delete(name)
        raise RecordingRefused(_("Ce morceau d'enregistrement a déjà été reçu.")) from None
    # What the UPDATE did, without reading the row back (a chunk sent in parallel may make
    # these figures, shown to the operator, lag by one chunk).
    recording.size_bytes += len(data)
    recording.chunk_count += 1


class ChunkStream(io.RawIOBase):
    """The chunks of a recording read one after the other, as one readable file."""

    def __init__(self, chunks):
        self._names = [chunk.file.name for chunk in chunks]
        self._current = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            if self._current is None:
                if not self._names:
                    return 0
                self._current = default_storage.open(self._names.pop(0), "rb")
            data = self._current.read(len(buffer))
            if data:
                buffer[: len(data)] = data
                return len(data)
            self._current.close()
            self._current = None


def finalise(recording: Recording, duration_seconds: float | None = None) -> Recording:
    """Assemble the chunks into the recording's file; idempotent. Safe to call on a recording
    whose tab was closed: what was received is kept."""
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording.pk)
        if duration_seconds is not None and duration_seconds >= 0:
            recording.duration_seconds = round(float(duration_seconds), 2)
        chunks = list(recording.chunks.order_by("index"))
        if chunks:
            extension = sniff_extension(recording.mime_type) or "webm"
            content = File(io.BufferedReader(ChunkStream(chunks), buffer_size=256 * 1024))
            content.size = sum(chunk.size_bytes for chunk in chunks)
            # Object storage serves it with this type (a guess from ".webm" says video/webm).
            content.content_type = recording.mime_type.split(";")[0] or None
            recording.file.save(f"audio.{extension}", content, save=False)
            recording.size_bytes = recording.file.size
        recording.is_complete = True
        recording.save()
        RecordingChunk.objects.filter(pk__in=[chunk.pk for chunk in chunks]).delete()
        call = recording.call
        call.recording_stopped_at = timezone.now()
        call.save(update_fields=["recording_stopped_at", "updated_at"])
        # The pieces go only once the database says the whole file is stored: an app server
        # killed before the commit leaves rows and pieces as they were, and the next « fin »
        # (on any server) assembles them again. Killed after it, pieces are left over, not lost.
        names = [chunk.file.name for chunk in chunks]
        transaction.on_commit(lambda: [default_storage.delete(name) for name in names])
    return recording


def sniff_extension(mime_type: str) -> str | None:
    for _matches, extension, known in SIGNATURES:
        if mime_type.split(";")[0] == known:
            return extension
    return None


def finalise_open_recordings(call) -> None:
    for recording in call.recordings.filter(is_complete=False):
        finalise(recording)


RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$", re.ASCII)  # int() refuses "²"


def playback_response(request, recording: Recording) -> HttpResponse:
    """Serve a recording after the caller's permission check: by the web server when
    RECORDINGS_SENDFILE says so, otherwise streamed here with HTTP Range support (206)."""
    if not recording.is_complete:
        recording = finalise(recording)
    if not recording.file:
        return HttpResponse(_("Aucun son n'a été reçu pour cet enregistrement."), status=404)
    mime_type = (recording.mime_type or "audio/webm").split(";")[0]
    sendfile = settings.RECORDINGS_SENDFILE
    if sendfile:
        response = HttpResponse(content_type=mime_type)
        path = settings.RECORDINGS_SENDFILE_PREFIX.rstrip("/") + "/" + recording.file.name
        header = "X-Accel-Redirect" if sendfile == "x-accel-redirect" else "X-Sendfile"
        response[header] = path
        return response

    if not isinstance(default_storage, FileSystemStorage):
        # Object storage: a short-lived signed URL, which answers Range requests itself,
        # instead of downloading the whole object through the app for every seek.
        return HttpResponseRedirect(recording.file.url)

    size = recording.file.size
    match = RANGE_RE.match(request.headers.get("Range", "").strip())
    if not match or not any(match.groups()):
        response = FileResponse(recording.file.open("rb"), content_type=mime_type)
        response["Accept-Ranges"] = "bytes"
        response["Content-Length"] = str(size)
        return response
    start_text, end_text = match.groups()
    if start_text:
        start = int(start_text)
        end = min(int(end_text), size - 1) if end_text else size - 1
    else:  # "bytes=-500": the last 500 bytes
        start, end = max(size - int(end_text), 0), size - 1
    if start >= size or start > end:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    response = StreamingHttpResponse(
        _read_range(recording, start, end - start + 1), status=206, content_type=mime_type
    )
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    return response


def _read_range(recording: Recording, start: int, length: int, block: int = 64 * 1024):
    with recording.file.open("rb") as handle:
        handle.seek(start)
        while length > 0:
            data = handle.read(min(block, length))
            if not data:
                break
            length -= len(data)
            yield data

"""Call recordings through Django's storage API only (local disk or S3-compatible storage).

The browser (static/js/recorder.js) keeps every MediaRecorder chunk (about 1 s of audio) in
IndexedDB, then uploads them in order, several per request (about one request every 5 s),
retrying until the server confirms them. One request carries consecutive chunks: their bytes are
stored as one object (S3 has no append) and each chunk gets a RecordingChunk row (its index, its
place in that object, its duration and its sound level). An index already received is
acknowledged and not stored again, so a retried upload is harmless.

Finalising (the recorder's stop, « Valider », « Abandonner ») concatenates the chunks in index
order into one file, records the recording's health (what arrived against what the browser
recorded) and removes the chunk objects once the transaction has committed. Listening never
finalises anything: a recording still open is played from its chunks as they are.

The audio's type is decided here from its first bytes, never taken from the browser, and
playback only ever sends one of the audio types below (anything else as a download type), with
headers that forbid a browser to run it as a page.
"""

import contextlib
import copy
import io
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calls.models import (
    CallRecord,
    Consent,
    Health,
    Listen,
    Recording,
    RecordingChunk,
    RecordingDay,
)
from companies.models import Company
from core.audit import record_change

# The audio formats a recording may hold: (extension, MIME type). MediaRecorder gives WebM
# (Chromium, Firefox), Ogg (Firefox) or MP4 (Safari); WAV is accepted as a whole upload.
WEBM = ("webm", "audio/webm")
OGG = ("ogg", "audio/ogg")
MP4 = ("mp4", "audio/mp4")
WAV = ("wav", "audio/wav")
PLAYABLE_TYPES = {mime_type for _extension, mime_type in (WEBM, OGG, MP4, WAV)}
EXTENSIONS = {mime_type: extension for extension, mime_type in (WEBM, OGG, MP4, WAV)}
# What playback sends for a stored type that is not one of ours (rows from older versions).
DOWNLOAD_TYPE = "application/octet-stream"
PLAYBACK_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
}

# Chunk indexes run from 0 to MAX_CHUNKS - 1: 27 hours of 1 s chunks, far beyond any call.
MAX_CHUNKS = 100_000
# Chunks one upload request may carry (the browser sends about five).
MAX_CHUNKS_PER_REQUEST = 100
# Health thresholds: a chunk quieter than SILENT_LEVEL (RMS, 0 to 1; about -40 dBFS) is silence;
# a recording is silent when SILENT_SHARE of it is; it is incomplete when more than
# DURATION_TOLERANCE seconds of the recorded span did not arrive.
SILENT_LEVEL = 0.01
SILENT_SHARE = 0.9
DURATION_TOLERANCE = 2.0


logger = logging.getLogger(__name__)

REFUSED_MESSAGE = gettext_lazy(
    "L'interlocuteur a refusé l'enregistrement : rien n'est enregistré pour cet appel."
)


class RecordingRefused(Exception):
    """A request that must not be stored; the message is shown to the operator. `status` is
    the HTTP status: 400 and 413 are final, 409 asks the browser to try again."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def sniff(head: bytes) -> tuple[str, str] | None:
    """(extension, MIME type) of audio recognised from its first bytes, else None."""
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM, Matroska
        return WEBM
    if head.startswith(b"OggS"):
        return OGG
    if head[4:8] == b"ftyp":  # ISO base media: MP4, M4A
        return MP4
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return WAV
    return None


def served_type(mime_type: str) -> str:
    """The Content-Type playback may send for a stored type: ours, else a download type."""
    base = mime_type.split(";")[0].strip().lower()
    return base if base in PLAYABLE_TYPES else DOWNLOAD_TYPE


# --- Starting -------------------------------------------------------------------------------


def start(call: CallRecord) -> Recording:
    """A new recording for the call, unless the call already has RECORDINGS_PER_CALL_MAX or
    its respondent refused the recording; the first one notes the consent as given.

    The call's row is locked first (SQLite's IMMEDIATE transactions serialise writers anyway),
    so the count is read after any parallel start has committed."""
    with transaction.atomic():
        consent = (
            CallRecord.objects.select_for_update()
            .filter(pk=call.pk)
            .values_list("recording_consent", flat=True)
            .get()
        )
        if consent == Consent.REFUSED:
            raise RecordingRefused(REFUSED_MESSAGE, status=409)
        if Recording.objects.filter(call=call).count() >= settings.RECORDINGS_PER_CALL_MAX:
            raise RecordingRefused(
                _(
                    "Trop d'enregistrements pour cet appel (%(max)d au plus) : "
                    "continuez sans relancer le micro."
                )
                % {"max": settings.RECORDINGS_PER_CALL_MAX}
            )
        if consent == Consent.NOT_ASKED:
            # The operator read the consent sentence and started the microphone: consent given.
            now = timezone.now()
            CallRecord.objects.filter(pk=call.pk).update(
                recording_consent=Consent.GIVEN, consent_at=now, updated_at=now
            )
            call.recording_consent, call.consent_at = Consent.GIVEN, now
        return Recording.objects.create(call=call)


# --- Receiving chunks -------------------------------------------------------------------------


@dataclass
class Chunk:
    index: int
    data: bytes
    duration_ms: int | None = None
    level: float | None = None


def parse_list(text: str, convert, name: str, count: int) -> list:
    values = text.split(",") if text else []
    if len(values) != count:
        raise RecordingRefused(_("Envoi mal formé (%(name)s).") % {"name": name})
    try:
        return [convert(value) for value in values]
    except ValueError:
        raise RecordingRefused(_("Envoi mal formé (%(name)s).") % {"name": name}) from None


def split_upload(first_index: int, body: bytes, query) -> list[Chunk]:
    """The chunks of one upload request: the body is their bytes one after the other; the
    query says each one's size (`sizes`), duration in ms (`durations`) and level (`levels`).
    Without `sizes` the body is a single chunk."""
    if not body:
        raise RecordingRefused(_("Morceau d'enregistrement vide."))
    if len(body) > settings.RECORDING_CHUNK_MAX_BYTES:
        raise RecordingRefused(_("Envoi trop volumineux."), status=413)
    sizes_text = query.get("sizes", "")
    if sizes_text:
        count = len(sizes_text.split(","))
        if count > MAX_CHUNKS_PER_REQUEST:
            raise RecordingRefused(_("Trop de morceaux dans un seul envoi."))
        sizes = parse_list(sizes_text, int, "sizes", count)
    else:
        count, sizes = 1, [len(body)]
    if first_index + count > MAX_CHUNKS:
        raise RecordingRefused(_("Numéro de morceau hors limites."))
    if any(size <= 0 for size in sizes) or sum(sizes) != len(body):
        raise RecordingRefused(_("Envoi mal formé (sizes)."))
    durations = [None] * count
    if "durations" in query:
        durations = parse_list(query["durations"], int, "durations", count)
        if any(not 0 <= ms <= 3_600_000 for ms in durations):
            raise RecordingRefused(_("Envoi mal formé (durations)."))
    levels = [None] * count
    if "levels" in query:
        levels = parse_list(query["levels"], float, "levels", count)
        if any(not 0.0 <= level <= 1.0 for level in levels):  # also refuses nan
            raise RecordingRefused(_("Envoi mal formé (levels)."))
    chunks, offset = [], 0
    for position, size in enumerate(sizes):
        data = body[offset : offset + size]
        offset += size
        chunks.append(Chunk(first_index + position, data, durations[position], levels[position]))
    return chunks


def chunk_name(recording: Recording, first_index: int) -> str:
    created = recording.created_at
    return f"recordings/chunks/{created:%Y/%m}/rec_{recording.pk}/{first_index:06d}.part"


def add_chunks(recording: Recording, chunks: list[Chunk], operator) -> list[int]:
    """Store the chunks not received yet; return every index of the request, all of which the
    server now holds. The first chunk must be audio we know; every cap is checked in the
    database on its current value (see RecordingDay and the conditional UPDATE below)."""
    if recording.is_complete:
        raise RecordingRefused(_("Cet enregistrement est déjà terminé."), status=410)
    indexes = [chunk.index for chunk in chunks]
    received = received_indexes(recording, {0, *indexes})
    new = [chunk for chunk in chunks if chunk.index not in received]
    if not new:
        return indexes  # a retried upload: acknowledged, stored once
    mime_type = recording.mime_type
    if new[0].index == 0:
        sniffed = sniff(new[0].data[:16])
        if sniffed is None:
            raise RecordingRefused(
                _(
                    "Format audio non reconnu : seuls WebM, Ogg, MP4 et WAV sont acceptés. "
                    "Rien n'a été enregistré."
                )
            )
        mime_type = sniffed[1]
    elif 0 not in received:
        raise RecordingRefused(_("Le début de l'enregistrement manque : relancez le micro."))

    added = sum(len(chunk.data) for chunk in new)
    content = b"".join(chunk.data for chunk in new)
    name = default_storage.save(chunk_name(recording, new[0].index), ContentFile(content))
    try:
        with transaction.atomic():
            count_for_the_day(operator, added)
            count_for_the_recording(recording, added, len(new), mime_type)
            insert_chunks(recording, new, name)
    except IntegrityError:
        # The same chunk in two parallel requests: the other one stored it; this one tries again.
        default_storage.delete(name)
        raise RecordingRefused(_("Envoi en double : nouvel essai."), status=409) from None
    except RecordingRefused:
        default_storage.delete(name)
        raise
    recording.mime_type = mime_type
    recording.size_bytes += added
    recording.chunk_count += len(new)
    return indexes


# An upload is the call form's most frequent request (one every few seconds per recording
# operator): its three writes are plain statements, which the ORM took longer to build than the
# rest of the upload took to run (about 4 ms of CPU per upload; docs/PERFORMANCE.md).


def run(sql: str, params: list) -> int:
    """Execute one statement; the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def received_indexes(recording: Recording, indexes: set[int]) -> set[int]:
    """Which of `indexes` the recording's chunks already have."""
    index = connection.ops.quote_name("index")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {index} FROM {table(RecordingChunk)} WHERE recording_id = %s "
            f"AND {index} IN ({', '.join(['%s'] * len(indexes))})",
            [recording.pk, *indexes],
        )
        return {row[0] for row in cursor}


def count_for_the_day(operator, added: int) -> None:
    """Add `added` bytes to the operator's day, if the daily cap allows: one conditional UPDATE
    (PostgreSQL re-checks its WHERE on the row a parallel upload just committed, SQLite
    serialises writers), which holds the row until commit, so the operator's uploads queue."""
    day = connection.ops.adapt_datefield_value(timezone.localdate())
    sql = (
        f"UPDATE {table(RecordingDay)} SET size_bytes = size_bytes + %s "
        "WHERE operator_id = %s AND day = %s AND size_bytes <= %s"
    )
    params = [added, operator.pk, day, settings.RECORDING_OPERATOR_DAY_MAX_BYTES - added]
    if run(sql, params):
        return
    RecordingDay.objects.bulk_create(
        [RecordingDay(operator=operator, day=timezone.localdate())], ignore_conflicts=True
    )
    if not run(sql, params):
        raise RecordingRefused(
            _(
                "Limite d'audio de la journée atteinte pour votre compte : l'enregistrement "
                "s'arrête. Prévenez un superviseur."
            )
        )


def count_for_the_recording(recording: Recording, added: int, chunks: int, mime_type: str):
    """Add the chunks to the recording if it is still open and if the recording's and the
    call's caps allow, in one conditional UPDATE on current values (the day's row, updated
    just before, already serialises this operator's uploads)."""
    recordings = table(Recording)
    updated = run(
        f"UPDATE {recordings} SET size_bytes = size_bytes + %s, chunk_count = chunk_count + %s, "
        "mime_type = %s, updated_at = %s "
        "WHERE id = %s AND NOT is_complete AND size_bytes <= %s AND COALESCE(("
        f"SELECT SUM(other.size_bytes) FROM {recordings} other "
        f"WHERE other.call_id = {recordings}.call_id), 0) + %s <= %s",
        [
            added,
            chunks,
            mime_type,
            connection.ops.adapt_datetimefield_value(timezone.now()),
            recording.pk,
            settings.RECORDING_MAX_BYTES - added,
            added,
            settings.RECORDING_CALL_MAX_BYTES,
        ],
    )
    if updated:
        return
    current = Recording.objects.filter(pk=recording.pk).first()
    if current is None:  # deleted meanwhile: the respondent refused the recording
        raise RecordingRefused(REFUSED_MESSAGE, status=410)
    if current.is_complete:
        raise RecordingRefused(_("Cet enregistrement est déjà terminé."), status=410)
    if current.size_bytes + added > settings.RECORDING_MAX_BYTES:
        raise RecordingRefused(
            _("Enregistrement trop long : la taille maximale est atteinte, arrêtez le micro.")
        )
    raise RecordingRefused(
        _("Taille maximale d'audio pour cet appel atteinte : l'enregistrement s'arrête.")
    )


CHUNK_COLUMNS = [
    "recording_id", "index", "file", "offset", "size_bytes", "duration_ms", "level", "created_at",
]  # fmt: skip


def insert_chunks(recording: Recording, chunks: list[Chunk], name: str) -> None:
    """One RecordingChunk row per chunk, all in the object `name`, one after the other."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows, offset = [], 0
    for chunk in chunks:
        rows += [recording.pk, chunk.index, name, offset, len(chunk.data)]
        rows += [chunk.duration_ms, chunk.level, now]
        offset += len(chunk.data)
    columns = ", ".join(connection.ops.quote_name(column) for column in CHUNK_COLUMNS)
    values = ", ".join(["(" + ", ".join(["%s"] * len(CHUNK_COLUMNS)) + ")"] * len(chunks))
    run(f"INSERT INTO {table(RecordingChunk)} ({columns}) VALUES {values}", rows)


# --- Reading the chunks -------------------------------------------------------------------


def segments(chunks) -> list[tuple[str, int, int]]:
    """(object name, offset, length) of the chunks in index order, with neighbours that follow
    each other in one object merged, so an object is opened once."""
    merged: list[list] = []
    for chunk in chunks:
        name = chunk.file.name
        if merged and merged[-1][0] == name and merged[-1][1] + merged[-1][2] == chunk.offset:
            merged[-1][2] += chunk.size_bytes
        else:
            merged.append([name, chunk.offset, chunk.size_bytes])
    return [tuple(segment) for segment in merged]


def read_segments(parts, start: int = 0, length: int | None = None, block: int = 64 * 1024):
    """The bytes of the segments one after the other, from `start`, `length` of them (all
    when None), in blocks: never the whole recording in memory."""
    remaining = length
    for name, offset, size in parts:
        if start >= size:
            start -= size
            continue
        with default_storage.open(name, "rb") as handle:
            handle.seek(offset + start)
            left = size - start
            start = 0
            while left > 0 and (remaining is None or remaining > 0):
                wanted = min(block, left) if remaining is None else min(block, left, remaining)
                data = handle.read(wanted)
                if not data:
                    break
                left -= len(data)
                if remaining is not None:
                    remaining -= len(data)
                yield data
        if remaining is not None and remaining <= 0:
            return


class SegmentStream(io.RawIOBase):
    """The chunks of a recording as one readable file, for storage.save()."""

    def __init__(self, parts):
        self._blocks = read_segments(parts)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self._pending:
            self._pending = next(self._blocks, b"")
        data, self._pending = self._pending[: len(buffer)], self._pending[len(buffer) :]
        buffer[: len(data)] = data
        return len(data)


# --- Finalising -----------------------------------------------------------------------------


def assess(recording: Recording, chunks: list[RecordingChunk], expected: int | None) -> None:
    """Record the health of a recording from its chunks: which indexes are missing (against
    the count the browser announced, else the highest index received), how much audio arrived
    against the span the browser recorded, and how much of it is silence."""
    indexes = {chunk.index for chunk in chunks}
    expected = max(expected or 0, max(indexes, default=-1) + 1)
    missing = [index for index in range(expected) if index not in indexes]
    known = [chunk.duration_ms for chunk in chunks if chunk.duration_ms is not None]
    if known:
        average = sum(known) / len(known)
        received_ms = sum(known) + average * (len(chunks) - len(known))
    elif chunks and recording.duration_seconds:
        received_ms = recording.duration_seconds * 1000  # an older client: no durations sent
    else:
        received_ms = 0
    silent_ms = sum(
        chunk.duration_ms or 0
        for chunk in chunks
        if chunk.level is not None and chunk.level < SILENT_LEVEL
    )
    recording.expected_chunks = expected
    recording.missing_chunks = len(missing)
    recording.missing_indexes = ", ".join(map(str, missing[:200])) + (
        ", …" if len(missing) > 200 else ""
    )
    recording.received_seconds = round(received_ms / 1000, 2)
    recording.silent_seconds = round(silent_ms / 1000, 2)
    if not recording.duration_seconds:
        recording.duration_seconds = recording.received_seconds
    if not chunks:
        recording.health = Health.EMPTY
    elif missing or (recording.received_seconds + DURATION_TOLERANCE < recording.duration_seconds):
        recording.health = Health.INCOMPLETE
    elif recording.silence_share >= SILENT_SHARE:
        recording.health = Health.SILENT
    else:
        recording.health = Health.COMPLETE


def finalise(
    recording: Recording, duration_seconds: float | None = None, expected: int | None = None
) -> Recording:
    """Assemble the chunks into the recording's file and record its health; a recording
    already finalised is left as it is. Safe on a recording whose tab was closed: what was
    received is kept. The chunk objects are removed only once this has committed."""
    with transaction.atomic():
        current = Recording.objects.select_for_update().filter(pk=recording.pk).first()
        if current is None:  # deleted meanwhile: the respondent refused the recording
            raise RecordingRefused(REFUSED_MESSAGE, status=410)
        recording = current
        if recording.is_complete:
            return recording
        if duration_seconds is not None and 0 <= duration_seconds < 10 * 24 * 3600:
            recording.duration_seconds = round(float(duration_seconds), 2)
        if expected is not None and not 0 <= expected <= MAX_CHUNKS:
            expected = None
        chunks = list(recording.chunks.order_by("index"))
        if chunks:
            extension = EXTENSIONS.get(served_type(recording.mime_type), "webm")
            parts = segments(chunks)
            content = File(io.BufferedReader(SegmentStream(parts), buffer_size=256 * 1024))
            content.size = sum(chunk.size_bytes for chunk in chunks)
            # Object storage serves it with this type (a guess from ".webm" says video/webm).
            content.content_type = served_type(recording.mime_type)
            recording.file.save(f"audio.{extension}", content, save=False)
            recording.size_bytes = recording.file.size
        assess(recording, chunks, expected)
        recording.is_complete = True
        recording.save()
        RecordingChunk.objects.filter(recording=recording).delete()
        CallRecord.objects.filter(pk=recording.call_id).update(
            recording_stopped_at=timezone.now(), updated_at=timezone.now()
        )
        # The pieces go only once the database says the whole file is stored: an app server
        # killed before the commit leaves rows and pieces as they were, and the next « fin »
        # (on any server) assembles them again. Killed after it, pieces are left over, not lost.
        names = sorted({chunk.file.name for chunk in chunks})
        transaction.on_commit(lambda: delete_objects(names), robust=True)
    return recording


def delete_objects(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def finalise_open_recordings(call) -> None:
    """Finalise the call's open recordings; `call` (maybe holding unsaved answers) learns the
    stop finalise() wrote, so that saving it afterwards keeps it."""
    open_recordings = list(call.recordings.filter(is_complete=False))
    for recording in open_recordings:
        with contextlib.suppress(RecordingRefused):  # deleted meanwhile by a refusal
            finalise(recording)
    if open_recordings:
        stopped = CallRecord.objects.filter(pk=call.pk).values_list("recording_stopped_at")
        call.recording_stopped_at = stopped.get()[0]


# --- Consent refused -------------------------------------------------------------------------


def refuse_recording(call_id: int, company_id: int, operator, token: str) -> dict:
    """The respondent refused the recording (« Refus d'enregistrement »): note it on the call,
    which goes on as « Continuer sans enregistrement vocal », and delete every byte recorded of
    it: the chunk objects (each recording's chunk folder, so a piece whose upload died before
    its row was written goes too), the assembled files, then the rows. The only deletion of
    audio, allowed only from the call's own page: its operator, the call still a draft, the
    company held by that page's lease (`token`). Otherwise RecordingRefused, nothing changed.

    The files are deleted before the transaction commits: a storage that fails rolls everything
    back (the operator clicks again), and once the refusal is recorded no audio is left. The
    rows are locked recordings first, then the call, then the company, as finalise() (recording,
    then call) and CallRecord.submit() (call, then company) take them; a chunk that arrives
    afterwards finds no recording and is refused. Returns what was deleted, for the audit trail
    and the page (which drops those recordings from the browser's own storage)."""
    with transaction.atomic():
        list(Recording.objects.select_for_update().filter(call_id=call_id).values_list("pk"))
        call = (
            CallRecord.objects.select_for_update()
            .filter(pk=call_id, company_id=company_id)
            .select_related("company")
            .first()
        )
        if call is None:
            raise RecordingRefused(_("Appel introuvable : rien n'a été supprimé."), status=404)
        if call.operator_id != operator.pk:
            raise RecordingRefused(
                _(
                    "Seul l'opérateur qui passe cet appel peut noter un refus d'enregistrement : "
                    "rien n'a été supprimé."
                ),
                status=403,
            )
        if call.submitted_at is not None:
            raise RecordingRefused(
                _("Cet appel est déjà validé : son enregistrement ne se supprime plus ici."),
                status=409,
            )
        held = (
            Company.objects.held_by(operator)
            .select_for_update()
            .filter(pk=company_id, lock_token=token)
            .values_list("pk")
        )
        if not token or not held.first():
            raise RecordingRefused(
                _(
                    "Cette page ne tient plus l'appel (rechargée, ouverte dans un autre onglet, "
                    "ou réservation perdue) : rien n'a été supprimé. Rechargez la page."
                ),
                status=409,
            )
        # Every recording of the call, including one started just before the call was locked.
        recordings = list(Recording.objects.select_for_update().filter(call=call).order_by("pk"))
        chunks = RecordingChunk.objects.filter(recording__in=recordings)
        names = set(chunks.values_list("file", flat=True))
        for recording in recordings:
            if recording.file:
                names.add(recording.file.name)
            folder = chunk_name(recording, 0).rsplit("/", 1)[0]
            with storage_or_refused(), contextlib.suppress(FileNotFoundError):
                names.update(f"{folder}/{name}" for name in default_storage.listdir(folder)[1])
        listens = Listen.objects.filter(recording__in=recordings)
        deleted = {
            "recordings": [
                {
                    "id": r.pk,
                    "created_at": r.created_at.isoformat(),
                    "size_bytes": r.size_bytes,
                    "chunks": r.chunk_count,
                    "duration_seconds": r.duration_seconds,
                }
                for r in recordings
            ],
            "files": len(names),
            # A listen of audio that may not exist is not kept as a row: the facts are kept here.
            "listens": [
                {"recording": recording_id, "user": username, "at": at.isoformat()}
                for recording_id, username, at in listens.values_list(
                    "recording_id", "user__username", "listened_at"
                )
            ],
        }
        listens.delete()
        chunks.delete()
        Recording.objects.filter(pk__in=[r.pk for r in recordings]).delete()
        before = copy.copy(call)
        call.recording_consent = Consent.REFUSED
        call.consent_at = timezone.now()
        call.without_recording = True
        call.save(
            update_fields=["recording_consent", "consent_at", "without_recording", "updated_at"]
        )
        record_change(before, call, actor=operator, reason=_("Refus d'enregistrement"), **deleted)
        for name in sorted(names):
            with storage_or_refused(), contextlib.suppress(FileNotFoundError):  # gone already
                default_storage.delete(name)
    return deleted


@contextlib.contextmanager
def storage_or_refused():
    """A storage failure (S3 unreachable, a disk error) as a message for the operator; raised
    inside the refusal's transaction, it rolls the refusal back."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - whatever the storage backend raises
        logger.warning("Recording storage failed during a refusal: %r", error)
        raise RecordingRefused(
            _(
                "Le stockage des enregistrements ne répond pas : le refus n'est pas encore "
                "enregistré et l'audio pas entièrement effacé. Cliquez de nouveau dans un instant."
            ),
            status=503,
        ) from error


def latest_recording_annotations(recordings, company_ref: str = "pk") -> dict:
    """Annotations of a Company queryset: the health of the latest of `recordings` on each
    company (None when there is none) and its missing chunks, for the badge
    (calls/_recording_badge.html)."""
    latest = recordings.filter(call__company=OuterRef(company_ref)).order_by("-created_at", "-id")
    return {
        "latest_recording_health": Subquery(latest.values("health")[:1]),
        "latest_recording_missing": Subquery(latest.values("missing_chunks")[:1]),
    }


# --- Playback -------------------------------------------------------------------------------

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$", re.ASCII)  # int() refuses "²"


def protected(response: HttpResponse) -> HttpResponse:
    """No browser may take a recording for a page: no sniffing, and a sandbox if it tried."""
    for header, value in PLAYBACK_HEADERS.items():
        response[header] = value
    return response


def playback_response(request, recording: Recording) -> HttpResponse:
    """Serve a recording after the caller's permission check, changing nothing: a finished
    one by the web server when RECORDINGS_SENDFILE says so, by a signed URL on object storage,
    otherwise streamed here with HTTP Range support (206); one still being recorded from the
    chunks received so far."""
    content_type = served_type(recording.mime_type)
    if not recording.is_complete:
        parts = segments(recording.chunks.order_by("index"))
        size = sum(length for _name, _offset, length in parts)
        if size:
            return protected(ranged_response(request, parts, size, content_type))
    if not recording.file:
        return protected(
            HttpResponse(
                _("Aucun son n'a été reçu pour cet enregistrement."),
                status=404,
                content_type="text/plain; charset=utf-8",
            )
        )
    sendfile = settings.RECORDINGS_SENDFILE
    if sendfile:
        response = HttpResponse(content_type=content_type)
        path = settings.RECORDINGS_SENDFILE_PREFIX.rstrip("/") + "/" + recording.file.name
        header = "X-Accel-Redirect" if sendfile == "x-accel-redirect" else "X-Sendfile"
        response[header] = path
        return protected(response)

    if not isinstance(default_storage, FileSystemStorage):
        # Object storage: a short-lived signed URL, which answers Range requests itself,
        # instead of downloading the whole object through the app for every seek. The URL
        # makes the storage answer with our type, whatever the object was stored with.
        url = default_storage.url(
            recording.file.name,
            parameters={
                "ResponseContentType": content_type,
                "ResponseContentDisposition": "inline",
            },
        )
        return protected(HttpResponseRedirect(url))

    size = recording.file.size
    return protected(ranged_response(request, [(recording.file.name, 0, size)], size, content_type))


def ranged_response(request, parts, size: int, content_type: str) -> HttpResponse:
    match = RANGE_RE.match(request.headers.get("Range", "").strip())
    if not match or not any(match.groups()):
        if len(parts) == 1 and parts[0][1] == 0:
            response = FileResponse(
                default_storage.open(parts[0][0], "rb"), content_type=content_type
            )
        else:
            response = StreamingHttpResponse(read_segments(parts), content_type=content_type)
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
        read_segments(parts, start, end - start + 1), status=206, content_type=content_type
    )
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    return response

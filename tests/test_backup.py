"""manage.py backup / restore: a round trip brings back the database (SQLite or PostgreSQL,
whichever the suite runs on) and the media files (local folder or S3), identical."""

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from calls.models import CallRecord, Recording, RecordingChunk
from companies.models import Campaign, Company
from tests.factories import CallFactory, RecordingFactory

ROOT = Path(__file__).resolve().parent.parent
ENGINE = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
AUDIO = b"\x1aE\xdf\xa3" + bytes(range(256)) * 400  # a WebM signature and 100 KiB of frames
CHUNK = b"\x1aE\xdf\xa3 first five seconds"


@pytest.fixture(params=["filesystem", "s3"])
def media_storage(request):
    if request.param == "s3":
        return request.getfixturevalue("s3_storage")
    return default_storage


@pytest.fixture
def recorded_call(operator, company):
    call = CallFactory(company=company, operator=operator, outcome="no_answer", notes="Rappeler")
    recording = RecordingFactory(call=call, stored_file=AUDIO)
    chunk = RecordingChunk(recording=recording, index=0, size_bytes=len(CHUNK))
    chunk.file.save(f"recordings/chunks/{recording.pk}/000000.part", ContentFile(CHUNK))
    return call


def rows(model):
    return list(model.objects.order_by("pk").values())


def backup(destination) -> Path:
    out = io.StringIO()
    call_command("backup", str(destination), stdout=out)
    archives = list(Path(destination).glob("naumur-backup-*.tar.gz"))
    assert len(archives) == 1, out.getvalue()
    assert f"Sauvegarde écrite : {archives[0]}" in out.getvalue()
    return archives[0]


def read(name) -> bytes:
    with default_storage.open(name, "rb") as stored:
        return stored.read()


@pytest.mark.django_db(transaction=True)
def test_round_trip_brings_back_companies_calls_and_recordings(
    media_storage, recorded_call, make_company, tmp_path
):
    recording = recorded_call.recordings.get()
    chunk = recording.chunks.get()
    models = (get_user_model(), Campaign, Company, CallRecord, Recording, RecordingChunk)
    saved = {model: rows(model) for model in models}
    archive = backup(tmp_path / "sauvegardes")

    # Everything changes after the backup: edits, new rows, lost files.
    Company.objects.update(name="Renommée", status="done")
    CallRecord.objects.update(notes="modifiée")
    make_company(name="Créée après la sauvegarde")
    media_storage.delete(recording.file.name)
    media_storage.delete(chunk.file.name)
    media_storage.save("recordings/after-backup.webm", ContentFile(b"kept"))
    recorded_call.operator.set_password("changé")
    recorded_call.operator.save()

    out = io.StringIO()
    call_command("restore", str(archive), yes=True, stdout=out)

    for model, before in saved.items():
        assert rows(model) == before, model
    assert read(recording.file.name) == AUDIO
    assert read(chunk.file.name) == CHUNK
    assert read("recordings/after-backup.webm") == b"kept"  # never deleted by a restore
    assert "Restauration terminée et vérifiée" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_archive_holds_a_manifest_the_database_and_every_media_file(recorded_call, tmp_path):
    archive = backup(tmp_path)

    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    recording = recorded_call.recordings.get()
    assert manifest["engine"] == connection.vendor
    assert manifest["database"] in names
    assert manifest["counts"]["companies.Company"] == 1
    assert manifest["counts"]["calls.CallRecord"] == 1
    assert manifest["counts"]["calls.Recording"] == 1
    assert manifest["media"]["files"] == 2
    assert manifest["media"]["bytes"] == len(AUDIO) + len(CHUNK)
    assert f"media/{recording.file.name}" in names
    assert not list(tmp_path.glob(".*"))  # no temporary or partial file left behind
    assert archive.stat().st_mode & 0o777 == 0o600  # password hashes and call data inside


@pytest.mark.django_db(transaction=True)
def test_backup_without_media_restores_the_database_only(recorded_call, tmp_path):
    out = io.StringIO()
    call_command("backup", str(tmp_path), no_media=True, stdout=out)
    archive = next(tmp_path.glob("naumur-backup-*.tar.gz"))
    CallRecord.objects.update(notes="modifiée")

    call_command("restore", str(archive), yes=True, stdout=io.StringIO())

    assert CallRecord.objects.get().notes == "Rappeler"
    with tarfile.open(archive, "r:gz") as tar:
        assert not [n for n in tar.getnames() if n.startswith("media/")]


@pytest.mark.django_db(transaction=True)
def test_two_backups_in_the_same_second_get_two_archives(company, tmp_path):
    call_command("backup", str(tmp_path), stdout=io.StringIO())
    call_command("backup", str(tmp_path), stdout=io.StringIO())

    assert len(list(tmp_path.glob("naumur-backup-*.tar.gz"))) == 2


# --- Bad input: a clear French message, nothing changed. -------------------------------------


def make_archive(path, manifest=None, members=None):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in (members or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if manifest is not None:
            data = json.dumps(manifest).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def manifest_for(engine):
    database = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}[engine]
    return {
        "format": 1,
        "application": "naumur",
        "created_at": "2026-01-01T00:00:00+01:00",
        "engine": engine,
        "database": database,
        "counts": {},
        "media": {"files": 0},
    }, {database: b"not really a database"}


def restore_error(path) -> str:
    with pytest.raises(CommandError) as error:
        call_command("restore", str(path), yes=True, stdout=io.StringIO())
    return str(error.value)


@pytest.fixture
def unchanged(company):
    before = rows(Company)
    yield
    assert rows(Company) == before


def test_a_missing_archive_is_refused(db, unchanged, tmp_path):
    message = restore_error(tmp_path / "absente.tar.gz")

    assert message == f"L'archive « {tmp_path / 'absente.tar.gz'} » est introuvable."


def test_a_file_that_is_not_an_archive_is_refused(db, unchanged, tmp_path):
    path = tmp_path / "notes.tar.gz"
    path.write_text("entreprise;téléphone\n")

    assert "n'est pas une sauvegarde Naumur lisible" in restore_error(path)


def test_a_tar_without_manifest_is_refused(db, unchanged, tmp_path):
    path = make_archive(tmp_path / "autre.tar.gz", members={"readme.txt": b"hello"})

    assert "pas de manifest.json" in restore_error(path)


def test_a_truncated_archive_is_refused_before_anything_changes(db, unchanged, tmp_path):
    manifest, members = manifest_for(connection.vendor)
    members["media/recordings/a.webm"] = os.urandom(200_000)
    manifest["media"]["files"] = 1
    whole = make_archive(tmp_path / "entiere.tar.gz", manifest, members).read_bytes()
    path = tmp_path / "coupee.tar.gz"
    path.write_bytes(whole[: len(whole) // 2])

    assert "n'est pas une sauvegarde Naumur lisible" in restore_error(path)


def test_a_backup_of_the_other_engine_is_refused(db, unchanged, tmp_path):
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    path = make_archive(tmp_path / "autre-moteur.tar.gz", *manifest_for(other))

    assert restore_error(path) == (
        f"Cette sauvegarde vient d'une base {ENGINE[other]}, la base configurée est "
        f"{ENGINE[connection.vendor]} : restaurez-la dans une base {ENGINE[other]}."
    )


def test_media_names_escaping_the_storage_are_refused(db, unchanged, tmp_path):
    manifest, members = manifest_for(connection.vendor)
    members["media/../../etc/cron.d/naumur"] = b"* * * * * root true"
    manifest["media"]["files"] = 1
    path = make_archive(tmp_path / "piege.tar.gz", manifest, members)

    assert "nom de fichier refusé : media/../../etc/cron.d/naumur" in restore_error(path)


@pytest.mark.django_db(transaction=True)
def test_restore_asks_for_confirmation_when_not_told_yes(company, tmp_path):
    archive = backup(tmp_path)
    Company.objects.update(name="Renommée")

    with pytest.raises(CommandError, match="ajoutez --yes pour confirmer"):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert Company.objects.get().name == "Renommée"


def test_backup_refuses_a_destination_that_is_a_file(db, tmp_path):
    target = tmp_path / "fichier"
    target.write_text("x")

    with pytest.raises(CommandError, match="existe et n'est pas un dossier"):
        call_command("backup", str(target), stdout=io.StringIO())


def test_the_command_line_shows_the_message_not_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [sys.executable, "manage.py", "restore", str(tmp_path / "absente.tar.gz"), "--yes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"CommandError: L'archive « {tmp_path / 'absente.tar.gz'} » est introuvable." in (
        result.stderr
    )


# --- Hostile archives: every member is checked before the database is touched. --------------


def member(name, data=b"", kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, linkname, len(data)
    return info, data


def repack(source, target, extra, *, media_files=0, media_bytes=0):
    """source's members, then extra ones, with the manifest's media figures grown to match."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        manifest = json.load(old.extractfile("manifest.json"))
        for info in old.getmembers():
            if info.name != "manifest.json":
                new.addfile(info, old.extractfile(info))
        for info, data in extra:
            new.addfile(info, io.BytesIO(data) if info.isfile() else None)
        if manifest.get("media"):
            manifest["media"]["files"] += media_files
            manifest["media"]["bytes"] += media_bytes
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        new.addfile(info, io.BytesIO(data))
    return target


HOSTILE_MEMBERS = {
    "climbing": (member("../../etc/cron.d/naumur", b"* * * * * root true"), "nom de fichier"),
    "absolute": (member("/etc/cron.d/naumur", b"* * * * * root true"), "nom de fichier"),
    "media parent": (member("media/..", b"x"), "nom de fichier"),
    "media dot": (member("media/.", b"x"), "nom de fichier"),
    "backslashes": (member("media\\..\\..\\x", b"x"), "nom de fichier"),
    "symlink outside media": (member("lien", kind=tarfile.SYMTYPE, linkname="/etc"), "lien"),
    "symlink in media": (
        member("media/recordings/lien", kind=tarfile.SYMTYPE, linkname="../../../etc/passwd"),
        "lien",
    ),
    "hard link": (
        member("media/dur", kind=tarfile.LNKTYPE, linkname="../../etc/shadow"),
        "lien",
    ),
    "character device": (member("media/zero", kind=tarfile.CHRTYPE), "lien"),
    "block device": (member("sda", kind=tarfile.BLKTYPE), "lien"),
    "fifo": (member("tube", kind=tarfile.FIFOTYPE), "lien"),
    "unexpected file": (member("lisez-moi.txt", b"hello"), "fichier inattendu"),
    "second manifest": (member("manifest.json", b"{}"), "fichier en double"),
    "second database": (member("database.sqlite3", b"x"), "fichier en double"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_MEMBERS))
def test_a_hostile_member_is_refused_before_anything_changes(db, unchanged, tmp_path, case):
    (info, data), reason = HOSTILE_MEMBERS[case]
    manifest, members = manifest_for(connection.vendor)
    if case == "second database":
        info.name = manifest["database"]
    path = tmp_path / "piege.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            tar.addfile(member(name, content)[0], io.BytesIO(content))
        tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
        manifest_data = json.dumps(manifest).encode()
        tar.addfile(member("manifest.json", manifest_data)[0], io.BytesIO(manifest_data))

    message = restore_error(path)

    assert "n'est pas une sauvegarde Naumur lisible" in message
    assert reason in message


def plant_a_member(archive, folder):
    """The database used to be replaced first, and the bad media name found afterwards."""
    return repack(archive, folder / "piege.tar.gz", [member("media/..", b"x")], media_files=1)


def add_a_media_file(archive, folder):
    extra = [member("media/en-plus.webm", b"12345")]
    return repack(archive, folder / "autre.tar.gz", extra, media_files=1)  # bytes unchanged


def damage_a_byte(archive, folder):
    """gzip's checksum at the very end covers every media file: the whole archive is read
    before the database is replaced."""
    data = bytearray(archive.read_bytes())
    data[-8] ^= 0xFF  # the CRC-32 of the uncompressed data
    damaged = folder / "abimee.tar.gz"
    damaged.write_bytes(bytes(data))
    return damaged


SPOILED_BACKUPS = {
    "a planted member": (plant_a_member, "nom de fichier refusé : media/.."),
    "media bytes unlike the manifest": (add_a_media_file, "taille des fichiers différente"),
    "a damaged byte": (damage_a_byte, "n'est pas une sauvegarde Naumur lisible"),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", sorted(SPOILED_BACKUPS))
def test_a_spoiled_real_backup_is_refused_before_anything_changes(recorded_call, tmp_path, case):
    spoil, reason = SPOILED_BACKUPS[case]
    spoiled = spoil(backup(tmp_path / "sauvegardes"), tmp_path)
    CallRecord.objects.update(notes="modifiée après la sauvegarde")

    message = restore_error(spoiled)

    assert reason in message
    assert CallRecord.objects.get().notes == "modifiée après la sauvegarde"


@pytest.mark.django_db(transaction=True)
def test_a_backup_repacked_with_folder_entries_still_restores(recorded_call, tmp_path):
    archive = backup(tmp_path / "sauvegardes")
    folders = [member(name, kind=tarfile.DIRTYPE) for name in ("media", "media/recordings")]
    repacked = repack(archive, tmp_path / "refaite.tar.gz", folders)
    CallRecord.objects.update(notes="modifiée après la sauvegarde")

    call_command("restore", str(repacked), yes=True, stdout=io.StringIO())

    assert CallRecord.objects.get().notes == "Rappeler"

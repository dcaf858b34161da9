"""Backup and restore of the whole product: the database and the media files in one archive.

Archive (tar.gz) members:
  database.sqlite3 or database.pgdump   SQLite online backup, or pg_dump's custom format
  media/<name>                          every file of the default storage, under its storage name
  manifest.json                         written last: format, date, engine, row counts of the
                                        dumped database, media file count and bytes

Media files are read and written through Django's storage API only (listdir/open/save), so the
same commands work with the local media folder and with S3-compatible object storage.
The database is dumped first, then the media: a file created meanwhile is archived without its
row (harmless), and rows never point at a file created after the dump.
"""

import gzip
import io
import json
import os
import posixpath
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path

from django.apps import apps
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.utils import validate_file_name
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# libpq environment variables for the connection OPTIONS Django passes through to psycopg.
LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


class BackupError(Exception):
    """A refusal or failure with a message for the person running the command (French)."""


Say = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


# --- Engines ----------------------------------------------------------------------------


def current_engine() -> str:
    if connection.vendor not in DATABASE_MEMBERS:
        raise BackupError(
            _("Moteur de base de données non pris en charge : %(vendor)s (SQLite ou PostgreSQL).")
            % {"vendor": connection.vendor}
        )
    return connection.vendor


def table_counts(count: Callable[[str], int]) -> dict[str, int]:
    """Rows per model, counted with `count(db_table)`, for every table Django manages."""
    return {
        model._meta.label: count(model._meta.db_table)
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


def orm_table_counts() -> dict[str, int]:
    quote = connection.ops.quote_name

    def count(table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
            return cursor.fetchone()[0]

    return table_counts(count)


def dump_sqlite(target: Path) -> dict[str, int]:
    """Copy the live database with SQLite's online backup API; counts come from the copy."""
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)

        def count(table: str) -> int:
            return copy.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]

        return table_counts(count)
    finally:
        copy.close()


def restore_sqlite(source_path: Path) -> None:
    """Replace the live database's content in one step with SQLite's backup API: other
    connections (app servers) wait for the lock, then see the restored database."""
    source = sqlite3.connect(f"{Path(source_path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        try:
            verdict = source.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as error:
            verdict = str(error)
        if verdict != "ok":
            raise BackupError(
                _("La base SQLite de l'archive est endommagée (%(error)s).") % {"error": verdict}
            )
        connection.ensure_connection()
        if connection.in_atomic_block:
            raise BackupError(_("Restauration impossible au milieu d'une transaction."))
        source.backup(connection.connection)
    finally:
        source.close()


def postgres_tool(name: str) -> str:
    """The newest installed client tool: Debian keeps one folder per PostgreSQL version, and
    pg_dump must be at least as new as the server."""

    def version(path: str) -> tuple:
        part = Path(path).parent.parent.name
        return tuple(int(p) for p in part.split(".") if p.isdigit())

    candidates = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    found = candidates[-1] if candidates else shutil.which(name)
    if not found:
        raise BackupError(
            _("%(tool)s introuvable : installez le client PostgreSQL (paquet postgresql-client).")
            % {"tool": name}
        )
    return found


def postgres_env(settings_dict: dict) -> dict[str, str]:
    """Connection parameters for pg_dump/pg_restore through libpq's environment variables,
    so the password never shows in a process list."""
    env = os.environ.copy()
    values = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
    }
    for option, variable in LIBPQ_OPTIONS.items():
        values[variable] = (settings_dict.get("OPTIONS") or {}).get(option)
    env.update({name: str(value) for name, value in values.items() if value not in (None, "")})
    return env


def run_postgres_tool(args: list[str], settings_dict: dict) -> None:
    result = subprocess.run(
        args,
        env=postgres_env(settings_dict),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise BackupError(
            _("%(tool)s a échoué : %(error)s")
            % {"tool": Path(args[0]).name, "error": result.stderr.strip() or result.returncode}
        )


def dump_postgresql(target: Path) -> dict[str, int]:
    """pg_dump in the custom format, from the very snapshot the row counts were taken in."""
    settings_dict = connection.settings_dict
    pg_dump = postgres_tool("pg_dump")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        counts = orm_table_counts()
        run_postgres_tool(
            [
                pg_dump,
                "--format=custom",
                "--no-password",
                f"--snapshot={snapshot}",
                f"--file={target}",
            ],
            settings_dict,
        )
    return counts


def restore_postgresql(source_path: Path) -> None:
    """pg_restore --clean into the configured database, all or nothing."""
    settings_dict = connection.settings_dict
    pg_restore = postgres_tool("pg_restore")
    connections.close_all()  # our own sessions would hold locks on the tables it drops
    run_postgres_tool(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={settings_dict['NAME']}",
            str(source_path),
        ],
        settings_dict,
    )


def pending_migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


# --- Media through the storage API ----------------------------------------------------------


def walk_storage(storage, path: str = "") -> Iterator[str]:
    """Every file name of a storage, depth first, sorted: listdir works on S3 prefixes too."""
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:  # local storage whose MEDIA_ROOT does not exist yet
        return
    for name in sorted(files):
        yield posixpath.join(path, name) if path else name
    for directory in sorted(directories):
        yield from walk_storage(storage, posixpath.join(path, directory) if path else directory)


def storage_label(storage) -> str:
    return f"{storage.__class__.__module__}.{storage.__class__.__qualname__}"


# --- Backup -----------------------------------------------------------------------------


def create_backup(destination: Path, *, include_media: bool = True, say: Say = _quiet) -> Path:
    """Write one timestamped archive into the destination folder and return its path."""
    engine = current_engine()
    destination = Path(destination)
    if destination.exists() and not destination.is_dir():
        raise BackupError(_("« %(path)s » existe et n'est pas un dossier.") % {"path": destination})
    try:
        destination.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(
            _("Impossible de créer le dossier « %(path)s » : %(error)s.")
            % {"path": destination, "error": error.strerror}
        ) from error

    now = timezone.localtime()
    stem = f"naumur-backup-{now:%Y%m%d-%H%M%S}"
    archive = destination / f"{stem}.tar.gz"
    suffix = 1
    while archive.exists():
        suffix += 1
        archive = destination / f"{stem}-{suffix}.tar.gz"
    partial = archive.with_name(f".{archive.name}.part")

    with tempfile.TemporaryDirectory(dir=destination, prefix=".naumur-backup-") as work:
        database_file = Path(work) / DATABASE_MEMBERS[engine]
        say(_("Base de données %(engine)s…") % {"engine": ENGINE_NAMES[engine]})
        counts = (
            dump_sqlite(database_file) if engine == "sqlite" else dump_postgresql(database_file)
        )
        manifest = {
            "format": FORMAT,
            "application": "naumur",
            "created_at": now.isoformat(),
            "engine": engine,
            "database": DATABASE_MEMBERS[engine],
            "counts": counts,
            "media": None,
        }
        try:
            # The archive holds password hashes and call data: readable by its owner only.
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with (
                os.fdopen(descriptor, "wb") as raw,
                tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar,
            ):
                tar.add(database_file, arcname=DATABASE_MEMBERS[engine])
                if include_media:
                    manifest["media"] = archive_media(tar, default_storage, say)
                add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode(), now)
            partial.rename(archive)
        finally:
            partial.unlink(missing_ok=True)
    return archive


def archive_media(tar: tarfile.TarFile, storage, say: Say) -> dict:
    say(_("Fichiers (%(storage)s)…") % {"storage": storage_label(storage)})
    files = total = 0
    mtime = timezone.now().timestamp()
    for name in walk_storage(storage):
        try:
            stored = storage.open(name, "rb")
        except FileNotFoundError:  # deleted since the listing (a chunk after finalise)
            say(_("Fichier disparu pendant la sauvegarde, ignoré : %(name)s") % {"name": name})
            continue
        with stored:
            info = tarfile.TarInfo(MEDIA_PREFIX + name)
            info.size, info.mtime, info.mode = stored.size, mtime, 0o644
            tar.addfile(info, stored)
        files += 1
        total += info.size
    return {"storage": storage_label(storage), "files": files, "bytes": total}


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, when) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), when.timestamp(), 0o644
    tar.addfile(info, io.BytesIO(data))


# --- Restore ----------------------------------------------------------------------------


@dataclass
class Archive:
    path: Path
    manifest: dict
    database: tarfile.TarInfo
    media: list[tarfile.TarInfo] = field(default_factory=list)


def read_archive(path: Path) -> Archive:
    """Read the whole archive once and check it before anything is changed."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("L'archive « %(path)s » est introuvable.") % {"path": path})
    not_an_archive = _("« %(path)s » n'est pas une sauvegarde Naumur lisible (%(error)s).")
    try:
        check_compressed_stream(path)
        with tarfile.open(path, "r:gz") as tar:
            members = tar.getmembers()  # reads to the end: a truncated file fails here
            by_name = {member.name: member for member in members}
            manifest_member = by_name.get(MANIFEST)
            if manifest_member is None or not manifest_member.isfile():
                raise BackupError(
                    not_an_archive % {"path": path, "error": _("pas de manifest.json")}
                )
            manifest = json.load(tar.extractfile(manifest_member))
    except (tarfile.TarError, EOFError, OSError, zlib.error, UnicodeDecodeError) as error:
        raise BackupError(not_an_archive % {"path": path, "error": error}) from error
    except json.JSONDecodeError as error:
        raise BackupError(
            not_an_archive % {"path": path, "error": _("manifest.json illisible")}
        ) from error

    if not isinstance(manifest, dict) or manifest.get("application") != "naumur":
        raise BackupError(not_an_archive % {"path": path, "error": _("manifest.json inconnu")})
    if manifest.get("format") != FORMAT:
        raise BackupError(
            _("Format de sauvegarde %(format)s inconnu de cette version de Naumur.")
            % {"format": manifest.get("format")}
        )
    engine = manifest.get("engine")
    if engine != current_engine():
        raise BackupError(
            _(
                "Cette sauvegarde vient d'une base %(archive)s, la base configurée est "
                "%(current)s : restaurez-la dans une base %(archive)s."
            )
            % {
                "archive": ENGINE_NAMES.get(engine, str(engine)),
                "current": ENGINE_NAMES[current_engine()],
            }
        )
    database = by_name.get(DATABASE_MEMBERS[engine])
    if database is None or not database.isfile() or database.size == 0:
        raise BackupError(not_an_archive % {"path": path, "error": _("base de données absente")})

    refusal = refused_member(members, DATABASE_MEMBERS[engine])
    if refusal:
        raise BackupError(not_an_archive % {"path": path, "error": refusal})
    media = [m for m in members if m.name.startswith(MEDIA_PREFIX) and m.isfile()]
    expected = (manifest.get("media") or {}).get("files", 0)
    if len(media) != expected:
        raise BackupError(
            not_an_archive
            % {
                "path": path,
                "error": _("%(found)s fichiers au lieu de %(expected)s")
                % {"found": len(media), "expected": expected},
            }
        )
    expected_bytes = (manifest.get("media") or {}).get("bytes")
    if expected_bytes is not None and sum(m.size for m in media) != expected_bytes:
        raise BackupError(
            not_an_archive % {"path": path, "error": _("taille des fichiers différente")}
        )
    return Archive(path=path, manifest=manifest, database=database, media=media)


def unsafe_name(name: str) -> bool:
    """Absolute, climbing out (..), not in its plain form (./, //), or with a character that
    some system reads as a separator or an end (backslash, NUL)."""
    return (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or ".." in name.split("/")
        or posixpath.normpath(name) != name
    )


def refused_member(members: list[tarfile.TarInfo], database_name: str) -> str:
    """Why the archive's member list is refused, or "" when every member is one a backup
    writes: the manifest, the database, and regular files under media/ whose names stay
    inside the storage. Nothing is extracted by name, but nothing else may be in there:
    no link, device or FIFO, no name twice, no absolute or climbing name."""
    seen = set()
    for member in members:
        name = member.name
        if name in seen:
            return _("fichier en double : %(name)s") % {"name": name}
        seen.add(name)
        if unsafe_name(name):
            return _("nom de fichier refusé : %(name)s") % {"name": name}
        if member.isdir() and (name + "/" == MEDIA_PREFIX or name.startswith(MEDIA_PREFIX)):
            continue  # an archive packed again by hand lists its folders; never extracted
        if not member.isfile():
            return _("lien ou fichier spécial refusé : %(name)s") % {"name": name}
        if name in (MANIFEST, database_name):
            continue
        if not name.startswith(MEDIA_PREFIX):
            return _("fichier inattendu : %(name)s") % {"name": name}
        if refused_media_name(name[len(MEDIA_PREFIX) :]):
            return _("nom de fichier refusé : %(name)s") % {"name": name}
    return ""


def refused_media_name(name: str) -> bool:
    """A name the storage would refuse, or place outside its folder."""
    try:
        validate_file_name(name, allow_relative_path=True)
        if isinstance(default_storage, FileSystemStorage):
            default_storage.path(name)  # safe_join: inside MEDIA_ROOT or SuspiciousFileOperation
    except SuspiciousFileOperation:
        return True
    return False


def check_compressed_stream(path: Path) -> None:
    """Decompress the whole archive once: a damaged byte anywhere (gzip's checksum covers
    every media file) fails here, before anything is changed."""
    with gzip.open(path, "rb") as stream:
        while stream.read(1024 * 1024):
            pass


def restore_backup(archive: Archive, *, say: Say = _quiet) -> dict:
    """Replace the database with the archive's, then write its media files back (same names,
    replacing files of the same name; files absent from the archive are left alone)."""
    engine = archive.manifest["engine"]
    if engine == "postgresql":
        postgres_tool("pg_restore")  # refuse before changing anything
    with tarfile.open(archive.path, "r:gz") as tar, tempfile.TemporaryDirectory() as work:
        database_file = Path(work) / archive.database.name
        with tar.extractfile(archive.database) as source, database_file.open("wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        say(_("Base de données %(engine)s…") % {"engine": ENGINE_NAMES[engine]})
        if engine == "sqlite":
            restore_sqlite(database_file)
        else:
            restore_postgresql(database_file)
        database_file.unlink()

        if archive.media:
            say(_("Fichiers (%(storage)s)…") % {"storage": storage_label(default_storage)})
        for member in archive.media:
            name = member.name[len(MEDIA_PREFIX) :]
            with tar.extractfile(member) as data:
                if default_storage.exists(name):
                    default_storage.delete(name)
                saved = default_storage.save(name, File(data, name=name))
            if saved != name:
                raise BackupError(
                    _("Le fichier %(name)s a été enregistré sous %(saved)s.")
                    % {"name": name, "saved": saved}
                )

    counts = orm_table_counts()
    different = sorted(
        label
        for label, count in archive.manifest.get("counts", {}).items()
        if counts.get(label) != count
    )
    if different:
        raise BackupError(
            _("Vérification échouée : nombre de lignes différent pour %(tables)s.")
            % {"tables": ", ".join(different)}
        )
    return {"counts": counts, "media": len(archive.media), "pending": pending_migrations()}

"""Export benchmark (issue 5): `manage.py export_calls` against its floor and its peer.

    .venv/bin/python bench/export.py               # 1,000,000 calls, 100,000 in one campaign
    .venv/bin/python bench/export.py --rows 200000 --small 20000 --skip-full --skip-peer  # a look

Builds a SQLite database migrated by Django in a temporary directory (or --db FILE, kept and
reused), fills it with raw SQL (executemany): `--rows` submitted calls, 1 % drafts (which are
not exported), recordings for about two thirds of the calls, 2.3 calls per company, each
company's main number (which its calls used), a mobile for one company in three and a contact
person for one in four. Then, for
`--small` rows (campaign 1) and for every row (no filter), it reads the database file once (warm
page cache) and runs each tool in its own process, measuring its wall time and its peak resident
memory (GNU time's %M, i.e. the process's ru_maxrss). The floor and naumur run --repeat times
(default 3, best time kept: the machine may be shared; CPU time is printed too, which other
load does not inflate), the much slower peer once:

- floor: sqlite3's own CSV output (`sqlite3 -csv -header db "SELECT ..."`) of the very SQL the
  export runs (taken from the Django queryset), written to a file;
- naumur: `manage.py export_calls --format csv` and `--format xlsx`;
- naumur, public API: the same XLSX at `--small` rows written a cell at a time through
  xlsxwriter's public API (ExportWorksheet.write_cells) instead of the whole-row writer that
  reaches into xlsxwriter's private methods: what that writer saves;
- peer: django-import-export (bench extra only) exporting the same queryset through a resource
  declaring the same columns, to CSV and XLSX (tablib). Its XLSX is only timed up to
  --peer-xlsx-max rows (default 100,000): beyond that it takes many minutes and gigabytes.

Every file is checked to hold the expected number of rows. Targets (issue 5): peak memory under
150 MB at 1M rows for both formats, CSV within 3x the floor, XLSX of 100,000 rows under 10 s;
the script exits 1 when one is missed. Prints a Markdown table for docs/PERFORMANCE.md.
Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MEMORY_TARGET_MB = 150
CSV_FLOOR_RATIO_TARGET = 3.0
XLSX_SMALL_TARGET_S = 10.0


# --- Child modes (run inside a subprocess, with DATABASE_URL set) ---------------------------


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def child_print_sql(campaign_id: int | None) -> None:
    """Print the export's calls query with its parameters inlined, for the sqlite3 CLI."""
    django_setup()
    from django.db import connection

    from companies.models import Campaign
    from exports.writers import Export, Filters, Scope

    campaign = Campaign.objects.get(pk=campaign_id) if campaign_id else None
    queryset = Export(Scope.CALLS, Filters(campaign=campaign)).queryset()
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        print(connection.ops.last_executed_query(cursor, sql, params) + ";")


def child_public_xlsx(campaign_id: int | None, output: str) -> None:
    """`manage.py export_calls --format xlsx` through xlsxwriter's public API, cell by cell."""
    django_setup()
    from django.core.management import call_command

    from exports.xlsx import ExportWorksheet

    ExportWorksheet.write_export_row = ExportWorksheet.write_cells
    campaign = ["--campaign", str(campaign_id)] if campaign_id else []
    call_command("export_calls", *campaign, "--format", "xlsx", "-o", output)


def child_peer(file_format: str, campaign_id: int | None, output: str) -> None:
    """django-import-export exporting the same rows: a ModelResource over the same queryset."""
    django_setup()
    from import_export import fields, resources, widgets

    from calls.models import CallRecord
    from companies.models import Campaign
    from exports.writers import Filters, calls_queryset

    COLUMNS = (  # noqa: N806 - the resource's field names, in the export's column order
        "entreprise", "telephone", "produit", "activite", "localisation", "forme", "niu",
        "score", "statut_numeros", "statut_appel", "presentation", "libres", "orientees",
        "enquete", "horodatage", "audio", "campagne", "operateur", "tentative", "rappel",
        "duree", "code", "lien",
    )  # fmt: skip
    local_time = widgets.DateTimeWidget(format="%Y-%m-%d %H:%M:%S")  # converts to TIME_ZONE

    def column(attribute, header, widget=None):
        return fields.Field(attribute=attribute, column_name=header, widget=widget)

    class CallResource(resources.ModelResource):
        entreprise = column("company__name", "Entreprise")
        telephone = column("company__phone", "Téléphone")
        produit = column("company__product", "Produit")
        activite = column("company__activity", "Activité")
        localisation = column("company__location", "Localisation")
        forme = column("company__legal_form", "Forme juridique")
        niu = column("company__niu", "NIU")
        score = column("company__validity_score", "Score")
        statut_numeros = column("get_status_numero_display", "Statut numéros")
        statut_appel = column("get_call_status_display", "Statut appel")
        presentation = column("get_presentation_level_display", "Présentation")
        libres = column("get_questions_libres_level_display", "Questions libres")
        orientees = column("get_questions_orientees_level_display", "Questions orientées")
        enquete = fields.Field(column_name="Enquête")
        horodatage = column("submitted_at", "Horodatage", local_time)
        audio = fields.Field(column_name="Audio")
        campagne = column("company__campaign__name", "Campagne")
        operateur = fields.Field(column_name="Opérateur")
        tentative = column("attempt", "Tentative")
        rappel = column("callback_at", "Rappel prévu", local_time)
        duree = column("export_audio_seconds", "Durée audio (s)")
        code = column("get_disposition_display", "Code AAPOR")
        lien = column("export_recording_id", "Lien de l'enregistrement")

        class Meta:
            model = CallRecord
            fields = COLUMNS
            export_order = COLUMNS

        def dehydrate_enquete(self, call):
            return "oui" if call.call_status == "accepted" else "non"

        def dehydrate_audio(self, call):
            return "oui" if call.export_recording_id else "non"

        def dehydrate_operateur(self, call):
            return call.operator.get_full_name() or call.operator.username

    campaign = Campaign.objects.get(pk=campaign_id) if campaign_id else None
    queryset = calls_queryset(Filters(campaign=campaign)).select_related(
        "company__campaign", "operator"
    )
    dataset = CallResource().export(queryset=queryset)
    if file_format == "csv":
        Path(output).write_text(dataset.csv, encoding="utf-8-sig")
    else:
        Path(output).write_bytes(dataset.xlsx)


# --- Data ----------------------------------------------------------------------------------

NAMES = ["Soleil", "Sanaga", "Wouri", "Bénoué", "Nyong", "Étoile", "Avenir", "Baobab", "Kola"]
PREFIXES = ["Ets", "Société", "Groupe", "Coopérative", "Atelier", "GIE"]
PRODUCTS = ["cacao", "café", "manioc", "huile de palme", "maïs", "miel", "karité"]
ACTIVITIES = ["transformation", "commerce", "production", "conditionnement", "séchage"]
LOCATIONS = ["Douala", "Yaoundé", "Bafoussam", "Garoua", "Bamenda", "Kribi", "Limbé"]
FORMS = ["SARL", "SA", "SAS", "SARLU", "ETS", "GIE", "SCOOPS"]
# (weight, status_numero, call_status) of a call's outcome.
OUTCOMES = [
    (8, "invalid", ""),
    (30, "no_answer", ""),
    (15, "voicemail", ""),
    (2, "answered", "bad_number"),
    (5, "answered", "not_transformer"),
    (7, "answered", "callback"),
    (14, "answered", "refused"),
    (19, "answered", "accepted"),
]
CODES = {
    "invalid": "4.30",
    "no_answer": "3.13",
    "voicemail": "3.14",
    "bad_number": "4.30",
    "not_transformer": "4.70",
    "callback": "2.21",
    "refused": "2.11",
}


def stamp(moment: datetime) -> str:
    """Django's SQLite storage of an aware datetime (UTC, no offset)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def build_database(db: Path, rows: int, small: int, env: dict) -> dict:
    """Migrate a fresh SQLite file with Django, then bulk insert with raw SQL. Campaign 1 gets
    `small` submitted calls, campaign 2 the rest."""
    import sqlite3

    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    rng = random.Random(5)
    start = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    now = stamp(start)
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA synchronous=OFF")
    with connection:
        connection.executemany(
            "INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined) VALUES (?, '!', 0, ?, ?, ?, '', 0, 1, ?)",
            [(n, f"operateur{n}", f"Prénom{n}", f"Nom{n}", now) for n in range(1, 21)],
        )
        connection.executemany(
            "INSERT INTO companies_campaign (id, name, is_active, created_at, calling_hours,"
            " time_zone, public_holidays, closed_days, no_answer_delay, no_answer_max_attempts,"
            " voicemail_delay, voicemail_max_attempts, callback_delay, spread_attempts,"
            " refusal_conversion, refusal_conversion_days, quota_counts_partials,"
            " quota_others_callable) VALUES (?, ?, 1, ?, '[]', 'Africa/Douala', 1, '[]',"
            " 7200000000, 4, 7200000000, 4, 0, 1, 0, 14, 0, 1)",
            [(1, "Campagne A", now), (2, "Campagne B", now), (3, "Campagne vide", now)],
        )
        weights = [weight for weight, *_ in OUTCOMES]
        companies, calls, recordings, phones, people = [], [], [], [], []
        company_id = call_id = recording_id = 0
        for campaign_id, wanted in ((1, small), (2, rows - small)):
            made = 0
            while made < wanted:
                company_id += 1
                n = company_id
                phone = f"+237 6 {n % 100:02d} {n // 100 % 100:02d} {n % 97:02d} {n % 89:02d}"
                if n % 3:
                    phone = phone.replace("+237 ", "")  # as typed: some with, some without
                companies.append(
                    (
                        n,
                        f"{PREFIXES[n % 6]} {NAMES[n % 9]} {n}",
                        phone,
                        PRODUCTS[n % 7],
                        ACTIVITIES[n % 5],
                        LOCATIONS[n % 7],
                        FORMS[n % 7],
                        f"M{n:012d}A",
                        str(rng.randint(0, 10000) / 100) if n % 5 else None,
                        campaign_id,
                        now,
                    )
                )
                # Its numbers as the import writes them: the main one, a mobile for one company
                # in three; a contact person for one in four. Calls use the main number.
                main_id = len(phones) + 1
                phones.append((main_id, n, 0, "standard", phone, now))
                if n % 3 == 1:
                    mobile = f"699 {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}"
                    phones.append((len(phones) + 1, n, 1, "mobile", mobile, now))
                if n % 4 == 2:
                    people.append((n, f"M. {NAMES[n % 9]}", "Directeur", n, now))
                if n % 10 == 0:
                    continue  # uncalled company
                first = start + timedelta(seconds=rng.randint(0, 90 * 86400))
                for attempt in range(1, min(1 + n % 4, wanted - made) + 1):
                    call_id += 1
                    made += 1
                    _, number, status = rng.choices(OUTCOMES, weights)[0]
                    levels = ("", "", "")
                    if status == "accepted":
                        levels = tuple(rng.choice(("complete", "partial")) for _ in range(3))
                        code = "1.1" if levels == ("complete",) * 3 else "1.2"
                    else:
                        code = CODES[status or number]
                    submitted = first + timedelta(hours=2 * attempt, seconds=rng.randint(0, 600))
                    callback = (
                        stamp(submitted + timedelta(days=1)) if status == "callback" else None
                    )
                    calls.append(
                        (call_id, attempt, number, status, *levels, callback, code)
                        + (stamp(submitted), stamp(submitted), 1 + n % 20, n, main_id)
                    )
                    if number == "answered" or rng.random() < 0.3:
                        for _ in range(2 if rng.random() < 0.05 else 1):
                            recording_id += 1
                            recordings.append(
                                (
                                    recording_id,
                                    f"recordings/2026/01/call_{call_id}_{recording_id}.webm",
                                    rng.randint(10_000, 2_000_000),
                                    rng.randint(50, 6000) / 10,
                                    stamp(submitted),
                                    call_id,
                                )
                            )
        drafts = [
            (call_id + k, 1, "", "", "", "", "", None, "", stamp(start), None, 1, 1 + k, None)
            for k in range(1, rows // 100 + 1)
        ]
        connection.executemany(
            "INSERT INTO companies_company (id, name, phone, phone_e164, product, activity,"
            " location, legal_form, niu, validity_score, status, status_before_claim, attempts,"
            " disposition, is_archived, lock_token, campaign_id, created_at, updated_at,"
            " time_zone, time_zone_chosen, country, appointment, parts_tried) VALUES (?, ?, ?,"
            " '', ?, ?, ?, ?, ?, ?, 'done', '', 0, '', 0, '', ?, ?, ?11, '', 0, '', 0, '')",
            companies,
        )
        insert_call = (
            "INSERT INTO calls_callrecord (id, attempt, status_numero, call_status,"
            " presentation_level, questions_libres_level, questions_orientees_level, callback_at,"
            " disposition, created_at, submitted_at, operator_id, company_id, phone_id,"
            " callback_personal, notes, without_recording, updated_at) VALUES (?, ?, ?, ?, ?, ?,"
            " ?, ?, ?, ?, ?, ?, ?, ?, 0, '', 0, ?10)"
        )
        connection.executemany(
            "INSERT INTO companies_companyphone (id, company_id, position, label, number, e164,"
            " is_dead, last_disposition, created_at) VALUES (?, ?, ?, ?, ?, '', 0, '', ?)",
            phones,
        )
        connection.executemany(
            "INSERT INTO companies_contactperson (company_id, name, role, phone, phone_e164,"
            " email, created_at, updated_at) VALUES (?, ?, ?, '', '', 'contact' || ? ||"
            " '@example.cm', ?, ?5)",
            people,
        )
        connection.executemany(insert_call, calls)
        connection.executemany(insert_call, drafts)
        connection.executemany(
            "INSERT INTO calls_recording (id, file, mime_type, size_bytes, duration_seconds,"
            " chunk_count, is_complete, created_at, updated_at, call_id) VALUES (?, ?,"
            " 'audio/webm', ?, ?, 1, 1, ?, ?5, ?)",
            recordings,
        )
    connection.close()
    return {
        "companies": len(companies),
        "calls": len(calls),
        "drafts": len(drafts),
        "recordings": len(recordings),
        "numbers": len(phones),
        "people": len(people),
    }


# --- Measuring ----------------------------------------------------------------------------


def measure(argv: list[str], env: dict, stdout_path: Path | None = None) -> tuple:
    """Run a command; return (wall seconds, CPU seconds, peak resident memory in MB) of that
    process alone. CPU time (user + system) is what the machine's other load does not change.

    The peak is the child's ru_maxrss, taken by GNU time when installed. Not from this process
    directly: Linux carries the spawning process's own high-water mark into the child's
    ru_maxrss across exec, so a child of this (large) benchmark process would report at least
    this process's size; GNU time is a tiny parent.
    """
    gnu_time = Path("/usr/bin/time")
    with tempfile.TemporaryDirectory() as scratch:
        stats, errors = Path(scratch) / "stats", Path(scratch) / "errors"
        command = argv
        if gnu_time.exists():
            command = [str(gnu_time), "-f", "%U %S %M", "-o", str(stats), *argv]
        with open(stdout_path or os.devnull, "wb") as out, open(errors, "wb") as err:
            started = time.perf_counter()
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
            _, status, usage = os.wait4(process.pid, 0)
            elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"{' '.join(argv)[:300]} failed:\n{errors.read_text()[-3000:]}")
        if gnu_time.exists():
            user, system, peak_kib = stats.read_text().split()[-3:]
            return elapsed, float(user) + float(system), int(peak_kib) / 1024
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss / 1024  # KiB on Linux; includes this process's size


def csv_rows(path: Path) -> int:
    """Data rows of a CSV without newlines inside fields (true of the generated data)."""
    lines, last = 0, b""
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines - 1 + (last not in (b"\n", b""))


def xlsx_rows(path: Path) -> int:
    """Data rows of the first sheet, from its <dimension ref="A1:W1000001"/>."""
    with zipfile.ZipFile(path) as archive, archive.open("xl/worksheets/sheet1.xml") as sheet:
        head = sheet.read(4096).decode()
    return int(re.search(r'<dimension ref="A1:[A-Z]+(\d+)"', head)[1]) - 1


def ensure_sqlite_cli() -> str:
    cli = shutil.which("sqlite3")
    if cli:
        return cli
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("The sqlite3 command-line shell is missing: installing Debian's sqlite3 package.")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "sqlite3"], check=True)
        return shutil.which("sqlite3")
    raise SystemExit("The sqlite3 command-line shell is missing: apt-get install sqlite3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="submitted calls in all")
    parser.add_argument("--small", type=int, default=100_000, help="calls in campaign 1")
    parser.add_argument("--peer-xlsx-max", type=int, default=100_000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of the floor and of naumur per measure, best time kept (the peer runs once)",
    )
    parser.add_argument("--skip-full", action="store_true", help="measure --small rows only")
    parser.add_argument("--skip-peer", action="store_true", help="leave django-import-export out")
    parser.add_argument("--db", type=Path, help="reuse (or build and keep) this SQLite file")
    parser.add_argument("--child-sql", nargs=1, help=argparse.SUPPRESS)
    parser.add_argument("--child-peer", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-public-xlsx", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_sql:
        return child_print_sql(int(args.child_sql[0]) or None)
    if args.child_peer:
        file_format, campaign_id, output = args.child_peer
        return child_peer(file_format, int(campaign_id) or None, output)
    if args.child_public_xlsx:
        campaign_id, output = args.child_public_xlsx
        return child_public_xlsx(int(campaign_id) or None, output)

    sqlite_cli = ensure_sqlite_cli()
    workdir = Path(tempfile.mkdtemp(prefix="naumur-bench-export-"))
    db = args.db.resolve() if args.db else workdir / "bench.sqlite3"
    # Bytecode goes to a private cache (warmed below) so that every process starts as it does
    # on an installed server, even where PYTHONDONTWRITEBYTECODE is set and the virtualenv has
    # no .pyc files: compiling Django from source would add a second to every run.
    unwanted = {"DATABASE_URL", "BENCH_PG_URL", "PYTHONDONTWRITEBYTECODE"}
    env = {
        **{k: v for k, v in os.environ.items() if k not in unwanted},
        "DATABASE_URL": f"sqlite:///{db}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "PYTHONPYCACHEPREFIX": str(workdir / "pycache"),
    }
    try:
        if db.exists():
            print(f"Reusing {db}")
        else:
            started = time.perf_counter()
            sizes = build_database(db, args.rows, args.small, env)
            print(
                f"SQLite database built in {time.perf_counter() - started:.0f} s: "
                f"{sizes['calls']:,} submitted calls, {sizes['drafts']:,} drafts, "
                f"{sizes['companies']:,} companies, {sizes['recordings']:,} recordings, "
                f"{sizes['numbers']:,} numbers, {sizes['people']:,} contact persons."
            )
        version = subprocess.check_output([sqlite_cli, "-version"]).decode().split()[0]
        print(f"sqlite3 {version}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        print("Load average at start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
        warm_up(workdir, env, args)
        results = []
        sizes = [(args.small, 1)] + ([] if args.skip_full else [(args.rows, 0)])
        for rows, campaign_id in sizes:
            read_through(db)
            results += run_size(rows, campaign_id, workdir, db, env, sqlite_cli, args)
        report(results, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def read_through(db: Path) -> None:
    """Read the database files once, so that no tool pays for a cold page cache (the first one
    to read a freshly built 500 MB file would otherwise be the slowest, whatever it is)."""
    for path in (db, Path(f"{db}-wal")):
        if path.exists():
            with open(path, "rb") as file:
                while file.read(1 << 24):
                    pass


def warm_up(workdir: Path, env: dict, args) -> None:
    """Run every tool once on the empty campaign: fills the bytecode cache."""
    script = str(Path(__file__).resolve())
    for argv in (
        [PYTHON, "manage.py", "export_calls", "--campaign", "3", "-o", str(workdir / "w.csv")],
        [PYTHON, "manage.py", "export_calls", "--campaign", "3", "--format", "xlsx"]
        + ["-o", str(workdir / "w.xlsx")],
        [PYTHON, script, "--child-peer", "csv", "3", str(workdir / "w.csv")],
        [PYTHON, script, "--child-peer", "xlsx", "3", str(workdir / "w.xlsx")],
    ):
        if args.skip_peer and "--child-peer" in argv:
            continue
        subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True)


def run_size(rows, campaign_id, workdir, db, env, sqlite_cli, args) -> list[dict]:
    script = str(Path(__file__).resolve())
    sql = subprocess.check_output(
        [PYTHON, script, "--child-sql", str(campaign_id)], cwd=ROOT, env=env, text=True
    )
    campaign = ["--campaign", str(campaign_id)] if campaign_id else []
    ours = [PYTHON, "manage.py", "export_calls", *campaign, "--format"]
    peer = [PYTHON, script, "--child-peer"]
    # (who, format, command, how it writes: True stdout, False -o FILE, None FILE as last arg)
    runs = [
        ("floor", "csv", [sqlite_cli, "-csv", "-header", str(db), sql], True),
        ("naumur", "csv", [*ours, "csv"], False),
        ("naumur", "xlsx", [*ours, "xlsx"], False),
    ]
    if rows == args.small:
        public = [PYTHON, script, "--child-public-xlsx", str(campaign_id)]
        runs.append(("naumur, public API", "xlsx", public, None))
    if not args.skip_peer:
        runs.append(("django-import-export", "csv", [*peer, "csv", str(campaign_id)], None))
    if rows <= args.peer_xlsx_max and not args.skip_peer:
        runs.append(("django-import-export", "xlsx", [*peer, "xlsx", str(campaign_id)], None))
    # The floor and naumur take turns, round after round, so that a change in the machine's
    # speed (it is a shared virtual machine) touches both alike; the slow peer runs once.
    timings = {(who, file_format): [] for who, file_format, _, _ in runs}
    for round_number in range(args.repeat):
        for who, file_format, argv, to_stdout in runs:
            if who == "django-import-export" and round_number:
                continue
            output = workdir / f"{who}-{rows}.{file_format}"
            if to_stdout is None:
                argv = [*argv, str(output)]
            elif not to_stdout:
                argv = [*argv, "-o", str(output)]
            timed = measure(argv, env, output if to_stdout else None)
            timings[who, file_format].append((*timed, output))
    results = []
    for who, file_format, _, _ in runs:
        runs_of_tool = timings[who, file_format]
        seconds, cpu = min(t[0] for t in runs_of_tool), min(t[1] for t in runs_of_tool)
        peak, output = max(t[2] for t in runs_of_tool), runs_of_tool[-1][3]
        written = xlsx_rows(output) if file_format == "xlsx" else csv_rows(output)
        if written != rows:
            raise SystemExit(f"{who} {file_format}: {written} rows instead of {rows}")
        size_mb = output.stat().st_size / 1e6
        print(
            f"{rows:>9,} rows  {who:<21} {file_format:<4} {seconds:7.1f} s ({cpu:6.1f} s CPU) "
            f"{peak:6.0f} MB peak RSS  ({size_mb:.0f} MB file)",
            flush=True,
        )
        results.append(
            {"rows": rows, "who": who, "format": file_format, "s": seconds, "cpu": cpu, "mb": peak}
        )
        output.unlink()
    return results


def report(results: list[dict], args) -> None:
    by = {(r["rows"], r["who"], r["format"]): r for r in results}
    print("\n| rows | tool | format | time (s) | CPU (s) | peak memory (MB) | ratio |")
    print("|---:|---|---|---:|---:|---:|---|")
    for r in results:
        floor = by[(r["rows"], "floor", "csv")]
        ours = by.get((r["rows"], "naumur", r["format"]))
        ratio = ""
        if r["who"] == "naumur" and r["format"] == "csv":
            ratio = f"{r['s'] / floor['s']:.1f}× the floor "
            if floor["cpu"]:  # a few rows take no measurable CPU time
                ratio += f"({r['cpu'] / floor['cpu']:.1f}× in CPU time)"
        elif r["who"] == "naumur, public API":
            ratio = f"{r['s'] / ours['s']:.1f}× the whole-row writer's time"
            ratio += f" ({r['cpu'] / ours['cpu']:.1f}× in CPU time)" if ours["cpu"] else ""
        elif r["who"] == "django-import-export" and ours:
            ratio = (
                f"{r['s'] / ours['s']:.1f}× naumur's time, {r['mb'] / ours['mb']:.1f}× its memory"
            )
        print(
            f"| {r['rows']:,} | {r['who']} | {r['format'].upper()} | {r['s']:.1f} | "
            f"{r['cpu']:.1f} | {r['mb']:.0f} | {ratio} |"
        )
    measured = sorted({r["rows"] for r in results})
    largest = measured[-1]
    checks = [
        (
            f"peak memory at {largest:,} rows under {MEMORY_TARGET_MB} MB (CSV and XLSX)",
            all(by[(largest, "naumur", f)]["mb"] < MEMORY_TARGET_MB for f in ("csv", "xlsx")),
        ),
        (
            f"CSV within {CSV_FLOOR_RATIO_TARGET:g}× the sqlite3 floor",
            all(
                by[(n, "naumur", "csv")]["s"]
                <= CSV_FLOOR_RATIO_TARGET * by[(n, "floor", "csv")]["s"]
                for n in measured
            ),
        ),
        (
            f"XLSX of {args.small:,} rows under {XLSX_SMALL_TARGET_S:g} s",
            by[(args.small, "naumur", "xlsx")]["s"] < XLSX_SMALL_TARGET_S,
        ),
    ]
    print()
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'} {label}")
    if not all(ok for _, ok in checks):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

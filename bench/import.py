"""Import benchmark (issues 4 and 18): 100,000 and 1,000,000 company rows, previewed then
applied, against the floor and a peer.

    make bench BENCH=bench/import.py     # or: .venv/bin/python bench/import.py
    .venv/bin/python bench/import.py --rows 20000 --large 200000 --skip-peer   # a quick look

The rows come from the project's own generator (bench/gen_companies.py: the shapes real lists
have, French decimal commas, a few dirty rows), written as `;`-separated UTF-8. Each contender
runs in its own process on its own fresh database, after Django's setup and migrations (not
timed), so its peak memory (ru_maxrss) is its own:

- naumur: what the import page does with a large list. The upload's head is checked and the
  file kept through the storage API, the analysis runs as a job (companies/importing/jobs.py,
  its thread joined), then « Enregistrer » runs the apply job: a new campaign, one
  transaction. Measured on --rows (100,000) and --large (1,000,000) rows;
- naumur with --numbers: the --rows list again, with a « mobile » column filled one row in
  three and a contact person (« contact », « fonction ») one row in four;
- floor: the same --rows file read with the csv module and inserted with plain sqlite3
  executemany into the same table (same DDL and indexes, made by the migrations), no checks;
- django-import-export (the `bench` extra): a ModelResource for the same model, with what a
  Django user adds for this file (French decimal comma, phone normalisation, the campaign),
  force_init_instance and skip_diff, run as its admin does: a dry run (its preview) then the
  import; with use_bulk (its documented fast path) and, unless --quick, in its default mode.

With BENCH_PG_URL set (make bench does), naumur is measured on PostgreSQL as well (--rows).
Prints the figures, then each target as OK or NON; not collected by pytest.
"""

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 10.0  # --rows previewed and applied (issue 4)
TARGET_MEMORY_MB = 250.0
TARGET_SPEEDUP = 10.0  # against django-import-export, on --rows
TARGET_SCALE = 11.0  # --large against --rows, each step and in all, measured in the same run
TARGET_LARGE_SECONDS = 60.0  # --large previewed and applied, on an idle machine
TARGET_MEMORY_SCALE = 1.3  # --large's peak memory against --rows'


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class Measure:
    """Wall and CPU time of the steps of one contender, and its process's memory."""

    def __init__(self):
        self.baseline = peak_mb()
        self.started = self.last = time.perf_counter()
        self.cpu = time.process_time()
        self.figures: dict = {}

    def step(self, name: str) -> None:
        now = time.perf_counter()
        self.figures[f"{name}_s"] = now - self.last
        self.last = now

    def result(self, **counts) -> dict:
        return {
            **self.figures,
            "total_s": time.perf_counter() - self.started,
            "cpu_s": time.process_time() - self.cpu,
            "baseline_mb": self.baseline,
            "peak_mb": peak_mb(),
            **counts,
        }


def setup_django(database_url: str, media: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        MEDIA_ROOT=media,
        DEBUG="false",  # no query log kept in memory, as in production
        SECRET_KEY=secrets.token_urlsafe(40),
        AXES_ENABLED="false",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("bench", password=secrets.token_urlsafe(12))


def run_job(batch, job) -> None:
    """Start the job as the page does and wait for its thread."""
    from companies.importing import jobs

    assert jobs.start(batch, job), "the job did not start"
    for thread in threading.enumerate():
        if thread.name == f"import-{batch.pk}":
            thread.join()
    batch.refresh_from_db()
    if batch.job_error:
        raise SystemExit(f"import job failed: {batch.job_error}")


def worker_naumur(csv_path: Path, database_url: str, media: str) -> dict:
    setup_django(database_url, media)
    from django.core.files import File

    from companies import importing
    from companies.models import Company, CompanyPhone, ContactPerson, ImportBatch, ImportJob

    user = bench_user()
    measure = Measure()
    with open(csv_path, "rb") as upload:
        importing.check_file(upload)
        batch = ImportBatch(uploaded_by=user, campaign_name="Bench", original_name=csv_path.name)
        batch.file.save(csv_path.name, File(upload), save=False)
        batch.save()
    run_job(batch, ImportJob.ANALYSE)
    measure.step("preview")
    run_job(batch, ImportJob.APPLY)
    measure.step("apply")
    return measure.result(
        rows=batch.rows_total,
        created=Company.objects.count(),
        rejected=batch.rows_rejected,
        numbers=CompanyPhone.objects.count(),
        people=ContactPerson.objects.count(),
    )


def worker_floor(csv_path: Path, database_url: str, media: str) -> dict:
    import csv
    import sqlite3

    setup_django(database_url, media)  # only to create the same table, not timed
    from django.db import connection

    from companies.importing.columns import TEXT_FIELDS
    from companies.models import Campaign, Company

    campaign = Campaign.objects.create(name="Floor")
    db_path = connection.settings_dict["NAME"]
    connection.close()
    model_fields = [f for f in Company._meta.local_concrete_fields if not f.primary_key]
    columns = [f.column for f in model_fields]
    sql = (
        f"INSERT INTO {Company._meta.db_table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    index = {name: columns.index(name) for name in columns}
    now = "2026-01-01 00:00:00"
    template = [None if f.null else "" for f in model_fields]
    for name, value in {
        "campaign_id": campaign.pk,
        "status": "pending",
        "attempts": 0,
        "is_archived": 0,
        "created_at": now,
        "updated_at": now,
    }.items():
        template[index[name]] = value
    slots = [index[name] for name in TEXT_FIELDS]

    measure = Measure()
    db = sqlite3.connect(db_path)
    with open(csv_path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        rows = []
        for record in reader:
            row = template.copy()
            for slot, value in zip(slots, record, strict=False):
                row[slot] = value
            rows.append(row)
    with db:
        db.executemany(sql, rows)
    count = db.execute(f"SELECT COUNT(*) FROM {Company._meta.db_table}").fetchone()[0]
    db.close()
    return measure.result(rows=len(rows), created=count)


def worker_import_export(csv_path: Path, database_url: str, media: str, bulk: bool) -> dict:
    setup_django(database_url, media)
    from decimal import Decimal, InvalidOperation

    import tablib
    from django.core.exceptions import ValidationError
    from import_export import fields, resources, widgets

    from bench.gen_companies import HEADER
    from companies.models import Campaign, Company, normalise_phone

    campaign = Campaign.objects.create(name="django-import-export")

    class FrenchDecimalWidget(widgets.DecimalWidget):
        def clean(self, value, row=None, **kwargs):
            text = str(value or "").replace(" ", "").replace(",", ".")
            if not text:
                return None
            try:
                return Decimal(text)
            except InvalidOperation:
                raise ValidationError(f"Score « {value} » : ce n'est pas un nombre.") from None

    class CompanyResource(resources.ModelResource):
        validity_score = fields.Field(
            attribute="validity_score", column_name="validity_score", widget=FrenchDecimalWidget()
        )

        def before_import_row(self, row, **kwargs):
            row["phone_e164"] = normalise_phone(row.get("phone") or "")
            if row.get("status") not in ("pending", "callback", "done"):
                row["status"] = "pending"  # as Naumur does: no lock holder, unknown value

        def init_instance(self, row=None):
            return Company(campaign=campaign)

        class Meta:
            model = Company
            fields = (*HEADER, "phone_e164")
            force_init_instance = True  # a new campaign: no lookup of existing rows
            skip_diff = True
            use_bulk = bulk
            batch_size = 2000

    def load() -> tablib.Dataset:
        with open(csv_path, encoding="utf-8", newline="") as handle:
            return tablib.Dataset().load(handle.read(), format="csv", delimiter=";")

    measure = Measure()
    preview = CompanyResource().import_data(load(), dry_run=True, raise_errors=False)
    measure.step("preview")
    result = CompanyResource().import_data(load(), dry_run=False, raise_errors=False)
    measure.step("apply")
    return measure.result(
        rows=result.total_rows,
        created=Company.objects.filter(campaign=campaign).count(),
        rejected=len(result.invalid_rows) + len(result.row_errors()),
        preview_rejected=len(preview.invalid_rows) + len(preview.row_errors()),
    )


WORKERS = {
    "naumur": worker_naumur,
    "floor": worker_floor,
    "import_export_bulk": lambda *args: worker_import_export(*args, bulk=True),
    "import_export": lambda *args: worker_import_export(*args, bulk=False),
}
LABELS = {
    "naumur": "Naumur (SQLite)",
    "naumur_large": "Naumur (SQLite), grand fichier",
    "naumur_numbers": "Naumur (SQLite), mobile et contact",
    "naumur_pg": "Naumur (PostgreSQL)",
    "floor": "Plancher : sqlite3 executemany",
    "import_export_bulk": "django-import-export (use_bulk)",
    "import_export": "django-import-export (défaut)",
}


def run_worker(name: str, csv_path: Path, database_url: str, media: str) -> dict:
    command = [sys.executable, __file__, "--worker", name, "--file", str(csv_path)]
    command += ["--database-url", database_url, "--media", media]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{name} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_list(path: Path, rows: int, numbers: bool = False) -> None:
    from bench import gen_companies

    with open(path, "w", encoding="utf-8", newline="") as out:
        gen_companies.write(out, rows, seed=42, delimiter=";", dirty=True, numbers=numbers)
    print(f"{path.name} : {rows} lignes, {path.stat().st_size / 1024 / 1024:.1f} Mo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="the list every tool imports")
    parser.add_argument("--large", type=int, default=1_000_000, help="the list naumur imports")
    parser.add_argument("--skip-large", action="store_true", help="leave the large list out")
    parser.add_argument("--skip-peer", action="store_true", help="leave django-import-export out")
    parser.add_argument(
        "--numbers",
        action="store_true",
        help="naumur also imports the --rows list with a mobile and a contact person",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip django-import-export in its default (row by row) mode, the slowest run",
    )
    parser.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--media", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = WORKERS[args.worker](args.file, args.database_url, args.media)
        print(json.dumps(result))
        return

    sys.path.insert(0, str(ROOT))
    print(f"Charge de la machine au départ : {os.getloadavg()[0]:.1f} ({os.cpu_count()} cœurs)")
    with tempfile.TemporaryDirectory(prefix="naumur-bench-import-") as tmp:
        tmp_path = Path(tmp)
        small, large = tmp_path / "companies_small.csv", tmp_path / "companies_large.csv"
        write_list(small, args.rows)
        if not args.skip_large:
            write_list(large, args.large)
        with_numbers = tmp_path / "companies_numbers.csv"
        if args.numbers:
            write_list(with_numbers, args.rows, numbers=True)

        def run(name: str, path: Path, key: str) -> None:
            url = f"sqlite:///{tmp_path / key}.sqlite3"
            results[key] = run_worker(name, path, url, str(tmp_path / f"media-{key}"))

        results: dict[str, dict] = {}
        # The two naumur runs one after the other, so that the same load weighs on both.
        run("naumur", small, "naumur")
        if args.numbers:
            run("naumur", with_numbers, "naumur_numbers")
        if not args.skip_large:
            run("naumur", large, "naumur_large")
        run("floor", small, "floor")
        if not args.skip_peer:
            run("import_export_bulk", small, "import_export_bulk")
            if not args.quick:
                run("import_export", small, "import_export")
        if pg_url := os.environ.get("BENCH_PG_URL"):
            results["naumur_pg"] = run_worker("naumur", small, pg_url, str(tmp_path / "m-pg"))
    print(f"Charge de la machine à la fin : {os.getloadavg()[0]:.1f}")
    report(results, args)
    for key, result in results.items():
        if "numbers" in result:
            print(f"{LABELS[key]} : {result['numbers']:,} numéros, {result['people']:,} personnes")


def seconds(result: dict, key: str) -> str:
    return f"{result[key]:.2f}" if key in result else "—"


def report(results: dict, args) -> None:
    print()
    print("| contender | rows | aperçu (s) | enregistrement (s) | total (s) | CPU (s) | créées "
          "| rejetées | pic (Mo) | base (Mo) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key, result in results.items():
        print(
            f"| {LABELS[key]} | {result['rows']:,} | {seconds(result, 'preview_s')} "
            f"| {seconds(result, 'apply_s')} | {result['total_s']:.2f} | {result['cpu_s']:.2f} "
            f"| {result['created']:,} | {result.get('rejected', '—')} "
            f"| {result['peak_mb']:.0f} | {result['baseline_mb']:.0f} |"
        )
    ours, floor = results["naumur"], results["floor"]
    print()
    print(
        f"Naumur / plancher : {ours['total_s'] / floor['total_s']:.1f}× "
        f"(CPU {ours['cpu_s'] / floor['cpu_s']:.1f}×)"
    )
    checks = [
        (
            f"{args.rows:,} lignes en moins de {TARGET_SECONDS:.0f} s",
            ours["total_s"] < TARGET_SECONDS,
        ),
        (f"pic mémoire < {TARGET_MEMORY_MB:.0f} Mo", ours["peak_mb"] < TARGET_MEMORY_MB),
    ]
    for key in ("import_export_bulk", "import_export"):
        if key in results:
            peer = results[key]
            speedup, cpu = peer["total_s"] / ours["total_s"], peer["cpu_s"] / ours["cpu_s"]
            print(f"{LABELS[key]} / Naumur : {speedup:.1f}× (CPU {cpu:.1f}×)")
            checks.append((f"≥ {TARGET_SPEEDUP:.0f}× {LABELS[key]}", speedup >= TARGET_SPEEDUP))
    if "naumur_numbers" in results:
        extra = results["naumur_numbers"]
        print(
            f"mobile et contact / sans : {extra['total_s'] / ours['total_s']:.2f}× "
            f"(CPU {extra['cpu_s'] / ours['cpu_s']:.2f}×, "
            f"pic mémoire {extra['peak_mb'] / ours['peak_mb']:.2f}×)"
        )
    if "naumur_large" in results:
        big = results["naumur_large"]
        scale = args.large / args.rows
        for step in ("preview_s", "apply_s", "total_s", "cpu_s"):
            ratio = big[step] / ours[step]
            print(f"{args.large:,} / {args.rows:,} lignes, {step[:-2]} : {ratio:.1f}×")
            checks.append(
                (f"{step[:-2]} ≤ {TARGET_SCALE * scale / 10:.1f}× ({args.large:,} lignes)",
                 ratio <= TARGET_SCALE * scale / 10)
            )  # fmt: skip
        memory = big["peak_mb"] / ours["peak_mb"]
        print(f"pic mémoire {args.large:,} / {args.rows:,} lignes : {memory:.2f}×")
        checks += [
            (f"pic mémoire ≤ {TARGET_MEMORY_SCALE}× ({args.large:,} lignes)",
             memory <= TARGET_MEMORY_SCALE),
            (f"{args.large:,} lignes en moins de {TARGET_LARGE_SECONDS:.0f} s (machine au repos)",
             big["total_s"] < TARGET_LARGE_SECONDS),
        ]  # fmt: skip
    for label, ok in checks:
        print(f"  {'OK ' if ok else 'NON'} {label}")


if __name__ == "__main__":
    main()

"""Import benchmark: 100,000 company rows, previewed then applied, against the floor and a peer.

    make bench BENCH=bench/import.py          # or: .venv/bin/python bench/import.py [--rows N]

The rows come from the project's own generator (bench/gen_companies.py: the shapes real lists
have, French decimal commas, a few dirty rows), written as `;`-separated UTF-8. Each contender
runs in its own process on its own fresh database, so its peak memory (ru_maxrss) is its own:

- naumur: companies.importing.analyse() (the preview the upload page computes, file kept through
  the storage API) then apply_batch() (the « Enregistrer » button), into a new campaign;
- floor: the same file read with the csv module and inserted with plain sqlite3 executemany
  into the same table (same DDL and indexes, made by the migrations), no checks at all;
- django-import-export (the `bench` extra): a ModelResource for the same model, with what a
  Django user adds for this file (French decimal comma, phone normalisation, the campaign),
  use_bulk and force_init_instance for speed, run as its admin does: a dry run (its preview)
  then the import.

With BENCH_PG_URL set (make bench does), naumur is measured on PostgreSQL as well.
"""

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 10.0
TARGET_SPEEDUP = 10.0
TARGET_MEMORY_MB = 250.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


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


def worker_naumur(csv_path: Path, database_url: str, media: str) -> dict:
    setup_django(database_url, media)
    from django.core.files.base import ContentFile

    from companies import importing
    from companies.models import Company, ImportBatch

    user = bench_user()
    baseline = peak_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    with open(csv_path, "rb") as handle:
        data = importing.read_limited(handle)
    report = importing.analyse(data)
    batch = ImportBatch(uploaded_by=user, campaign_name="Bench", original_name=csv_path.name)
    report.store_on(batch)
    batch.file.save(csv_path.name, ContentFile(data), save=False)
    batch.save()
    del data
    previewed = time.perf_counter()
    applied = importing.apply_batch(batch)
    finished = time.perf_counter()
    return {
        "preview_s": previewed - started,
        "apply_s": finished - previewed,
        "total_s": finished - started,
        "cpu_s": time.process_time() - cpu_started,
        "rows": report.rows_total,
        "created": Company.objects.count(),
        "rejected": applied.rejected,
        "baseline_mb": baseline,
        "peak_mb": peak_mb(),
    }


def worker_floor(csv_path: Path, database_url: str, media: str) -> dict:
    import csv
    import sqlite3

    setup_django(database_url, media)  # only to create the same table, not timed
    from django.db import connection

    from companies.models import Campaign, Company

    campaign = Campaign.objects.create(name="Floor")
    db_path = connection.settings_dict["NAME"]
    connection.close()
    columns = [f.column for f in Company._meta.local_concrete_fields if not f.primary_key]
    sql = (
        f"INSERT INTO {Company._meta.db_table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    index = {name: columns.index(name) for name in columns}
    now = "2026-01-01 00:00:00"
    template = [""] * len(columns)
    for name, value in {
        "campaign_id": campaign.pk,
        "status": "pending",
        "attempts": 0,
        "is_archived": 0,
        "created_at": now,
        "updated_at": now,
    }.items():
        template[index[name]] = value
    for name in (
        "validity_score",
        "next_call_at",
        "callback_at",
        "callback_operator_id",
        "locked_by_id",
        "locked_at",
        "lock_expires_at",
        "last_called_at",
        "erased_at",
    ):
        template[index[name]] = None
    fields = ["name", "phone", "product", "activity", "location", "legal_form", "niu"]
    slots = [index[name] for name in fields]

    baseline = peak_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
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
    finished = time.perf_counter()
    count = db.execute(f"SELECT COUNT(*) FROM {Company._meta.db_table}").fetchone()[0]
    db.close()
    return {
        "total_s": finished - started,
        "cpu_s": time.process_time() - cpu_started,
        "rows": len(rows),
        "created": count,
        "baseline_mb": baseline,
        "peak_mb": peak_mb(),
    }


def worker_import_export(csv_path: Path, database_url: str, media: str, bulk: bool) -> dict:
    setup_django(database_url, media)
    from decimal import Decimal, InvalidOperation

    import tablib
    from django.core.exceptions import ValidationError
    from import_export import fields, resources, widgets

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
            fields = (
                "name",
                "phone",
                "phone_e164",
                "product",
                "activity",
                "location",
                "legal_form",
                "niu",
                "validity_score",
                "status",
            )
            force_init_instance = True  # a new campaign: no lookup of existing rows
            skip_diff = True
            use_bulk = bulk
            batch_size = 2000

    baseline = peak_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    with open(csv_path, encoding="utf-8", newline="") as handle:
        dataset = tablib.Dataset().load(handle.read(), format="csv", delimiter=";")
    preview = CompanyResource().import_data(dataset, dry_run=True, raise_errors=False)
    previewed = time.perf_counter()
    with open(csv_path, encoding="utf-8", newline="") as handle:
        dataset = tablib.Dataset().load(handle.read(), format="csv", delimiter=";")
    result = CompanyResource().import_data(dataset, dry_run=False, raise_errors=False)
    finished = time.perf_counter()
    return {
        "preview_s": previewed - started,
        "apply_s": finished - previewed,
        "total_s": finished - started,
        "cpu_s": time.process_time() - cpu_started,
        "rows": result.total_rows,
        "created": Company.objects.filter(campaign=campaign).count(),
        "rejected": len(result.invalid_rows) + len(result.row_errors()),
        "preview_rejected": len(preview.invalid_rows) + len(preview.row_errors()),
        "baseline_mb": baseline,
        "peak_mb": peak_mb(),
    }


WORKERS = {
    "naumur": worker_naumur,
    "floor": worker_floor,
    "import_export_bulk": lambda *args: worker_import_export(*args, bulk=True),
    "import_export": lambda *args: worker_import_export(*args, bulk=False),
}


def run_worker(name: str, csv_path: Path, database_url: str, media: str) -> dict:
    command = [sys.executable, __file__, "--worker", name, "--file", str(csv_path)]
    command += ["--database-url", database_url, "--media", media]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{name} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--worker", choices=list(WORKERS))
    parser.add_argument("--file", type=Path)
    parser.add_argument("--database-url")
    parser.add_argument("--media")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip django-import-export in its default (row by row) mode, the slowest run",
    )
    args = parser.parse_args()
    if args.worker:
        result = WORKERS[args.worker](args.file, args.database_url, args.media)
        print(json.dumps(result))
        return

    sys.path.insert(0, str(ROOT / "bench"))
    import gen_companies

    with tempfile.TemporaryDirectory(prefix="naumur-bench-import-") as tmp:
        tmp_path = Path(tmp)
        csv_path = tmp_path / "companies_100k.csv"
        with open(csv_path, "w", encoding="utf-8", newline="") as out:
            gen_companies.write(out, args.rows, seed=42, delimiter=";", dirty=True)
        size_mb = csv_path.stat().st_size / 1024 / 1024
        print(f"Fichier : {args.rows} lignes, {size_mb:.1f} Mo (gen_companies.py --dirty, « ; »)")

        def sqlite_url(name: str) -> str:
            return f"sqlite:///{tmp_path / name}.sqlite3"

        results = {}
        results["naumur"] = run_worker("naumur", csv_path, sqlite_url("naumur"), tmp + "/m1")
        results["floor"] = run_worker("floor", csv_path, sqlite_url("floor"), tmp + "/m2")
        results["import_export_bulk"] = run_worker(
            "import_export_bulk", csv_path, sqlite_url("import_export_bulk"), tmp + "/m3"
        )
        if not args.quick:
            results["import_export"] = run_worker(
                "import_export", csv_path, sqlite_url("import_export"), tmp + "/m5"
            )
        pg_url = os.environ.get("BENCH_PG_URL")
        if pg_url:
            results["naumur_pg"] = run_worker("naumur", csv_path, pg_url, tmp + "/m4")

    report(results)


def report(results: dict) -> None:
    labels = {
        "naumur": "Naumur (SQLite) aperçu + enregistrement",
        "naumur_pg": "Naumur (PostgreSQL) aperçu + enregistrement",
        "floor": "Plancher : sqlite3 executemany",
        "import_export_bulk": "django-import-export (use_bulk) essai + import",
        "import_export": "django-import-export (défaut) essai + import",
    }
    print(f"{'':48} {'aperçu':>8} {'enreg.':>8} {'total':>8} {'CPU':>8} {'créées':>8} "
          f"{'rejet.':>7} {'pic Mo':>7} {'base Mo':>8}")  # fmt: skip
    for key, result in results.items():
        preview = f"{result['preview_s']:.2f}" if "preview_s" in result else "—"
        apply = f"{result['apply_s']:.2f}" if "apply_s" in result else "—"
        rejected = result.get("rejected", "—")
        print(
            f"{labels[key]:48} {preview:>8} {apply:>8} {result['total_s']:>8.2f} "
            f"{result['cpu_s']:>8.2f} {result['created']:>8} {rejected!s:>7} "
            f"{result['peak_mb']:>7.0f} {result['baseline_mb']:>8.0f}"
        )
    ours = results["naumur"]
    floor = results["floor"]
    print(
        f"Rapport au plancher : {ours['total_s'] / floor['total_s']:.1f}× "
        f"(CPU {ours['cpu_s'] / floor['cpu_s']:.1f}×)"
    )
    checks = [
        (f"aperçu + enregistrement < {TARGET_SECONDS:.0f} s", ours["total_s"] < TARGET_SECONDS),
        (f"pic mémoire < {TARGET_MEMORY_MB:.0f} Mo", ours["peak_mb"] < TARGET_MEMORY_MB),
    ]
    for key in ("import_export", "import_export_bulk"):
        if key in results:
            peer = results[key]
            speedup = peer["total_s"] / ours["total_s"]
            print(
                f"Accélération sur {labels[key].split(' essai')[0]} : {speedup:.1f}× "
                f"(CPU {peer['cpu_s'] / ours['cpu_s']:.1f}×)"
            )
            checks.append((f"≥ {TARGET_SPEEDUP:.0f}× {labels[key]}", speedup >= TARGET_SPEEDUP))
    for label, ok in checks:
        print(f"  {'OK ' if ok else 'NON'} {label}")


if __name__ == "__main__":
    main()

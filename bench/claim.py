"""Claim benchmark: many operators calling « Appeler le suivant » at once.

    make bench BENCH=bench/claim.py
    python bench/claim.py --db sqlite --claimers 8 --companies 10000

Each claimer (a process, as gunicorn workers are) loops: claim the next company
(Company.objects.claim_next, companies/lifecycle.py), then finish it (status done, lock
cleared), until the queue is empty.
Checks that no company was claimed twice and that every company was claimed, and prints claims
per second and p50/p95 claim latency.
PostgreSQL uses BENCH_PG_URL (set by `make bench`); SQLite uses a file in a temporary folder.
"""

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def claim_until_empty(user_pk: int, start_gate, outbox) -> None:
    """One operator: « Appeler le suivant », finish the company, again, until none is left."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    from companies.models import Company, Status

    connections.close_all()  # never share the parent's connection
    user = get_user_model().objects.get(pk=user_pk)
    claimed = []
    start_gate.wait()
    try:
        while True:
            started = time.perf_counter()
            company = Company.objects.claim_next(user)
            elapsed = time.perf_counter() - started
            if company is None:
                outbox.put((user_pk, claimed, ""))
                return
            claimed.append((company.pk, elapsed))
            Company.objects.filter(pk=company.pk, locked_by=user).update(
                status=Status.DONE, locked_by=None, locked_at=None, lock_expires_at=None
            )
    except Exception as error:  # noqa: BLE001 - reported by the parent
        outbox.put((user_pk, claimed, repr(error)))


def run_one(database_url: str, claimers: int, companies: int) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")  # local settings, as the figures were measured with
    os.environ["PASSWORD_HASHERS"] = "django.contrib.auth.hashers.MD5PasswordHasher"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, connections

    from companies.models import Campaign, Company, PhoneLabel, merge_numbers

    call_command("migrate", verbosity=0)
    campaign = Campaign.objects.create(name=f"Bench {time.time()}")
    created = Company.objects.bulk_create(
        (
            Company(
                campaign=campaign,
                name=f"Entreprise {i}",
                phone=f"6{i:08d}",
                validity_score=(i * 37) % 100,
            )
            for i in range(companies)
        ),
        batch_size=2000,
    )
    merge_numbers((company.pk, company.phone, PhoneLabel.STANDARD) for company in created)
    User = get_user_model()
    users = [User.objects.create_user(f"bench{i}-{time.time_ns()}") for i in range(claimers)]

    # One process per claimer, as in production (gunicorn workers are processes): threads
    # would measure Python's GIL, not the claim.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    start_gate, outbox = context.Event(), context.Queue()
    workers = [
        context.Process(target=claim_until_empty, args=(user.pk, start_gate, outbox))
        for user in users
    ]
    for worker in workers:
        worker.start()
    time.sleep(2)
    started = time.perf_counter()
    start_gate.set()
    results = [outbox.get() for _ in workers]
    wall = time.perf_counter() - started
    for worker in workers:
        worker.join()
    claims: dict[int, list[int]] = {}
    latencies: list[float] = []
    errors = [error for _, _, error in results if error]
    for user_pk, claimed, _ in results:
        for company_pk, elapsed in claimed:
            claims.setdefault(company_pk, []).append(user_pk)
            latencies.append(elapsed)

    double = sum(1 for holders in claims.values() if len(holders) > 1)
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else 0
    print(
        f"{connection.vendor:<10} claimers={claimers:<3} companies={companies} "
        f"claimed={len(claims)} double_claims={double} errors={len(errors)} "
        f"claims/s={len(latencies) / wall:,.0f} "
        f"p50={statistics.median(latencies) * 1000:.1f}ms p95={p95 * 1000:.1f}ms wall={wall:.1f}s"
    )
    if errors:
        print("first error:", repr(errors[0]))
    if double or errors or len(claims) != companies:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"])
    parser.add_argument("--claimers", type=int)
    parser.add_argument("--companies", type=int, default=10_000)
    args = parser.parse_args()
    if args.db:
        if args.db == "postgres":
            url = os.environ["BENCH_PG_URL"]
        else:
            url = f"sqlite:///{tempfile.mkdtemp(prefix='naumur-bench-')}/claim.sqlite3"
        run_one(url, args.claimers or (50 if args.db == "postgres" else 8), args.companies)
        return
    # Each database in its own process: Django reads DATABASE_URL once.
    runs = [("sqlite", 8)]
    if os.environ.get("BENCH_PG_URL"):
        runs.insert(0, ("postgres", 50))
    else:
        print("BENCH_PG_URL not set: PostgreSQL skipped (run through `make bench`).")
    failed = False
    for db, claimers in runs:
        result = subprocess.run(
            [
                sys.executable,
                __file__,
                "--db",
                db,
                "--claimers",
                str(claimers),
                "--companies",
                str(args.companies),
            ],
            cwd=ROOT,
        )
        failed |= result.returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

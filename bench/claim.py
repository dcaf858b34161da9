"""Claim benchmark: many operators calling « Appeler le suivant » at once, on the plain queue and
on the queue with every fieldwork rule on, side by side.

    make bench BENCH=bench/claim.py
    python bench/claim.py --db sqlite --companies 100000 --claims 4000

Each run builds one campaign of --companies companies, then --claimers processes (as gunicorn
workers are) loop: claim the next company (Company.objects.claim_next, companies/lifecycle.py),
then submit an outcome through the life cycle (Company.objects.record_outcome: 60 % no answer,
20 % complete interview, 20 % refusal), until --claims companies were claimed.

- plain: the campaign is open at every hour, no holidays, no spreading, no quota, an empty
  do-not-call list (the queue as it was before the fieldwork rules).
- rules: the same companies, 80 % Cameroonian, 10 % French, 10 % New York numbers; calling
  hours from three hours before to three hours after the start of the run in Douala (so the
  New York companies are outside their window, whenever the run happens), public holidays of
  each company's country, spreading of unanswered attempts, quota cells on activity x
  location for half the activities (target 10 each: they fill during the run and their
  companies leave the queue), and a do-not-call list of 8,000 entries of which 1,000 numbers
  and 1,000 NIUs are the campaign's.

Checks that no company was claimed twice, that none was served outside its window (its local
time at the claim, by companies/fieldwork.py) or while on the do-not-call list, and prints
claims per second and p50/p95 claim latency; then the ratio of p95s, rules / plain.
PostgreSQL uses BENCH_PG_URL (set by `make bench`); SQLite uses a file in a temporary folder.
"""

import argparse
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACTIVITIES = ["transformation", "commerce", "production", "distribution", "export", "import"]
LOCATIONS = ["Douala", "Yaoundé", "Bafoussam", "Garoua", "Bamenda", "Kribi", "Limbé", "Édéa"]


def claim_until_done(user_pk: int, start_gate, counter, total: int, outbox) -> None:
    """One operator: « Appeler le suivant », submit an outcome, again, until enough claims."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    from companies.aapor import Disposition
    from companies.lifecycle import Outcome
    from companies.models import Company

    connections.close_all()  # never share the parent's connection
    user = get_user_model().objects.get(pk=user_pk)
    rng = random.Random(user_pk)
    outcomes = [Disposition.NO_ANSWER, Disposition.COMPLETE, Disposition.REFUSAL]
    claimed = []
    start_gate.wait()
    try:
        while True:
            with counter.get_lock():
                if counter.value >= total:
                    break
                counter.value += 1
            started = time.perf_counter()
            company = Company.objects.claim_next(user)
            elapsed = time.perf_counter() - started
            if company is None:
                break
            claimed.append((company.pk, elapsed, company.locked_at.isoformat()))
            outcome = rng.choices(outcomes, weights=[60, 20, 20])[0]
            Company.objects.record_outcome(company, user, Outcome(outcome))
        outbox.put((user_pk, claimed, ""))
    except Exception as error:  # noqa: BLE001 - reported by the parent
        outbox.put((user_pk, claimed, repr(error)))


def around(now_local: datetime, hours: int = 3) -> list:
    """Calling hours from `hours` before to `hours` after this local time, every day (split at
    midnight when they cross it)."""
    minute = now_local.hour * 60 + now_local.minute
    start, end = minute - hours * 60, minute + hours * 60

    def clock(m):
        return f"{m // 60:02d}:{m % 60:02d}"

    if start < 0:
        day = [[clock(0), clock(end)], [clock(start + 1440), "24:00"]]
    elif end > 1440:
        day = [[clock(0), clock(end - 1440)], [clock(start), "24:00"]]
    else:
        day = [[clock(start), clock(end)]]
    return [sorted(day) for _weekday in range(7)]


def build(variant: str, companies: int, claimers: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from companies.fieldwork import phone_zone
    from companies.models import (
        Campaign,
        Company,
        DoNotCallEntry,
        PhoneLabel,
        QuotaCell,
        merge_numbers,
    )

    rng = random.Random(42)
    if variant == "plain":
        campaign = Campaign.objects.create(
            name="Bench",
            calling_hours=[[["00:00", "24:00"]] for _day in range(7)],
            public_holidays=False,
            spread_attempts=False,
        )
    else:
        douala_now = timezone.localtime(timezone.now())
        campaign = Campaign.objects.create(name="Bench", calling_hours=around(douala_now))
    rows = []
    for i in range(companies):
        draw = rng.random()
        if draw < 0.8:
            phone = f"+2376{i:08d}"
        elif draw < 0.9:
            phone = f"+3314{i % 10_000_000:07d}"
        else:
            phone = f"+1212{2000000 + i % 8_000_000:07d}"
        zone, country = phone_zone(phone)
        rows.append(
            Company(
                campaign=campaign,
                name=f"Entreprise {i}",
                phone=phone,
                phone_e164=phone,
                time_zone=zone,
                country=country,
                niu=f"M{i:012d}A",
                activity=rng.choice(ACTIVITIES),
                location=rng.choice(LOCATIONS),
                validity_score=(i * 37) % 100,
            )
        )
    created = Company.objects.bulk_create(rows, batch_size=2000)
    # Every company has its main number in its list, as the import writes it.
    merge_numbers((company.pk, company.phone, PhoneLabel.STANDARD) for company in created)
    User = get_user_model()
    users = [User.objects.create_user(f"bench{i}-{time.time_ns()}") for i in range(claimers)]
    if variant == "rules":
        QuotaCell.objects.bulk_create(
            QuotaCell(
                campaign=campaign,
                field1="activity",
                value1=activity,
                field2="location",
                value2=location,
                target=10,
            )
            for activity in ACTIVITIES[:3]
            for location in LOCATIONS
        )
        # 2,000 of the companies listed (a fifth of a small run's), half by number, half by NIU.
        listed = rng.sample(rows, min(2000, len(rows) // 5))
        half = len(listed) // 2
        entries = [
            DoNotCallEntry(phone_e164=c.phone_e164, reason="bench", source="import")
            for c in listed[:half]
        ]
        entries += [
            DoNotCallEntry(niu=c.niu, reason="bench", source="import") for c in listed[half:]
        ]
        entries += [
            DoNotCallEntry(phone_e164=f"+23769{n:07d}", reason="bench", source="import")
            for n in range(6000)
        ]
        for entry in entries:
            entry.created_by = users[0]
        DoNotCallEntry.objects.bulk_create(entries, batch_size=2000)
    return campaign, users


def run_one(database_url: str, claimers: int, companies: int, claims: int, variant: str) -> dict:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    os.environ["PASSWORD_HASHERS"] = "django.contrib.auth.hashers.MD5PasswordHasher"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from companies.lifecycle import campaign_rules, do_not_call_condition
    from companies.models import Company

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # one run's data only
    campaign, users = build(variant, companies, claimers)
    calendar = campaign.calendar
    campaign_rules()  # the holidays of the year, computed once before the processes fork

    # One process per claimer, as in production (gunicorn workers are processes): threads
    # would measure Python's GIL, not the claim.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    start_gate, outbox, counter = context.Event(), context.Queue(), context.Value("i", 0)
    workers = [
        context.Process(
            target=claim_until_done, args=(user.pk, start_gate, counter, claims, outbox)
        )
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

    claimed: dict[int, list] = {}
    latencies: list[float] = []
    errors = [error for _, _, error in results if error]
    for user_pk, rows, _ in results:
        for company_pk, elapsed, locked_at in rows:
            claimed.setdefault(company_pk, []).append((user_pk, locked_at))
            latencies.append(elapsed)
    double = sum(1 for holders in claimed.values() if len(holders) > 1)
    places = {
        pk: (zone, country)
        for pk, zone, country in Company.objects.filter(pk__in=list(claimed)).values_list(
            "pk", "time_zone", "country"
        )
    }
    # Every claim inside the company's window, in its local time at the claim (locked_at).
    outside = sum(
        1
        for pk, holders in claimed.items()
        for _user, locked_at in holders
        if not calendar.is_open(datetime.fromisoformat(locked_at), *places[pk])
    )
    listed = Company.objects.filter(pk__in=list(claimed)).filter(do_not_call_condition()).count()
    latencies.sort()
    p95 = latencies[max(int(len(latencies) * 0.95) - 1, 0)] if latencies else 0
    result = {
        "vendor": connection.vendor,
        "variant": variant,
        "claimers": claimers,
        "companies": companies,
        "claimed": len(claimed),
        "double_claims": double,
        "outside_window": outside,
        "listed_served": listed,
        "errors": len(errors),
        "claims_per_s": len(latencies) / wall if wall else 0,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0,
        "p95_ms": p95 * 1000,
        "wall_s": wall,
        "first_error": errors[0] if errors else "",
    }
    print(
        f"{connection.vendor:<10} {variant:<5} claimers={claimers:<3} companies={companies} "
        f"claimed={len(claimed)} double_claims={double} outside_window={outside} "
        f"listed_served={listed} errors={len(errors)} claims/s={result['claims_per_s']:,.0f} "
        f"p50={result['p50_ms']:.1f}ms p95={result['p95_ms']:.1f}ms wall={wall:.1f}s",
        flush=True,
    )
    if errors:
        print("first error:", errors[0])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"])
    parser.add_argument("--variant", choices=["plain", "rules"])
    parser.add_argument("--claimers", type=int)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=4_000)
    parser.add_argument("--json", help="write the child's result to this file")
    args = parser.parse_args()
    if args.db and args.variant:
        if args.db == "postgres":
            url = os.environ["BENCH_PG_URL"]
        else:
            url = f"sqlite:///{tempfile.mkdtemp(prefix='naumur-bench-')}/claim.sqlite3"
        claimers = args.claimers or (50 if args.db == "postgres" else 8)
        result = run_one(url, claimers, args.companies, args.claims, args.variant)
        if args.json:
            Path(args.json).write_text(json.dumps(result))
        return
    # Each database and each variant in its own process: Django reads DATABASE_URL once.
    databases = [args.db] if args.db else ["sqlite"]
    if not args.db and os.environ.get("BENCH_PG_URL"):
        databases.insert(0, "postgres")
    elif not args.db:
        print("BENCH_PG_URL not set: PostgreSQL skipped (run through `make bench`).")
    failed = False
    for db in databases:
        results = {}
        for variant in ["plain", "rules"]:
            out = Path(tempfile.mkdtemp(prefix="naumur-bench-")) / "result.json"
            command = [sys.executable, __file__, "--db", db, "--variant", variant]
            command += ["--companies", str(args.companies), "--claims", str(args.claims)]
            command += ["--json", str(out)]
            if args.claimers:
                command += ["--claimers", str(args.claimers)]
            subprocess.run(command, cwd=ROOT, check=False)
            results[variant] = json.loads(out.read_text()) if out.exists() else None
        plain, rules = results["plain"], results["rules"]
        if not plain or not rules:
            failed = True
            continue
        ratio = rules["p95_ms"] / plain["p95_ms"] if plain["p95_ms"] else float("inf")
        print(
            f"{db:<10} p95 rules / plain = {ratio:.2f} (target <= 1.5) "
            f"claims/s rules / plain = {rules['claims_per_s'] / plain['claims_per_s']:.2f}"
        )
        for result in (plain, rules):
            failed |= bool(
                result["double_claims"]
                or result["outside_window"]
                or result["listed_served"]
                or result["errors"]
                or result["claimed"] < min(args.claims, args.companies) // 2
            )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

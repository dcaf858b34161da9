#!/usr/bin/env python3
"""Benchmark of the supervisor dashboard's live partial (issue 6).

    .venv/bin/python bench/dashboard.py                    # SQLite, and PostgreSQL if BENCH_PG_URL
    make bench BENCH=bench/dashboard.py                    # both, on a throwaway PostgreSQL
    .venv/bin/python bench/dashboard.py --calls 100000 --companies 20000   # quicker

Builds 1,000,000 call records (plus a recording for most of them and a few drafts) over
200,000 companies in three campaigns and 50 operators, on a migrated SQLite file in a temp
directory and on PostgreSQL (a database of its own created on BENCH_PG_URL's server, dropped
afterwards), bulk-inserted (executemany on SQLite, COPY on PostgreSQL), then the dashboard's
kept daily figures counted by calls.daily.rebuild() (as their migration does). Then a logged-in
supervisor's Django test Client asks for the #figures partial (HX-Request) ~30 times per
scenario (and as many, taking turns, without the productivity table) and the script prints
p50/p95 and the first request's time. Targets: p50 under 200 ms for the polled default view;
the first request for « campagne A, depuis le début » at most 3x its p50 (issue 18); the
dashboard with its productivity table at most 1.25x the same without it (issue 15).

Each database runs in a child process, since the settings read DATABASE_URL at start-up.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 200
COLD_SCENARIO = "campagne A, depuis le début"
COLD_RATIO = 3
PRODUCTIVITY_RATIO = 1.25

SCENARIOS = [
    # (name, query string builder): the first one is what a supervisor's screen polls all day.
    ("toutes campagnes, aujourd'hui (défaut)", lambda ids: {}),
    ("campagne A, aujourd'hui", lambda ids: {"campaign": ids[0]}),
    ("toutes campagnes, 7 jours", lambda ids: {"period": "7d"}),
    ("campagne A, depuis le début", lambda ids: {"campaign": ids[0], "period": "campaign"}),
    ("toutes campagnes, depuis le début", lambda ids: {"period": "campaign"}),
]


# --- Parent: one child per database, then the summary ---


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=200_000)
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--child", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    pg_url = os.environ.get("BENCH_PG_URL", "")
    backends = ["sqlite"] + (["postgresql"] if pg_url else [])
    if args.only:
        backends = [args.only]
    if "postgresql" in backends and not pg_url:
        sys.exit("BENCH_PG_URL manque : l'adresse d'un serveur PostgreSQL jetable.")
    print(
        f"Tableau de bord : {args.calls:,} appels, {args.companies:,} entreprises, "
        f"{args.operators} opérateurs, {args.requests} requêtes par scénario"
    )
    results = {}
    with tempfile.TemporaryDirectory(prefix="naumur-bench-dashboard-") as tmp:
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/bench.sqlite3"
                results[backend] = run_child(args, backend, url)
            else:
                with pg_database(pg_url) as url:
                    results[backend] = run_child(args, backend, url)
    print(
        "\n== Résumé (partial #figures, ms : p50 / p95 ; 1re requête du jour ; "
        "p50 sans la productivité → rapport) =="
    )
    print(f"{'scénario':42} " + " ".join(f"{b:>44}" for b in results))
    for name, _ in SCENARIOS:
        cells = []
        for res in results.values():
            s = res["scenarios"][name]
            ratio = s["p50"] / s["without"]["p50"]
            cells.append(
                f"{s['p50']:.1f} / {s['p95']:.1f} ; {s['cold']:.0f} ; "
                f"{s['without']['p50']:.1f} → {ratio:.2f}x"
            )
        print(f"{name:42} " + " ".join(f"{c:>44}" for c in cells))
    failed = [b for b, r in results.items() if r["scenarios"][SCENARIOS[0][0]]["p50"] > TARGET_MS]
    verdict = "atteint" if not failed else f"MANQUÉ sur {', '.join(failed)}"
    print(f"Objectif p50 < {TARGET_MS} ms pour la vue par défaut : {verdict}")
    # Issue 18: the first request of the day for « since the start » on one campaign costs at
    # most COLD_RATIO times the same view's warm p50, with no cache filled beforehand.
    ratios = {
        b: r["scenarios"][COLD_SCENARIO]["cold"] / r["scenarios"][COLD_SCENARIO]["p50"]
        for b, r in results.items()
    }
    cells = " ; ".join(f"{b} {ratio:.2f}x" for b, ratio in ratios.items())
    verdict = "atteint" if all(r <= COLD_RATIO for r in ratios.values()) else "MANQUÉ"
    print(
        f"1re requête / p50, « {COLD_SCENARIO} » : {cells} (objectif ≤ {COLD_RATIO}x) : {verdict}"
    )
    # Issue 15: the dashboard with its productivity table at most PRODUCTIVITY_RATIO times the
    # same dashboard without it, in every scenario.
    worst = {
        b: max(s["p50"] / s["without"]["p50"] for s in r["scenarios"].values())
        for b, r in results.items()
    }
    cells = " ; ".join(f"{b} {ratio:.2f}x" for b, ratio in worst.items())
    verdict = "atteint" if all(r <= PRODUCTIVITY_RATIO for r in worst.values()) else "MANQUÉ"
    print(
        f"Avec / sans la productivité, pire scénario : {cells} "
        f"(objectif ≤ {PRODUCTIVITY_RATIO}x) : {verdict}"
    )


def run_child(args, backend: str, url: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # Production-like: no query logging, cached templates, no debug toolbar of any kind.
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "AXES_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    }
    command = [
        sys.executable,
        __file__,
        "--child",
        backend,
        "--calls",
        str(args.calls),
        "--companies",
        str(args.companies),
        "--operators",
        str(args.operators),
        "--requests",
        str(args.requests),
    ]
    print(f"\n== {backend} ==", flush=True)
    out = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    lines = out.stdout.splitlines()
    print("\n".join(line for line in lines if not line.startswith("RESULT ")))
    return json.loads(next(line for line in lines if line.startswith("RESULT "))[7:])


class pg_database:
    """A database of the benchmark's own on BENCH_PG_URL's server, dropped afterwards."""

    name = "naumur_bench_dashboard"

    def __init__(self, url: str):
        self.url = url

    def _admin(self):
        import psycopg

        conn = psycopg.connect(self.url, autocommit=True)
        return conn

    def __enter__(self) -> str:
        with self._admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.name}")
            conn.execute(f"CREATE DATABASE {self.name}")
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{self.name}"))

    def __exit__(self, *exc):
        with self._admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


# --- Child: build the data, then measure ---


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrations : {time.perf_counter() - started:.1f} s", flush=True)

    started = time.perf_counter()
    campaign_ids, supervisor = populate(args, connection)
    print(f"données insérées en {time.perf_counter() - started:.1f} s", flush=True)

    # The dashboard's kept daily figures of these calls, as the migration that created them
    # or `manage.py rebuild_dashboard_figures` counts them (the bulk insert bypassed submit).
    from calls.daily import rebuild

    started = time.perf_counter()
    rows = rebuild()
    print(f"chiffres par jour recomptés : {rows:,} lignes en {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            connection.set_autocommit(True)
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
    print(f"ANALYZE : {time.perf_counter() - started:.1f} s", flush=True)
    print_sizes(connection)

    results = {"scenarios": {}}
    from django.test import Client

    client = Client()
    client.force_login(supervisor)
    for name, params in SCENARIOS:
        query = params(campaign_ids)
        timings = measure(client, query, args.requests, htmx=True)
        results["scenarios"][name] = timings
        print(
            f"{name:42} p50 {timings['p50']:7.1f} ms   p95 {timings['p95']:7.1f} ms   "
            f"CPU p50 {timings['cpu_p50']:6.1f} ms   ({timings['queries']} requêtes SQL ; "
            f"1re requête du jour {timings['cold']:.0f} ms) ; sans la productivité : p50 "
            f"{timings['without']['p50']:7.1f} ms, CPU p50 {timings['without']['cpu_p50']:6.1f} ms",
            flush=True,
        )
    print(f"charge de la machine (load average 1/5/15 min) : {os.getloadavg()}", flush=True)
    page = measure(client, {}, max(5, args.requests // 3), htmx=False)
    print(f"{'page complète (défaut)':42} p50 {page['p50']:7.1f} ms   p95 {page['p95']:7.1f} ms")
    results["page"] = page
    print("RESULT " + json.dumps(results))


class Timings:
    def __init__(self):
        self.wall, self.cpu = [], []

    def time(self, request) -> None:
        started, started_cpu = time.perf_counter(), time.process_time()
        response = request()
        self.wall.append((time.perf_counter() - started) * 1000)
        self.cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.status_code

    def summary(self) -> dict:
        wall = sorted(self.wall)
        return {
            "p50": statistics.median(wall),
            "p95": wall[min(len(wall) - 1, round(0.95 * (len(wall) - 1)))],
            # CPU time of this process: Django, the template and, on SQLite, the queries too.
            # Less sensitive than wall time to other programs sharing the machine's two cores.
            "cpu_p50": statistics.median(self.cpu),
        }


def measure(client, query: dict, requests: int, htmx: bool) -> dict:
    """The dashboard as served, and (htmx: the polled partial) the same without its
    productivity table (issue 15: at most 1.25 times less), one request of each in turn."""
    import functools

    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import calls.views
    from calls.dashboard import figures

    headers = {"HX-Request": "true"} if htmx else {}

    def get():
        return client.get("/dashboard/", query, headers=headers)

    def get_without_productivity():
        calls.views.dashboard_figures = functools.partial(figures, with_productivity=False)
        try:
            return get()
        finally:
            calls.views.dashboard_figures = figures

    # Cold: the first request for these filters, with an empty cache (the dashboard keeps no
    # figures there: it reads the kept daily figures); warm: every later poll.
    cache.clear()
    started = time.perf_counter()
    assert get().status_code == 200
    cold = (time.perf_counter() - started) * 1000
    get(), get_without_productivity()  # warm-up
    with CaptureQueriesContext(connection) as queries:
        get()
    query_count = len(queries)  # now: the next request resets the query log
    served, without = Timings(), Timings()
    for _ in range(requests):
        served.time(get)
        if htmx:
            without.time(get_without_productivity)
    return {
        **served.summary(),
        "queries": query_count,
        "cold": cold,
        "without": without.summary() if htmx else None,
    }


def print_sizes(connection) -> None:
    from calls.models import CallRecord, Recording
    from companies.models import Company

    today = CallRecord.objects.filter(submitted_at__gte=local_midnight_utc()).count()
    print(
        f"lignes : {Company.objects.count():,} entreprises, {CallRecord.objects.count():,} appels "
        f"(dont {today:,} aujourd'hui), {Recording.objects.count():,} enregistrements",
        flush=True,
    )


def local_midnight_utc() -> datetime:
    from django.utils import timezone

    return timezone.make_aware(
        datetime.combine(timezone.localdate(), datetime.min.time())
    ).astimezone(UTC)


# --- Data: plausible companies and call histories, inserted in bulk ---

PRODUCTS = ["cacao", "café", "manioc", "huile de palme", "maïs", "arachide", "miel", "soja"]
ACTIVITIES = ["transformation", "commerce", "production", "distribution", "export"]
LOCATIONS = ["Douala", "Yaoundé", "Bafoussam", "Garoua", "Bamenda", "Kribi", "Limbé", "Édéa"]
FORMS = ["SARL", "SA", "SAS", "ETS", "GIE", "EI"]
NUMBER_WEIGHTS = [("invalid", 5), ("no_answer", 30), ("voicemail", 15), ("answered", 50)]
OUTCOME_WEIGHTS = [
    ("bad_number", 5),
    ("not_transformer", 10),
    ("callback", 20),
    ("refused", 25),
    ("accepted", 40),
]
BATCH = 50_000
# The campaigns' fieldwork rules: open every hour of every day, so that the measured dashboard
# shows callable companies whenever the benchmark runs (holidays, quotas and the do-not-call
# list still cost what they cost: the queue's health evaluates every rule).
RULES = {
    "calling_hours": [[["00:00", "24:00"]] for _day in range(7)],
    "no_answer_max_attempts": 10,
    "voicemail_max_attempts": 10,
}


def weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return lambda: rng.choices(values, weights)[0]


def populate(args, connection):
    """Campaigns, users and groups through the ORM; companies, calls and recordings in bulk
    with explicit ids. Returns the campaign ids and the supervisor."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from calls.models import CallRecord, Recording
    from companies.models import Campaign, Company
    from core.roles import OPERATORS, SUPERVISORS

    rng = random.Random(20260312)
    now = timezone.now()
    start = now - timedelta(days=120)
    campaigns = [
        Campaign.objects.create(name="Campagne A", **RULES),
        Campaign.objects.create(name="Campagne B", **RULES),
        Campaign.objects.create(name="Campagne C (close)", is_active=False, **RULES),
    ]
    Campaign.objects.update(created_at=start)
    user_model = get_user_model()
    operators = user_model.objects.bulk_create(
        user_model(username=f"op{i:02d}", first_name=f"Opérateur {i:02d}", password="!")
        for i in range(args.operators)
    )
    operators = list(user_model.objects.filter(username__startswith="op").order_by("pk"))
    supervisor = user_model.objects.create(username="superviseur", password="!")
    supervisor.groups.add(Group.objects.get(name=SUPERVISORS))
    Group.objects.get(name=OPERATORS).user_set.add(*operators)
    operator_ids = [op.pk for op in operators]

    # Calls per company: a fifth never called, the rest 1-11 calls, topped up to the exact total.
    n_companies, n_calls = args.companies, args.calls
    called = int(n_companies * 0.8)
    per_company = [rng.randint(1, 11) for _ in range(called)] + [0] * (n_companies - called)
    difference = n_calls - sum(per_company)
    while difference:
        i = rng.randrange(called)
        step = 1 if difference > 0 else -1
        if per_company[i] + step >= 1:
            per_company[i] += step
            difference -= step
    rng.shuffle(per_company)

    midnight = local_midnight_utc()
    today_share = 10_000 * n_calls // 1_000_000  # a busy day: 200 calls per operator
    today_from = max(midnight, now - timedelta(hours=10))

    def call_time(is_today: bool) -> datetime:
        if is_today:
            return today_from + (now - today_from) * rng.random()
        return start + (midnight - start) * rng.random()

    number = weighted(rng, NUMBER_WEIGHTS)
    outcome = weighted(rng, OUTCOME_WEIGHTS)
    company_cols = [f.column for f in Company._meta.concrete_fields]
    call_cols = [f.column for f in CallRecord._meta.concrete_fields]
    recording_cols = [f.column for f in Recording._meta.concrete_fields]
    writer = BulkWriter(connection)
    # 1. Each company's history (compact tuples) and the company as its last call left it.
    companies, history = [], []
    today_left = today_share
    locks_given = 0
    for company_id, n in enumerate(per_company, start=1):
        campaign = campaigns[0 if company_id % 4 else (1 if company_id % 20 else 2)]
        times = sorted(call_time(False) for _ in range(n))
        if n and today_left and rng.random() < today_share / max(called, 1):
            times[-1] = call_time(True)
            today_left -= 1
        last = None
        for attempt, when in enumerate(times, start=1):
            status_numero = number()
            call_status = outcome() if status_numero == "answered" else ""
            levels = ("", "", "")
            if call_status == "accepted":
                levels = ("complete",) * 3 if rng.random() < 0.7 else ("complete", "partial", "")
                levels = (levels[0], levels[1], levels[2] or "partial")
            callback_at = (
                when + timedelta(hours=rng.randint(-24, 48)) if call_status == "callback" else None
            )
            duration = round(rng.uniform(20, 420), 1) if rng.random() < 0.8 else None
            last = (
                when,
                company_id,
                attempt,
                status_numero,
                call_status,
                levels,
                rng.choice(operator_ids),
                callback_at,
                duration,
            )
            history.append(last)
        companies.append(
            company_row(company_id, campaign, last, n, now, rng, locks_given, operator_ids)
        )
        if companies[-1]["locked_by_id"]:
            locks_given += 1
        if len(companies) >= BATCH:
            writer.write(Company, company_cols, companies)
            companies = []
    writer.write(Company, company_cols, companies)

    # 2. Calls in the order they happen, as in production (a draft row is created when the
    # call starts, so ids follow time): today's calls sit together at the end of the table.
    history.sort(key=lambda call: call[0])
    calls, recordings = [], []
    call_id = recording_id = 0
    for (
        when,
        company_id,
        attempt,
        numero,
        call_status,
        levels,
        operator,
        callback_at,
        duration,
    ) in history:
        call_id += 1
        created = when - timedelta(seconds=rng.randint(60, 600))
        calls.append(
            {
                "id": call_id,
                "company_id": company_id,
                "operator_id": operator,
                "attempt": attempt,
                "phone_id": None,  # the dashboard does not read which number a call used
                "status_numero": numero,
                "call_status": call_status,
                "presentation_level": levels[0],
                "questions_libres_level": levels[1],
                "questions_orientees_level": levels[2],
                "callback_at": callback_at,
                "callback_personal": False,
                "notes": "",
                "disposition": disposition_of(numero, call_status, levels),
                "without_recording": duration is None,
                "recording_consent": "not_asked" if duration is None else "given",
                "consent_at": None if duration is None else created,
                "created_at": created,
                "updated_at": when,
                "status_marked_at": when - timedelta(seconds=30),
                "recording_started_at": created,
                "recording_stopped_at": when - timedelta(seconds=20),
                "submitted_at": when,
            }
        )
        if duration is not None:
            recording_id += 1
            recordings.append(
                {
                    "id": recording_id,
                    "call_id": call_id,
                    "file": f"recordings/{when:%Y/%m}/call_{call_id}_{recording_id}.webm",
                    "mime_type": "audio/webm;codecs=opus",
                    "size_bytes": 0,
                    "duration_seconds": duration,
                    "chunk_count": 1,
                    "is_complete": True,
                    "purged_at": None,
                    "health": "complete",
                    "expected_chunks": 1,
                    "missing_chunks": 0,
                    "missing_indexes": "",
                    "received_seconds": duration,
                    "silent_seconds": 0,
                    "created_at": created,
                    "updated_at": when,
                }
            )
        if len(calls) >= BATCH:
            writer.write(CallRecord, call_cols, calls)
            writer.write(Recording, recording_cols, recordings)
            calls, recordings = [], []
    del history
    # A few drafts: the calls operators have open right now, never counted.
    for i in range(min(200, len(per_company))):
        call_id += 1
        calls.append(
            {
                **{c: None for c in call_cols},
                "id": call_id,
                "company_id": i + 1,
                "operator_id": operator_ids[i % len(operator_ids)],
                "attempt": 1,
                "status_numero": "",
                "call_status": "",
                "presentation_level": "",
                "questions_libres_level": "",
                "questions_orientees_level": "",
                "callback_personal": False,
                "notes": "",
                "disposition": "",
                "without_recording": False,
                "recording_consent": "not_asked",
                "created_at": now,
                "updated_at": now,
            }
        )
    writer.write(CallRecord, call_cols, calls)
    writer.write(Recording, recording_cols, recordings)
    writer.finish({Company: n_companies, CallRecord: call_id, Recording: recording_id})
    return [c.pk for c in campaigns], supervisor


def disposition_of(status_numero, call_status, levels) -> str:
    if status_numero == "invalid":
        return "4.30"
    if status_numero == "no_answer":
        return "3.13"
    if status_numero == "voicemail":
        return "3.14"
    return {
        "bad_number": "4.30",
        "not_transformer": "4.70",
        "callback": "2.21",
        "refused": "2.11",
        "accepted": "1.1" if tuple(levels) == ("complete",) * 3 else "1.2",
    }[call_status]


def company_row(company_id, campaign, last, n, now, rng, locks_given, operator_ids) -> dict:
    """The company as its last call left it (docs/ARCHITECTURE.md, the company life cycle)."""
    status, next_call_at, callback_at, disposition = "pending", None, None, ""
    if last is not None:
        when, _company, _attempt, numero, call_status, levels, _op, last_callback, _d = last
        disposition = disposition_of(numero, call_status, levels)
        if disposition in ("3.13", "3.14"):
            if n >= campaign.no_answer_max_attempts:
                status = "done"
            else:
                next_call_at = when + campaign.no_answer_delay
        elif disposition == "2.21":
            status, next_call_at = "callback", last_callback
            callback_at = next_call_at
        else:
            status = "done"
    locked_by = lock_expires = locked_at = None
    before = ""
    if status in ("pending", "callback") and rng.random() < 0.002:
        before, status = status, "in_progress"
        locked_at = now - timedelta(seconds=rng.randint(0, 600))
        lock_expires = locked_at + timedelta(seconds=120)  # some still held, most expired
        if locks_given < len(operator_ids) and lock_expires > now:
            locked_by = operator_ids[locks_given]
    return {
        "id": company_id,
        "campaign_id": campaign.pk,
        "name": f"Société {rng.choice(LOCATIONS)} {company_id}",
        "phone": f"6 {rng.randint(50, 99)} {company_id // 10000:02d} {company_id % 10000:04d}",
        "phone_e164": f"+2376{rng.randint(50, 99)}{company_id:06d}",
        "product": rng.choice(PRODUCTS),
        "activity": rng.choice(ACTIVITIES),
        "location": rng.choice(LOCATIONS),
        "legal_form": rng.choice(FORMS),
        "niu": f"M{company_id:012d}A",
        "validity_score": round(rng.uniform(0, 100), 2),
        "status": status,
        "status_before_claim": before,
        "attempts": n,
        "next_call_at": next_call_at,
        "callback_at": callback_at,
        "callback_operator_id": None,
        "locked_by_id": locked_by,
        "locked_at": locked_at,
        "lock_expires_at": lock_expires,
        "lock_token": "",
        "disposition": disposition,
        "last_called_at": last[0] if last else None,
        "is_archived": rng.random() < 0.02,
        "erased_at": None,
        "created_at": now - timedelta(days=120),
        "updated_at": last[0] if last else now,
        "time_zone": "Africa/Douala",
        "time_zone_chosen": False,
        "country": "CM",
        "appointment": False,
        "parts_tried": "",
        "conversion_at": None,
    }


class BulkWriter:
    """executemany in one transaction on SQLite, COPY on PostgreSQL; explicit ids."""

    def __init__(self, connection):
        connection.ensure_connection()
        self.connection = connection
        self.raw = connection.connection
        self.postgres = connection.vendor == "postgresql"
        if not self.postgres:
            self.raw.execute("BEGIN")

    def write(self, model, columns, rows) -> None:
        if not rows:
            return
        table = model._meta.db_table
        if self.postgres:
            with self.raw.cursor() as cursor:
                names = ", ".join(columns)
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[c] for c in columns])
            return
        marks = ", ".join("?" * len(columns))
        self.raw.executemany(
            f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})',
            ([sqlite_value(row[c]) for c in columns] for row in rows),
        )

    def finish(self, last_ids: dict) -> None:
        if self.postgres:
            self.raw.commit()
            with self.raw.cursor() as cursor:
                for model, last in last_ids.items():
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})"
                    )
            self.raw.commit()
        else:
            self.raw.execute("COMMIT")


def sqlite_value(value):
    """What Django stores in SQLite: naive UTC text for datetimes, 0/1 for booleans."""
    if isinstance(value, datetime):
        return str(value.astimezone(UTC).replace(tzinfo=None))
    if isinstance(value, bool):
        return int(value)
    return value


if __name__ == "__main__":
    main()

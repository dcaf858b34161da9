"""Load test: 50 operators, 3 supervisors on the dashboard and one exporting, against gunicorn
and PostgreSQL on loopback, then a check of what the database holds.

    make load                                   # throwaway PostgreSQL, 4 min of load
    python bench/load.py --run-time 120         # same; starts its own throwaway PostgreSQL
    BENCH_PG_URL=postgres://... python bench/load.py

Steps: migrate and seed a campaign (--companies) with one account per simulated user; start
gunicorn exactly as `make serve-prod` does (DEBUG off, `check --deploy`, collected static files,
2 x cores + 1 sync workers) on 127.0.0.1; capture --audio-seconds of real WebM/Opus from Chromium's
fake microphone (MediaRecorder, one chunk a second, as the call form does); run locust headless
(bench/locustfile.py) for --run-time seconds, users finishing the call they are in before they
stop; stop gunicorn; print requests/s and p50/p95/p99 per endpoint, error count, CPU and load
average; then verify in the database: no double claim, no company left in progress, every
submitted call's recording complete, byte for byte what was sent.

Exit status 1 when a request failed or a verification failed; a missed latency target is
printed (« NON ATTEINT ») but does not fail the run, since other work on the machine moves it.
"""

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "charge-" + secrets.token_urlsafe(12)
WEBM_SIGNATURE = b"\x1a\x45\xdf\xa3"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
P95_TARGET_MS = 300
CPU_TARGET_MS = 15  # gunicorn CPU per operator request, on average (issue 18)
# Endpoints the operators use during a call: the p95 target applies to these.
OPERATOR_ENDPOINTS = [
    "GET /appels/",
    "GET /appels/verrous/",
    "POST /appels/suivant/",
    "GET /appels/[id]/remplir/",
    "POST /appels/[id]/bail/",
    "POST /appels/[id]/micro/",
    "POST /appels/[id]/remplir/ (brouillon)",
    "POST /enregistrements/[id]/morceaux/[n]/",
    "POST /enregistrements/[id]/fin/",
    "POST /appels/[id]/valider/",
    "POST /appels/[id]/abandonner/",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(-(-fraction * len(sorted_values) // 1)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


# --- Setup ------------------------------------------------------------------------------------


def server_environment(database_url: str, workdir: Path) -> dict:
    """Production settings (docs/env.example) for a server on 127.0.0.1 behind a TLS proxy,
    which the load client plays by sending X-Forwarded-Proto: https."""
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("DJANGO_", "AWS_")) or name in ("STORAGE_BACKEND", "DEBUG"):
            env.pop(name)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        CSRF_TRUSTED_ORIGINS="",
        MEDIA_ROOT=str(workdir / "media"),
        STATIC_ROOT=str(workdir / "static"),
        LOG_LEVEL="WARNING",
        # A server keeps its compiled bytecode: without it every gunicorn worker (at start and
        # each time --max-requests recycles it) would recompile Django and the app from source.
        # The cache goes to the work folder, not into the repository or the virtualenv.
        PYTHONPYCACHEPREFIX=str(workdir / "pycache"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def seed(companies: int, operators: int, supervisors: int) -> dict:
    """A campaign of `companies` companies, one account per simulated user, all with the same
    password (hashed once with the production hasher: each login still costs one hash check)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction

    from companies.management.commands.demo import Command as Demo
    from companies.models import Campaign, Company, PhoneLabel, merge_numbers
    from core.roles import OPERATORS, SUPERVISORS

    User = get_user_model()
    probe = User(username="probe")
    probe.set_password(PASSWORD)
    operator_names = [f"charge-op{i:02d}" for i in range(1, operators + 1)]
    supervisor_names = [f"charge-sup{i}" for i in range(1, supervisors + 1)]
    with transaction.atomic():
        # Open at every hour (the load test runs whenever someone runs it); the queue still
        # checks every rule: holidays off, but the do-not-call list and quotas are read.
        campaign = Campaign.objects.create(
            name=f"Charge {time.strftime('%Y-%m-%d %H:%M:%S')}",
            calling_hours=[[["00:00", "24:00"]] for _day in range(7)],
            public_holidays=False,
        )
        created = Company.objects.bulk_create(
            Demo().demo_companies(campaign, companies), batch_size=2000
        )
        # Every company has its main number in its list, as the import writes it: the call
        # form records which number was called.
        merge_numbers((company.pk, company.phone, PhoneLabel.STANDARD) for company in created)
        users = User.objects.bulk_create(
            User(username=name, password=probe.password, first_name=name.title())
            for name in operator_names + supervisor_names
        )
        membership = User.groups.through
        groups = {name: Group.objects.get(name=name) for name in (OPERATORS, SUPERVISORS)}
        membership.objects.bulk_create(
            membership(
                user_id=user.pk,
                group_id=groups[OPERATORS if user.username in operator_names else SUPERVISORS].pk,
            )
            for user in users
        )
    return {
        "campaign_id": campaign.pk,
        "password": PASSWORD,
        "operators": operator_names,
        "supervisors": supervisor_names,
    }


def start_gunicorn(env: dict, port: int, workers: int, workdir: Path) -> subprocess.Popen:
    """The command line of `make serve-prod`, with the access log kept in a file. In its own
    process group, so that bench/cluster.py can kill one app server whole."""
    log = open(workdir / "gunicorn.log", "ab")  # noqa: SIM115 - closed with the process
    (workdir / "cpu").mkdir(exist_ok=True)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            # Bench only: each request's CPU, by endpoint (bench/gunicorn_cpu.py).
            "--config",
            str(ROOT / "bench" / "gunicorn_cpu.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            str(workdir / "access.log"),
            "--access-logformat",
            '%(t)s "%(r)s" %(s)s %(b)s %(M)s',
            "--max-requests",
            "2000",
            "--max-requests-jitter",
            "200",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=dict(env, LOAD_CPU_DIR=str(workdir / "cpu")),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({workdir / 'gunicorn.log'})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not answer /healthz/ within 60 s")


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited (status {process.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not listen on 127.0.0.1:{port} within {seconds:.0f} s")


def start_redis(port: int, folder: Path) -> subprocess.Popen:
    """A cache, not a store: nothing saved to disk, so a restart comes back empty."""
    folder.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [
            REDIS,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--logfile",
            str(folder / "redis.log"),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, process, "redis-server")
    return process


RECORD_JS = """async ([seconds, timeslice]) => {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true});
  const recorder = new MediaRecorder(stream, {mimeType: "audio/webm;codecs=opus"});
  const parts = [];
  recorder.ondataavailable = (event) => {
    if (event.data.size) parts.push(event.data);
  };
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(timeslice);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  recorder.stop();
  await stopped;
  stream.getTracks().forEach((track) => track.stop());
  const out = [];
  for (const part of parts) {
    const bytes = new Uint8Array(await part.arrayBuffer());
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    out.push(btoa(text));
  }
  return out;
}"""


def capture_audio(base_url: str, seconds: float, timeslice_ms: int, out: Path) -> str:
    """Record `seconds` of Chromium's fake microphone the way the call form does (MediaRecorder
    with a timeslice) and keep each chunk as the browser would upload it."""
    out.mkdir(parents=True, exist_ok=True)
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--no-first-run",
                    "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream",
                ],
            )
            page = browser.new_page()
            page.goto(f"{base_url}/healthz/")  # any page of the loopback origin: a secure context
            chunks = page.evaluate(
                RECORD_JS,
                [seconds, timeslice_ms],
            )
            browser.close()
        import base64

        data = [base64.b64decode(chunk) for chunk in chunks]
        source = "Chromium (micro simulé), MediaRecorder audio/webm;codecs=opus"
    except Exception as error:  # no Chromium here: bytes shaped like a WebM stream
        print(f"Capture Chromium impossible ({error!r}) : audio synthétique.")
        rng = secrets.SystemRandom()
        count = max(1, round(seconds * 1000 / timeslice_ms))
        data = [bytes(rng.getrandbits(8) for _ in range(27_000)) for _ in range(count)]
        data[0] = WEBM_SIGNATURE + data[0][4:]
        source = "synthétique (en-tête EBML + octets aléatoires)"
    if not data or not data[0].startswith(WEBM_SIGNATURE):
        raise SystemExit("the captured audio does not start with the WebM signature")
    for index, chunk in enumerate(data):
        (out / f"{index:03d}.bin").write_bytes(chunk)
    return source


class Sampler:
    """Load average and CPU seconds of the server, the database and the load generator."""

    def __init__(self, gunicorn_pids: list[int], database_port: int):
        import psutil

        self.psutil = psutil
        self.gunicorn = [psutil.Process(pid) for pid in gunicorn_pids]
        self.last_cpu: dict[int, float] = {}  # an app server killed keeps what it had used
        self.database_port = database_port
        self.postmaster = self._find_postmaster(database_port)
        self.postgres_before = self.last_postgres = 0.0
        self.loads: list[float] = []
        self.samples: list[tuple[float, dict]] = []
        self.start = self._cpu()
        self.start_time = time.monotonic()

    def _postgres_cpu(self) -> float:
        """The server's CPU, across a restart (bench/cluster.py stops and starts it)."""
        if self.postmaster is not None and not self.postmaster.is_running():
            self.postgres_before += self.last_postgres
            self.last_postgres = 0.0
            self.postmaster = None
        if self.postmaster is None:
            self.postmaster = self._find_postmaster(self.database_port)
        if self.postmaster is not None:
            self.last_postgres = self._tree_cpu(self.postmaster)
        return self.postgres_before + self.last_postgres

    def _find_postmaster(self, port: int):
        for process in self.psutil.process_iter(["name", "cmdline"]):
            cmdline = process.info["cmdline"] or []
            if process.info["name"] == "postgres" and str(port) in cmdline:
                return process
        return None

    @staticmethod
    def _tree_cpu(process) -> float:
        if process is None:
            return 0.0
        try:
            own = process.cpu_times()
            total = own.user + own.system + own.children_user + own.children_system
            for child in process.children(recursive=True):
                try:
                    times = child.cpu_times()
                    total += times.user + times.system
                except Exception:
                    pass
            return total
        except Exception:
            return 0.0

    def track(self, pid: int) -> None:
        """An app server started during the run (bench/cluster.py restarts one)."""
        self.gunicorn.append(self.psutil.Process(pid))

    def _server_cpu(self, process) -> float:
        if process.is_running():
            self.last_cpu[process.pid] = self._tree_cpu(process)
        return self.last_cpu.get(process.pid, 0.0)

    def _cpu(self) -> dict:
        system = self.psutil.cpu_times()
        return {
            "gunicorn": sum(self._server_cpu(process) for process in self.gunicorn),
            "postgres": self._postgres_cpu(),
            "busy": system.user + system.system + system.nice + system.irq + system.softirq,
        }

    def sample(self) -> None:
        self.loads.append(os.getloadavg()[0])
        self.samples.append((time.time(), self._cpu()))

    def window(self, since: float, until: float) -> dict | None:
        """CPU seconds per second of each part between two wall-clock times (epoch)."""
        inside = [(at, cpu) for at, cpu in self.samples if since <= at <= until]
        if len(inside) < 2:
            return None
        (first_at, first), (last_at, last) = inside[0], inside[-1]
        seconds = last_at - first_at
        rates = {name: (last[name] - first[name]) / seconds for name in first}
        return {"since": first_at, "until": last_at, **rates}

    def finish(self, locust_cpu: float) -> dict:
        end = self._cpu()
        wall = time.monotonic() - self.start_time
        return {
            "wall_s": wall,
            "load1_min": min(self.loads, default=float("nan")),
            "load1_mean": sum(self.loads) / len(self.loads) if self.loads else float("nan"),
            "load1_max": max(self.loads, default=float("nan")),
            "cores": os.cpu_count(),
            "cpu_s_gunicorn": end["gunicorn"] - self.start["gunicorn"],
            "cpu_s_postgres": end["postgres"] - self.start["postgres"],
            "cpu_s_locust": locust_cpu,
            "cpu_s_machine": end["busy"] - self.start["busy"],
        }


def run_locust(env: dict, args, host: str, workdir: Path, sampler: Sampler) -> tuple[int, float]:
    """Run locust headless until its --run-time is over; returns its exit status and CPU s."""
    users = args.operators + args.supervisors + 1
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.run_time}s",
        "--stop-timeout",
        str(args.stop_timeout),
        "--host",
        host,
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    with open(workdir / "locust.log", "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        import psutil

        watched = psutil.Process(process.pid)
        cpu = 0.0
        while process.poll() is None:
            sampler.sample()
            try:
                times = watched.cpu_times()
                cpu = times.user + times.system
            except psutil.Error:
                pass
            time.sleep(2)
    return process.returncode, cpu


# --- Report -----------------------------------------------------------------------------------


def latency_row(name: str, requests: list[dict], window: float) -> dict:
    """One line of the report: how many requests, how fast, how many failed."""
    times = sorted(r["ms"] for r in requests)
    return {
        "name": name,
        "count": len(requests),
        "rps": len(requests) / window,
        "p50": percentile(times, 0.50),
        "p95": percentile(times, 0.95),
        "p99": percentile(times, 0.99),
        "max": times[-1],
        "errors": sum(1 for r in requests if r["error"]),
    }


def exit_keeping_logs(workdir: Path, keep: bool, failed: bool) -> None:
    """The work folder (logs, data) stays when asked to or when the run failed."""
    if keep or failed:
        print(f"Journaux et données : {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if failed else 0)


def endpoint_stats(requests: list[dict], since: float | None = None) -> tuple[list[dict], float]:
    chosen = [r for r in requests if since is None or r["start"] >= since]
    if not chosen:
        return [], 0.0
    window = max(r["start"] + r["ms"] / 1000 for r in chosen) - min(r["start"] for r in chosen)
    by_name = defaultdict(list)
    for request in chosen:
        by_name[request["name"]].append(request)
    rows = [latency_row(name, items, window) for name, items in sorted(by_name.items())]
    rows.append(latency_row("Total", chosen, window))
    return rows, window


def server_cpu(folders: list[Path], since: float | None, until: float | None) -> list[dict]:
    """CPU per request by endpoint, as the gunicorn workers measured it (bench/gunicorn_cpu.py),
    for the requests that started between `since` and `until` (epoch s; None: no bound)."""
    by_name = defaultdict(list)
    for folder in folders:
        for path in sorted((folder / "cpu").glob("cpu-*.tsv")):
            for line in path.read_text().splitlines():
                start, name, cpu_ms, wall_ms = line.split("\t")
                if (since is None or float(start) >= since) and (
                    until is None or float(start) <= until
                ):
                    by_name[name].append((float(cpu_ms), float(wall_ms)))
    rows = []
    groups = [(name, items) for name, items in sorted(by_name.items())]
    operator = [item for name, items in groups if name in OPERATOR_ENDPOINTS for item in items]
    everything = [item for _name, items in groups for item in items]
    groups += [("Opérateurs (moyenne)", operator), ("Total", everything)]
    for name, items in groups:
        if not items:
            continue
        cpu = sorted(item[0] for item in items)
        wall = sorted(item[1] for item in items)
        rows.append(
            {
                "name": name,
                "count": len(items),
                "cpu_mean": sum(cpu) / len(cpu),
                "cpu_p50": percentile(cpu, 0.50),
                "cpu_p95": percentile(cpu, 0.95),
                "cpu_s": sum(cpu) / 1000,
                "wall_p50": percentile(wall, 0.50),
                "wall_p95": percentile(wall, 0.95),
            }
        )
    return rows


def print_cpu_table(rows: list[dict]) -> None:
    print(
        f"  {'endpoint':<42} {'requêtes':>8} {'CPU moy':>7} {'p50':>6} {'p95':>6} "
        f"{'CPU (s)':>7} {'serveur p50':>11} {'p95':>6}"
    )
    for row in rows:
        print(
            f"  {row['name']:<42} {row['count']:>8} {row['cpu_mean']:>7.1f} {row['cpu_p50']:>6.1f} "
            f"{row['cpu_p95']:>6.1f} {row['cpu_s']:>7.1f} {row['wall_p50']:>11.1f} "
            f"{row['wall_p95']:>6.1f}"
        )


def call_audio(captured: list[bytes], count: int) -> list[bytes]:
    """The `count` chunks a call's recorder uploads: the captured recording's first chunk (the
    WebM header and first frames), then its following chunks over and over. Calls of one to
    three minutes from a capture of a few seconds: the server stores bytes and checks only
    their start, so what matters is their size and that each call's file can be checked byte
    for byte."""
    rest = captured[1:] or captured
    return [captured[0]] + [rest[index % len(rest)] for index in range(count - 1)]


AUDIO_ENDPOINTS = ["POST /enregistrements/[id]/morceaux/[n]/", "POST /enregistrements/[id]/fin/"]


def per_operator(rows: list[dict], operators: int) -> dict:
    """Requests per second one operator sends: all of a call's requests, and the audio's."""
    rate = {row["name"]: row["rps"] for row in rows}
    return {
        "all": sum(rate.get(name, 0.0) for name in OPERATOR_ENDPOINTS) / operators,
        "audio": sum(rate.get(name, 0.0) for name in AUDIO_ENDPOINTS) / operators,
        "chunks": rate.get(AUDIO_ENDPOINTS[0], 0.0) / operators,
    }


def print_table(rows: list[dict]) -> None:
    print(
        f"  {'endpoint':<42} {'requêtes':>8} {'req/s':>6} {'p50':>6} {'p95':>6} {'p99':>6} "
        f"{'max':>6} {'erreurs':>7}"
    )
    for row in rows:
        flag = ""
        if row["name"] in OPERATOR_ENDPOINTS and row["p95"] >= P95_TARGET_MS:
            flag = "  p95 NON ATTEINT"
        print(
            f"  {row['name']:<42} {row['count']:>8} {row['rps']:>6.2f} {row['p50']:>6.0f} "
            f"{row['p95']:>6.0f} {row['p99']:>6.0f} {row['max']:>6.0f} {row['errors']:>7}{flag}"
        )


# --- Verification -----------------------------------------------------------------------------


def overlaps(spans: list[tuple]) -> int:
    """How many (start, end, who) spans of one company begin before the previous holder's end,
    with another holder."""
    spans = sorted(spans)
    count = 0
    for (_start, end, who), (next_start, _end, next_who) in zip(spans, spans[1:], strict=False):
        if who != next_who and next_start < end:
            count += 1
    return count


def verify(accounts: dict, claims: list[dict], audio: list[bytes]) -> list[tuple[str, bool, str]]:
    """What the database holds after the run, against what the clients did."""
    from django.core.files.storage import default_storage
    from django.db.models import Count, Max, Sum
    from django.utils import timezone

    from calls.models import CallRecord, Recording, RecordingChunk
    from companies.models import Company, Status

    campaign_id = accounts["campaign_id"]
    companies = Company.objects.filter(campaign_id=campaign_id)
    calls = CallRecord.objects.filter(company__campaign_id=campaign_id)
    submitted = calls.submitted()
    results = []

    def check(label: str, ok: bool, detail: str) -> None:
        results.append((label, ok, detail))

    # Double claims, three ways.
    same_attempt = (
        submitted.values("company_id", "attempt").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    check(
        "aucun double appel validé (même entreprise, même tentative)",
        same_attempt == 0,
        f"{same_attempt} doublon(s) sur {submitted.count()} appels validés",
    )
    windows = defaultdict(list)
    fields = ("company_id", "operator_id", "created_at", "submitted_at", "updated_at")
    for call in calls.values(*fields):
        windows[call["company_id"]].append(
            (call["created_at"], call["submitted_at"] or call["updated_at"], call["operator_id"])
        )
    overlapping = sum(overlaps(spans) for spans in windows.values())
    check(
        "aucun chevauchement d'appels de deux opérateurs sur une entreprise (base)",
        overlapping == 0,
        f"{overlapping} chevauchement(s) sur {len(windows)} entreprises appelées",
    )
    held = defaultdict(list)
    for claim in claims:
        end = claim.get("submitted_at") or claim.get("released_at") or float("inf")
        held[claim["company"]].append((claim["claimed_at"], end, claim["operator"]))
    client_overlaps = sum(overlaps(spans) for spans in held.values())
    check(
        "aucune entreprise servie à deux opérateurs à la fois (vu des clients)",
        client_overlaps == 0,
        f"{len(claims)} prises, {len(held)} entreprises distinctes, "
        f"{client_overlaps} chevauchement(s)",
    )

    check(
        "des appels ont bien été validés pendant la course",
        submitted.exists(),
        f"{submitted.count()} appel(s) validé(s)",
    )

    # Nothing stuck.
    now = timezone.now()
    in_progress = companies.filter(status=Status.IN_PROGRESS)
    live = in_progress.filter(lock_expires_at__gt=now).count()
    check(
        "aucune entreprise restée « En cours » après l'arrêt",
        in_progress.count() == 0,
        f"{in_progress.count()} en cours, dont {live} avec un bail encore valide",
    )

    # Client and server agree on what was submitted.
    client_submitted = [claim for claim in claims if claim.get("submitted_at")]
    check(
        "chaque validation vue par un client est en base, et rien d'autre",
        len(client_submitted) == submitted.count(),
        f"clients : {len(client_submitted)}, base : {submitted.count()}",
    )
    # What each operator chose (three draft saves, then « Valider ») is what the database holds.
    sent = Counter(
        (claim["company"], claim["operator"], claim["outcome"]) for claim in client_submitted
    )
    stored = Counter(
        (company_id, username, outcome if numero == "answered" else numero)
        for company_id, username, numero, outcome in submitted.values_list(
            "company_id", "operator__username", "status_numero", "call_status"
        )
    )
    check(
        "chaque appel validé porte le résultat choisi par son opérateur",
        sent == stored,
        f"{sum(sent.values())} résultats envoyés, {sum((sent - stored).values())} absent(s) "
        f"ou différent(s) en base",
    )
    attempts = companies.aggregate(total=Sum("attempts"), most=Max("attempts"))
    check(
        "tentatives des entreprises = appels validés",
        (attempts["total"] or 0) == submitted.count(),
        f"somme des tentatives {attempts['total']}, au plus {attempts['most']} par entreprise",
    )

    # Recordings: complete, byte for byte what the clients sent (each call its own length).
    expected_by_count: dict[int, tuple[int, str]] = {}

    def expected(count: int) -> tuple[int, str]:
        if count not in expected_by_count:
            content = b"".join(call_audio(audio, count))
            expected_by_count[count] = (len(content), hashlib.sha256(content).hexdigest())
        return expected_by_count[count]

    chunks_of = {c["recording_id"]: c.get("chunks") for c in claims if c.get("recording_id")}
    short_sends = [
        c for c in client_submitted if c.get("bytes_sent") != expected(c.get("chunks") or 0)[0]
    ]
    bad = []
    checked = 0
    total_bytes = 0
    recordings = Recording.objects.filter(call__in=submitted).select_related("call")
    per_call = Counter(recordings.values_list("call_id", flat=True))
    for call in submitted.filter(recording_started_at__isnull=False):
        if per_call.get(call.pk) != 1:
            bad.append(f"appel {call.pk} : {per_call.get(call.pk, 0)} enregistrement(s)")
    for recording in recordings:
        checked += 1
        problem = None
        size, sha = expected(chunks_of.get(recording.pk) or 0)
        if not recording.is_complete or not recording.file:
            problem = "incomplet"
        elif recording.health != "complete":
            problem = f"santé {recording.health} ({recording.missing_chunks} manquant(s))"
        elif recording.size_bytes != size:
            problem = f"taille {recording.size_bytes} au lieu de {size}"
        else:
            with default_storage.open(recording.file.name, "rb") as handle:
                content = handle.read()
            total_bytes += len(content)
            if not content.startswith(WEBM_SIGNATURE):
                problem = "signature WebM absente"
            elif hashlib.sha256(content).hexdigest() != sha:
                problem = f"contenu différent ({len(content)} octets)"
        if problem:
            bad.append(f"enregistrement {recording.pk} : {problem}")
    no_audio = submitted.filter(recording_started_at__isnull=True).count()
    check(
        "chaque appel validé a son enregistrement complet, octet pour octet",
        not bad and not short_sends and no_audio == 0 and checked == submitted.count(),
        f"{checked} fichiers vérifiés ({total_bytes / 1e6:.1f} Mo, chacun le sha256 des "
        f"morceaux que son appel a envoyés), "
        f"{len(bad)} défaut(s), {len(short_sends)} envoi(s) incomplet(s), "
        f"{no_audio} appel(s) sans micro" + (f" ; {bad[:3]}" if bad else ""),
    )
    # Calls abandoned at the end (stop timeout): what was recorded is kept as one whole file.
    abandoned = Recording.objects.filter(call__in=calls.drafts())
    unfinished = abandoned.filter(is_complete=False).count()
    leftovers = RecordingChunk.objects.filter(recording__call__in=calls).count()
    check(
        "aucun morceau orphelin ; les appels abandonnés gardent leur son en un fichier",
        leftovers == 0 and unfinished == 0,
        f"{leftovers} morceau(x) restant(s), {abandoned.count()} enregistrement(s) d'appels "
        f"abandonnés dont {unfinished} non finalisé(s)",
    )
    return results


# --- Main -------------------------------------------------------------------------------------


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The load's own options, shared with bench/cluster.py."""
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--supervisors", type=int, default=5, help="on the dashboard")
    parser.add_argument("--run-time", type=int, default=300, help="seconds of load")
    parser.add_argument("--spawn-rate", type=float, default=2.0, help="users started per second")
    parser.add_argument("--companies", type=int, default=20_000)
    parser.add_argument(
        "--call-seconds",
        type=float,
        nargs=2,
        default=[60.0, 180.0],
        metavar=("MIN", "MAX"),
        help="how long a call's recording lasts, drawn evenly between the two",
    )
    parser.add_argument(
        "--audio-seconds", type=float, default=20.0, help="audio captured from Chromium"
    )
    parser.add_argument("--timeslice-ms", type=int, default=1000, help="the recorder's chunks")
    parser.add_argument(
        "--batch-seconds",
        type=float,
        help="how long after an upload the recorder sends what waits (default: the call form's)",
    )
    parser.add_argument("--dashboard-every", type=float, default=5.0)
    parser.add_argument("--export-every", type=float, default=60.0)
    parser.add_argument(
        "--stop-timeout",
        type=int,
        default=240,
        help="seconds users get to finish their call at the end; past it they abandon it",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, data)")
    parser.add_argument("--json", type=Path, help="write the figures to this file as well")


def postgres_url(script: str) -> str:
    """BENCH_PG_URL, or a throwaway PostgreSQL: the script runs again under
    tests/with_postgres.sh, which stops and removes the server when it ends."""
    database_url = os.environ.get("BENCH_PG_URL")
    if not database_url:
        if os.environ.get("NAUMUR_LOAD_THROWAWAY") and os.environ.get("DATABASE_URL"):
            database_url = os.environ["DATABASE_URL"]
        else:  # start our own throwaway PostgreSQL and come back
            env = dict(os.environ, NAUMUR_LOAD_THROWAWAY="1")
            with_postgres = str(ROOT / "tests" / "with_postgres.sh")
            os.execvpe(with_postgres, [with_postgres, sys.executable, script, *sys.argv[1:]], env)
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("The load test runs against PostgreSQL (BENCH_PG_URL).")
    return database_url


def prepare(env: dict, args, workdir: Path) -> dict:
    """Deployment checks, static files, migrations and the seeded campaign, in this process's
    Django (which bench/cluster.py and verify() go on using)."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    manage(env, "check", "--deploy", "--fail-level", "WARNING")
    manage(env, "collectstatic", "--no-input", "--verbosity", "0")
    manage(env, "migrate", "--no-input", "--verbosity", "0")
    import django

    django.setup()
    from django.db import connections

    started = time.monotonic()
    accounts = seed(args.companies, args.operators, args.supervisors + 1)
    connections.close_all()
    print(
        f"Données : {args.companies} entreprises, {args.operators} opérateurs, "
        f"{args.supervisors + 1} superviseurs ({time.monotonic() - started:.1f} s)"
    )
    (workdir / "accounts.json").write_text(json.dumps(accounts))
    return accounts


def locust_environment(env: dict, args, workdir: Path) -> dict:
    return dict(
        env,
        LOAD_ACCOUNTS=str(workdir / "accounts.json"),
        LOAD_AUDIO=str(workdir / "audio"),
        LOAD_OUTPUT=str(workdir / "out"),
        LOAD_OPERATORS=str(args.operators),
        LOAD_SUPERVISORS=str(args.supervisors),
        LOAD_CHUNK_SECONDS=str(args.timeslice_ms / 1000),
        LOAD_BATCH_SECONDS="" if args.batch_seconds is None else str(args.batch_seconds),
        LOAD_CALL_SECONDS=",".join(f"{seconds:g}" for seconds in args.call_seconds),
        LOAD_DASHBOARD_EVERY=str(args.dashboard_every),
        LOAD_EXPORT_EVERY=str(args.export_every),
    )


def load_audio(host: str, args, workdir: Path) -> tuple[list[bytes], str]:
    source = capture_audio(host, args.audio_seconds, args.timeslice_ms, workdir / "audio")
    audio = [path.read_bytes() for path in sorted((workdir / "audio").glob("*.bin"))]
    print(
        f"Audio : {len(audio)} morceaux, {sum(map(len, audio))} octets pour "
        f"{args.audio_seconds:g} s — {source}"
    )
    return audio, source


def read_outputs(workdir: Path, locust_code: int) -> tuple[list, list, dict]:
    out = workdir / "out"
    if locust_code != 0 or not (out / "requests.json").exists():
        print((workdir / "locust.log").read_text()[-4000:])
        raise SystemExit(f"locust failed (exit {locust_code}); logs in {workdir}")
    return (
        json.loads((out / "requests.json").read_text()),
        json.loads((out / "claims.json").read_text()),
        json.loads((out / "marks.json").read_text()),
    )


def summarise(
    args,
    requests: list[dict],
    claims: list[dict],
    marks: dict,
    audio: list[bytes],
    accounts: dict,
    sampler: "Sampler",
    machine: dict,
    server_folders: list[Path],
    fault_windows: list[tuple[float, float]] = (),
) -> tuple[bool, dict]:
    """Print the figures and the verification; returns (failed, figures for --json).

    Requests answered inside a fault window (bench/cluster.py) are reported there; the zero
    error target applies to the others. A database outage logs each refused request's
    traceback by design, so with faults the server's logs are reported, not judged."""
    rows, window = endpoint_stats(requests)
    steady_since = marks.get("spawning_complete")
    steady_rows, steady_window = endpoint_stats(requests, since=steady_since)
    print(f"\nToute la course ({window:.0f} s, montée en charge comprise), temps en ms :")
    print_table(rows)
    if steady_since:
        print(f"\nRégime établi (après la montée en charge, {steady_window:.0f} s), temps en ms :")
        print_table(steady_rows)
    operator_rate = per_operator(steady_rows or rows, args.operators)
    print(
        f"\nPar opérateur : {operator_rate['all']:.2f} requêtes/s, dont audio "
        f"{operator_rate['audio']:.2f} (envois de morceaux {operator_rate['chunks']:.2f})"
    )

    steady_cpu = None
    if steady_since and marks.get("test_start"):
        steady_cpu = sampler.window(steady_since, marks["test_start"] + args.run_time)
    if steady_cpu:
        served = sum(
            1 for r in requests if steady_cpu["since"] <= r["start"] <= steady_cpu["until"]
        )
        rate = served / (steady_cpu["until"] - steady_cpu["since"])
        steady_cpu["requests_per_s"] = rate
        print(
            f"\nCPU en régime établi : {rate:.1f} requêtes/s ; gunicorn "
            f"{steady_cpu['gunicorn']:.2f} cœur ({1000 * steady_cpu['gunicorn'] / rate:.1f} ms "
            f"par requête), PostgreSQL {steady_cpu['postgres']:.2f} cœur "
            f"({1000 * steady_cpu['postgres'] / rate:.1f} ms par requête), toute la machine "
            f"{steady_cpu['busy']:.2f} cœur sur {os.cpu_count()}"
        )

    cpu_since = steady_cpu["since"] if steady_cpu else None
    cpu_until = steady_cpu["until"] if steady_cpu else None
    cpu_rows = server_cpu(server_folders, cpu_since, cpu_until)
    if cpu_rows:
        print(
            "\nCPU des workers gunicorn par requête, "
            + ("en régime établi" if steady_cpu else "toute la course")
            + " (ms, mesuré dans chaque worker ; « serveur » : temps passé dans le worker) :"
        )
        print_cpu_table(cpu_rows)
        by_name = {row["name"]: row for row in cpu_rows}
        operator_mean = by_name.get("Opérateurs (moyenne)", {}).get("cpu_mean", float("nan"))
        print(
            f"Objectif ≤ {CPU_TARGET_MS} ms de CPU par requête d'opérateur en moyenne : "
            f"{operator_mean:.1f} ms — "
            + ("atteint" if operator_mean <= CPU_TARGET_MS else "NON ATTEINT")
        )
        if steady_cpu:
            measured = by_name["Total"]["cpu_s"]
            seconds = steady_cpu["until"] - steady_cpu["since"]
            outside = steady_cpu["gunicorn"] * seconds - measured
            print(
                f"Hors des requêtes (lecture des en-têtes, journal d'accès, processus maître, "
                f"workers relancés) : {1000 * outside / max(1, by_name['Total']['count']):.1f} ms "
                "par requête"
            )

    statuses = Counter()
    server_errors = 0
    for folder in server_folders:
        for line in (folder / "access.log").read_text().splitlines():
            parts = line.rsplit(" ", 3)
            if len(parts) == 4:
                statuses[parts[1]] += 1
        server_log = (folder / "gunicorn.log").read_text()
        server_errors += server_log.count("Traceback") + server_log.count("WORKER TIMEOUT")
    refused = sum(count for status, count in statuses.items() if status[:1] in ("4", "5"))

    def during_fault(request: dict) -> bool:
        # When the answer came, not when the request left: on a busy machine a request sent
        # before a fault may wait seconds in a queue and be served during it.
        answered = request["start"] + request["ms"] / 1000
        return any(start <= answered <= end for start, end in fault_windows)

    errors = sum(1 for r in requests if r["error"] and not during_fault(r))
    if fault_windows:
        print(
            f"\n{sum(1 for r in requests if r['error']) - errors} requête(s) en échec pendant "
            "les pannes (détail plus bas), le reste de la course est jugé sans elles."
        )
    print(
        f"\nErreurs : {errors} requête(s) en échec côté client ; statuts HTTP vus par le serveur : "
        f"{dict(sorted(statuses.items()))} ; {server_errors} trace(s) d'erreur dans le journal "
        "gunicorn"
    )
    if errors:
        outside = Counter(r["error"] for r in requests if r["error"] and not during_fault(r))
        for message, count in outside.most_common(5):
            print(f"  {count} × {message}")
    m = machine
    print(
        f"Machine : {m['cores']} cœurs, charge (load average 1 min) pendant la course "
        f"min {m['load1_min']:.1f} / moyenne {m['load1_mean']:.1f} / max {m['load1_max']:.1f} ; "
        f"CPU consommé en {m['wall_s']:.0f} s : gunicorn {m['cpu_s_gunicorn']:.0f} s, "
        f"PostgreSQL {m['cpu_s_postgres']:.0f} s, locust {m['cpu_s_locust']:.0f} s, "
        f"toute la machine {m['cpu_s_machine']:.0f} s "
        f"(sur {m['cores'] * m['wall_s']:.0f} s disponibles)"
    )

    results = verify(accounts, claims, audio)
    print("\nVérifications en base :")
    for label, ok, detail in results:
        print(f"  [{'OK' if ok else 'ÉCHEC'}] {label} — {detail}")

    submitted = [c for c in claims if c.get("submitted_at")]
    outcomes = Counter(c.get("outcome") for c in submitted)
    print(f"\nAppels validés : {len(submitted)} ({dict(outcomes.most_common())})")
    for label, table in (("toute la course", rows), ("régime établi", steady_rows)):
        missed = [
            r["name"]
            for r in table
            if r["name"] in OPERATOR_ENDPOINTS and r["p95"] >= P95_TARGET_MS
        ]
        print(
            f"Objectif p95 < {P95_TARGET_MS} ms (opérateurs, {label}) : "
            + ("atteint" if not missed else f"NON ATTEINT pour {len(missed)} endpoint(s)")
        )
    no_error = errors == 0 and (bool(fault_windows) or (server_errors == 0 and refused == 0))
    print(
        "Objectif zéro erreur"
        + (" (hors pannes)" if fault_windows else "")
        + " : "
        + ("atteint" if no_error else "NON ATTEINT")
    )
    failed = not no_error or not all(ok for _, ok, _ in results)
    figures = {
        "rows": rows,
        "steady_rows": steady_rows,
        "machine": machine,
        "steady_cpu": steady_cpu,
        "cpu_by_endpoint": cpu_rows,
        "per_operator": operator_rate,
        "statuses": statuses,
        "errors": errors,
        "server_errors": server_errors,
        "verification": results,
        "submitted": len(submitted),
        "outcomes": outcomes,
        "audio_captured_bytes": sum(map(len, audio)),
        "audio_captured_chunks": len(audio),
    }
    return failed, figures


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_arguments(parser)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument(
        "--cache",
        choices=["redis", "process"],
        default="redis",
        help="the workers' cache: one Redis they share (CACHE_URL, as the README advises for "
        "several workers; sessions are then read from it), or one per process",
    )
    args = parser.parse_args()

    database_url = postgres_url(__file__)
    database_port = int(database_url.rsplit(":", 1)[1].split("/")[0])
    workdir = Path(tempfile.mkdtemp(prefix="naumur-load-"))
    env = server_environment(database_url, workdir)
    print(f"Dossier de travail : {workdir}")
    redis = None
    if args.cache == "redis":
        redis_port = free_port()
        redis = start_redis(redis_port, workdir / "redis")
        env["CACHE_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    accounts = prepare(env, args, workdir)

    port = free_port()
    host = f"http://127.0.0.1:{port}"
    gunicorn = start_gunicorn(env, port, args.workers, workdir)
    try:
        audio, audio_source = load_audio(host, args, workdir)
        print(
            f"Charge : gunicorn {args.workers} workers sur {host}, {args.operators} opérateurs + "
            f"{args.supervisors} superviseurs (tableau de bord toutes les "
            f"{args.dashboard_every:g} s) + 1 export toutes les {args.export_every:g} s, "
            f"{args.run_time} s, {args.spawn_rate:g} utilisateurs/s au démarrage ; appels de "
            f"{args.call_seconds[0]:g} à {args.call_seconds[1]:g} s ; cache "
            f"{'Redis partagé' if redis else 'par processus'}…",
            flush=True,
        )
        sampler = Sampler([gunicorn.pid], database_port)
        locust_env = locust_environment(env, args, workdir)
        locust_code, locust_cpu = run_locust(locust_env, args, host, workdir, sampler)
        machine = sampler.finish(locust_cpu)
    finally:
        stop_process(gunicorn)
        if redis is not None:
            stop_process(redis)

    requests, claims, marks = read_outputs(workdir, locust_code)
    failed, figures = summarise(
        args, requests, claims, marks, audio, accounts, sampler, machine, [workdir]
    )
    if args.json:
        figures["audio_source"] = audio_source
        args.json.write_text(json.dumps(figures, indent=1, default=str))
    exit_keeping_logs(workdir, args.keep, failed)


if __name__ == "__main__":
    main()

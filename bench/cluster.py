"""Load test of several app servers behind nginx, with faults injected during the run.

    make load-cluster                                   # 2 app servers, 50 operators, faults
    make load-cluster LOAD_ARGS="--operators 20 --run-time 180 --keep"
    python bench/cluster.py --no-faults                 # the same topology, left alone

Everything on loopback, each app server on its own port standing for its own host:
- nginx (Debian's package) on one port, round-robin over --instances gunicorn servers started
  as `make serve-prod` does (production settings, `check --deploy`). Open-source nginx checks
  its upstreams passively: a connection refused or a timeout marks a server down for
  fail_timeout (max_fails=1 fail_timeout=5s), then one request tries it again. Active checks
  of /healthz/ (the `health_check` directive) are nginx Plus only; this script polls /healthz/
  itself to time a restarted server's return.
- what the app servers share, as on separate hosts: a throwaway PostgreSQL
  (tests/with_postgres.sh), S3 for the recordings (moto's server, STORAGE_BACKEND=s3) and
  Redis for the cache (Debian's redis-server, CACHE_URL=redis://). Sessions, login throttling
  (django-axes) and call locks live in PostgreSQL; the CSRF and message cookies are signed with
  the one SECRET_KEY; static files are collected from the same code.

The load is bench/load.py's: the same locustfile, options and database checks (no double claim,
every submitted call in the database with the operator's outcome, every recording byte for byte
what was sent). Faults, at fixed fractions of --run-time once every user has started:
- one app server killed (SIGKILL, its whole process group) and started again 15 s later;
- PostgreSQL stopped for 10 s (`tests/with_postgres.sh --stop`, then `--start`);
- Redis stopped for 20 s.
The report lists the errors clients saw during each fault, then checks what must hold across
servers: recordings whose chunks landed on both servers are complete and byte-identical, and the
dashboard's figures (kept per day in the database) are the same from each server and the same as
counted without any cache.

Exit status 1 when a check fails or a request failed outside the fault windows.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import load

ROOT = load.ROOT
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
BUCKET = "naumur-cluster"
S3_KEY, S3_SECRET = "naumur-cluster", "naumur-cluster-secret"
# Seconds after a fault ends during which its effects (nginx noticing a server is back, a
# client's retry) still belong to it in the report.
SETTLE_S = 10
CHUNK_PATH = re.compile(r"^/enregistrements/(\d+)/morceaux/\d+/$")


# --- The pieces -----------------------------------------------------------------------------


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


def start_moto(port: int, folder: Path) -> subprocess.Popen:
    """moto's S3 server (as tests/storage/test_s3.py uses it) with the recordings' bucket."""
    log = open(folder / "moto.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process, "moto server")
    import boto3

    boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
    ).create_bucket(Bucket=BUCKET)
    return process


def cluster_environment(env: dict, s3_port: int, redis_port: int) -> dict:
    """What each app server is told about the shared services (docs/deploy.md)."""
    return dict(
        env,
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_ENDPOINT_URL=f"http://127.0.0.1:{s3_port}",
        AWS_S3_REGION_NAME="us-east-1",
        AWS_ACCESS_KEY_ID=S3_KEY,
        AWS_SECRET_ACCESS_KEY=S3_SECRET,
        CACHE_URL=f"redis://127.0.0.1:{redis_port}/0",
        # nginx sets X-Real-IP; a client cannot forge it through nginx.
        AXES_IPWARE_META_PRECEDENCE_ORDER="HTTP_X_REAL_IP,REMOTE_ADDR",
    )


def nginx_config(folder: Path, listen_port: int, upstream_ports: list[int]) -> str:
    """nginx in front of the app servers: round-robin, passive health checks, the headers of
    docs/nginx.conf. It stands where TLS would end (X-Forwarded-Proto: https) but listens in
    plain HTTP on loopback, to spend the machine's CPU on the app rather than on TLS."""
    servers = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in upstream_ports
    )
    temp = folder / "tmp"
    return f"""# Generated by bench/cluster.py
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    log_format cluster '$msec $upstream_addr $status "$upstream_status" "$request" $request_time';
    access_log {folder}/access.log cluster;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    # An audio chunk (a few tens of KB) stays in memory; an import up to IMPORT_MAX_BYTES.
    client_body_buffer_size 1m;
    client_max_body_size 52m;

    upstream naumur_app {{
{servers}
        keepalive 32;
    }}

    server {{
        listen 127.0.0.1:{listen_port};
        location / {{
            proxy_pass http://naumur_app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # The port too: the browser's Origin carries it and CSRF checks compare them.
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_redirect off;
            proxy_read_timeout 120s;
            # A server that refuses or does not accept within 2 s: the next one gets the
            # request (for a POST only if it was not sent yet) and this one is out for
            # fail_timeout. The app's own 503 (database down) goes to the client as it is.
            proxy_connect_timeout 2s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
        }}
    }}
}}
"""


def start_nginx(folder: Path, listen_port: int, upstream_ports: list[int]) -> subprocess.Popen:
    folder.mkdir(exist_ok=True)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "tmp" / name).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        # Workers run as nobody: they write request bodies and buffered responses here.
        os.chmod(folder.parent, 0o711)
        shutil.chown(folder / "tmp", "nobody")
        for path in (folder / "tmp").iterdir():
            shutil.chown(path, "nobody")
    conf = folder / "nginx.conf"
    conf.write_text(nginx_config(folder, listen_port, upstream_ports))
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(listen_port, process, "nginx")
    return process


class AppServer:
    """One gunicorn server, as on its own host: its port, its folder of logs."""

    def __init__(self, number: int, env: dict, workers: int, workdir: Path):
        self.name = f"app{number}"
        self.port = load.free_port()
        self.env, self.workers = env, workers
        self.folder = workdir / self.name
        self.folder.mkdir()
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = load.start_gunicorn(self.env, self.port, self.workers, self.folder)

    def kill(self) -> None:
        """The host goes away: master and workers at once, nothing finished or flushed."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.address}/healthz/", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False


# --- Dashboard history: closed days -----------------------------------------------------------


def seed_history(operators: list[str], days: int = 30, per_day: int = 40) -> int:
    """A second campaign with submitted calls on each of the last `days` days: the dashboard's
    « depuis le début » view of it is all closed days, read from the kept daily figures.
    A campaign of its own, so that the load's checks on the load campaign stay exact."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from calls import daily
    from calls.models import CallRecord
    from companies.management.commands.demo import Command as Demo
    from companies.models import Campaign, Company, PhoneLabel, merge_numbers

    campaign = Campaign.objects.create(  # inactive: never served to the load's operators
        name=f"Historique {time.strftime('%Y-%m-%d %H:%M:%S')}", is_active=False
    )
    companies = Company.objects.bulk_create(Demo().demo_companies(campaign, days * per_day))
    merge_numbers((company.pk, company.phone, PhoneLabel.STANDARD) for company in companies)
    users = list(get_user_model().objects.filter(username__in=operators[:10]))
    now = timezone.now()
    outcomes = [("answered", "refused"), ("no_answer", ""), ("answered", "not_transformer")]
    calls = []
    for index, company in enumerate(companies):
        numero, outcome = outcomes[index % len(outcomes)]
        call = CallRecord(
            company=company,
            operator=users[index % len(users)],
            status_numero=numero,
            call_status=outcome,
            submitted_at=now - timedelta(days=1 + index // per_day, minutes=index % 600),
        )
        call.disposition = call.outcome_disposition()
        calls.append(call)
    CallRecord.objects.bulk_create(calls)
    daily.rebuild()  # calls written in bulk: count the dashboard's kept figures
    return campaign.pk


# --- Faults ---------------------------------------------------------------------------------


class Faults(threading.Thread):
    """Runs the fault schedule during the load and notes when each began and ended."""

    def __init__(self, schedule: list[tuple[float, str, callable, float, callable]]):
        super().__init__(daemon=True)
        self.schedule = schedule  # (seconds from now, name, break it, seconds broken, mend it)
        self.events: list[dict] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        origin = time.monotonic()
        free_from = origin  # faults never overlap, nor their settling time
        for at, name, fault, hold, mend in self.schedule:
            due = max(origin + at, free_from)
            if self.stopped.wait(max(0.0, due - time.monotonic())):
                return
            event = {"name": name, "start": time.time()}
            print(f"  [{time.strftime('%H:%M:%S')}] panne : {name}", flush=True)
            event["detail"] = fault() or ""
            self.stopped.wait(hold)
            event["mend"] = time.time()
            event["detail"] += mend() or ""
            event["end"] = time.time()
            print(f"  [{time.strftime('%H:%M:%S')}] rétabli : {name}{event['detail']}", flush=True)
            self.events.append(event)
            free_from = time.monotonic() + SETTLE_S + 5


def fault_schedule(args, servers: list[AppServer], redis: dict, pg_control: bool) -> list:
    """The three faults, spread over the steady part of the run (users all started)."""
    ramp = (args.operators + args.supervisors + 1) / args.spawn_rate
    steady = max(1.0, args.run_time - ramp)
    victim = servers[-1]

    def kill_server():
        victim.kill()
        return ""

    def restart_server():
        started = time.monotonic()
        victim.start()  # returns once /healthz/ answers 200
        return f" (redémarré, /healthz/ 200 après {time.monotonic() - started:.1f} s)"

    def stop_postgres():
        subprocess.run([str(ROOT / "tests" / "with_postgres.sh"), "--stop"], check=True)

    def start_postgres():
        subprocess.run([str(ROOT / "tests" / "with_postgres.sh"), "--start"], check=True)

    def stop_redis():
        redis["process"].terminate()
        redis["process"].wait(timeout=10)

    def start_redis_again():
        redis["process"] = start_redis(redis["port"], redis["folder"])

    killed = f"serveur {victim.name} tué (SIGKILL)"
    schedule = [
        (ramp + 0.15 * steady, killed, kill_server, 15, restart_server),
        (ramp + 0.45 * steady, "Redis arrêté 20 s", stop_redis, 20, start_redis_again),
    ]
    if pg_control:
        schedule.insert(
            1, (ramp + 0.30 * steady, "PostgreSQL arrêté 10 s", stop_postgres, 10, start_postgres)
        )
    else:
        print("PostgreSQL fourni par BENCH_PG_URL : pas de panne de base de données.")
    return schedule


# --- Report ---------------------------------------------------------------------------------


def nginx_log(folder: Path) -> list[dict]:
    """nginx's access log: when, which app server(s), statuses, request line."""
    entries = []
    pattern = re.compile(r'^(\S+) (.+?) (\d{3}) "([^"]*)" "(\S+) (\S+) [^"]*" (\S+)$')
    for line in (folder / "access.log").read_text().splitlines():
        found = pattern.match(line)
        if found:
            msec, upstreams, status, upstream_status, method, uri, _seconds = found.groups()
            # "a, b" when nginx passed the request on to the next server.
            tried = [u.strip() for u in upstreams.replace(" : ", ", ").split(",")]
            entries.append(
                {
                    "at": float(msec),
                    "upstreams": tried,
                    "upstream": tried[-1],
                    "status": int(status),
                    "method": method,
                    "path": uri.split("?")[0],
                }
            )
    return entries


def report_faults(events: list[dict], requests: list[dict], entries: list[dict], servers) -> None:
    print(
        "\nPannes injectées (requêtes dont la réponse est arrivée entre la panne et son "
        f"rétablissement + {SETTLE_S} s) :"
    )
    victim = servers[-1].address
    for event in events:
        window = (event["start"], event["end"] + SETTLE_S)
        inside = [r for r in requests if window[0] <= r["start"] + r["ms"] / 1000 <= window[1]]
        failed = [r for r in inside if r["error"]]
        print(
            f"- {event['name']} : {event['end'] - event['start']:.1f} s de panne"
            f"{event['detail']} ; {len(inside)} requêtes, {len(failed)} en échec"
        )
        by_endpoint = Counter((r["name"], r["error"][:90]) for r in failed)
        for (name, error), count in by_endpoint.most_common(8):
            print(f"    {count:>4} × {name} : {error}")
        times = sorted(r["ms"] for r in inside)
        if times:
            p95 = load.percentile(times, 0.95)
            print(f"    temps de réponse : p95 {p95:.0f} ms, max {times[-1]:.0f} ms")
        if "tué" in event["name"]:
            served = [e["at"] for e in entries if e["upstream"] == victim and e["status"] < 500]
            back = min((at for at in served if at >= event["mend"]), default=None)
            passed_on = sum(
                1 for e in entries if window[0] <= e["at"] <= window[1] and len(e["upstreams"]) > 1
            )
            print(
                f"    nginx : {passed_on} requête(s) refusée(s) par {victim} passée(s) à un "
                "autre serveur ; "
                + (
                    f"{victim} sert de nouveau {back - event['mend']:.1f} s après son redémarrage"
                    if back
                    else f"{victim} n'a plus rien servi"
                )
            )


def cluster_checks(
    entries: list[dict],
    claims: list[dict],
    audio: list[bytes],
    servers,
    history_id: int,
    accounts: dict,
    redis_port: int,
) -> list[tuple[str, bool, str]]:
    results = []
    import hashlib

    from django.core.files.storage import default_storage

    from calls.models import Recording

    # Recordings whose chunks were stored by both app servers.
    hosts = defaultdict(set)
    for entry in entries:
        found = CHUNK_PATH.match(entry["path"])
        if found and entry["method"] == "POST" and entry["status"] == 200:
            hosts[int(found.group(1))].add(entry["upstream"])
    mixed = [pk for pk, served_by in hosts.items() if len(served_by) > 1]
    submitted = {c["recording_id"] for c in claims if c.get("submitted_at") and "recording_id" in c}
    expected = hashlib.sha256(b"".join(audio)).hexdigest()
    checked, bad = 0, []
    for recording in Recording.objects.filter(pk__in=[pk for pk in mixed if pk in submitted]):
        checked += 1
        with default_storage.open(recording.file.name, "rb") as handle:
            if not recording.is_complete or hashlib.sha256(handle.read()).hexdigest() != expected:
                bad.append(recording.pk)
    results.append(
        (
            "les enregistrements dont les morceaux sont arrivés sur les deux serveurs sont "
            "complets et identiques octet pour octet",
            checked > 0 and not bad,
            f"{len(mixed)} enregistrement(s) sur {len(hosts)} ont des morceaux reçus par "
            f"plusieurs serveurs ; {checked} d'appels validés vérifiés, {len(bad)} défaut(s)",
        )
    )

    # Dashboard figures: each server against the others and against this process, no cache.
    views = [
        f"/dashboard/?campaign={history_id}&period=campaign&date_from=&date_to=",
        f"/dashboard/?campaign={accounts['campaign_id']}&period=campaign&date_from=&date_to=",
        "/dashboard/?campaign=&period=7d&date_from=&date_to=",
    ]
    supervisor = accounts["supervisors"][0]
    pages = {
        server.name: logged_in(server.address, supervisor, accounts["password"])
        for server in servers
    }
    pages["sans cache"] = uncached_client(supervisor)
    differing = []
    for view in views:
        seen = {name: figures_of(get(view)) for name, get in pages.items()}
        if len(set(seen.values())) != 1:
            differing.append(view)
    results.append(
        (
            "le tableau de bord donne les mêmes chiffres sur chaque serveur, et les mêmes que "
            "comptés sans cache",
            not differing,
            f"{len(views)} vues × {len(pages)} sources"
            + (f" ; différent : {differing}" if differing else ""),
        )
    )
    return results


def figures_of(html: str) -> str:
    """The #figures fragment without its « mis à jour à HH:MM:SS » clock."""
    return re.sub(r"<time datetime=[^>]*>[^<]*</time>", "", html)


class BehindTlsProxy(DefaultCookiePolicy):
    def return_ok_secure(self, cookie, request) -> bool:
        return True


def logged_in(address: str, username: str, password: str):
    """A supervisor's browser talking to one app server directly (bypassing nginx)."""
    from http.cookiejar import CookieJar
    from urllib.parse import urlencode

    jar = CookieJar(policy=BehindTlsProxy())
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    headers = {"X-Forwarded-Proto": "https", "Origin": f"https://{address}"}

    def fetch(path: str, data: dict | None = None, **extra) -> tuple[str, str]:
        request = urllib.request.Request(
            f"http://{address}{path}",
            data=urlencode(data).encode() if data is not None else None,
            headers={**headers, **extra},
        )
        with opener.open(request, timeout=60) as response:
            return response.geturl(), response.read().decode()

    _url, page = fetch("/appels/acces/")
    token = load_token(page)
    landed, _page = fetch(
        "/appels/acces/",
        {"username": username, "password": password, "csrfmiddlewaretoken": token},
    )
    if landed.endswith("/appels/acces/"):
        raise SystemExit(f"supervisor login refused by {address}")

    def get(view: str) -> str:
        return fetch(view, **{"HX-Request": "true"})[1]

    return get


def load_token(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return found.group(1) if found else ""


def uncached_client(username: str):
    """The same fragment rendered here with no cache at all: what the figures must be."""
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    user = get_user_model().objects.get(username=username)

    def get(view: str) -> str:
        dummy = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
        with override_settings(CACHES=dummy):
            client = Client(HTTP_HOST="127.0.0.1")
            client.force_login(user)
            return client.get(view, secure=True, headers={"HX-Request": "true"}).content.decode()

    return get


# --- Main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    load.add_load_arguments(parser)
    parser.add_argument("--instances", type=int, default=2, help="app servers behind nginx")
    parser.add_argument(
        "--workers",
        type=int,
        default=max(2, (2 * (os.cpu_count() or 1) + 1) // 2 + 1),
        help="gunicorn workers per app server",
    )
    parser.add_argument("--no-faults", action="store_true", help="no fault injected")
    args = parser.parse_args()
    if not os.path.exists(NGINX) or not os.path.exists(REDIS):
        raise SystemExit("nginx et redis-server sont nécessaires (make load-cluster les installe).")

    database_url = load.postgres_url(__file__)
    database_port = int(database_url.rsplit(":", 1)[1].split("/")[0])
    workdir = Path(tempfile.mkdtemp(prefix="naumur-cluster-"))
    print(f"Dossier de travail : {workdir}")
    processes = []
    servers: list[AppServer] = []
    redis_state = {"port": load.free_port(), "folder": workdir / "redis"}
    try:
        moto = start_moto(load.free_port(), workdir)
        processes.append(moto)
        redis_state["process"] = start_redis(redis_state["port"], redis_state["folder"])
        s3_port = int(moto.args[-1])
        env = cluster_environment(
            load.server_environment(database_url, workdir), s3_port, redis_state["port"]
        )
        accounts = load.prepare(env, args, workdir)
        history_id = seed_history(accounts["operators"])
        from django.db import connections

        connections.close_all()

        servers = [AppServer(n, env, args.workers, workdir) for n in range(1, args.instances + 1)]
        for server in servers:
            server.start()
        nginx_port = load.free_port()
        nginx = start_nginx(workdir / "nginx", nginx_port, [s.port for s in servers])
        processes.append(nginx)
        host = f"http://127.0.0.1:{nginx_port}"
        audio, audio_source = load.load_audio(host, args, workdir)
        print(
            f"Charge : nginx sur {host} devant {args.instances} serveurs gunicorn "
            f"({', '.join(s.address for s in servers)}, {args.workers} workers chacun), "
            f"PostgreSQL, S3 (moto) et Redis partagés ; {args.operators} opérateurs + "
            f"{args.supervisors} superviseurs + 1 export, {args.run_time} s…",
            flush=True,
        )
        sampler = load.Sampler([s.process.pid for s in servers], database_port)
        schedule = []
        if not args.no_faults:
            pg_control = bool(os.environ.get("NAUMUR_PG_DATADIR"))
            schedule = fault_schedule(args, servers, redis_state, pg_control)
        faults = Faults(schedule)
        victim_pid = servers[-1].process.pid
        faults.start()
        # The supervisors watch « depuis le début » over every campaign: closed days, which
        # the servers keep in (and, Redis down, recount without) the shared cache.
        locust_env = dict(
            load.locust_environment(env, args, workdir),
            LOAD_DASHBOARD_QUERY="campaign=&period=campaign&date_from=&date_to=",
        )
        locust_code, locust_cpu = load.run_locust(locust_env, args, host, workdir, sampler)
        faults.stopped.set()
        faults.join()
        if servers[-1].process.pid != victim_pid:
            sampler.track(servers[-1].process.pid)
        machine = sampler.finish(locust_cpu)

        requests, claims, marks = load.read_outputs(workdir, locust_code)
        windows = [(e["start"], e["end"] + SETTLE_S) for e in faults.events]
        failed, figures = load.summarise(
            args, requests, claims, marks, audio, accounts, sampler, machine,
            [s.folder for s in servers], fault_windows=windows,
        )  # fmt: skip
        entries = nginx_log(workdir / "nginx")
        by_server = Counter(e["upstream"] for e in entries)
        print(f"\nRépartition par nginx : {dict(by_server.most_common())}")
        if faults.events:
            report_faults(faults.events, requests, entries, servers)
        elif schedule:
            print("ÉCHEC : les pannes prévues n'ont pas toutes eu lieu pendant la course.")
            failed = True
        print("\nVérifications entre serveurs :")
        checks = cluster_checks(
            entries, claims, audio, servers, history_id, accounts, redis_state["port"]
        )
        for label, ok, detail in checks:
            print(f"  [{'OK' if ok else 'ÉCHEC'}] {label} — {detail}")
        failed = failed or not all(ok for _, ok, _ in checks)
        if args.json:
            figures.update(
                audio_source=audio_source,
                faults=faults.events,
                cluster_checks=checks,
                by_server=by_server,
            )
            args.json.write_text(json.dumps(figures, indent=1, default=str))
    finally:
        for server in servers:
            server.stop()
        for process in [*processes, redis_state.get("process")]:
            if process is not None:
                load.stop_process(process, timeout=10)
    if args.keep or failed:
        print(f"Journaux et données : {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

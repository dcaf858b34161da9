"""Simulated users for the load test (bench/load.py runs this file with locust; see its docstring).

Every request goes to the gunicorn server bench/load.py started on 127.0.0.1. The client plays
the part of the TLS-terminating reverse proxy (X-Forwarded-Proto: https) so that the server runs
with its production security settings unchanged (SSL redirect, secure cookies, CSRF origin
checks); the browser's Origin header goes with every request.

Inputs (environment, written by bench/load.py):
  LOAD_ACCOUNTS  JSON file: {"password": ..., "operators": [...], "supervisors": [...]}
  LOAD_AUDIO     folder of the captured WebM chunks (000.bin, 001.bin, ...): a call of n chunks
                 sends the first one, then the others over and over (bench/load.py, call_audio)
  LOAD_CHUNK_SECONDS  the recorder's timeslice (1 s), as the audio was captured
  LOAD_BATCH_SECONDS  how long after an upload the recorder sends what waits; empty: what the
                 call form says (data-batch-seconds), as static/js/recorder.js reads it
  LOAD_CALL_SECONDS  "60,180": how long a call's recording lasts, drawn evenly between the two
  LOAD_OUTPUT    folder where every request and every operator's claims are written at the end
  LOAD_DASHBOARD_EVERY / LOAD_EXPORT_EVERY  supervisor polling periods, in seconds
  LOAD_DASHBOARD_QUERY  the dashboard filters the supervisors poll (default: today, every campaign)
"""

import json
import math
import os
import random
import re
import time
from datetime import timedelta
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import gevent
from load import call_audio
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

ACCOUNTS = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text())
AUDIO_DIR = Path(os.environ["LOAD_AUDIO"])
AUDIO_CHUNKS = [path.read_bytes() for path in sorted(AUDIO_DIR.glob("*.bin"))]
AUDIO_SECONDS_PER_CHUNK = float(os.environ.get("LOAD_CHUNK_SECONDS", "1"))
# How long after an upload the recorder sends what waits: the call form's own (its
# data-batch-seconds, RECORDING_UPLOAD_SECONDS), unless LOAD_BATCH_SECONDS says otherwise.
BATCH_SECONDS = float(os.environ.get("LOAD_BATCH_SECONDS") or 0) or None
CALL_SECONDS = tuple(float(x) for x in os.environ.get("LOAD_CALL_SECONDS", "60,180").split(","))
MAX_BATCH_CHUNKS = 30  # recorder.js sends at most this many chunks (and 2 MB) in one request
AUDIO_MIME = "audio/webm;codecs=opus"
OUTPUT = Path(os.environ["LOAD_OUTPUT"])
DASHBOARD_EVERY = float(os.environ.get("LOAD_DASHBOARD_EVERY", "5"))
EXPORT_EVERY = float(os.environ.get("LOAD_EXPORT_EVERY", "60"))
DASHBOARD_QUERY = os.environ.get("LOAD_DASHBOARD_QUERY", "campaign=&period=&date_from=&date_to=")

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LOCK_POLLER = re.compile(r'hx-get="(/appels/verrous/\?ids=[0-9,]*)"')
FILL_URL = re.compile(r"^/appels/(\d+)/remplir/$")
PAGE_TOKEN = re.compile(r'data-token="([0-9a-f]+)"')
PAGE_BATCH = re.compile(r'data-batch-seconds="([0-9.]+)"')

# What the run leaves behind for bench/load.py: every request, every claim.
REQUESTS: list[dict] = []
CLAIMS: list[dict] = []
MARKS: dict[str, float] = {}

# What the page does when the server is away for a moment (an app server restarting, the
# database down: 502, 503, 504, or no answer at all, status 0): the same request a second later,
# for a minute. Each failed attempt still counts as a client error in the report.
RETRYABLE = {0, 502, 503, 504}
RETRY_ATTEMPTS = 60
RETRY_PAUSE_S = 1.0

# The pace of a shift (seconds): reading the call list before « Appeler le suivant », its lock
# poller (hx-trigger="every 10s"), dialling before « Lancer le micro », the call form's lease
# renewal (hx-trigger="every 30s").
LIST_SECONDS = (3.0, 12.0)
LOCK_POLL_EVERY = 10.0
DIAL_SECONDS = (2.0, 6.0)
LEASE_EVERY = 30.0

# Outcomes an operator records (weights), each through the picks of form_steps().
OUTCOMES = [
    ("accepted", 25),
    ("refused", 20),
    ("no_answer", 20),
    ("voicemail", 10),
    ("callback", 10),
    ("not_transformer", 10),
    ("invalid", 5),
]


@events.request.add_listener
def _record_request(request_type, name, response_time, response_length, exception, **kwargs):
    response = kwargs.get("response")
    REQUESTS.append(
        {
            "name": name,
            "start": kwargs.get("start_time"),
            "ms": response_time,
            "status": getattr(response, "status_code", None),
            "error": None if exception is None else str(exception)[:300],
        }
    )


@events.spawning_complete.add_listener
def _spawned(user_count, **kwargs):
    MARKS.setdefault("spawning_complete", time.time())


@events.test_start.add_listener
def _started(**kwargs):
    MARKS["test_start"] = time.time()


@events.quitting.add_listener
def _dump(**kwargs):
    MARKS["quitting"] = time.time()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "requests.json").write_text(json.dumps(REQUESTS))
    (OUTPUT / "claims.json").write_text(json.dumps(CLAIMS))
    (OUTPUT / "marks.json").write_text(json.dumps(MARKS))


class BehindTlsProxy(DefaultCookiePolicy):
    """The client stands where the TLS proxy would: the server's Secure cookies go back to it
    over the loopback's plain HTTP."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


class NaumurUser(FastHttpUser):
    abstract = True
    accounts: list[str] = []
    network_timeout = 60.0
    connection_timeout = 10.0

    def __init__(self, environment):
        origin = "https://" + urlsplit(environment.host).netloc
        self.default_headers = {"X-Forwarded-Proto": "https", "Origin": origin}
        super().__init__(environment)
        self.client.cookiejar.set_policy(BehindTlsProxy())

    def csrf_token(self) -> str:
        for cookie in self.client.cookiejar:
            if cookie.name == "csrftoken":
                return cookie.value
        return ""

    def post_form(self, url: str, fields: dict, name: str, htmx: bool = False, **kwargs):
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRFToken": self.csrf_token(),
        }
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(
            url, data=urlencode(fields, doseq=True), headers=headers, name=name, **kwargs
        )

    def retrying(self, send, check):
        """send() a request (catch_response=True) until check(response) finds no problem, or
        the problem is not the server being away. Returns the last response and problem."""
        for _attempt in range(RETRY_ATTEMPTS):
            with send() as response:
                problem = check(response)
                if problem:
                    response.failure(problem)
            if not problem or response.status_code not in RETRYABLE:
                break
            gevent.sleep(RETRY_PAUSE_S)
        return response, problem

    def on_start(self) -> None:
        if not self.accounts:
            raise StopUser("no account left")
        self.username = self.accounts.pop(0)
        page = self.client.get("/appels/acces/", name="GET /appels/acces/")
        token = CSRF_INPUT.search(page.text or "")
        with self.post_form(
            "/appels/acces/",
            {
                "username": self.username,
                "password": ACCOUNTS["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
                "next": "",
            },
            name="POST /appels/acces/",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login refused for {self.username}: {response.status_code}")
                raise StopUser()


class Operator(NaumurUser):
    """One operator's shift, at a real pace: the call list (its lock poller every 10 s while it
    is read), « Appeler le suivant », the call form, whose page renews its lease every 30 s;
    « Lancer le micro » once the number is dialled; a call whose recording lasts 60 to 180 s,
    the recorder uploading in a second greenlet as static/js/recorder.js does (a 1 s chunk kept
    each second, what waits sent 5 s after the previous upload ended, the rest at the stop,
    then « fin »); the picks and notes of the form, each a draft save (htmx, on `change`, and
    800 ms after typing in the notes stops), spread over the call; « Valider » at the end of
    the call, then back to the list."""

    fixed_count = int(os.environ.get("LOAD_OPERATORS", "50"))
    accounts = list(ACCOUNTS["operators"])
    wait_time = constant(0)  # the list's reading time is part of the loop
    concurrency = 4  # the page's own requests, its lease timer and the recorder's uploads overlap

    def on_start(self) -> None:
        super().on_start()
        self.holding: int | None = None
        self.page_token = ""
        self.claim: dict = {}

    def on_stop(self) -> None:
        # Interrupted in the middle of a call (stop timeout): give the company back, as the
        # tab closing would (navigator.sendBeacon on pagehide).
        if self.holding is not None:
            self.post_form(
                f"/appels/{self.holding}/abandonner/",
                {"beacon": "1", "token": self.page_token},
                name="POST /appels/[id]/abandonner/",
            )
            self.claim["released_at"] = time.time()
            self.holding = None

    @task
    def call_loop(self) -> None:
        page = self.client.get("/appels/", name="GET /appels/")
        poller = LOCK_POLLER.search(page.text or "")
        reading = random.uniform(*LIST_SECONDS)  # its lock poller fires every 10 s meanwhile
        for _poll in range(int(reading // LOCK_POLL_EVERY)):
            gevent.sleep(LOCK_POLL_EVERY)
            if poller:
                self.client.get(
                    poller.group(1).replace("&amp;", "&"),
                    headers={"HX-Request": "true"},
                    name="GET /appels/verrous/",
                )
        gevent.sleep(reading % LOCK_POLL_EVERY)

        claimed_at = time.time()
        with self.post_form(
            "/appels/suivant/",
            {"csrfmiddlewaretoken": self.csrf_token()},
            name="POST /appels/suivant/",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = urlsplit(response.headers.get("Location") or "").path
            found = FILL_URL.match(location)
            if response.status_code != 302 or not found:
                response.failure(f"no company served ({response.status_code} -> {location!r})")
                return
        company_id = int(found.group(1))
        self.holding = company_id
        claim = {"operator": self.username, "company": company_id, "claimed_at": claimed_at}
        CLAIMS.append(claim)
        self.claim = claim
        self.fill_and_submit(company_id, claim)

    def fill_and_submit(self, company_id: int, claim: dict) -> None:
        fill_url = f"/appels/{company_id}/remplir/"
        with self.client.get(fill_url, name="GET /appels/[id]/remplir/", catch_response=True) as r:
            token = PAGE_TOKEN.search(r.text or "")
            if r.status_code != 200 or 'id="call-form"' not in (r.text or "") or not token:
                r.failure("call form not shown to the lock holder")
                return
        self.page_token = token.group(1)  # the lease this page holds (renewals, beacon)
        batch = PAGE_BATCH.search(r.text or "")
        self.batch_seconds = BATCH_SECONDS or (float(batch.group(1)) if batch else 5.0)
        # hx-trigger="every 30s" on the lease box, from the page's load until it is left.
        lease = gevent.spawn(self.keep_lease, company_id)
        try:
            self.call(company_id, claim, fill_url)
        finally:
            lease.kill()

    def call(self, company_id: int, claim: dict, fill_url: str) -> None:
        gevent.sleep(random.uniform(*DIAL_SECONDS))  # the number is dialled, then the micro
        r, problem = self.retrying(
            lambda: self.post_form(
                f"/appels/{company_id}/micro/",
                {"mime_type": AUDIO_MIME},
                name="POST /appels/[id]/micro/",
                catch_response=True,
            ),
            lambda r: None if r.status_code == 200 else f"recording refused: {r.status_code}",
        )
        if problem:
            return
        session = r.json()
        claim["recording_id"] = session["recording_id"]
        seconds = random.uniform(*CALL_SECONDS)
        started = time.monotonic()
        recorder = gevent.spawn(self.record, session, claim, seconds)

        outcome = random.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        fields = {"status_numero": "", "call_status": "", "notes": ""}
        for at, step in form_steps(outcome, seconds):
            gevent.sleep(max(0.0, started + at - time.monotonic()))
            fields.update(step)
            with self.post_form(
                fill_url,
                fields,
                name="POST /appels/[id]/remplir/ (brouillon)",
                htmx=True,
                catch_response=True,
            ) as r:
                if r.status_code != 200 or 'id="pickers"' not in (r.text or ""):
                    r.failure(f"draft not saved: {r.status_code}")
                elif "alert-danger" in (r.text or ""):
                    r.failure("draft refused: lock lost")

        # « Valider » at the end of the call: it stops the recorder and waits for its last upload.
        gevent.sleep(max(0.0, started + seconds - time.monotonic()))
        recorder.join()
        fields["csrfmiddlewaretoken"] = self.csrf_token()

        def recorded(r):
            location = urlsplit(r.headers.get("Location") or "").path
            if r.status_code != 302 or location != "/appels/":
                return f"call not recorded ({r.status_code} -> {location!r})"

        _r, problem = self.retrying(
            lambda: self.post_form(
                f"/appels/{company_id}/valider/",
                fields,
                name="POST /appels/[id]/valider/",
                allow_redirects=False,
                catch_response=True,
            ),
            recorded,
        )
        if problem:
            return
        claim["submitted_at"] = time.time()
        claim["outcome"] = outcome
        self.holding = None

    def keep_lease(self, company_id: int) -> None:
        while True:
            gevent.sleep(LEASE_EVERY)
            with self.post_form(
                f"/appels/{company_id}/bail/",
                {"token": self.page_token},
                name="POST /appels/[id]/bail/",
                htmx=True,
                catch_response=True,
            ) as r:
                if r.status_code != 200 or "Verrou perdu" in (r.text or ""):
                    r.failure(f"lease not renewed: {r.status_code}")

    def record(self, session: dict, claim: dict, seconds: float) -> None:
        """The recorder (static/js/recorder.js) for a call of `seconds`: MediaRecorder hands over
        a chunk every timeslice (the last one, shorter, at the stop); the page's batch seconds
        after the previous upload ended, the chunks waiting go in one request (their sizes,
        durations and levels in the query, MAX_BATCH_CHUNKS at most); at the stop, what is left
        at once; then « fin » with the duration and the number of chunks."""
        count = max(1, math.ceil(seconds / AUDIO_SECONDS_PER_CHUNK - 1e-9))
        chunks = call_audio(AUDIO_CHUNKS, count)
        ready_at = [min((index + 1) * AUDIO_SECONDS_PER_CHUNK, seconds) for index in range(count)]
        claim["chunks"] = count
        started = time.monotonic()
        sent = first = 0
        while first < count:
            elapsed = time.monotonic() - started
            gevent.sleep(max(0.0, min(elapsed + self.batch_seconds, seconds) - elapsed))
            elapsed = time.monotonic() - started
            last = sum(1 for at in ready_at if at <= elapsed + 1e-6)
            last = min(last, first + MAX_BATCH_CHUNKS)
            if last <= first:
                continue
            batch = chunks[first:last]
            query = urlencode(
                {
                    "sizes": ",".join(str(len(chunk)) for chunk in batch),
                    "durations": ",".join(
                        str(round(1000 * (ready_at[i] - (ready_at[i - 1] if i else 0))))
                        for i in range(first, last)
                    ),
                    "levels": ",".join("0.3" for _ in batch),
                }
            )
            url = session["chunk_url"].replace("/0/", f"/{first}/") + "?" + query
            body = b"".join(batch)
            # Sent again while the server is away: a batch it stored before dying is only
            # acknowledged the second time (the server keys chunks by index).
            _r, problem = self.retrying(
                lambda url=url, body=body: self.client.post(
                    url,
                    data=body,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "X-CSRFToken": self.csrf_token(),
                    },
                    name="POST /enregistrements/[id]/morceaux/[n]/",
                    catch_response=True,
                ),
                lambda r, first=first, last=last: (
                    None
                    if r.status_code == 200
                    else f"chunks {first}-{last - 1} refused: {r.status_code} "
                    f"{(r.text or '')[:120]}"
                ),
            )
            if problem:
                break
            sent += sum(map(len, batch))
            first = last
        claim["bytes_sent"] = sent
        self.retrying(
            lambda: self.post_form(
                session["stop_url"],
                {
                    "duration_seconds": f"{seconds:.2f}",  # the recorder's clock at its stop
                    "chunk_count": str(count),
                },
                name="POST /enregistrements/[id]/fin/",
                catch_response=True,
            ),
            lambda r: None if r.status_code == 200 else f"recording not finished: {r.status_code}",
        )


def form_steps(outcome: str, seconds: float) -> list[tuple[float, dict]]:
    """When (seconds after « Lancer le micro ») the form changes, and how: each change is one
    draft save. Whether the number answered comes first, within 20 s; the call's result, its
    levels or callback date as the conversation goes; the notes typed in one to three bursts
    (each saved 800 ms after the typing stops), the field sometimes left by a click elsewhere
    (its `change`: one save more)."""
    early = random.uniform(5, min(20, seconds / 3))
    steps: list[tuple[float, dict]] = []
    if outcome in ("invalid", "no_answer", "voicemail"):
        steps.append((early, {"status_numero": outcome}))
    else:
        steps.append((early, {"status_numero": "answered"}))
        result_at = random.uniform(0.4, 0.8) * seconds
        steps.append((result_at, {"call_status": outcome}))
        if outcome == "accepted":
            levels = ["complete", "partial"]
            names = ["presentation_level", "questions_libres_level", "questions_orientees_level"]
            for name in names:
                at = random.uniform(result_at, 0.95 * seconds)
                steps.append((at, {name: random.choice(levels)}))
        elif outcome == "callback":
            tomorrow = time.localtime(time.time() + timedelta(days=1).total_seconds())
            at = min(result_at + random.uniform(3, 10), 0.95 * seconds)
            steps.append((at, {"callback_at": time.strftime("%Y-%m-%dT10:00", tomorrow)}))
    notes = ""
    bursts = sorted(random.uniform(early, 0.95 * seconds) for _ in range(random.randint(1, 3)))
    for burst, at in enumerate(bursts):
        notes += ("" if not notes else " ") + f"Note {burst + 1} : {outcome}."
        steps.append((at, {"notes": notes}))
        if random.random() < 0.5:  # the notes field left for another one: its change event
            steps.append((min(at + random.uniform(1, 5), 0.97 * seconds), {"notes": notes}))
    # In time order: the notes grow, the result comes after the number answered.
    steps.sort(key=lambda step: step[0])
    return steps


class DashboardSupervisor(NaumurUser):
    """A supervisor with the dashboard open: the page once, then its polled #figures partial
    (hx-trigger="every 5s", with the filter form included)."""

    fixed_count = int(os.environ.get("LOAD_SUPERVISORS", "3"))
    accounts = list(ACCOUNTS["supervisors"][:-1])
    wait_time = constant(DASHBOARD_EVERY)

    def on_start(self) -> None:
        super().on_start()
        self.client.get("/dashboard/", name="GET /dashboard/")

    @task
    def poll(self) -> None:
        with self.client.get(
            f"/dashboard/?{DASHBOARD_QUERY}",
            headers={"HX-Request": "true"},
            name="GET /dashboard/ (htmx)",
            catch_response=True,
        ) as r:
            if r.status_code != 200 or 'id="figures"' not in (r.text or ""):
                r.failure(f"dashboard figures missing: {r.status_code}")


class Exporter(NaumurUser):
    """A supervisor exporting the campaign during the run, by turns the XLSX of every company
    (latest outcome, uncalled ones included) and the CSV of every call so far."""

    fixed_count = 1
    accounts = list(ACCOUNTS["supervisors"][-1:])
    wait_time = constant(EXPORT_EVERY)
    exports = [
        ("xlsx", "companies", "GET /export/telecharger/ (xlsx, entreprises)"),
        ("csv", "calls", "GET /export/telecharger/ (csv, appels)"),
    ]

    def on_start(self) -> None:
        super().on_start()
        self.turn = 0

    @task
    def export(self) -> None:
        self.client.get("/export/", name="GET /export/")
        file_format, scope, name = self.exports[self.turn % len(self.exports)]
        self.turn += 1
        query = urlencode(
            {"format": file_format, "scope": scope, "campaign": ACCOUNTS["campaign_id"]}
        )
        with self.client.get(f"/export/telecharger/?{query}", name=name, catch_response=True) as r:
            disposition = r.headers.get("Content-Disposition") or ""
            if r.status_code != 200 or "attachment" not in disposition or not r.content:
                r.failure(f"no file: {r.status_code}")

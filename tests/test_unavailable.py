"""A database that does not answer: a French 503 page (JSON for the recorder's uploads), fast,
and everything works again once it is back (core/unavailable.py)."""

import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from django.db import DatabaseError, OperationalError, connection
from django.test import Client

from core.unavailable import database_unavailable
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
MESSAGE = "La base de données ne répond pas pour le moment."


class DatabaseSwitch:
    """Every new cursor fails the way psycopg fails when nothing listens on the port, until
    restored (at the latest before the test database is torn down)."""

    def __init__(self):
        self.patch = pytest.MonkeyPatch()

    def cut(self):
        def refused(*args, **kwargs):
            raise OperationalError('connection failed: connection to server at "127.0.0.1" refused')

        self.patch.setattr(connection, "cursor", refused)

    def restore(self):
        self.patch.undo()


@pytest.fixture
def database(db):
    switch = DatabaseSwitch()
    yield switch
    switch.restore()


@pytest.fixture
def browser_client(operator):
    client = Client(raise_request_exception=False, HTTP_ACCEPT=BROWSER_ACCEPT)
    client.force_login(operator)
    return client


def test_a_page_gets_a_french_503_page_when_the_session_cannot_be_loaded(browser_client, database):
    database.cut()

    response = browser_client.get("/appels/")

    assert response.status_code == 503
    html = response.content.decode()
    assert "<title>Service momentanément indisponible · Naumur</title>" in html
    assert MESSAGE in html
    assert 'href="/appels/">Réessayer</a>' in html
    assert response["Retry-After"] == "10"
    assert response["Cache-Control"] == "no-store"
    assert "Traceback" not in html and "OperationalError" not in html


def test_an_upload_gets_the_message_as_json(operator, company, database):
    client = Client(raise_request_exception=False)
    client.force_login(operator)
    database.cut()

    response = client.post(
        "/enregistrements/1/morceaux/0/", data=b"\x1a\x45\xdf\xa3", content_type="audio/webm"
    )

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith(MESSAGE)


def test_the_page_comes_back_on_the_next_request_once_the_database_answers(
    browser_client, database
):
    database.cut()
    assert browser_client.get("/appels/").status_code == 503

    database.restore()

    assert browser_client.get("/appels/").status_code == 200


def test_a_programming_error_stays_a_500(browser_client, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore

    def broken_load(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM no_such_table")

    monkeypatch.setattr(SessionStore, "load", broken_load)

    response = browser_client.get("/appels/")

    assert response.status_code == 500
    assert MESSAGE not in response.content.decode()


@pytest.mark.django_db
def test_it_tells_unavailable_databases_from_programming_errors():
    # OperationalError on SQLite, ProgrammingError on PostgreSQL.
    with pytest.raises(DatabaseError) as missing_table, connection.cursor() as cursor:
        cursor.execute("SELECT x FROM no_such_table")

    assert not database_unavailable(missing_table.value)
    assert not database_unavailable(ValueError("no"))
    assert database_unavailable(OperationalError("server closed the connection unexpectedly"))


# --- A real unreachable database, in a fresh process with production settings. ---

PROBE = textwrap.dedent(
    """
    import time, django
    django.setup()
    from django.test import Client
    client = Client(raise_request_exception=False, HTTP_ACCEPT="text/html")
    client.cookies["sessionid"] = "a-session-that-must-be-loaded"
    started = time.monotonic()
    response = client.get("/appels/", HTTP_HOST="127.0.0.1", secure=True)
    print(response.status_code, round(time.monotonic() - started, 1))
    print(response.content.decode())
    """
)


def production_env(database_url, **extra):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        **extra,
    )
    return env


def probe(database_url, **extra):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=production_env(database_url, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    first, _, page = result.stdout.partition("\n")
    status, seconds = first.split()
    return int(status), float(seconds), page, result.stderr


def test_nothing_listening_on_the_database_port_gives_the_503_page_at_once():
    status, seconds, page, log = probe(f"postgres://naumur@127.0.0.1:{free_port()}/naumur")

    assert status == 503
    assert MESSAGE in page
    assert seconds < 3
    assert "Service Unavailable: /appels/" in log


@pytest.fixture
def silent_database():
    """A host that accepts connections and never answers (a hung server, a dead network
    path): only the connection timeout ends the wait."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for sock in accepted:
        sock.close()
    listener.close()


def test_a_database_that_never_answers_gives_the_503_page_after_the_connect_timeout(
    silent_database,
):
    status, seconds, page, _ = probe(
        f"postgres://naumur@127.0.0.1:{silent_database}/naumur", DATABASE_CONNECT_TIMEOUT="2"
    )

    assert status == 503
    assert MESSAGE in page
    # libpq waits connect_timeout per address tried; far below the 120 s lease either way.
    assert 2 <= seconds < 10


# --- PostgreSQL stopped and started again, in a fresh process against its own server. ---

OUTAGE = textwrap.dedent(
    """
    import subprocess, time, django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import close_old_connections
    from django.test import Client
    from core.roles import OPERATORS, ensure_roles
    ensure_roles()
    user = get_user_model().objects.create_user("op", password="pw-outage-test")
    user.groups.add(Group.objects.get(name=OPERATORS))
    client = Client(raise_request_exception=False, HTTP_ACCEPT="text/html", HTTP_HOST="127.0.0.1")
    client.force_login(user)

    def get(path):
        # The test client leaves out what a server does around each request: Django's
        # request_started/request_finished handlers drop unusable or expired connections.
        started = time.monotonic()
        close_old_connections()
        response = client.get(path, secure=True)
        close_old_connections()
        return response.status_code, time.monotonic() - started

    print("before", *get("/appels/"))
    subprocess.run(["tests/with_postgres.sh", "--stop"], check=True)
    print("down", *get("/appels/"))
    print("down-health", *get("/healthz/"))
    subprocess.run(["tests/with_postgres.sh", "--start"], check=True)
    print("after", *get("/appels/"))
    """
)


def test_postgresql_stopped_gives_503_at_once_and_the_same_session_works_once_it_is_back():
    env = production_env("")
    env.pop("DATABASE_URL")
    result = subprocess.run(
        ["tests/with_postgres.sh", sys.executable, "-c", OUTAGE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    lines = {
        line.split()[0]: (int(line.split()[1]), float(line.split()[2]))
        for line in result.stdout.splitlines()
        if line.split()[0] in ("before", "down", "down-health", "after")
    }

    assert lines["before"][0] == 200
    assert lines["down"][0] == 503
    assert lines["down"][1] < 3  # connection refused: no wait
    assert lines["down-health"][0] == 503
    assert lines["after"][0] == 200  # same session cookie, a fresh connection

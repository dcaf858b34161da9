"""/healthz/: the load balancer's probe. No login, plain text, 503 when the database is down."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.urls import reverse

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_it_answers_ok_without_login_in_plain_text(client):
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]
    assert "Set-Cookie" not in response  # a probe every few seconds must not create sessions


@pytest.mark.django_db
def test_it_answers_head_requests_and_refuses_posts(client):
    assert client.head(reverse("healthz")).status_code == 200
    assert client.post(reverse("healthz")).status_code == 405


@pytest.mark.django_db
def test_it_is_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz/").status_code == 200
    assert client.get("/appels/acces/").status_code == 301


@pytest.mark.django_db
def test_it_answers_503_when_the_database_fails(client, monkeypatch, caplog):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)

    response = client.get("/healthz/")

    assert response.status_code == 503
    assert response.content.decode() == "base de données injoignable"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "connection refused" in caplog.text


# A real unreachable database, in a fresh process: nothing listens on the PostgreSQL port,
# the SQLite file's directory does not exist.
PROBE = textwrap.dedent(
    """
    import django
    django.setup()
    from django.test import Client
    response = Client().get("/healthz/", HTTP_HOST="localhost")
    print(response.status_code, response.content.decode())
    """
)


@pytest.mark.parametrize(
    "database_url",
    [
        f"postgres://naumur@127.0.0.1:{free_port()}/naumur",
        "sqlite:////nonexistent-naumur-dir/db.sqlite3",
    ],
    ids=["postgresql", "sqlite"],
)
def test_it_answers_503_when_the_database_is_unreachable(database_url):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "503 base de données injoignable"
    assert "Health check: database unreachable" in result.stderr

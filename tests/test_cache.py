"""The shared cache (CACHE_URL=redis://..., several app servers): when Redis is down every read
is a miss and every write is dropped, and the pages that use it keep working. Sessions are read
from it (core/sessions.py) only when it is shared: they stay in the database, which has the
last word, so a logout holds on every worker and Redis down costs nothing but speed."""

import runpy
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from core import sessions
from tests.conftest import PASSWORD, free_port


def project_settings(monkeypatch, cache_url: str | None) -> dict:
    """config/settings.py as it reads CACHE_URL."""
    if cache_url is None:
        monkeypatch.delenv("CACHE_URL", raising=False)
    else:
        monkeypatch.setenv("CACHE_URL", cache_url)
    return runpy.run_path(str(Path(__file__).resolve().parent.parent / "config" / "settings.py"))


def redis_settings(settings, monkeypatch, port):
    """CACHES and SESSION_ENGINE as config/settings.py builds them from CACHE_URL."""
    project = project_settings(monkeypatch, f"redis://127.0.0.1:{port}/0")
    settings.CACHES = project["CACHES"]  # setting_changed resets django.core.cache.caches
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = project["DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS"]
    settings.SESSION_ENGINE = project["SESSION_ENGINE"]
    return project["CACHES"]["default"]


class RedisServer:
    """Debian's redis-server on loopback, in its own folder, nothing saved to disk."""

    def __init__(self, port, folder):
        self.port, self.folder, self.process = port, folder, None

    def start(self):
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


def test_cache_url_redis_selects_django_redis_with_errors_ignored(settings, monkeypatch):
    config = redis_settings(settings, monkeypatch, 6379)

    assert config["BACKEND"] == "django_redis.cache.RedisCache"
    assert config["LOCATION"] == "redis://127.0.0.1:6379/0"
    assert config["OPTIONS"]["IGNORE_EXCEPTIONS"] is True
    assert config["OPTIONS"]["SOCKET_CONNECT_TIMEOUT"] == 0.5


def test_with_nothing_listening_reads_miss_and_writes_are_dropped(settings, monkeypatch, caplog):
    redis_settings(settings, monkeypatch, free_port())

    started = time.monotonic()
    assert cache.set("naumur:test", 42) is None
    assert cache.get("naumur:test") is None
    assert cache.get("naumur:test", "absent") == "absent"
    assert time.monotonic() - started < 2
    assert "Exception ignored" in caplog.text  # logged for whoever watches the logs


def test_the_dashboard_keeps_working_while_redis_is_down(
    settings, monkeypatch, client, supervisor, redis_server, campaign, make_company
):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import CallFactory

    redis_settings(settings, monkeypatch, redis_server.port)
    CallFactory(  # a closed day's call
        company=make_company(),
        operator=supervisor,
        outcome="refused",
        submitted_at=timezone.now() - timedelta(days=3),
    )
    client.force_login(supervisor)
    url = f"/dashboard/?campaign={campaign.pk}&period=campaign"

    up = client.get(url)
    assert up.status_code == 200

    redis_server.stop()
    down = client.get(url)
    assert down.status_code == 200
    assert up.context["dashboard"].calls == down.context["dashboard"].calls
    assert up.context["dashboard"].calls.calls == 1

    redis_server.start()
    cache.set("naumur:test", "back")
    assert cache.get("naumur:test") == "back"  # reconnects by itself


# --- Sessions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cache_url", "engine"),
    [
        (None, "django.contrib.sessions.backends.db"),  # one cache per process
        ("locmemcache://", "django.contrib.sessions.backends.db"),
        ("filecache:///tmp/naumur-cache", "django.contrib.sessions.backends.db"),  # one per host
        ("dbcache://naumur_cache", "django.contrib.sessions.backends.db"),  # no gain
        ("redis://10.0.0.6:6379/0", "core.sessions"),
        ("pymemcache://10.0.0.7:11211", "core.sessions"),
    ],
)
def test_sessions_are_read_from_the_cache_only_when_every_worker_shares_it(
    monkeypatch, cache_url, engine
):
    project = project_settings(monkeypatch, cache_url)
    assert project.get("SESSION_ENGINE", "django.contrib.sessions.backends.db") == engine


def logged_in(user) -> tuple[Client, Client]:
    """Two clients with one session, as two workers (or app servers) see one browser."""
    first = Client()
    response = first.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    second = Client()
    second.cookies = first.cookies
    return first, second


def signed_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_logout_holds_everywhere_with_the_default_cache(operator):
    first, second = logged_in(operator)
    assert second.get(reverse("calls:list")).status_code == 200

    first.post(reverse("logout"))

    assert signed_out(second.get(reverse("calls:list")))


def session_keys(server):
    import redis

    return redis.Redis(port=server.port).keys("*django.contrib.sessions.cached_db*")


def test_sessions_go_through_redis_and_a_logout_holds_everywhere(
    settings, monkeypatch, operator, redis_server
):
    redis_settings(settings, monkeypatch, redis_server.port)
    first, second = logged_in(operator)
    assert second.get(reverse("calls:list")).status_code == 200
    import redis

    keys = session_keys(redis_server)
    assert len(keys) == 1  # read from Redis, each copy kept a few minutes at most
    assert 0 < redis.Redis(port=redis_server.port).ttl(keys[0]) <= sessions.CACHED_SECONDS

    first.post(reverse("logout"))

    assert signed_out(second.get(reverse("calls:list")))
    assert session_keys(redis_server) == []


def test_sessions_keep_working_from_the_database_while_redis_is_down(
    settings, monkeypatch, operator, redis_server, caplog
):
    redis_settings(settings, monkeypatch, redis_server.port)
    first, second = logged_in(operator)
    redis_server.stop()

    assert second.get(reverse("calls:list")).status_code == 200  # read from the database
    again, _other = logged_in(operator)  # a login while Redis is down
    assert again.get(reverse("calls:list")).status_code == 200
    first.post(reverse("logout"))
    assert signed_out(second.get(reverse("calls:list")))

    redis_server.start()  # back, empty: the sessions are still in the database
    assert again.get(reverse("calls:list")).status_code == 200
    assert len(session_keys(redis_server)) == 1
    assert signed_out(second.get(reverse("calls:list")))


def test_a_copy_a_logout_could_not_remove_lapses_within_minutes(
    settings, monkeypatch, operator, redis_server
):
    """A server cut off from a Redis that keeps running cannot remove the session's copy at
    logout: the copy is kept for CACHED_SECONDS at most, after which the database, where the
    session is gone, has the last word."""
    import redis
    from django_redis.cache import RedisCache

    redis_settings(settings, monkeypatch, redis_server.port)
    first, second = logged_in(operator)
    second.get(reverse("calls:list"))
    monkeypatch.setattr(RedisCache, "delete", lambda self, *args, **kwargs: False)  # the cut

    first.post(reverse("logout"))

    [key] = session_keys(redis_server)
    assert redis.Redis(port=redis_server.port).ttl(key) <= sessions.CACHED_SECONDS
    redis.Redis(port=redis_server.port).delete(key)  # the copy lapses
    assert signed_out(second.get(reverse("calls:list")))

"""The shared cache (CACHE_URL=redis://..., several app servers): when Redis is down every read
is a miss and every write is dropped, and the pages that use it keep working."""

import runpy
import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import cache

from tests.conftest import free_port


def redis_settings(settings, monkeypatch, port):
    """CACHES as config/settings.py builds them from CACHE_URL."""
    monkeypatch.setenv("CACHE_URL", f"redis://127.0.0.1:{port}/0")
    project = runpy.run_path(str(settings.BASE_DIR / "config" / "settings.py"))
    settings.CACHES = project["CACHES"]  # setting_changed resets django.core.cache.caches
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = project["DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS"]
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

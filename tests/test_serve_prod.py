"""`make serve-prod` in a real process: deployment checks, collectstatic, migrate, gunicorn with
whitenoise, production settings from the environment, access log on stdout."""

import http.client
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import free_port, make_running

ROOT = Path(__file__).resolve().parent.parent
# make would otherwise (re)install the virtualenv when its stamp file is missing.
MAKE = ["make", "--no-print-directory", "-o", ".venv/.installed"]


def production_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        CSRF_TRUSTED_ORIGINS="https://127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    env.update(extra)
    return env


def get(port, path, **headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": "127.0.0.1", **headers})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def command_lines(session_id):
    """The arguments of every process in a session (make and what it started)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == session_id:
                yield (entry / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        except OSError:
            continue


def wait_for_health(port, process, deadline=300):
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        assert process.poll() is None, "make serve-prod stopped"
        try:
            response, body = get(port, "/healthz/")
            if response.status == 200:
                return body
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("gunicorn never answered /healthz/")


def test_serve_prod_runs_gunicorn_with_whitenoise_and_production_settings(tmp_path):
    port = free_port()
    log_path = tmp_path / "serve-prod.log"
    env = production_env(
        tmp_path,
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        CACHE_URL="dbcache://naumur_cache",  # one cache for every worker
    )
    with make_running("serve-prod", env, log_path) as process:
        assert wait_for_health(port, process) == b"ok"
        gunicorn_args = [
            args for args in command_lines(process.pid) if b"gunicorn" in b" ".join(args)
        ]

        insecure, _ = get(port, "/appels/acces/")
        # What the reverse proxy (docs/nginx.conf) tells the app about the client's HTTPS.
        https = {"X-Forwarded-Proto": "https"}
        page, html = get(port, "/appels/acces/", **https)
        css_url = re.search(rb"/static/bootstrap/css/bootstrap\.min\.[0-9a-f]{12}\.css", html)
        assert css_url, html[:500]
        css, css_body = get(port, css_url.group().decode(), **https, **{"Accept-Encoding": "gzip"})

    assert insecure.status == 301
    assert insecure.getheader("Location") == "https://127.0.0.1/appels/acces/"
    assert page.status == 200
    assert "Secure" in page.getheader("Set-Cookie")
    assert css.status == 200
    assert css.getheader("Content-Encoding") == "gzip"
    assert "immutable" in css.getheader("Cache-Control")
    assert css_body[:2] == b"\x1f\x8b"
    assert (tmp_path / "prod.sqlite3").stat().st_size > 0  # migrated
    with sqlite3.connect(tmp_path / "prod.sqlite3") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "naumur_cache" in tables  # createcachetable
    log = log_path.read_text()
    assert len(re.findall(r"Booting worker with pid", log)) == 2
    # A sync worker silent for --timeout is killed: 120 s lets the largest XLSX exports finish.
    master = gunicorn_args[0]
    assert master[master.index(b"--timeout") + 1] == b"120", master
    assert re.search(r'"GET /healthz/ HTTP/1.1" 200 ', log)  # access log on stdout


def test_serve_prod_refuses_to_start_with_unsafe_settings(tmp_path):
    env = production_env(tmp_path, DEBUG="true", BIND=f"127.0.0.1:{free_port()}")

    result = subprocess.run(
        [*MAKE, "serve-prod"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on in deployment
    assert not (tmp_path / "static").exists()  # stopped before collectstatic


def workers_for(env):
    result = subprocess.run(
        [*MAKE, "--eval", "print-%: ; @echo $($*)", "print-WEB_CONCURRENCY"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout)


def test_worker_count_is_two_per_core_plus_one_unless_web_concurrency_says(tmp_path):
    env = production_env(tmp_path)
    env.pop("WEB_CONCURRENCY", None)

    assert workers_for(env) == 2 * len(os.sched_getaffinity(0)) + 1
    assert workers_for({**env, "WEB_CONCURRENCY": "7"}) == 7


ENV_EXAMPLE = ROOT / "docs" / "env.example"
# Read by settings.py but not for operators to set: test-only or development switches.
NOT_FOR_PRODUCTION = {
    "TEST_DATABASE_NAME",
    "PASSWORD_HASHERS",
    "STATICFILES_BACKEND",
    "AXES_ENABLED",
}


def env_example_values():
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_env_example_passes_the_deployment_checklist_once_given_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(env_example_values(), SECRET_KEY=secrets.token_urlsafe(50))

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_env_example_documents_every_setting_read_from_the_environment():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r"env(?:\.[a-z]+)?\(\s*\"([A-Z][A-Z0-9_]+)\"", settings_source))
    documented = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M))

    assert len(read) > 30
    assert read - NOT_FOR_PRODUCTION - documented == set()


def test_the_cache_is_per_process_unless_cache_url_names_a_shared_one(tmp_path):
    def cache_backend(**extra):
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", CACHE_BACKEND],
            cwd=ROOT,
            env=production_env(tmp_path, **extra),
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.split()

    assert cache_backend() == ["django.core.cache.backends.locmem.LocMemCache"]
    assert cache_backend(CACHE_URL="dbcache://naumur_cache") == [
        "django.core.cache.backends.db.DatabaseCache",
        "naumur_cache",
    ]


CACHE_BACKEND = "from django.conf import settings; print(*settings.CACHES['default'].values())"

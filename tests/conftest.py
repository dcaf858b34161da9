"""Shared fixtures: users per role, a campaign, companies, and Chromium for browser tests."""

import contextlib
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The sync Playwright API runs an event loop in the test thread; Django must not take that for
# async code. Must be set before pytest-django creates the test database.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def compile_catalogues() -> None:
    """The compiled catalogues (.mo) are not kept in git: compile those older than their .po, as
    `make messages` does, so that pytest run alone speaks English too (gettext's msgfmt)."""
    for po in Path(__file__).resolve().parent.parent.glob("locale/*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            if not shutil.which("msgfmt"):
                raise pytest.UsageError("msgfmt missing: apt-get install gettext (make test does)")
            subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], check=True)


compile_catalogues()

PASSWORD = "mot-de-passe-de-test"
ROOT = Path(__file__).resolve().parent.parent

# Property tests here run against the database: a busy machine's slowness is no failure, and
# the function-scoped fixtures they use (the database, settings) are what each example shares
# on purpose, each test cleaning what it needs itself.
settings.register_profile(
    "naumur",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("naumur")


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _empty_cache():
    """A test never sees what another test left in the cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _french_first():
    """A test starts in French, the site's language, whatever a request of an earlier test
    activated in this thread (LocaleMiddleware leaves the last request's language active)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def roles(db):
    from core.roles import ensure_roles

    ensure_roles()


def make_user(username, group_name=None, **extra):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)
    if group_name:
        user.groups.add(Group.objects.get(name=group_name))
    return user


def make_operators(count):
    """`count` operators named op0, op1...: the crowd of the concurrency tests."""
    from core.roles import OPERATORS, ensure_roles

    ensure_roles()
    return [make_user(f"op{i}", OPERATORS) for i in range(count)]


def run_threads(*targets):
    """Run each target in its own thread, all at once, and fail with what any of them raised.

    Each thread closes its database connections when done: a transactional test cannot flush
    the database while a thread still holds one."""
    import threading

    from django.db import connections

    errors = []

    def wrapped(target):
        try:
            target()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running"
    assert not errors, errors


@pytest.fixture
def operator(roles):
    from core.roles import OPERATORS

    return make_user("operateur1", OPERATORS, first_name="Awa", last_name="Ngo")


@pytest.fixture
def operator2(roles):
    from core.roles import OPERATORS

    return make_user("operateur2", OPERATORS, first_name="Paul", last_name="Eto")


@pytest.fixture
def supervisor(roles):
    from core.roles import SUPERVISORS

    return make_user("superviseur", SUPERVISORS, first_name="Marie", last_name="Fouda")


@pytest.fixture
def as_supervisor(client, supervisor):
    """The test client, logged in as the supervisor."""
    client.force_login(supervisor)
    return client


def page_text(response) -> str:
    """The page as a person reads it (HTML entities decoded)."""
    import html

    return html.unescape(response.content.decode())


@pytest.fixture
def admin_user(roles):
    return make_user("admin", is_staff=True, is_superuser=True)


# Tests of anything but the fieldwork rules run on a campaign open at every hour, without
# holidays or spreading of attempts, so that they mean the same whatever day and hour they run.
ALWAYS_OPEN = {
    "calling_hours": [[["00:00", "24:00"]] for _day in range(7)],
    "public_holidays": False,
    "spread_attempts": False,
}


@pytest.fixture
def campaign(db):
    from companies.models import Campaign

    return Campaign.objects.create(
        name="Enquête transformateurs 2026",
        no_answer_max_attempts=3,
        voicemail_max_attempts=3,
        no_answer_delay=timedelta(hours=2),
        voicemail_delay=timedelta(hours=2),
        **ALWAYS_OPEN,
    )


@pytest.fixture
def make_company(campaign):
    from companies.models import Company

    counter = {"n": 0}

    def make(**fields):
        counter["n"] += 1
        n = counter["n"]
        values = {
            "campaign": campaign,
            "name": f"Société Test {n}",
            "phone": f"6 77 00 {n // 100:02d} {n % 100:02d}",
            "product": "cacao",
            "activity": "transformation",
            "location": "Douala",
            "legal_form": "SARL",
            "niu": f"M0000000{n:05d}A",
        }
        values.update(fields)
        return Company.objects.create(**values)

    return make


@pytest.fixture
def company(make_company):
    return make_company(name="Coopérative Étoile du Wouri", validity_score=80)


# --- Browser tests: Playwright driving Debian's Chromium with a fake microphone. ---

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def _patient_browser_expectations():
    """A 2-core machine running the suite may take more than Playwright's default 5 s to answer;
    waiting longer changes no assertion, only how long a real failure takes to report."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser_context_args():
    return {
        "locale": "fr-FR",
        "timezone_id": "Africa/Douala",
        "viewport": {"width": 1366, "height": 900},
    }


@pytest.fixture
def login(live_server):
    """Log a browser page in through the real login form."""

    def do_login(page, user, password=PASSWORD):
        # The tests read French pages: a context made without the suite's locale
        # (browser.new_context()) would otherwise ask for the browser's English.
        from django.conf import settings

        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "fr", "url": live_server.url}]
        )
        page.goto(f"{live_server.url}/appels/acces/")
        page.get_by_label("Identifiant").fill(user.username)
        page.get_by_label("Mot de passe").fill(password)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    return do_login


@contextlib.contextmanager
def make_running(target, env, log_path):
    """`make TARGET` from the repository, in a session of its own, its output in log_path; at
    the end the whole session (make and the servers it started) is stopped."""
    import signal
    import subprocess

    with log_path.open("w") as log:
        process = subprocess.Popen(
            # -o: make would otherwise (re)install the virtualenv when its stamp file is missing.
            ["make", "--no-print-directory", "-o", ".venv/.installed", target],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


# --- S3-compatible object storage: moto's server mode on loopback, a real S3 protocol peer. ---


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """URL of a moto S3 server running in a thread for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(s3_endpoint, settings, monkeypatch):
    """Make the default storage the project's S3 configuration, against a fresh bucket.

    The STORAGES value comes from config/settings.py itself, evaluated with STORAGE_BACKEND=s3,
    so the options under test are the ones production uses. Returns default_storage.
    """
    import runpy
    import uuid

    import boto3
    from django.core.files.storage import default_storage

    bucket = f"naumur-test-{uuid.uuid4().hex[:12]}"
    s3_env = {
        "STORAGE_BACKEND": "s3",
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_ACCESS_KEY_ID": "naumur-test",
        "AWS_SECRET_ACCESS_KEY": "naumur-test-secret",
    }
    for name, value in s3_env.items():
        monkeypatch.setenv(name, value)
    project_settings = runpy.run_path(str(settings.BASE_DIR / "config" / "settings.py"))
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="naumur-test",
        aws_secret_access_key="naumur-test-secret",
    ).create_bucket(Bucket=bucket)
    # Changing STORAGES through the settings fixture fires setting_changed, whose Django
    # handler empties the storages cache and resets default_storage (and again on undo).
    settings.STORAGES = {**settings.STORAGES, "default": project_settings["STORAGES"]["default"]}
    assert default_storage.bucket_name == bucket
    return default_storage

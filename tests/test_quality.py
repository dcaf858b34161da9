"""The project's own checks run with the suite: ruff, and Django's deployment checklist."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUFF = Path(sys.executable).with_name("ruff")

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "naumur.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://naumur.example.org",
    "DATABASE_URL": "sqlite:////tmp/naumur-check-deploy.sqlite3",
}


def run(*args, env=None, without=()):
    # The tests' own DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a "production" process.
    base = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", *without}}
    return subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, env={**base, **(env or {})}
    )


def test_ruff_finds_nothing_to_fix():
    result = run(str(RUFF), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run(
        sys.executable,
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env_without_key = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    missing = run(sys.executable, "manage.py", "check", env=env_without_key, without={"SECRET_KEY"})
    empty = run(sys.executable, "manage.py", "check", env={**PRODUCTION_ENV, "SECRET_KEY": ""})
    for result in (missing, empty):
        assert result.returncode != 0
        assert "SECRET_KEY must be set" in result.stderr


def test_debug_is_off_unless_asked_for():
    """A server started without DEBUG in its environment gets production settings."""
    show_debug = "from django.conf import settings; print(settings.DEBUG)"
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": secrets.token_urlsafe(50)}
    result = run(sys.executable, "-c", show_debug, env=env, without={"DEBUG"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
    without_key = run(sys.executable, "manage.py", "check", without={"DEBUG", "SECRET_KEY"})
    assert without_key.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in without_key.stderr


def test_make_run_turns_debug_on_for_the_local_demo():
    result = run("make", "--dry-run", "run")
    assert result.returncode == 0, result.stderr
    django_commands = [line for line in result.stdout.splitlines() if "manage.py" in line]
    assert django_commands and all(line.startswith("DEBUG=true ") for line in django_commands)

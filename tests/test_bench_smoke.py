"""The benchmarks' own machinery on a few rows: they build their data with raw SQL, which a new
NOT NULL column breaks silently until someone runs `make bench` (it happened twice). Figures at
this size mean nothing; only that each script builds, measures and reports is checked."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_bench(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BENCH_PG_URL")}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_export_benchmark_builds_its_database_and_reports():
    result = run_bench(
        "bench/export.py", "--rows", "300", "--small", "100", "--skip-full", "--skip-peer",
        "--repeat", "1",
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    # 300 calls built; campaign 1's 100 exported by sqlite3 and by naumur, checked for their
    # row count. At this size start-up dominates, so the 3x target fails: exit status 1.
    assert "300 submitted calls" in result.stdout
    for tool in ("| 100 | floor | CSV |", "| 100 | naumur | CSV |", "| 100 | naumur | XLSX |"):
        assert tool in result.stdout, result.stdout
    assert "PASS peak memory" in result.stdout


def test_the_dashboard_benchmark_builds_its_database_and_reports():
    result = run_bench(
        "bench/dashboard.py", "--calls", "500", "--companies", "100", "--operators", "5",
        "--requests", "1", "--only", "sqlite",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "lignes : 100 entreprises" in result.stdout
    assert "chiffres par jour recomptés" in result.stdout
    assert "Objectif p50 < 200 ms pour la vue par défaut : atteint" in result.stdout


# --- make load-cluster (bench/cluster.py): its configuration and data, without the load. ---


@pytest.fixture
def cluster(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import cluster

    return cluster


def test_the_cluster_nginx_config_balances_round_robin_with_passive_checks(cluster, tmp_path):
    folder = tmp_path / "nginx"
    folder.mkdir()
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "tmp" / name).mkdir(parents=True)
    config = cluster.nginx_config(folder, 18080, [18001, 18002])
    (folder / "nginx.conf").write_text(config)

    result = subprocess.run(
        [cluster.NGINX, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf"),
         "-e", str(folder / "error.log")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "server 127.0.0.1:18001 max_fails=1 fail_timeout=5s;" in config
    assert "server 127.0.0.1:18002 max_fails=1 fail_timeout=5s;" in config
    assert "proxy_next_upstream error timeout;" in config  # the app's 503 is not retried


def test_the_cluster_servers_pass_the_deployment_checks_with_s3_and_redis(cluster, tmp_path):
    import load

    env = cluster.cluster_environment(
        load.server_environment(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path), 19000, 19001
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    shown = "from django.conf import settings as s; print(s.CACHES['default']['BACKEND'], s.STORAGES['default']['BACKEND'])"  # noqa: E501

    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    backends = subprocess.run(
        [sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", shown],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert check.returncode == 0, check.stdout + check.stderr
    assert backends.stdout.split() == [
        "django_redis.cache.RedisCache",
        "storages.backends.s3.S3Storage",
    ]


@pytest.mark.django_db
def test_the_cluster_data_build_gives_the_dashboard_closed_days(cluster, roles):
    import load

    from calls.dashboard import Filters, PeriodChoice, figures
    from companies.models import Campaign, Company

    accounts = load.seed(companies=30, operators=3, supervisors=2)
    history_id = cluster.seed_history(accounts["operators"], days=4, per_day=5)

    # Every company has its main number: the load's call forms record which number was called.
    assert Company.objects.count() == 50
    assert Company.objects.filter(phones__position=0).distinct().count() == 50

    history = Campaign.objects.get(pk=history_id)
    assert not history.is_active  # never served to the load's operators
    shown = figures(Filters(campaign=history, period=PeriodChoice.CAMPAIGN))
    assert shown.calls.calls == 20  # the kept daily figures were counted for the history
    assert shown.calls_today == 0  # closed days only


def test_the_import_benchmark_builds_its_lists_and_reports():
    result = run_bench("bench/import.py", "--rows", "300", "--large", "3000", "--skip-peer")
    assert result.returncode == 0, result.stderr[-3000:]
    # Both lists imported through the page's jobs: every row is created or rejected.
    for label, rows in (("Naumur (SQLite)", 300), ("Naumur (SQLite), grand fichier", 3000)):
        line = next(li for li in result.stdout.splitlines() if li.startswith(f"| {label} |"))
        cells = [cell.strip().replace(",", "") for cell in line.split("|")[1:-1]]
        assert int(cells[1]) == rows
        assert int(cells[6]) + int(cells[7]) == rows and int(cells[7]) > 0, line
    assert "| Plancher : sqlite3 executemany | 300 |" in result.stdout
    assert "pic mémoire 3,000 / 300 lignes" in result.stdout


def test_the_claim_benchmark_runs_both_queues_and_checks_them():
    result = run_bench(
        "bench/claim.py", "--db", "sqlite", "--companies", "400", "--claims", "40",
        "--claimers", "2",
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    for variant in ("plain", "rules"):
        line = next(line for line in result.stdout.splitlines() if f" {variant} " in line)
        assert "claimed=40 double_claims=0 outside_window=0 listed_served=0 errors=0" in line
    assert "p95 rules / plain = " in result.stdout


# --- make load (bench/load.py): the CPU report and each call's audio, without the load. ----


@pytest.fixture
def load(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import load

    return load


def test_each_workers_cpu_log_is_named_as_the_load_names_its_requests(load):
    import gunicorn_cpu

    def name(method, path, query="", htmx=False):
        return gunicorn_cpu.endpoint(method, path, query, htmx)

    assert name("POST", "/enregistrements/12/morceaux/40/", "sizes=1,2") == (
        "POST /enregistrements/[id]/morceaux/[n]/"
    )
    assert name("POST", "/appels/7/remplir/", htmx=True) == "POST /appels/[id]/remplir/ (brouillon)"
    assert name("GET", "/appels/7/remplir/") == "GET /appels/[id]/remplir/"
    assert name("POST", "/appels/7/bail/", htmx=True) == "POST /appels/[id]/bail/"
    assert name("GET", "/dashboard/", "campaign=", htmx=True) == "GET /dashboard/ (htmx)"
    assert name("GET", "/export/telecharger/", "format=xlsx&scope=companies") == (
        "GET /export/telecharger/ (xlsx, entreprises)"
    )
    named = {
        name("POST", "/appels/3/bail/"),
        name("POST", "/appels/3/micro/"),
        name("POST", "/enregistrements/3/fin/"),
        name("POST", "/appels/suivant/"),
    }
    assert named <= set(load.OPERATOR_ENDPOINTS)


def test_the_cpu_report_averages_what_the_workers_logged(load, tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu-1.tsv").write_text(
        "100.0\tPOST /appels/[id]/bail/\t4.000\t10.0\n"
        "101.0\tPOST /enregistrements/[id]/morceaux/[n]/\t8.000\t12.0\n"
        "102.0\tGET /dashboard/ (htmx)\t30.000\t40.0\n"
    )
    (tmp_path / "cpu" / "cpu-2.tsv").write_text(
        "103.0\tPOST /appels/[id]/bail/\t6.000\t9.0\n500.0\tPOST /appels/[id]/bail/\t99.0\t1.0\n"
    )

    rows = {row["name"]: row for row in load.server_cpu([tmp_path], since=100.0, until=200.0)}

    assert rows["POST /appels/[id]/bail/"]["count"] == 2  # the one after `until` left out
    assert rows["POST /appels/[id]/bail/"]["cpu_mean"] == 5.0
    assert rows["Opérateurs (moyenne)"]["cpu_mean"] == 6.0  # 4, 8 and 6: not the dashboard
    assert rows["Total"]["count"] == 4 and rows["Total"]["cpu_s"] == 0.048


def test_each_call_sends_the_captured_header_then_the_captured_chunks_over_and_over(load):
    captured = [b"\x1a\x45\xdf\xa3head", b"one", b"two", b"three"]

    sent = load.call_audio(captured, 8)

    assert sent == [captured[0], b"one", b"two", b"three", b"one", b"two", b"three", b"one"]
    assert load.call_audio(captured, 1) == [captured[0]]
    assert load.call_audio([b"\x1a\x45\xdf\xa3only"], 3) == [b"\x1a\x45\xdf\xa3only"] * 3

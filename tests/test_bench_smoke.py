"""The benchmarks' own machinery on a few rows: they build their data with raw SQL, which a new
NOT NULL column breaks silently until someone runs `make bench` (it happened twice). Figures at
this size mean nothing; only that each script builds, measures and reports is checked."""

import os
import subprocess
import sys
from pathlib import Path

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
    assert "Objectif p50 < 200 ms pour la vue par défaut : atteint" in result.stdout


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

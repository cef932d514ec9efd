"""cli.py as a user runs it, in a subprocess against a fresh SQLite file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cli(url: str, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    if password:
        env["DASHBOARD_NEW_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "cli.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_init_seed_and_users(sqlite_url: str) -> None:
    assert _cli(sqlite_url, "init").returncode == 0
    seeded = _cli(sqlite_url, "seed-demo", "--young-people", "120", "--seed", "4", "--as-of", "2026-11")
    assert seeded.returncode == 0, seeded.stderr
    assert "youngperson=120" in seeded.stdout
    # The command says what it did, not Streamlit's warnings about running outside a page.
    assert seeded.stderr == "", seeded.stderr
    added = _cli(
        sqlite_url, "users", "add", "sam", "--role", "manager", "--locality", "north", password="a-long-password"
    )
    assert added.returncode == 0, added.stderr
    listing = _cli(sqlite_url, "users", "list").stdout
    assert "sam" in listing and "north" in listing and "manager_east" in listing
    assert _cli(sqlite_url, "users", "disable", "sam").returncode == 0
    assert "sam                  manager       north     True" in _cli(sqlite_url, "users", "list").stdout
    assert _cli(sqlite_url, "users", "reset-password", "sam", password="new-long-password").returncode == 0


def test_bad_requests_say_what_is_wrong(sqlite_url: str) -> None:
    bad_role = _cli(sqlite_url, "users", "add", "kim", "--role", "root", password="a-long-password")
    assert bad_role.returncode == 1 and "unknown role 'root'" in bad_role.stderr
    bad_loc = _cli(
        sqlite_url, "users", "add", "kim", "--role", "manager", "--locality", "south", password="a-long-password"
    )
    assert bad_loc.returncode == 1 and "unknown locality 'south'" in bad_loc.stderr
    missing = _cli(sqlite_url, "users", "disable", "nobody")
    assert missing.returncode == 1 and "no user 'nobody'" in missing.stderr
    bad_month = _cli(sqlite_url, "seed-demo", "--as-of", "November")
    assert bad_month.returncode == 2 and "expected YYYY-MM" in bad_month.stderr


def test_import_bench_prints_its_line(sqlite_url: str) -> None:
    run = _cli(sqlite_url, "bench", "--only", "import", "--import-rows", "2000")
    assert run.returncode == 0, run.stderr
    assert re.fullmatch(
        r"bench import=episodes rows=2000 ms=\d+ peak_rss_mb=\d+\n"
        r"bench import=cld rows=2000 ms=\d+ peak_rss_mb=\d+\n"
        r"bench import=cin children=2000 size_mb=\d+ ms=\d+ peak_rss_mb=\d+\n",
        run.stdout,
    )


def test_dry_run_of_a_published_file_writes_nothing(sqlite_url: str) -> None:
    neighbours = ROOT / "data" / "reference" / "dfe_statistical_neighbours_2021.csv"
    assert _cli(sqlite_url, "init").returncode == 0
    checked = _cli(sqlite_url, "import-neighbours", str(neighbours), "--dry-run")
    assert checked.returncode == 0, checked.stderr
    # init loaded this same file: the dry run says so rather than counting it twice.
    assert "already imported; nothing changed" in checked.stdout
    care = ROOT.parent / "shared" / "data" / "dfe" / "csww_indicators_2017_to_2025.csv"
    dry = _cli(sqlite_url, "import-benchmark", str(care), "--dataset", "workforce_copy", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "valid; would import 1463 rows" in dry.stdout and "(dry run, nothing written)" in dry.stdout
    again = _cli(sqlite_url, "import-benchmark", str(care), "--dataset", "workforce_copy")
    assert "1463 rows" in again.stdout and "imported as workforce_copy" in again.stdout

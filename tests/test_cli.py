"""cli.py as a user runs it, in a subprocess against a fresh SQLite file."""

from __future__ import annotations

import os
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

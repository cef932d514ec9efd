"""Shared fixtures: fresh databases (SQLite always, PostgreSQL when configured)
and a real streamlit server for browser tests.

Under CI=true nothing here may skip: a missing PostgreSQL or Chromium fails
the run instead, so a green CI always means the real parts were exercised.
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
# Every chart spec a test builds (in this process or a server it starts) is
# checked against the Vega-Lite schema; the app skips that check (partnership/charts.py).
os.environ["DASHBOARD_VALIDATE_CHARTS"] = "1"
# Columnar copies of the test databases (partnership/snapshot.py) go to a
# scratch folder of this run, not into data/ (PostgreSQL ones would gather there).
_SNAPSHOTS = tempfile.mkdtemp(prefix="tsd_snapshots_")
os.environ["DASHBOARD_SNAPSHOT_DIR"] = _SNAPSHOTS
atexit.register(shutil.rmtree, _SNAPSHOTS, True)
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("TEST_POSTGRES_URL", "")
DEMO_AS_OF = dt.date(2026, 11, 1)
TEST_PASSWORD = "test-password-123"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

# Secrets for the code under test: made up per run, never from a file in the repo.
os.environ.setdefault("DASHBOARD_COOKIE_KEY", secrets.token_hex(32))
os.environ.setdefault("DASHBOARD_PSEUDONYM_KEY", secrets.token_hex(32))


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must run, not skip)")
    pytest.skip(reason)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL database per test, dropped afterwards."""
    if not PG_URL:
        _missing("TEST_POSTGRES_URL is not set")
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    name = f"tsd_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # server down or refused
        _missing(f"PostgreSQL at TEST_POSTGRES_URL is not reachable: {exc}")
    base = PG_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    from models.db import get_engine

    get_engine(f"{base}/{name}").dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Data-layer tests run on both engines."""
    return request.getfixturevalue(f"{request.param}_url")


# Demo databases already seeded (and published to the board) in this process, by size and seed:
# a new SQLite database is a copy of one (seeding and the first publication are the slow part).
_SEEDED: dict[tuple[int, int, bool], tuple[Path, dict[str, int]]] = {}
_SEEDED_DIR = tempfile.mkdtemp(prefix="tsd_seeded_")
atexit.register(shutil.rmtree, _SEEDED_DIR, True)


def seed_small(url: str, young_people: int = 400, seed: int = 11, publish: bool = True) -> dict[str, int]:
    """A demo partnership in the database at `url`, and (unless `publish` is
    off) its first board publication, as `cli.py seed-demo` leaves it."""
    from models.db import get_engine
    from partnership.demo import seed_demo

    target = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    if target is None or target.exists():
        return seed_demo(url, young_people, seed, DEMO_AS_OF, password=TEST_PASSWORD, publish=publish)
    key = (young_people, seed, publish)
    if key not in _SEEDED:
        path = Path(_SEEDED_DIR) / f"seeded_{young_people}_{seed}_{int(publish)}.db"
        counts = seed_demo(f"sqlite:///{path}", young_people, seed, DEMO_AS_OF, password=TEST_PASSWORD, publish=publish)
        # SQLite runs in WAL mode: closing every connection folds the log into the file before copying.
        get_engine(f"sqlite:///{path}").dispose()
        _SEEDED[key] = (path, counts)
    path, counts = _SEEDED[key]
    shutil.copy(path, target)
    # The columnar copy of the cohort, as the seed's writer leaves one beside its database.
    from partnership import snapshot

    snapshot.cohort_frames(get_engine(url))
    return dict(counts)


# --- a real streamlit server ---------------------------------------------------


def import_seven_open_seventeen_year_olds(url: str, folder: Path, tag: str) -> None:
    """Through the command line: seven young people who raise 'Open to
    children's services aged 16-17' by 7 (partnership.bench writes the files)."""
    from partnership.bench import write_seven_open_seventeen_year_olds

    for table, path in write_seven_open_seventeen_year_olds(folder, tag):
        done = subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), "import", table, str(path)],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-2000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.url, self.proc, self.log = url, proc, log


def start_streamlit(db: str, log: Path) -> Server:
    """`streamlit run dashboard.py` on `db`, on a free port; returns once healthy."""
    from partnership.wsclient import healthy

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db, "DASHBOARD_DEMO_PASSWORD": TEST_PASSWORD}
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "streamlit"),
            "run",
            str(ROOT / "dashboard.py"),
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if healthy(base, timeout=2):
            return Server(base, proc, log)
        time.sleep(0.3)
    proc.kill()
    pytest.fail(f"streamlit did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on a demo database built for a fixed as-of month, so the
    figures are the same on every run."""
    if not Path(CHROMIUM).exists() or shutil.which("streamlit", path=str(Path(sys.executable).parent)) is None:
        _missing(f"Chromium not found at {CHROMIUM}")
    tmp = tmp_path_factory.mktemp("server")
    db = f"sqlite:///{tmp / 'browser.db'}"
    seed_small(db, 2000, 2024)
    running = start_streamlit(db, tmp / "streamlit.log")
    yield running
    running.proc.terminate()
    running.proc.wait(timeout=20)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, object]:
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches() -> Iterator[None]:
    """ui/data.py caches the engine and figures process-wide; each test has its own database."""
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session on a fresh database (each engine) at the latest schema, with the seeds' reference data."""
    from models.db import get_engine, upgrade
    from models.reference import load_reference

    upgrade(db_url)
    with Session(get_engine(db_url)) as s:
        load_reference(s)
        s.commit()
        yield s

"""Reads from a PostgreSQL streaming replica (DATABASE_READ_URL), writes to
the primary (DATABASE_URL): a primary and a replica started here, in a
folder of their own, the app (AppTest) signed in on them.

The replica's replay is paused while an import goes to the primary: the
page keeps showing what the replica has (figures and their data version
come from the replica together, so no cache is filled with a mix), then
shows the import once the replica has replayed it. Signing in writes a
session and audit rows: on a read-only replica those would fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from models.db import get_engine
from tests.apptest_support import signed_in
from tests.conftest import _free_port, _missing, import_seven_open_seventeen_year_olds, seed_small

OPEN = "Open to children's services aged 16-17"
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), Path("/nonexistent"))


def _as_postgres(*command: str) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run([*prefix, *command], capture_output=True, text=True)
    assert done.returncode == 0, f"{command[0]}: {done.stderr[-2000:]}"


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, str]]:
    """(primary URL, replica URL): a primary made by initdb, a replica made from
    it by pg_basebackup, both on loopback ports of their own."""
    if not (PG_BIN / "initdb").exists() or (os.geteuid() == 0 and not shutil.which("runuser")):
        _missing(f"PostgreSQL server programs not found in {PG_BIN}")
    base = Path(tempfile.mkdtemp(prefix="tsd-replica-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    primary, replica = base / "primary", base / "replica"
    ports = _free_port(), _free_port()
    _as_postgres(str(PG_BIN / "initdb"), "-D", str(primary), "-A", "trust", "-U", "postgres")
    started = []
    try:
        for folder, port in ((primary, ports[0]),):
            _start(folder, port)
            started.append(folder)
        _as_postgres(
            str(PG_BIN / "pg_basebackup"),
            f"--dbname=postgresql://postgres@127.0.0.1:{ports[0]}/postgres",
            "-D",
            str(replica),
            "--write-recovery-conf",
            "--wal-method=stream",
        )
        _start(replica, ports[1])
        started.append(replica)
        admin = create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{ports[0]}/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE dashboard"))
        admin.dispose()
        yield (
            f"postgresql://postgres@127.0.0.1:{ports[0]}/dashboard",
            f"postgresql://postgres@127.0.0.1:{ports[1]}/dashboard",
        )
    finally:
        for folder in reversed(started):
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(folder), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def _start(folder: Path, port: int) -> None:
    _as_postgres(
        str(PG_BIN / "pg_ctl"),
        "-D",
        str(folder),
        "-l",
        str(folder / "server.log"),
        "-w",
        "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1",
        "start",
    )


def _caught_up(primary: str, replica: str) -> None:
    with get_engine(primary).connect() as conn:
        target = conn.execute(text("SELECT pg_current_wal_lsn()")).scalar()
    deadline = time.monotonic() + 60
    with get_engine(replica).connect() as conn:
        while not conn.execute(text("SELECT pg_last_wal_replay_lsn() >= CAST(:t AS pg_lsn)"), {"t": target}).scalar():
            assert time.monotonic() < deadline, "the replica did not catch up in 60 s"
            time.sleep(0.2)
            conn.rollback()


def _replay(replica: str, paused: bool) -> None:
    with get_engine(replica).connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()"))
        conn.commit()


def _metric(at) -> int:  # type: ignore[no-untyped-def]
    (value,) = [m.value for m in at.metric if m.label == OPEN]
    return int(str(value).replace(",", ""))


def test_pages_read_the_replica_and_write_to_the_primary(
    cluster: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    primary, replica = cluster
    seed_small(primary, 300, 9)
    _caught_up(primary, replica)
    monkeypatch.setenv("DATABASE_URL", primary)
    monkeypatch.setenv("DATABASE_READ_URL", replica)
    monkeypatch.setenv("DASHBOARD_SNAPSHOT_DIR", str(tmp_path / "snapshots"))
    lead = signed_in("lead")  # a session row and audit rows: written to the primary
    before = _metric(lead)

    _replay(replica, paused=True)
    try:
        import_seven_open_seventeen_year_olds(primary, tmp_path, "r")
        lead.run()
        assert _metric(lead) == before  # the replica has not replayed the import yet
    finally:
        _replay(replica, paused=False)
    _caught_up(primary, replica)
    lead.run()
    assert _metric(lead) == before + 7

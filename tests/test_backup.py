"""Backup and restore on SQLite and PostgreSQL, through the command line:
the data comes back as it was backed up, sessions opened since are ended,
and a backup from a newer schema is refused with the database untouched."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import AuditEvent, User, YoungPerson
from models.db import get_engine
from partnership import accounts, sessions
from partnership.backup import BackupError, backup_revision, restore, schema_head
from partnership.settings import get_settings
from tests.conftest import ROOT, seed_small


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def _state(url: str) -> tuple[list[tuple[int, str]], list[str]]:
    with Session(get_engine(url)) as session:
        people = sorted((p.id or 0, p.sex) for p in session.exec(select(YoungPerson)))
        users = sorted(u.username for u in session.exec(select(User)))
    return people, users


@pytest.fixture
def seeded(db_url: str) -> str:
    if db_url.startswith("postgresql") and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    seed_small(db_url, 60, 4)
    return db_url


def test_a_backup_restores_the_database_as_it_was(seeded: str, tmp_path: Path) -> None:
    before = _state(seeded)
    file = tmp_path / "partnership.backup"
    made = _cli(seeded, "backup", "--out", str(file))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"backup written to {file}")
    assert backup_revision(file) == schema_head(seeded)

    # After the backup: a new account, a young person's record changed, and someone signed in.
    with Session(get_engine(seeded)) as session:
        accounts.add_user(session, "newcomer", "New", "board", "a-long-password")
        person = session.exec(select(YoungPerson).order_by(YoungPerson.id)).first()
        assert person is not None
        person.sex = "X" if person.sex != "X" else "F"
        session.add(person)
        _, ticket = sessions.open_session(session, "lead", "10.0.0.1", sessions.now())
        token = sessions.trade_ticket(session, ticket, sessions.now())
        session.commit()
    assert _state(seeded) != before

    done = _cli(seeded, "restore", str(file))
    assert done.returncode == 0, done.stderr
    assert _state(seeded) == before
    assert "newcomer" not in _state(seeded)[1]
    # The lead's session, opened after the backup, is gone with everything else made since.
    assert "0 sessions ended" in done.stdout
    with Session(get_engine(seeded)) as session:
        found = sessions.current(session, get_settings(), sessions.now(), token=token)
        assert found.viewer is None
        assert [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.action == "restore"))] == ["restore"]


def test_sessions_open_at_the_backup_are_ended_by_the_restore(seeded: str, tmp_path: Path) -> None:
    with Session(get_engine(seeded)) as session:
        _, ticket = sessions.open_session(session, "lead", "10.0.0.1", sessions.now())
        token = sessions.trade_ticket(session, ticket, sessions.now())
        session.commit()
    file = tmp_path / "partnership.backup"
    assert _cli(seeded, "backup", "--out", str(file)).returncode == 0
    done = _cli(seeded, "restore", str(file))
    assert done.returncode == 0, done.stderr
    assert "1 session ended" in done.stdout
    with Session(get_engine(seeded)) as session:
        found = sessions.current(session, get_settings(), sessions.now(), token=token)
        assert found.viewer is None and found.ended == "restored"


def test_a_backup_from_a_newer_schema_is_refused_and_nothing_changes(seeded: str, tmp_path: Path) -> None:
    file = tmp_path / "newer.backup"
    assert _cli(seeded, "backup", "--out", str(file)).returncode == 0
    if seeded.startswith("sqlite"):
        with sqlite3.connect(file) as conn:
            conn.execute("UPDATE alembic_version SET version_num = '9999'")
    else:  # a dump of a database whose schema a later version of the dashboard made
        engine = get_engine(seeded)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
        assert _cli(seeded, "backup", "--out", str(file)).returncode == 0
        with engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{schema_head(seeded)}'")
    with Session(get_engine(seeded)) as session:
        accounts.add_user(session, "after", "After", "board", "a-long-password")
        session.commit()
    before = _state(seeded)
    done = _cli(seeded, "restore", str(file))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: {file} is from a newer schema (9999) than this version of the dashboard knows "
        f"(up to {schema_head(seeded)}): upgrade the dashboard, then restore"
    )
    assert _state(seeded) == before


def test_a_file_that_is_not_a_backup_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    seed_small(sqlite_url, 20, 1)
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    done = _cli(sqlite_url, "restore", str(junk))
    assert done.returncode == 1
    assert "not a backup made by `cli.py backup`" in done.stderr
    with pytest.raises(BackupError, match="no such file"):
        restore(sqlite_url, tmp_path / "missing.backup")

"""Backup and restore of the whole database, for either engine.

SQLite: the online backup API (a consistent copy while the app reads and
writes; restore copies back the same way, page by page, under SQLite's lock).
PostgreSQL: pg_dump's custom format, restored with pg_restore in one
transaction. A backup from a newer schema than this code knows is refused
before anything is touched; an older one is restored, then upgraded.

After a restore every session is ended (the backup may hold sessions ended
since) and both data versions change, so every app process drops what it
cached and rebuilds the columnar copy at its next run.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlmodel import Session

from models.db import alembic_config, get_engine, upgrade
from partnership import accounts, sessions, store

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(ValueError):
    """A backup or restore that cannot be done, in words for the operator."""


@dataclass(frozen=True)
class Restored:
    revision: str
    sessions_ended: int


def schema_head(url: str) -> str:
    return str(ScriptDirectory.from_config(alembic_config(url)).get_current_head())


def _sqlite_path(url: str) -> Path:
    path = url.removeprefix("sqlite:///")
    if not path or path == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(path)


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore read it."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def backup(url: str, out: Path) -> int:
    """Write a backup of the database at `url` to `out`; returns its size in bytes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    if url.startswith("sqlite"):
        _copy(sqlite3.connect(_sqlite_path(url), timeout=30), sqlite3.connect(partial))
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", _libpq(url)])
    partial.replace(out)
    return out.stat().st_size


def backup_revision(file: Path) -> str:
    """The schema revision a backup file was made at."""
    if not file.is_file():
        raise BackupError(f"{file}: no such file")
    with file.open("rb") as handle:
        start = handle.read(16)
    if start.startswith(SQLITE_MAGIC):
        try:
            with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as conn:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{file}: not a backup of this dashboard ({exc})") from exc
    elif start.startswith(PG_MAGIC):
        listing = _run(["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(file)])
        # COPY public.alembic_version (version_num) FROM stdin;\n0007\n\.
        match = re.search(r"^COPY \S*alembic_version .*?;\n(\S+)\n", listing, flags=re.MULTILINE)
        row = (match.group(1),) if match else None
    else:
        raise BackupError(f"{file}: not a backup made by `cli.py backup` (neither SQLite nor pg_dump custom format)")
    if row is None:
        raise BackupError(f"{file}: not a backup of this dashboard (no schema revision in it)")
    return str(row[0])


def restore(url: str, file: Path, actor: str = "cli") -> Restored:
    """Replace the database at `url` with the backup in `file`."""
    revision, head = backup_revision(file), schema_head(url)
    if not (revision.isdigit() and head.isdigit()) or int(revision) > int(head):
        raise BackupError(
            f"{file} is from a newer schema ({revision}) than this version of the dashboard knows "
            f"(up to {head}): upgrade the dashboard, then restore"
        )
    is_sqlite_file = file.open("rb").read(16).startswith(SQLITE_MAGIC)
    if is_sqlite_file != url.startswith("sqlite"):
        kind = "SQLite" if is_sqlite_file else "PostgreSQL"
        raise BackupError(f"{file} is a {kind} backup: restore it into a {kind} database")
    get_engine(url).dispose()  # no pooled connection of ours holds the old database open
    if is_sqlite_file:
        _copy(sqlite3.connect(f"file:{file}?mode=ro", uri=True), sqlite3.connect(_sqlite_path(url), timeout=30))
    else:
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={_libpq(url)}",
                str(file),
            ]
        )
    upgrade(url)  # a backup from an older schema is brought up to date
    with Session(get_engine(url)) as session:
        ended = sessions.end_all_sessions(session, actor, reason="restored")
        store.bump_data_version(session, cohort=True)
        accounts.audit(session, actor, "restore", f"{file.name} (schema {revision})")
        session.commit()
    return Restored(revision, ended)


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """SQLite's online backup, page by page under its lock: backup and restore alike."""
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"{command[0]} is not installed (Debian package postgresql-client)") from exc
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[:2000]}")
    return done.stdout

"""Bulk writes and database-level facts (synthetic flag, data version)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import polars as pl
from sqlalchemy import Connection, text
from sqlmodel import Session

from models import Setting


def bulk_insert(conn: Connection, table: str, frame: pl.DataFrame) -> int:
    """Insert a frame through the caller's transaction, fast on both engines:
    executemany of plain tuples on SQLite, COPY on PostgreSQL."""
    if frame.is_empty():
        return 0
    cols = frame.columns
    if conn.dialect.name == "postgresql":
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in frame.iter_rows():
                copy.write_row(row)
        if "id" in cols:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )
        return frame.height
    # SQLAlchemy stores SQLite dates as ISO text; write them the same way.
    frame = frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
        + [
            pl.col(c).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S%.6f")
            for c, t in frame.schema.items()
            if isinstance(t, pl.Datetime)
        ]
    )
    placeholders = ", ".join("?" for _ in cols)
    raw = conn.connection.dbapi_connection
    cur = raw.cursor()
    cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders})", frame.iter_rows())
    return frame.height


def chunks(ids: Sequence[int], size: int = 5000) -> Iterator[list[int]]:
    """Ids in slices small enough for one IN (...) on either engine."""
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def get_setting(session: Session, key: str, default: str | None = None) -> str | None:
    row = session.get(Setting, key)
    return row.value if row else default


def set_setting(session: Session, key: str, value: str) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
        session.add(row)


def bump_data_version(session: Session, cohort: bool = True, staffing: bool = True) -> str:
    """Every write of cohort or staffing data changes this, so caches keyed by
    it never serve figures from before the write. A write to the cohort tables
    (young people, episodes, plans, risks, outcomes) also changes the cohort
    version, which names the columnar copy of them (partnership/snapshot.py);
    recording staffing or an indicator leaves that copy standing. Every write
    but one to the cohort tables alone (`staffing=False`: an import of case
    records) changes the staffing version, which keys what the capacity page
    shows: a return imported while the board meets leaves that page as it was."""
    from partnership.snapshot import COHORT_CHANGED

    version = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S%f")
    set_setting(session, "data_version", version)
    if cohort:
        set_setting(session, "cohort_version", version)
        session.info[COHORT_CHANGED] = True
    if staffing:
        set_setting(session, "staffing_version", version)
    return version

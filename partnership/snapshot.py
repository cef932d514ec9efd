"""A columnar copy of the cohort tables, one per cohort version.

The first view after a data change used to move every cohort row through
Python objects (850,000 rows at 100,000 young people: 5-7 s of a 9-14 s
first view). Now the rows are read once per cohort version, straight into
columns, and written as Arrow IPC files that every process and session then
memory-maps and filters by scope. The write that changes the cohort builds
the next copy right after its commit (see `_after_commit`), so the first
viewer after an import reads files, not the database.

Measured at 100,000 young people on this machine kind (the choice, and why):
SQLAlchemy rows into polars 4.7 s; raw SQLite cursor rows 2.6 s (polars'
read_database on the same cursor 1.5x slower than that; ADBC and ConnectorX,
measured earlier, 1.6-1.7x faster than SQLAlchemy: not enough alone);
reading the IPC copy, about 0.05 s. Aggregating in SQL would have meant a
second definition of every measure beside the polars one in the catalogue.

The database stays the one truth: a copy is named by the database and the
cohort version it was read at (in one transaction with the tables), so a
copy is either right for the current version or never looked at. A missing
or damaged copy is rebuilt from the database."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import shutil
import threading
from pathlib import Path

import polars as pl
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from partnership.settings import DATA_DIR

log = logging.getLogger(__name__)

COHORT_CHANGED = "cohort_changed"  # a Session.info key: set by store.bump_data_version(cohort=True)
_KEEP = 2  # copies kept per database: the current one and the one before (a reader may hold it)
_lock = threading.Lock()
_memo: dict[Path, dict[str, pl.DataFrame]] = {}
DERIVED = "derived."  # file names of frames worked out from the tables (figures.PRECOMPUTED), not read from them


def _root(engine: Engine) -> Path:
    """Where copies of this database live: DASHBOARD_SNAPSHOT_DIR if set (app
    processes of a deployment share it), else beside a SQLite file, else data/."""
    url = engine.url
    chosen = os.environ.get("DASHBOARD_SNAPSHOT_DIR", "").strip()
    if chosen:
        base = Path(chosen)
    elif url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        base = Path(url.database).resolve().parent / ".snapshots"
    else:
        base = DATA_DIR / "snapshots"
    # Named by the database (never its password), so two databases never share a copy.
    name = url.render_as_string(hide_password=True)
    return base / hashlib.sha256(name.encode()).hexdigest()[:16]


def cohort_frames(engine: Engine) -> dict[str, pl.DataFrame]:
    """Every cohort table of the current cohort version, every locality."""
    return {name: frame for name, frame in current(engine).items() if not name.startswith(DERIVED)}


def current(engine: Engine) -> dict[str, pl.DataFrame]:
    """The copy of the current cohort version: every cohort table, every
    locality, and the frames worked out from them once (named DERIVED + name)."""
    from partnership.queries import cohort_version

    folder = _root(engine) / cohort_version(engine)
    with _lock:  # one build per process at a time; the rest wait and then read it
        frames = _memo.get(folder) or _read(folder)
        if frames is None:
            shutil.rmtree(folder, ignore_errors=True)  # cut short by a crash or a full disk: made again
            frames, folder = build(engine)
        elif not any(name.startswith(DERIVED) for name in frames):
            # A copy made by an earlier release of this code (its frames are named by the code
            # that made them, see _derived_name): the first reader works them out and keeps them.
            derived = _derive(frames)
            frames = frames | derived
            _add(folder, derived)
        _remember(folder, frames)
        return frames


def _derived_name(name: str) -> str:
    """A derived frame's file, named by the code that works it out: a copy
    outlives an upgrade of the app, and a frame made by other code (another
    column, another rule) must never be read as this code's."""
    from partnership.figures import PRECOMPUTED_CODE

    return f"{DERIVED}{PRECOMPUTED_CODE}.{name}.arrow"


def _file(key: str) -> str:
    """The file of a frame of the copy: a table's, or a derived frame's (DERIVED + name)."""
    return _derived_name(key.removeprefix(DERIVED)) if key.startswith(DERIVED) else f"{key}.arrow"


def _remember(folder: Path, frames: dict[str, pl.DataFrame]) -> None:
    """Keep this process's copy in memory; called under _lock."""
    _memo.clear()  # one version per process: an older one is never asked for again
    _memo[folder] = frames


def build(engine: Engine) -> tuple[dict[str, pl.DataFrame], Path]:
    """Read the tables at the current version and write their copy."""
    from partnership import queries

    version, frames = queries.read_cohort_tables(engine)
    frames |= _derive(frames)
    root = _root(engine)
    folder = root / version
    try:
        _write(folder, frames)
        _prune(root, keep=folder)
    except OSError as exc:  # a read-only or full disk costs speed, never figures
        log.warning("cohort snapshot not written (%s); figures are read from the database", exc)
    return frames, folder


def _derive(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The per-person frames every first view would otherwise work out
    (figures.PRECOMPUTED). Only ever a speed-up: if they cannot be made, a
    viewer's cohort works them out itself, as before."""
    from partnership import figures, queries

    everyone = queries.Cohort(**{name: frame.drop("scope_locality") for name, frame in tables.items()})
    try:
        return {DERIVED + name: frame for name, frame in figures.precompute(everyone).items()}
    except Exception:  # a copy without them is still a good copy
        log.exception("per-person frames not worked out for the columnar copy")
        return {}


def _read(folder: Path) -> dict[str, pl.DataFrame] | None:
    from partnership.figures import PRECOMPUTED
    from partnership.queries import COHORT_TABLES

    try:
        frames = {name: pl.read_ipc(folder / _file(name)) for name in COHORT_TABLES}
    except (OSError, pl.exceptions.PolarsError):  # absent, or cut short by a crash: rebuilt
        return None
    with contextlib.suppress(OSError, pl.exceptions.PolarsError):  # only a speed-up: made again if not all there
        frames |= {DERIVED + name: pl.read_ipc(folder / _file(DERIVED + name)) for name in PRECOMPUTED}
    return frames


def _add(folder: Path, derived: dict[str, pl.DataFrame]) -> None:
    """Derived frames added to an existing copy, each file written whole and renamed into place."""
    for key, frame in derived.items():
        final = folder / _file(key)
        partial = folder / f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}"
        try:
            frame.write_ipc(partial, compression="uncompressed")
            partial.chmod(0o600)
            partial.rename(final)
        except OSError as exc:  # a read-only or full disk costs speed, never figures
            log.warning("derived frame not kept in the columnar copy (%s)", exc)
            partial.unlink(missing_ok=True)


def _write(folder: Path, frames: dict[str, pl.DataFrame]) -> None:
    if folder.exists():
        return
    folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written whole in a private folder and renamed into place: a reader sees all of it or none.
    partial = folder.with_name(f".{folder.name}.{os.getpid()}.{secrets.token_hex(4)}")
    partial.mkdir(mode=0o700)
    try:
        for name, frame in frames.items():
            file = partial / _file(name)
            # Uncompressed: read back without a decompression pass.
            frame.write_ipc(file, compression="uncompressed")
            file.chmod(0o600)  # pseudonymised, but still about children
        try:
            partial.rename(folder)
        except OSError:
            if not folder.exists():  # another process won the race: theirs is as good
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _prune(root: Path, keep: Path) -> None:
    copies = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)
    for old in [p for p in copies if p != keep][: max(0, len(copies) - _KEEP)]:
        shutil.rmtree(old, ignore_errors=True)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    """After a write that changed the cohort commits, build the next copy,
    so the first person to look after an import does not wait for it."""
    if not session.info.pop(COHORT_CHANGED, False):
        return
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    # The data is committed; a copy is only ever a speed-up, never a reason to fail the write.
    with contextlib.suppress(Exception), _lock:
        frames, folder = build(engine)
        _remember(folder, frames)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(COHORT_CHANGED, None)  # a rejected import changed nothing

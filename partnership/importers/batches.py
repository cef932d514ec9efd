"""What every import shares: 'was this exact file imported already?', the
ImportBatch record of an accepted import, and the log of refused ones.

`run_import` is the one way the command line and the Data page run an
importer: one transaction, committed only if the importer returns; a refusal
rolls it back and is then logged in its own transaction, so the data tables
are exactly as they were and the data-quality page can still show why."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import ImportBatch, ImportRejection
from partnership import accounts
from partnership.importers.common import MAX_REPORTED, ImportRejected
from partnership.importers.masking import mask_problem


def already_imported(session: Session, kind: str, digest: str, source: str | None = None) -> ImportBatch | None:
    query = select(ImportBatch).where(ImportBatch.kind == kind, ImportBatch.checksum == digest)
    if source is not None:
        query = query.where(ImportBatch.source == source)
    return session.exec(query).first()


def record_batch(
    session: Session, kind: str, source: str, file_name: str, digest: str, rows: dict[str, int], actor: str
) -> ImportBatch:
    batch = ImportBatch(
        kind=kind,
        source=source[:80],
        file_name=file_name[:200],
        checksum=digest,
        rows="|".join(f"{table}={count}" for table, count in rows.items())[:500],
        imported_by=actor,
    )
    session.add(batch)
    return batch


def record_rejection(engine: Engine, kind: str, exc: ImportRejected, actor: str) -> None:
    with Session(engine) as session:
        session.add(
            ImportRejection(
                kind=kind,
                file_name=exc.file_name[:200],
                problem_count=exc.count,
                rows=exc.rows,
                problems="\n".join(mask_problem(line) for line in exc.problems[:MAX_REPORTED])[:20000],
                attempted_by=actor,
            )
        )
        accounts.audit(session, actor, "import_rejected", f"{kind} {exc.file_name}: {exc.count} problem(s)")
        session.commit()


def run_import(engine: Engine, kind: str, actor: str, work: Callable[[Session], str], dry_run: bool = False) -> str:
    """Run `work` in one transaction. A dry run is always rolled back; a
    refusal is rolled back, logged (unless a dry run) and raised again."""
    with Session(engine) as session:
        try:
            message = work(session)
        except ImportRejected as exc:
            session.rollback()
            if not dry_run:
                record_rejection(engine, kind, exc, actor)
            raise
        if dry_run:
            session.rollback()
        else:
            accounts.audit(session, actor, "import", f"{kind}: {message}"[:1000])
            session.commit()
        return message


def last_batches(session: Session) -> list[ImportBatch]:
    """The latest accepted import of each kind and source, newest first."""
    latest: dict[tuple[str, str], ImportBatch] = {}
    for batch in session.exec(select(ImportBatch).order_by(col(ImportBatch.imported_at).desc())):
        latest.setdefault((batch.kind, batch.source), batch)
    return list(latest.values())


def last_rejection(session: Session) -> ImportRejection | None:
    return session.exec(select(ImportRejection).order_by(col(ImportRejection.attempted_at).desc())).first()

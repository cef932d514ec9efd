"""SSDA903 import with the real (deliberately flawed) files from shared/data."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from models import MissingEpisode, OutcomeObservation, ServiceEpisode, YoungPerson
from models.db import get_engine, upgrade
from models.reference import load_reference
from partnership.importers.common import ImportRejected
from partnership.importers.ssda903 import import_903

SOURCE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "ssda903"
TODAY = dt.date(2026, 11, 22)


def _counts(session: Session) -> tuple[int, int, int, int]:
    return tuple(
        session.exec(select(func.count()).select_from(m)).one()  # type: ignore[return-value]
        for m in (YoungPerson, ServiceEpisode, OutcomeObservation, MissingEpisode)
    )


def _fixed_copy(tmp_path: Path) -> Path:
    """The real files with the invalid oc3 rows corrected: retired activity
    codes to their current ones, impossible accommodation codes to 'not known'
    or the unsuitable form."""
    folder = tmp_path / "fixed"
    shutil.copytree(SOURCE, folder)
    rows = list(csv.reader((folder / "oc3.csv").open()))
    for row in rows[1:]:
        row[3] = {"F3": "F2", "P3": "P2"}.get(row[3], row[3])
        row[4] = {"01": "0", "02": "0", "S1": "S2"}.get(row[4], row[4])
    with (folder / "oc3.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return folder


def test_real_files_are_rejected_with_the_invalid_rows_named(session: Session) -> None:
    before = _counts(session)
    with pytest.raises(ImportRejected) as err:
        import_903(session, SOURCE, "north", 2018, today=TODAY)
    session.rollback()
    text = str(err.value)
    # From the file: line 2 has ACCOM 01, line 3 ACTIV P3, line 54 ACTIV F3 and ACCOM S1.
    assert "oc3.csv:2:ACCOM: not an SSDA903 accommodation code (01)" in text
    assert "oc3.csv:3:ACTIV: retired code, no longer accepted (P3)" in text
    assert "oc3.csv:54:ACCOM: does not exist: homeless and custody are never suitable (S1)" in text
    assert "rejected, 15 problem(s)" in text and "nothing was imported" in text
    assert _counts(session) == before


def test_fixed_copy_is_accepted_pseudonymised_and_idempotent(session: Session, tmp_path: Path) -> None:
    folder = _fixed_copy(tmp_path)
    message = import_903(session, folder, "north", 2018, today=TODAY)
    session.commit()
    assert "imported young_people=2675, episodes=5050, oc3=53, missing=43" in message
    assert _counts(session) == (2675, 5050, 53, 43)
    child = session.exec(select(YoungPerson)).first()
    assert child is not None and len(child.pseudo_key) == 64 and child.birth_month.day == 1
    ids = {r[0] for r in csv.reader((SOURCE / "header.csv").open())}
    assert not ids & {yp.pseudo_key for yp in session.exec(select(YoungPerson))}  # no source id is stored
    # 903 REC codes become end reasons: E7 adult social care, E17 staying put.
    reasons = set(session.exec(select(ServiceEpisode.end_reason)))
    assert {"adult_social_care", "staying_put", "independent_living", "custody"} <= reasons
    assert "already imported; nothing changed" in import_903(session, folder, "north", 2018, today=TODAY)
    assert _counts(session) == (2675, 5050, 53, 43)


def test_dry_run_writes_nothing(session: Session, tmp_path: Path) -> None:
    message = import_903(session, _fixed_copy(tmp_path), "north", 2018, today=TODAY, dry_run=True)
    session.commit()
    assert "dry run, nothing written" in message
    assert _counts(session) == (0, 0, 0, 0)


def test_oc3_needs_the_collection_year_and_children_must_be_known(session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "only_oc3"
    folder.mkdir()
    (folder / "oc3.csv").write_text("CHILD,DOB,IN_TOUCH,ACTIV,ACCOM\n123,01/02/2001,YES,F2,U1\n")
    with pytest.raises(ImportRejected) as err:
        import_903(session, folder, "north", None, today=TODAY)
    assert "oc3.csv:year: oc3.csv needs the collection year" in str(err.value)
    assert "oc3.csv:2:CHILD: no such child in header.csv or the database (123)" in str(err.value)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_malformed_episodes_file_is_refused_cleanly(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    folder = tmp_path_factory.mktemp("fuzz903")
    url = f"sqlite:///{folder / 'f.db'}"
    upgrade(url)
    (folder / "in").mkdir()
    shutil.copy(SOURCE / "header.csv", folder / "in" / "header.csv")
    (folder / "in" / "episodes.csv").write_bytes(data)
    with Session(get_engine(url)) as s:
        load_reference(s)
        s.commit()
        try:
            import_903(s, folder / "in", "north", today=TODAY)
            s.commit()
        except ImportRejected as exc:
            s.rollback()
            assert "episodes.csv" in str(exc)
            assert _counts(s) == (0, 0, 0, 0)

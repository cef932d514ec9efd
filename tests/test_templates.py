"""The partnership's own files through the templates, CSV and Excel."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import polars as pl
import pytest
from sqlmodel import Session, func, select

from models import IndicatorValue, OutcomeObservation, ServiceEpisode, YoungPerson
from partnership.importers.common import ImportRejected
from partnership.importers.templates import TEMPLATES, import_table, template_bytes

TODAY = dt.date(2026, 11, 22)
PEOPLE = (
    "child_id,birth_date,sex,ethnicity,send,care_status,locality,cce,cse,gangs,trafficking,missing\n"
    "A1,15/03/2008,M,white,none,none,north,Y,N,N,N,Y\n"
    "A2,2007-11-02,F,black,ehcp,former_relevant,east,N,Y,,,\n"
)


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_templates_list_every_column_with_a_guide() -> None:
    for table, columns in TEMPLATES.items():
        csv_text = template_bytes(table, excel=False).decode()
        assert csv_text.splitlines()[0] == ",".join(c.name for c in columns)
        assert "# child_id (required)" in csv_text or table in ("staffing_snapshots", "indicator_values")
        book = template_bytes(table, excel=True)
        guide = pl.read_excel(io.BytesIO(book), sheet_name="README")
        assert guide["column"].to_list() == [c.name for c in columns]


def test_people_then_episodes_csv_and_excel(session: Session, tmp_path: Path) -> None:
    assert "imported 2 young_people" in import_table(
        session, "young_people", _file(tmp_path, "p.csv", PEOPLE), today=TODAY
    )
    session.commit()
    a1 = session.exec(select(YoungPerson).where(YoungPerson.sex == "M")).one()
    assert a1.birth_month == dt.date(2008, 3, 1) and a1.cce and a1.missing and not a1.cse
    episodes = pl.DataFrame(
        {
            "child_id": ["A1", "A2"],
            "service": ["looked_after", "leaving_care_pa"],
            "start_date": ["01/02/2020", "2025-11-10"],
            "end_date": ["14/03/2026", ""],
            "end_reason": ["independent_living", ""],
        }
    )
    xlsx = tmp_path / "episodes.xlsx"
    episodes.write_excel(xlsx)
    assert "imported 2 service_episodes" in import_table(session, "service_episodes", xlsx, today=TODAY)
    session.commit()
    assert _count(session, ServiceEpisode) == 2
    assert "already imported" in import_table(session, "service_episodes", xlsx, today=TODAY)


def test_bad_rows_are_named_and_nothing_is_written(session: Session, tmp_path: Path) -> None:
    import_table(session, "young_people", _file(tmp_path, "p.csv", PEOPLE), today=TODAY)
    session.commit()
    bad = _file(
        tmp_path,
        "outcomes.csv",
        "child_id,observed_date,activity,accommodation,in_touch,missing_episodes,ae_attendances,"
        "police_custody,emergency_housing\n"
        "A1,15/03/2026,F3,S1,YES,1,0,0,0\n"
        "A2,31/02/2026,G5,U1,YES,-1,0,0,0\n"
        "ZZ,15/03/2026,G5,U1,YES,0,0,0,0\n"
        "A1,15/03/2026,G5,U1,YES,0,0,0,0\n",
    )
    with pytest.raises(ImportRejected) as err:
        import_table(session, "outcomes", bad, today=TODAY)
    session.rollback()
    text = str(err.value)
    assert "outcomes.csv:2:activity: not one of the codes in the template guide (F3)" in text
    assert "outcomes.csv:2:accommodation: not one of the codes in the template guide (S1)" in text
    assert "outcomes.csv:3:observed_date: not a date as dd/mm/YYYY or YYYY-MM-DD (31/02/2026)" in text
    assert "outcomes.csv:3:missing_episodes: not a whole number of 0 or more (-1)" in text
    assert _count(session, OutcomeObservation) == 0


def test_unknown_child_is_refused(session: Session, tmp_path: Path) -> None:
    path = _file(tmp_path, "risk.csv", "child_id,agency,assessed_date,level\nNOPE,police,01/01/2026,high\n")
    with pytest.raises(ImportRejected, match="no such young person"):
        import_table(session, "risk_assessments", path, today=TODAY)


def test_indicator_values_and_dry_run(session: Session, tmp_path: Path) -> None:
    path = _file(tmp_path, "values.csv", "indicator,period,value,note\nshared_risk_assessment,2026-Q2,52,from audit\n")
    assert "dry run" in import_table(session, "indicator_values", path, dry_run=True, today=TODAY)
    session.commit()
    assert _count(session, IndicatorValue) == 0
    assert "imported 1 indicator_values" in import_table(session, "indicator_values", path, today=TODAY)
    session.commit()
    assert _count(session, IndicatorValue) == 1
    future = _file(tmp_path, "future.csv", "indicator,period,value,note\nshared_risk_assessment,2099-Q1,52,\n")
    with pytest.raises(ImportRejected, match=re.escape("future.csv:2:period: 2099-Q1 has not started yet")):
        import_table(session, "indicator_values", future, today=TODAY)


def test_young_people_again_updates_them_in_place(session: Session, tmp_path: Path) -> None:
    import_table(session, "young_people", _file(tmp_path, "p.csv", PEOPLE), today=TODAY)
    session.commit()
    ids = set(session.exec(select(YoungPerson.id)))
    moved = PEOPLE.replace("A1,15/03/2008,M,white,none,none,north,Y", "A1,15/04/2008,M,white,none,none,east,N")
    assert "imported 2 young_people" in import_table(
        session, "young_people", _file(tmp_path, "p2.csv", moved), today=TODAY
    )
    session.commit()
    assert set(session.exec(select(YoungPerson.id))) == ids  # the same two people, not two more
    a1 = session.exec(select(YoungPerson).where(YoungPerson.sex == "M")).one()
    assert (a1.birth_month, a1.locality_id, a1.cce, a1.missing) == (dt.date(2008, 4, 1), 1, False, True)


def test_a_second_file_replaces_a_childs_rows(session: Session, tmp_path: Path) -> None:
    import_table(session, "young_people", _file(tmp_path, "p.csv", PEOPLE), today=TODAY)
    head = "child_id,agency,assessed_date,level\n"
    first = head + "A1,police,01/01/2026,high\nA1,health,02/01/2026,medium\nA2,police,03/01/2026,low\n"
    import_table(session, "risk_assessments", _file(tmp_path, "r1.csv", first), today=TODAY)
    import_table(
        session, "risk_assessments", _file(tmp_path, "r2.csv", head + "A1,police,2026-02-01,low\n"), today=TODAY
    )
    session.commit()
    from models import RiskAssessment

    rows = session.exec(select(RiskAssessment.assessed_on, RiskAssessment.level)).all()
    # A1's two assessments replaced by the one in the second file; A2's kept.
    assert sorted(rows) == [(dt.date(2026, 1, 3), "low"), (dt.date(2026, 2, 1), "low")]


def test_counts_and_plans_that_the_database_would_refuse_are_named(session: Session, tmp_path: Path) -> None:
    import_table(session, "young_people", _file(tmp_path, "p.csv", PEOPLE), today=TODAY)
    session.commit()
    outcomes = _file(
        tmp_path,
        "o.csv",
        "child_id,observed_date,activity,accommodation,in_touch,missing_episodes,ae_attendances,"
        "police_custody,emergency_housing\n"
        "A1,15/03/2026,G5,U1,YES,12345678901,0,²,0\n",
    )
    with pytest.raises(ImportRejected) as err:
        import_table(session, "outcomes", outcomes, today=TODAY)
    session.rollback()
    assert str(err.value).splitlines()[:2] == [
        "o.csv:2:missing_episodes: too large for a count (12345678901)",
        "o.csv:2:police_custody: not a whole number of 0 or more (²)",
    ]
    plans = _file(
        tmp_path,
        "plans.csv",
        "child_id,started_date,agreed_date,post18_service\nA1,01/01/2025,,\nA2,01/02/2025,,\nA1,01/03/2025,,\n",
    )
    with pytest.raises(ImportRejected, match=re.escape("plans.csv:4:child_id: duplicates line 2 (A1)")):
        import_table(session, "transition_plans", plans, today=TODAY)


def test_excel_rows_keep_spreadsheet_numbers_and_date_cells(session: Session, tmp_path: Path) -> None:
    import xlsxwriter

    import_table(session, "young_people", _file(tmp_path, "p.csv", PEOPLE), today=TODAY)
    path = tmp_path / "risk.xlsx"
    with xlsxwriter.Workbook(path) as book:
        sheet, as_date = book.add_worksheet(), book.add_format({"num_format": "dd/mm/yyyy"})
        sheet.write_row(0, 0, ["child_id", "agency", "assessed_date", "level"])
        sheet.write_row(1, 0, ["A1", "police"])
        sheet.write_datetime(1, 2, dt.datetime(2026, 1, 5), as_date)  # typed as a date, not text
        sheet.write_row(1, 3, ["high"])
        # row 3 left blank
        sheet.write_row(3, 0, ["A2", "police", "06/01/2026", "extreme"])
    with pytest.raises(ImportRejected) as err:
        import_table(session, "risk_assessments", path, today=TODAY)
    assert str(err.value).splitlines()[0] == "risk.xlsx:4:level: not one of the codes in the template guide (extreme)"


def test_a_damaged_workbook_is_named_on_one_line(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "cut.xlsx"
    path.write_bytes(template_bytes("risk_assessments", excel=True)[:100])
    with pytest.raises(ImportRejected) as err:
        import_table(session, "risk_assessments", path, today=TODAY)
    assert len(err.value.problems) == 1 and "\n" not in err.value.problems[0]
    assert err.value.problems[0].startswith("cut.xlsx:file: not a readable Excel file (")


def test_csv_template_filled_in_above_its_guide(session: Session, tmp_path: Path) -> None:
    import_table(session, "young_people", _file(tmp_path, "p.csv", PEOPLE), today=TODAY)
    header, guide = template_bytes("risk_assessments", excel=False).decode().split("\n", 1)
    assert guide.startswith("\n# child_id (required):")  # a blank line, then the guide
    filled = header + "\nA1,police,01/01/2026,high\nA2,health,02/01/2026,low\n" + guide
    message = import_table(session, "risk_assessments", _file(tmp_path, "risk.csv", filled), today=TODAY)
    assert "imported 2 risk_assessments rows" in message

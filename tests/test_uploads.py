"""The Data page's logic without Streamlit: which files are read, masking,
problem lines as a table, staging in a temporary folder, and imports run
through run_import (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from models import BenchmarkValue, ImportBatch, ImportRejection, YoungPerson
from partnership import uploads
from partnership.exports import table_to_csv
from partnership.importers import masking
from partnership.importers.common import Problems
from partnership.importers.templates import template_bytes

PEOPLE = (
    "child_id,birth_date,sex,ethnicity,send,care_status,locality,cce,cse,gangs,trafficking,missing\n"
    "A1,15/03/2008,M,white,none,none,north,Y,N,N,N,Y\n"
    "A2,2007-11-02,F,black,ehcp,former_relevant,east,N,Y,,,\n"
)


SHARED_CIN = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "cin"


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_ids_are_masked_and_dates_of_birth_keep_only_the_month() -> None:
    assert masking.mask_value("CHILD", "566910") == masking.MASK
    assert masking.mask_value("child_id", "") == ""  # a missing id still shows as missing
    assert masking.mask_value("DOB", "27/03/2008") == "••/03/2008"
    assert masking.mask_value("birth_date", "2007-11-02") == "2007-11-••"
    assert masking.mask_value("DOB", "yesterday") == masking.MASK
    assert masking.mask_value("ACCOM", "S1") == "S1"


def test_problem_lines_become_columns() -> None:
    table = uploads.problem_table(
        [
            "header.csv:4:SEX: not an SSDA903 sex code (1 male, 2 female) (3)",
            "header.csv:5:CHILD: duplicates line 2 (566910)",
            "oc3.csv:year: oc3.csv needs the collection year (--year, e.g. 2025 for 2024-25)",
            "staff.csv:7:East Team 1 · Social Worker 2: filled FTE 1 + vacant FTE 1 must equal funded FTE 1",
            "something else entirely",
        ]
    ).to_dicts()
    assert table[0] == {
        "File": "header.csv",
        "Row": 4,
        "Field": "SEX",
        "Reason": "not an SSDA903 sex code (1 male, 2 female)",
        "Value": "3",
    }
    assert (table[1]["Field"], table[1]["Reason"], table[1]["Value"]) == ("CHILD", "duplicates line 2", masking.MASK)
    assert (table[2]["Row"], table[2]["Field"], table[2]["Value"]) == (None, "year", "--year, e.g. 2025 for 2024-25")
    assert (table[3]["Row"], table[3]["Field"]) == (7, "East Team 1 · Social Worker 2")
    assert table[4] == {"File": "", "Row": None, "Field": "", "Reason": "something else entirely", "Value": None}


def test_only_the_four_903_files_are_read_and_the_folder_is_deleted_after() -> None:
    files = tuple(uploads.Upload(n, b"CHILD\n1\n") for n in ("OC3.csv", "notes.txt", "header.csv", "../episodes.csv"))
    request = uploads.Request("ssda903", files, "north", 2018)
    used, ignored = uploads.used_files(request)
    assert [u.name for u in used] == ["header.csv", "../episodes.csv", "OC3.csv"]  # in import order
    assert ignored == ["notes.txt"]
    with uploads.staged(request) as folder:
        assert folder.name == "ssda903-north-2018"
        assert sorted(p.name for p in folder.iterdir()) == ["episodes.csv", "header.csv", "oc3.csv"]
        kept = folder
    assert not kept.exists() and not kept.parent.exists()
    assert uploads.default_collection_year(dt.date(2026, 3, 31)) == 2025
    assert uploads.default_collection_year(dt.date(2026, 4, 1)) == 2026


def test_previews_show_only_the_columns_read_with_ids_masked() -> None:
    with_postcode = "\n".join(
        f"{line},{extra}" for line, extra in zip(PEOPLE.splitlines(), ["postcode", "AB1 2CD", ""], strict=True)
    )
    upload = uploads.Upload("people.csv", with_postcode.encode())
    request = uploads.Request("template", (upload,), table="young_people")
    (preview,) = uploads.previews(request)
    assert (preview.name, preview.rows, preview.not_read) == ("people.csv", 2, ["postcode"])
    assert preview.frame["child_id"].to_list() == [masking.MASK, masking.MASK]
    assert preview.frame["birth_date"].to_list() == ["••/03/2008", "2007-11-••"]
    assert preview.frame["row"].to_list() == [2, 3]
    assert "postcode" not in preview.frame.columns


def test_a_template_file_is_checked_then_imported(session: Session, tmp_path: Path) -> None:
    engine = session.get_bind()
    request = uploads.Request("template", (uploads.Upload("people.csv", PEOPLE.encode()),), table="young_people")

    checked = uploads.run(engine, request, "admin", dry_run=True)  # type: ignore[arg-type]
    assert checked.accepted and checked.dry_run
    assert "would import 2 young_people rows" in checked.message
    assert _count(session, YoungPerson) == 0

    done = uploads.run(engine, request, "admin", dry_run=False)  # type: ignore[arg-type]
    assert done.accepted and done.message == "people.csv: imported 2 young_people rows"
    assert _count(session, YoungPerson) == 2
    batch = session.exec(select(ImportBatch)).one()
    assert (batch.kind, batch.imported_by, batch.file_name) == ("template:young_people", "admin", "people.csv")


def test_a_refused_file_writes_nothing_and_is_logged(session: Session) -> None:
    engine = session.get_bind()
    bad = PEOPLE.replace("north,Y", "narnia,Y")
    request = uploads.Request("template", (uploads.Upload("people.csv", bad.encode()),), table="young_people")

    checked = uploads.run(engine, request, "admin", dry_run=True)  # type: ignore[arg-type]
    assert not checked.accepted
    assert _count(session, ImportRejection) == 0  # a check is not logged

    refused = uploads.run(engine, request, "admin", dry_run=False)  # type: ignore[arg-type]
    assert not refused.accepted
    assert refused.message == "people.csv: rejected, 1 problem in 2 rows; nothing was imported"
    assert refused.problems.to_dicts() == [
        {
            "File": "people.csv",
            "Row": 2,
            "Field": "locality",
            "Reason": "not one of the codes in the template guide",
            "Value": "narnia",
        }
    ]
    assert _count(session, YoungPerson) == 0
    assert session.exec(select(ImportRejection.attempted_by)).one() == "admin"


def test_the_refusal_log_keeps_no_child_id_in_clear(session: Session) -> None:
    engine = session.get_bind()
    # The same child twice: the problem line carries the id, which must not reach the database.
    lines = PEOPLE.splitlines()
    twice = "\n".join([*lines, lines[1]]) + "\n"
    request = uploads.Request("template", (uploads.Upload("people.csv", twice.encode()),), table="young_people")
    assert not uploads.run(engine, request, "admin", dry_run=False).accepted  # type: ignore[arg-type]
    logged = session.exec(select(ImportRejection.problems)).one()
    child = lines[1].split(",")[0]
    assert logged == f"people.csv:{len(lines) + 1}:child_id: duplicates line 2 ({masking.MASK})"
    assert child not in logged
    assert masking.mask_problem("oc3.csv:54:ACCOM: impossible (S1)") == "oc3.csv:54:ACCOM: impossible (S1)"


def test_the_template_header_row_is_the_contract(session: Session) -> None:
    header = template_bytes("young_people", excel=False).decode().splitlines()[0]
    assert header == PEOPLE.splitlines()[0]
    engine = session.get_bind()
    nothing = uploads.run(engine, uploads.Request("ssda903", (), "north", 2018), "admin", dry_run=True)  # type: ignore[arg-type]
    assert not nothing.accepted and nothing.message.startswith("Nothing to import")


def test_published_files_check_and_import_through_the_same_path(session: Session) -> None:
    engine = session.get_bind()
    tidy = (
        "time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,"
        "old_la_code,la_name,new_la_code,age,percent\n"
        "202425,Financial year,National,E92000001,England,,,,,,19 to 21,55.0\n"
        "202425,Financial year,Local authority,E92000001,England,E12000002,North West,888,Lancashire,E10000017,"
        "19 to 21,c\n"
    )
    request = uploads.Request("benchmark", (uploads.Upload("neet.csv", tidy.encode()),), dataset="neet_test")
    checked = uploads.run(engine, request, "admin", dry_run=True)  # type: ignore[arg-type]
    assert checked.accepted and "dry run, nothing written" in checked.message
    assert _count(session, BenchmarkValue) == 0
    done = uploads.run(engine, request, "admin", dry_run=False)  # type: ignore[arg-type]
    assert done.accepted
    assert sorted((v.geo_code, v.value, v.symbol) for v in session.exec(select(BenchmarkValue))) == [
        ("888", None, "c"),  # a suppressed value keeps its symbol
        ("E92000001", 55.0, None),
    ]
    assert session.exec(select(ImportBatch.source)).one() == "neet_test"


def test_an_importer_fault_is_reported_in_words_and_writes_nothing(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def faulty(s: Session, *_args: object, **_kwargs: object) -> str:
        s.add(YoungPerson(pseudo_key="x", birth_month=dt.date(2008, 1, 1), sex="F", ethnicity="white", locality_id=1))
        s.flush()
        raise RuntimeError("the database said no\nsecond line")

    monkeypatch.setattr(uploads.templates, "import_table", faulty)
    request = uploads.Request("template", (uploads.Upload("people.csv", PEOPLE.encode()),), table="young_people")
    outcome = uploads.run(session.get_bind(), request, "admin", dry_run=False)  # type: ignore[arg-type]
    assert not outcome.accepted
    assert outcome.message == (
        "The import stopped on an unexpected error (RuntimeError: the database said no); nothing was written."
    )
    assert _count(session, YoungPerson) == 0


def test_values_with_brackets_and_formulas_stay_in_their_column_and_open_as_text() -> None:
    """A refused file's values are whatever it held: brackets of their own
    stay in the Value column (they had spilled into Reason), and the CSV
    opens them in a spreadsheet as text, not as formulas."""
    problems = Problems("ethnicity.csv")
    held = ["=SUM(A1:A9)", "+cmd|' /C calc'!A0", "White (Irish)", "-2+3", "@A1", "a)"]
    for line, value in enumerate(held, start=2):
        problems.add(line, "ethnicity", "not a known ethnicity code", value)
    table = uploads.problem_table(problems.items)
    assert table["Reason"].to_list()[:5] == ["not a known ethnicity code"] * 5
    assert table["Value"].to_list()[:5] == held[:5]
    # Brackets that do not pair up: the line is shown whole, not cut somewhere wrong.
    assert table.row(5, named=True)["Reason"] == "not a known ethnicity code (a))"
    rows = list(csv.DictReader(io.StringIO(table_to_csv(table))))
    assert [r["Value"] for r in rows[:5]] == ["'=SUM(A1:A9)", "'+cmd|' /C calc'!A0", "White (Irish)", "'-2+3", "'@A1"]


def test_a_census_file_is_previewed_checked_then_imported_from_the_data_page(session: Session) -> None:
    """The Data page's path for a CIN census: a preview a row per child with the
    id masked, the refused real file named element by element, then a fixed copy."""
    real = (SHARED_CIN / "CIN_Census_2024.xml").read_bytes()
    refused = uploads.Request("cin", (uploads.Upload("CIN_Census_2024.xml", real),), locality="north")
    (preview,) = uploads.previews(refused)
    assert preview.problems is not None and preview.problems["Field"].to_list() == [
        "AssessmentActualStartDate",
        "AssessmentFactors",
        "Sex",
    ]
    fixed = (
        real.replace(b"2028-04-28", b"2020-09-01").replace(b">RB<", b">24A<").replace(b"<Sex>M</Sex>", b"<Sex>1</Sex>")
    )
    request = uploads.Request("cin", (uploads.Upload("census.xml", fixed),), locality="north")
    (preview,) = uploads.previews(request)
    assert preview.frame.to_dicts()[0] == {
        "row": 1,
        "LAchildID": masking.MASK,
        "PersonBirthDate": "2015-03-••",
        "Sex": "M",
        "Ethnicity": "white",
        "Exploitation factors": "cce",
        "Episodes": 2,
    }
    engine = session.get_bind()
    checked = uploads.run(engine, request, "admin", dry_run=True)  # type: ignore[arg-type]
    assert (
        checked.message
        == "census.xml: valid; would import young_people=2, service_episodes=3 (dry run, nothing written)"
    )
    assert _count(session, YoungPerson) == 0
    done = uploads.run(engine, request, "admin", dry_run=False)  # type: ignore[arg-type]
    assert done.accepted and done.message == "census.xml: imported young_people=2, service_episodes=3"
    assert _count(session, YoungPerson) == 2

"""Adult social care Client Level Data: a CLD file written from the
specification for a synthetic cohort whose children came from an SSDA903
return links to them through the keyed hash of the council's person id, on
SQLite and PostgreSQL, and the cohort page's flow shows the adult services."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from models import ServiceEpisode, YoungPerson
from models.db import get_engine, upgrade
from models.reference import load_reference
from partnership import accounts
from partnership.importers.cld import import_cld
from partnership.importers.common import ImportRejected
from partnership.importers.ssda903 import import_903
from partnership.pseudonymise import pseudonymise
from partnership.settings import pseudonym_key
from tests.apptest_support import APP

TODAY = dt.date(2026, 11, 22)
COLUMNS = (
    "LA_Code,LA_Person_Unique_Identifier,NHS_Number,Date_of_Birth,Gender,Ethnicity,Client_Type,"
    "Primary_Support_Reason,Event_Type,Event_Reference,Event_Start_Date,Event_End_Date,Service_Type"
)
# Made-up NHS numbers whose last digit is the modulus 11 check digit of the first nine.
NHS = {"C1": "9434765919", "C2": "9434765927", "C3": "9434765935", "C4": "9434765943", "C5": "9434765951"}


def _return(folder: Path) -> Path:
    """Six children turning 18 on 15 March 2025, looked after until that day."""
    folder.mkdir()
    ids = [f"C{i}" for i in range(1, 7)]
    (folder / "header.csv").write_text("CHILD,SEX,DOB,ETHNIC\n" + "".join(f"{c},2,15/03/2007,WBRI\n" for c in ids))
    (folder / "episodes.csv").write_text(
        "CHILD,DECOM,DEC,REC\n" + "".join(f"{c},01/01/2023,15/03/2025,E7\n" for c in ids)
    )
    return folder


def _cld(path: Path, rows: list[str]) -> Path:
    path.write_text(COLUMNS + "\n" + "".join(r + "\n" for r in rows))
    return path


def _row(
    person: str,
    event: str,
    start: str,
    end: str = "",
    reason: str = "Learning Disability Support",
    service: str = "Long Term Support: Community",
    born: str = "2007-03-15",
) -> str:
    return (
        f"888,{person},{NHS.get(person, '')},{born},Female,White: English,Service User,{reason},{event},"
        f"E-{person}-{start},{start},{end},{service if event == 'Service' else ''}"
    )


FIRST_QUARTER = [
    *[_row(f"C{i}", "Service", "2025-04-14") for i in range(1, 6)],
    _row("C6", "Service", "2025-05-01", reason="Mental Health Support"),
    _row("C1", "Request", "2025-03-20"),  # checked and counted, not a service
    _row("Z9", "Service", "2025-04-14"),  # not in children's data
    _row("C3", "Service", "2024-01-01", born="2007-03-15"),  # aged 16 then: outside 18 to 25
]


@pytest.fixture
def cohort(session: Session, tmp_path: Path) -> Session:
    import_903(session, _return(tmp_path / "return"), "north", today=TODAY)
    session.commit()
    return session


def _episodes(session: Session, child: str) -> list[tuple[str, str, str | None]]:
    person = session.exec(
        select(YoungPerson).where(YoungPerson.pseudo_key == pseudonymise(child, pseudonym_key()))
    ).one()
    rows = session.exec(
        select(ServiceEpisode).where(ServiceEpisode.young_person_id == person.id).order_by(ServiceEpisode.started_on)
    )
    return [(e.service, str(e.started_on), e.ended_on and str(e.ended_on)) for e in rows]


def test_a_cld_file_links_to_the_903_children_by_the_keyed_hash(cohort: Session, tmp_path: Path) -> None:
    message = import_cld(cohort, _cld(tmp_path / "cld_q1.csv", FIRST_QUARTER), today=TODAY)
    cohort.commit()
    assert message == (
        "cld_q1.csv: imported 9 events; 6 people linked to children's data, 6 adult service episodes; "
        "1 event of people not in children's data and 1 outside ages 18 to 25 left out"
    )
    assert _episodes(cohort, "C1") == [
        ("looked_after", "2023-01-01", "2025-03-15"),
        ("adult_social_care", "2025-04-14", None),
    ]
    assert _episodes(cohort, "C6")[-1] == ("adult_mental_health", "2025-05-01", None)
    assert len(cohort.exec(select(YoungPerson)).all()) == 6  # Z9 was not added

    # The next quarter's file: C1's service has ended; it is the same episode, not a second.
    later = [_row("C1", "Service", "2025-04-14", end="2025-09-30")]
    import_cld(cohort, _cld(tmp_path / "cld_q2.csv", later), today=TODAY)
    cohort.commit()
    assert _episodes(cohort, "C1")[-1] == ("adult_social_care", "2025-04-14", "2025-09-30")
    assert len(_episodes(cohort, "C1")) == 2
    again = import_cld(cohort, tmp_path / "cld_q2.csv", today=TODAY)
    assert again == "cld_q2.csv: this file was already imported; nothing changed"


def test_linking_by_nhs_number_needs_the_children_keyed_by_it(session: Session, tmp_path: Path) -> None:
    """A partnership whose children's records carry the NHS number as the child id."""
    folder = tmp_path / "return"
    folder.mkdir()
    (folder / "header.csv").write_text("CHILD,SEX,DOB,ETHNIC\n9434765919,2,15/03/2007,WBRI\n")
    (folder / "episodes.csv").write_text("CHILD,DECOM,DEC,REC\n9434765919,01/01/2023,15/03/2025,E7\n")
    import_903(session, folder, "north", today=TODAY)
    message = import_cld(session, _cld(tmp_path / "cld.csv", FIRST_QUARTER[:1]), link="nhs-number", today=TODAY)
    assert "1 person linked to children's data, 1 adult service episode" in message


def test_every_problem_is_named_and_nothing_is_written(cohort: Session, tmp_path: Path) -> None:
    bad = [
        _row("C1", "Referral", "2025-04-14"),
        _row("C2", "Service", "2025-04-14", service="Long Term Support: Hotel"),
        _row("C3", "Service", "2025-04-14", end="2025-04-01"),
        _row("C4", "Service", "14/04/2025", reason="Feeling poorly"),
        _row("C5", "Service", "2027-01-01"),
        _row("", "Service", "2025-04-14"),
    ]
    before = len(cohort.exec(select(ServiceEpisode)).all())
    with pytest.raises(ImportRejected) as caught:
        import_cld(cohort, _cld(tmp_path / "bad.csv", bad), today=TODAY)
    cohort.rollback()
    assert caught.value.problems == [
        "bad.csv:2:Event_Type: not one of Request, Assessment, Service, Review (Referral)",
        "bad.csv:3:Service_Type: not a service type in the CLD specification (Long Term Support: Hotel)",
        "bad.csv:4:Event_End_Date: before the event's start (2025-04-01)",
        "bad.csv:5:Primary_Support_Reason: not a primary support reason in the CLD specification (Feeling poorly)",
        "bad.csv:6:Event_Start_Date: in the future (2027-01-01)",
        "bad.csv:7:LA_Person_Unique_Identifier: required: the identifier this import links people by",
    ]
    assert len(cohort.exec(select(ServiceEpisode)).all()) == before
    wrong_digit = _row("C1", "Service", "2025-04-14").replace(NHS["C1"], "9434765918")
    with pytest.raises(ImportRejected) as caught:
        import_cld(cohort, _cld(tmp_path / "nhs.csv", [wrong_digit]), link="nhs-number", today=TODAY)
    assert caught.value.problems == [
        "nhs.csv:2:NHS_Number: not a valid NHS number (ten digits, the last a modulus 11 check digit) (9434765918)"
    ]
    missing = tmp_path / "old.csv"
    missing.write_text("LA_Code,Event_Type\n888,Service\n")
    with pytest.raises(ImportRejected) as caught:
        import_cld(cohort, missing, today=TODAY)
    assert caught.value.problems[0] == "old.csv:1:Date_of_Birth: required column is missing"


def test_the_cohort_page_flow_shows_the_linked_adult_services(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(sqlite_url)
    with Session(get_engine(sqlite_url)) as session:
        load_reference(session)
        import_903(session, _return(tmp_path / "return"), "north", today=TODAY)
        import_cld(session, _cld(tmp_path / "cld.csv", FIRST_QUARTER), today=TODAY)
        accounts.add_user(session, "jo", "Jo Lead", "project_lead", "a-long-password-1")
        session.commit()
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.text_input[0].input("jo")
    at.text_input[1].input("a-long-password-1")
    at.button[0].click().run()
    at.query_params["period"] = "2025"
    at.switch_page("pages/cohort.py").run()
    assert not at.exception, at.exception
    (flow,) = [d.value for d in at.dataframe if {"Step", "From", "To"} <= set(d.value.columns)]
    into_adult = {r["To"]: r["Young people"] for r in flow.to_dict("records") if r["Step"] == "plan to 18"}
    assert into_adult == {"Adult social care (Care Act)": "5", "Adult mental health": "1"}
    # The data quality page says the same in its linkage table.
    at.switch_page("pages/quality.py").run()
    (linkage,) = [d.value for d in at.dataframe if "Found in adult data" in d.value.columns]
    assert linkage.to_dict("records") == [
        {"Year turned 18": 2025, "Locality": "North", "Turned 18": 6, "Found in adult data": 6, "Found (%)": 100.0}
    ]


def test_the_linkage_report_counts_who_turned_18_and_was_found_in_adult_data(cohort: Session, tmp_path: Path) -> None:
    from partnership import quality

    engine = cohort.get_bind()
    before = quality.linkage(engine, TODAY).to_dicts()  # type: ignore[arg-type]
    assert before == [
        {"Year turned 18": 2025, "Locality": "North", "Turned 18": 6, "Found in adult data": 0, "Found (%)": 0.0}
    ]
    # Five of the six linked this time (C6's row left out of the file).
    import_cld(cohort, _cld(tmp_path / "cld.csv", FIRST_QUARTER[:5]), today=TODAY)
    cohort.commit()
    after = quality.linkage(engine, TODAY).to_dicts()  # type: ignore[arg-type]
    assert after == [
        {"Year turned 18": 2025, "Locality": "North", "Turned 18": 6, "Found in adult data": 5, "Found (%)": 83.3}
    ]
    sources = quality.linkage_imports(engine)  # type: ignore[arg-type]
    assert sorted(sources["Source"].to_list()) == ["Adult social care CLD", "SSDA903 return"]


def test_the_data_page_previews_with_ids_masked_then_imports(cohort: Session) -> None:
    from partnership import uploads
    from partnership.importers import masking

    body = (COLUMNS + "\n" + "".join(r + "\n" for r in FIRST_QUARTER)).encode()
    request = uploads.Request("cld", (uploads.Upload("cld.csv", body),), link="nhs-number")
    (preview,) = uploads.previews(request)
    first = preview.frame.to_dicts()[0]
    assert (first["NHS_Number"], first["Date_of_Birth"], first["Event_Type"]) == (masking.MASK, "2007-03-••", "Service")
    assert "LA_Person_Unique_Identifier" in preview.not_read  # linking by NHS number, the person id is not read
    engine = cohort.get_bind()
    done = uploads.run(engine, uploads.Request("cld", request.files), "admin", dry_run=False)  # type: ignore[arg-type]
    assert done.accepted and "6 people linked to children's data" in done.message


PROBLEM_LINE = r"^[^:\n]+:(\d+:)?[^:\n]+: .+"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    row=st.integers(min_value=0, max_value=len(FIRST_QUARTER) - 1),
    column=st.integers(min_value=0, max_value=12),
    value=st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n\x00"), max_size=30),
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=1500)),
)
def test_a_damaged_cld_file_is_imported_whole_or_refused_with_nothing_written(
    cohort: Session, tmp_path: Path, row: int, column: int, value: str, cut: int | None
) -> None:
    """Any one cell replaced by any text, or the file cut short anywhere: the
    import either succeeds as a whole or names its problems, one per line, and
    writes nothing."""
    import csv
    import io
    import re

    rows = [next(csv.reader([line])) for line in FIRST_QUARTER]
    rows[row][column] = value
    buffer = io.StringIO()
    csv.writer(buffer).writerows([COLUMNS.split(","), *rows])
    body = buffer.getvalue().encode()
    path = tmp_path / "damaged.csv"
    path.write_bytes(body if cut is None else body[:cut])
    before = repr(sorted(_episodes(cohort, f"C{i}") for i in range(1, 7)))
    try:
        import_cld(cohort, path, today=TODAY)
    except ImportRejected as exc:
        cohort.rollback()
        assert exc.problems and all(re.match(PROBLEM_LINE, p) for p in exc.problems), exc.problems
        assert repr(sorted(_episodes(cohort, f"C{i}") for i in range(1, 7))) == before
    else:
        cohort.rollback()

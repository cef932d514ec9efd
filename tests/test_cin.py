"""The children in need census XML importer, on the real synthetic files in
../shared/data/cin (data-to-insight's CIN validator fakes), on SQLite and
PostgreSQL: refused with every invalid element named, imported once fixed
in a copy, exploitation factors becoming flags; malformed and hostile XML
refused with a clear message and the database unchanged."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

from models import ImportRejection, ServiceEpisode, YoungPerson
from partnership.importers.batches import run_import
from partnership.importers.cin import import_cin
from partnership.importers.common import ImportRejected
from partnership.importers.ssda903 import import_903
from partnership.pseudonymise import pseudonymise
from partnership.settings import pseudonym_key
from tests.conftest import ROOT

CIN = ROOT.parent / "shared" / "data" / "cin"
TODAY = dt.date(2026, 11, 22)
pytestmark = pytest.mark.skipif(not CIN.exists(), reason="../shared/data/cin is not here")


def _counts(session: Session) -> tuple[int, int]:
    people = session.exec(select(func.count()).select_from(YoungPerson)).one()
    episodes = session.exec(select(func.count()).select_from(ServiceEpisode)).one()
    return people, episodes


def _refused(session: Session, path: Path) -> list[str]:
    before = _counts(session)
    with pytest.raises(ImportRejected) as caught:
        import_cin(session, path, "north", today=TODAY)
    session.rollback()
    assert _counts(session) == before
    return caught.value.problems


def test_the_2024_census_is_refused_with_every_invalid_element_named(session: Session) -> None:
    assert _refused(session, CIN / "CIN_Census_2024.xml") == [
        "CIN_Census_2024.xml:1:AssessmentActualStartDate: CINdetails 1, Assessments 1: after today (22/11/2026) "
        "(2028-04-28)",
        "CIN_Census_2024.xml:1:AssessmentFactors: CINdetails 1, Assessments 1: not an assessment factor code in "
        "DfE's list (RB)",
        "CIN_Census_2024.xml:2:Sex: not a CIN census sex code (1 male, 2 female, 0 not known, 9 not specified) (M)",
    ]


def test_the_large_fake_file_names_its_impossible_dates_by_child_and_element(session: Session) -> None:
    problems = _refused(session, CIN / "fake_CIN_data.xml")
    assert problems == [
        "fake_CIN_data.xml:169:CINclosureDate: CINdetails 1: after today (22/11/2026) (2028-02-11)",
        "fake_CIN_data.xml:169:CINreferralDate: CINdetails 2: after today (22/11/2026) (2030-03-31)",
        "fake_CIN_data.xml:298:CINreferralDate: CINdetails 1: after today (22/11/2026) (2028-03-24)",
        "fake_CIN_data.xml:298:CINclosureDate: CINdetails 1: after today (22/11/2026) (2031-02-28)",
    ]


def _fixed_2024(folder: Path) -> Path:
    """The 2024 census with its three problems put right, and the 6B factor
    replaced by 11A (child sexual exploitation) and RB by 24A (criminal)."""
    text = (CIN / "CIN_Census_2024.xml").read_text()
    text = text.replace("<AssessmentActualStartDate>2028-04-28", "<AssessmentActualStartDate>2020-09-01")
    text = text.replace("<AssessmentFactors>RB</AssessmentFactors>", "<AssessmentFactors>24A</AssessmentFactors>")
    text = text.replace("<AssessmentFactors>6B</AssessmentFactors>", "<AssessmentFactors>11A</AssessmentFactors>")
    text = text.replace("<Sex>M</Sex>", "<Sex>1</Sex>")
    path = folder / "CIN_Census_2024_fixed.xml"
    path.write_text(text)
    return path


def _person(session: Session, la_child_id: str) -> YoungPerson:
    key = pseudonymise(la_child_id, pseudonym_key())
    return session.exec(select(YoungPerson).where(YoungPerson.pseudo_key == key)).one()


def _episodes(session: Session, person: YoungPerson) -> list[tuple[str, str, str | None, str | None]]:
    rows = session.exec(
        select(ServiceEpisode).where(ServiceEpisode.young_person_id == person.id).order_by(ServiceEpisode.started_on)
    )
    return [(e.service, str(e.started_on), e.ended_on and str(e.ended_on), e.end_reason) for e in rows]


def test_once_fixed_the_census_imports_children_episodes_and_exploitation_flags(
    session: Session, tmp_path: Path
) -> None:
    message = import_cin(session, _fixed_2024(tmp_path), "north", today=TODAY)
    session.commit()
    assert message == "CIN_Census_2024_fixed.xml: imported young_people=2, service_episodes=3"
    first = _person(session, "DfEX0000001")
    assert (first.birth_month, first.sex, first.ethnicity, first.source) == (dt.date(2015, 3, 1), "M", "white", "cin")
    assert (first.cse, first.cce, first.gangs, first.trafficking, first.missing) == (True, True, False, False, False)
    assert _episodes(session, first) == [
        ("child_protection", "2022-02-17", "2023-03-14", "no_longer_needed"),
        ("child_in_need", "2022-10-06", "2023-02-27", "other"),  # RC1: adopted
    ]
    second = _person(session, "child_fails_assessments")
    assert (second.cse, second.cce) == (False, False)
    assert _episodes(session, second) == [("child_in_need", "2024-10-24", "2024-10-29", "no_longer_needed")]
    # The identifiers themselves are nowhere in the database.
    assert "DfEX0000001" not in first.pseudo_key
    again = import_cin(session, _fixed_2024(tmp_path), "north", today=TODAY)
    assert again == "CIN_Census_2024_fixed.xml: this file was already imported; nothing changed"


def test_a_child_in_the_903_return_and_the_census_is_one_young_person(session: Session, tmp_path: Path) -> None:
    """The same keyed hash of the council's child id on both sides: one record,
    with both its looked-after episode and its children-in-need episode."""
    folder = tmp_path / "return"
    folder.mkdir()
    (folder / "header.csv").write_text("CHILD,SEX,DOB,ETHNIC\nDfEX0000001,1,27/03/2015,WBRI\n")
    (folder / "episodes.csv").write_text("CHILD,DECOM,DEC,REC\nDfEX0000001,01/04/2023,,\n")
    import_903(session, folder, "north", today=TODAY)
    session.commit()
    import_cin(session, _fixed_2024(tmp_path), "north", today=TODAY)
    session.commit()
    person = _person(session, "DfEX0000001")
    assert person.source == "ssda903"  # the record the return made, joined by the census
    assert [e[0] for e in _episodes(session, person)] == ["child_protection", "child_in_need", "looked_after"]
    assert person.cse is True


HOSTILE = {
    "entity expansion": (
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><Message><Children>&c;</Children></Message>',
        "refused: the file declares a DTD or entities",
    ),
    "external entity": (
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<Message><Children><Child><ChildIdentifiers><LAchildID>&x;</LAchildID></ChildIdentifiers></Child>"
        "</Children></Message>",
        "refused: the file declares a DTD or entities",
    ),
    "wrong namespace": (
        '<Message xmlns="http://example.org/not-cin"><Children/></Message>',
        "not a CIN census message (<Message> with <Children>; found <Message> in namespace http://example.org/not-cin)",
    ),
    "another document": ("<html><body>hello</body></html>", "not a CIN census message"),
    "not XML": ("child_id,birth_date\n1,2009-01-01\n", "not well-formed XML"),
    "empty": ("", "not well-formed XML"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_and_malformed_xml_is_refused_and_nothing_resolved(session: Session, tmp_path: Path, case: str) -> None:
    body, words = HOSTILE[case]
    path = tmp_path / f"{case.replace(' ', '_')}.xml"
    path.write_text(body)
    (problem,) = _refused(session, path)
    assert problem.startswith(f"{path.name}:file: ")
    assert words in problem
    assert "root:" not in problem  # nothing of /etc/passwd came back


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHBOARD_MAX_FILE_MB", "1")
    path = tmp_path / "huge.xml"
    path.write_bytes(b"<Message><Children>" + b"<Child></Child>" * 80_000 + b"</Children></Message>")
    (problem,) = _refused(session, path)
    assert problem.startswith("huge.xml:file: the file is 1.1 MB, more than the limit of 1.0 MB")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=4200))
def test_a_file_cut_short_anywhere_is_refused_and_changes_nothing(session: Session, tmp_path: Path, cut: int) -> None:
    whole = _fixed_2024(tmp_path).read_bytes()
    path = tmp_path / "cut.xml"
    path.write_bytes(whole[: min(cut, len(whole) - 12)])  # at least the closing </Message> is lost
    (problem,) = _refused(session, path)
    assert problem.startswith("cut.xml:file: not well-formed XML")


def test_a_refusal_through_the_command_line_is_logged_and_exits_non_zero(sqlite_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": sqlite_url}
    subprocess.run([sys.executable, str(ROOT / "cli.py"), "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "import-cin", str(CIN / "CIN_Census_2024.xml"), "--locality", "east"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "CIN_Census_2024.xml: rejected, 3 problems in 2 rows; nothing was imported" in done.stderr
    from models.db import get_engine

    with Session(get_engine(sqlite_url)) as session:
        (rejection,) = session.exec(select(ImportRejection)).all()
        assert (rejection.kind, rejection.problem_count) == ("cin", 3)
        assert session.exec(select(func.count()).select_from(YoungPerson)).one() == 0
    fixed = _fixed_2024(tmp_path)
    assert run_import(get_engine(sqlite_url), "cin", "test", lambda s: import_cin(s, fixed, "east", today=TODAY))


def test_a_utf16_file_is_held_to_the_same_rules(session: Session, tmp_path: Path) -> None:
    """A byte search cannot see a DTD in UTF-16: such files go through defusedxml."""
    hostile = tmp_path / "wide.xml"
    hostile.write_bytes(
        HOSTILE["external entity"][0].replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    )
    (problem,) = _refused(session, hostile)
    assert problem == "wide.xml:file: refused: the file declares a DTD or entities (DTDForbidden)"
    fixed = _fixed_2024(tmp_path).read_text()
    wide = tmp_path / "wide_census.xml"
    wide.write_bytes(fixed.encode("utf-16"))
    assert import_cin(session, wide, "north", today=TODAY, dry_run=True) == (
        "wide_census.xml: valid; would import young_people=2, service_episodes=3 (dry run, nothing written)"
    )


def test_the_2021_census_imports_and_the_large_fake_file_imports_once_its_dates_are_fixed(
    session: Session, tmp_path: Path
) -> None:
    assert import_cin(session, CIN / "CIN_Census_2021.xml", "east", today=TODAY) == (
        "CIN_Census_2021.xml: imported young_people=1, service_episodes=2"
    )
    text = (CIN / "fake_CIN_data.xml").read_text()
    for future, past in (
        ("2028-02-11", "2023-02-11"),
        ("2030-03-31", "2024-03-31"),
        ("2028-03-24", "2022-03-24"),
        ("2031-02-28", "2024-02-28"),
    ):
        text = text.replace(f">{future}<", f">{past}<")
    fixed = tmp_path / "fake_CIN_data_fixed.xml"
    fixed.write_text(text)
    message = import_cin(session, fixed, "east", today=TODAY)
    session.commit()
    assert message == "fake_CIN_data_fixed.xml: imported young_people=332, service_episodes=402"
    assert _counts(session) == (333, 404)

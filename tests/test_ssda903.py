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
from partnership.pseudonymise import pseudonymise
from partnership.settings import pseudonym_key

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
    assert "rejected, 15 problems" in text and "nothing was imported" in text
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


# --- a larger generated return ----------------------------------------------------


def _generated(tmp_path: Path, name: str, episodes: int = 2000) -> Path:
    from partnership.bench import write_903_folder

    folder = tmp_path / name
    write_903_folder(folder, episodes, seed=3, today=TODAY)
    return folder


def _episode_rows(session: Session) -> set[tuple[str, dt.date, dt.date | None, str | None]]:
    rows = session.exec(
        select(YoungPerson.pseudo_key, ServiceEpisode.started_on, ServiceEpisode.ended_on, ServiceEpisode.end_reason)
        .join(YoungPerson, YoungPerson.id == ServiceEpisode.young_person_id)
        .where(ServiceEpisode.service == "looked_after")
    ).all()
    return {tuple(r) for r in rows}  # type: ignore[misc]


def test_generated_return_imports_exactly_its_rows(session: Session, tmp_path: Path) -> None:
    folder = _generated(tmp_path, "big")
    key = pseudonym_key()
    day = "%d/%m/%Y"
    # The expected rows, read straight from the files with the csv module.
    header = list(csv.DictReader((folder / "header.csv").open()))
    episodes = list(csv.DictReader((folder / "episodes.csv").open()))
    assert len(episodes) == 2000
    births = {pseudonymise(r["CHILD"], key): dt.datetime.strptime(r["DOB"], day).date().replace(day=1) for r in header}
    expected = {
        (
            pseudonymise(r["CHILD"], key),
            dt.datetime.strptime(r["DECOM"], day).date(),
            dt.datetime.strptime(r["DEC"], day).date() if r["DEC"] else None,
        )
        for r in episodes
    }
    message = import_903(session, folder, "north", today=TODAY)
    session.commit()
    assert f"imported young_people={len(header)}, episodes=2000" in message
    people = {yp.pseudo_key: yp for yp in session.exec(select(YoungPerson))}
    assert {pk: yp.birth_month for pk, yp in people.items()} == births
    assert all(len(pk) == 64 for pk in people) and not {r["CHILD"] for r in header} & set(people)
    stored = _episode_rows(session)
    assert {(pk, start, end) for pk, start, end, _ in stored} == expected
    assert len(stored) == 2000  # no two episodes of a child start the same day
    # X1 between placements is "other"; an episode with no end has no reason.
    ends = {(r["REC"], bool(r["DEC"])) for r in episodes}
    assert ("X1", True) in ends and ("", False) in ends
    assert all((reason is None) == (end is None) for _, _, end, reason in stored)
    # Looked after while an episode is open, a care leaver once all have ended.
    open_children = {pseudonymise(r["CHILD"], key) for r in episodes if not r["DEC"]}
    assert {pk for pk, yp in people.items() if yp.care_status == "looked_after"} == open_children
    assert {yp.care_status for pk, yp in people.items() if pk not in open_children} == {"former_relevant"}


def test_one_bad_row_in_a_generated_return_is_named_and_nothing_changes(session: Session, tmp_path: Path) -> None:
    good = _generated(tmp_path, "good")
    import_903(session, good, "north", today=TODAY)
    session.commit()
    before = _counts(session), _episode_rows(session)
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    lines = (bad / "episodes.csv").read_text().splitlines()
    lines.insert(5, "")  # a blank line: still counted, so later rows are one line further down
    row = next(csv.reader([lines[1499]]))  # file line 1500
    row[8] = "Z9"  # REC
    lines[1499] = ",".join(row)
    # Windows line endings, as Excel saves them, and a changed row: not the same files.
    (bad / "episodes.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode())
    with pytest.raises(ImportRejected) as err:
        import_903(session, bad, "north", today=TODAY)
    session.rollback()
    children = len((good / "header.csv").read_text().splitlines()) - 1
    assert str(err.value).splitlines() == [
        "episodes.csv:1500:REC: not an SSDA903 reason episode ceased (Z9)",
        f"bad: rejected, 1 problem in {children + 2000} rows; nothing was imported",
    ]
    assert (_counts(session), _episode_rows(session)) == before


def test_header_problems_are_named_in_line_order(session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "hdr"
    folder.mkdir()
    (folder / "header.csv").write_text(
        "CHILD,SEX,DOB,ETHNIC\n11,1,01/02/2008,WBRI\n12,3,31/02/2008,WBRI\n\n11,2,1/2/2008,XXXX\n,1,01/01/2030,WBRI\n"
    )
    (folder / "episodes.csv").write_text("CHILD,DECOM,DEC,REC\n11,01/01/2020,31/12/2019,E8\n99,01/01/2020,,\n")
    with pytest.raises(ImportRejected) as err:
        import_903(session, folder, "north", today=TODAY)
    assert str(err.value).splitlines()[:-1] == [
        "header.csv:3:SEX: not an SSDA903 sex code (1 male, 2 female) (3)",
        "header.csv:3:DOB: not a date as dd/mm/YYYY (31/02/2008)",
        # 1/2/2008 is a date as strptime reads it; only the repeat and the code are wrong.
        "header.csv:5:CHILD: duplicates line 2 (11)",
        "header.csv:5:ETHNIC: not an SSDA903 ethnicity code (XXXX)",
        "header.csv:6:CHILD: required",
        "header.csv:6:DOB: in the future (01/01/2030)",
        "episodes.csv:2:DEC: before DECOM (31/12/2019)",
        "episodes.csv:3:CHILD: no such child in header.csv or the database (99)",
    ]


# --- the XML export of the same return ---------------------------------------------


def _as_xml(folder: Path) -> bytes:
    """The return in a folder of CSVs, written as case systems export it for
    DfE: <EXPSSDA903><CHILD><HEADER>... with <EPISODE>s and <MISSING> periods."""
    import xml.etree.ElementTree as ET

    def rows(name: str) -> list[dict[str, str]]:
        path = folder / f"{name}.csv"
        return list(csv.DictReader(path.open())) if path.exists() else []

    episodes, oc3, missing = rows("episodes"), {r["CHILD"]: r for r in rows("oc3")}, rows("missing")
    root = ET.Element("EXPSSDA903")
    for person in rows("header"):
        child = ET.SubElement(root, "CHILD")
        header = ET.SubElement(child, "HEADER")
        for name, value in [("CHILDID", person["CHILD"]), *[(k, person[k]) for k in ("SEX", "DOB", "ETHNIC", "UPN")]]:
            ET.SubElement(header, name).text = value
        for name in ("IN_TOUCH", "ACTIV", "ACCOM"):
            if person["CHILD"] in oc3:
                ET.SubElement(header, name).text = oc3[person["CHILD"]][name]
        for row in (r for r in episodes if r["CHILD"] == person["CHILD"]):
            episode = ET.SubElement(child, "EPISODE")
            for name in ("DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC", "URN"):
                ET.SubElement(episode, name).text = row[name]
        for row in (r for r in missing if r["CHILD"] == person["CHILD"]):
            period = ET.SubElement(child, "MISSING")
            for name in ("MISSING", "MIS_START", "MIS_END"):
                ET.SubElement(period, name).text = row[name]
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root)


def _database(url: str) -> list[list[tuple[object, ...]]]:
    """Every young person, episode, outcome and missing period, by keyed hash."""
    with Session(get_engine(url)) as session:
        key = {p.id: p.pseudo_key for p in session.exec(select(YoungPerson))}
        people = sorted(
            (p.pseudo_key, p.birth_month, p.sex, p.ethnicity, p.care_status, p.missing)
            for p in session.exec(select(YoungPerson))
        )
        episodes = sorted(
            (key[e.young_person_id], e.service, e.started_on, e.ended_on, e.end_reason)
            for e in session.exec(select(ServiceEpisode))
        )
        outcomes = sorted(
            (key[o.young_person_id], o.observed_on, o.activity, o.accommodation, o.in_touch)
            for o in session.exec(select(OutcomeObservation))
        )
        missing = sorted(
            (key[m.young_person_id], m.kind, m.started_on, m.ended_on) for m in session.exec(select(MissingEpisode))
        )
    return [people, episodes, outcomes, missing]  # type: ignore[list-item]


def _fresh(url: str) -> str:
    upgrade(url)
    with Session(get_engine(url)) as session:
        load_reference(session)
        session.commit()
    return url


def test_the_xml_export_and_the_csv_set_give_the_same_database(tmp_path: Path) -> None:
    from partnership.importers.ssda903_xml import import_903_xml

    folder = _fixed_copy(tmp_path)
    xml = tmp_path / "return.xml"
    xml.write_bytes(_as_xml(folder))
    from_csv, from_xml = _fresh(f"sqlite:///{tmp_path / 'csv.db'}"), _fresh(f"sqlite:///{tmp_path / 'xml.db'}")
    with Session(get_engine(from_csv)) as session:
        import_903(session, folder, "north", 2018, today=TODAY)
        session.commit()
    with Session(get_engine(from_xml)) as session:
        message = import_903_xml(session, xml, "north", 2018, today=TODAY)
        session.commit()
    assert message.endswith("return: imported young_people=2675, episodes=5050, oc3=53, missing=43")
    assert _database(from_xml) == _database(from_csv)


def test_the_xml_export_names_problems_by_child_and_element(session: Session, tmp_path: Path) -> None:
    from partnership.importers.ssda903_xml import import_903_xml

    xml = tmp_path / "return.xml"
    xml.write_bytes(_as_xml(SOURCE))
    before = _counts(session)
    with pytest.raises(ImportRejected) as err:
        import_903_xml(session, xml, "north", 2018, today=TODAY)
    session.rollback()
    assert _counts(session) == before
    # oc3.csv line 2 (ACCOM 01) belongs to child 197474: its position among the CHILDs of the export.
    number = [r["CHILD"] for r in csv.DictReader((SOURCE / "header.csv").open())].index("197474") + 1
    assert f"return.xml:{number}:ACCOM: not an SSDA903 accommodation code (01)" in err.value.problems
    assert all(p.startswith("return.xml:") for p in err.value.problems)
    assert str(err.value).splitlines()[-1] == "return.xml: rejected, 15 problems in 7821 rows; nothing was imported"


def test_hostile_903_xml_is_refused_unresolved(session: Session, tmp_path: Path) -> None:
    from partnership.importers.ssda903_xml import import_903_xml

    xml = tmp_path / "bomb.xml"
    xml.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<EXPSSDA903><CHILD><HEADER><CHILDID>&b;</CHILDID></HEADER></CHILD></EXPSSDA903>"
    )
    with pytest.raises(ImportRejected) as err:
        import_903_xml(session, xml, "north", 2018, today=TODAY)
    assert err.value.problems == ["bomb.xml:file: refused: the file declares a DTD or entities (DTDForbidden)"]


def test_the_data_page_takes_the_xml_export(session: Session, tmp_path: Path) -> None:
    from partnership import uploads

    body = _as_xml(_fixed_copy(tmp_path))
    request = uploads.Request("ssda903", (uploads.Upload("return.xml", body),), locality="north", year=2018)
    (preview,) = uploads.previews(request)
    assert preview.rows == 2675 and preview.frame.columns == ["row", "CHILD", "SEX", "DOB", "ETHNIC"]
    assert preview.frame.row(0) == (1, "•••••", "2", "••/03/2008", "WROM")
    done = uploads.run(session.get_bind(), request, "admin", dry_run=False)  # type: ignore[arg-type]
    assert done.accepted, done.message
    assert _counts(session) == (2675, 5050, 53, 43)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(min_value=0.0, max_value=0.999))
def test_an_xml_export_cut_short_anywhere_is_refused_and_changes_nothing(
    session: Session, tmp_path: Path, cut: float
) -> None:
    from partnership.importers.ssda903_xml import import_903_xml

    folder = tmp_path / "small"
    folder.mkdir(exist_ok=True)
    (folder / "header.csv").write_text("CHILD,SEX,DOB,ETHNIC,UPN\n1,1,01/02/2008,WBRI,\n2,2,03/04/2009,AIND,\n")
    (folder / "episodes.csv").write_text(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,URN\n1,01/01/2020,S,C2,N1,U1,PR1,,,\n"
    )
    whole = _as_xml(folder)
    xml = tmp_path / "cut.xml"
    xml.write_bytes(whole[: int(len(whole) * cut)])
    before = _counts(session)
    with pytest.raises(ImportRejected) as err:
        import_903_xml(session, xml, "north", today=TODAY)
    session.rollback()
    assert _counts(session) == before
    (problem,) = err.value.problems
    assert problem.startswith("cut.xml:file: not well-formed XML")

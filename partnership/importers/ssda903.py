"""SSDA903 (looked-after children return) CSVs: header, episodes, oc3, missing.

Children's ids become keyed hashes and dates of birth are cut to the month
before anything is written. Every problem is reported as
`file:row:field: reason (value)`; one problem anywhere rejects the whole set
and the database is left as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import delete
from sqlmodel import Session, select

from models import ImportBatch, Locality, MissingEpisode, OutcomeObservation, ServiceEpisode, YoungPerson, codes
from partnership import store
from partnership.importers.common import ImportRejected, Problems, checksum, read_csv_text
from partnership.pseudonymise import month_of, pseudonymise
from partnership.settings import pseudonym_key

FILES = ("header", "episodes", "oc3", "missing")
COLUMNS = {
    "header": ["CHILD", "SEX", "DOB", "ETHNIC"],
    "episodes": ["CHILD", "DECOM", "DEC", "REC"],
    "oc3": ["CHILD", "IN_TOUCH", "ACTIV", "ACCOM"],
    "missing": ["CHILD", "MISSING", "MIS_START", "MIS_END"],
}
SEX = {"1": "M", "2": "F"}
ETHNIC = {
    **dict.fromkeys(["WBRI", "WIRI", "WOTH", "WIRT", "WROM"], "white"),
    **dict.fromkeys(["MWBC", "MWBA", "MWAS", "MOTH"], "mixed"),
    **dict.fromkeys(["AIND", "APKN", "ABAN", "AOTH"], "asian"),
    **dict.fromkeys(["BCRB", "BAFR", "BOTH"], "black"),
    **dict.fromkeys(["CHNE", "OOTH"], "other"),
    **dict.fromkeys(["REFU", "NOBT"], "unknown"),
}
# Reason episode ceased. X1: a new episode starts the same day (care goes on).
REC = {
    "E5": "independent_living",
    "E6": "independent_living",
    "E7": "adult_social_care",
    "E17": "staying_put",
    "E9": "custody",
    "E15": "age_assessed",
    "X1": "other",
    **dict.fromkeys(
        ["E11", "E12", "E13", "E14", "E16", "E2", "E3", "E4A", "E4B", "E41", "E45", "E46", "E47", "E48", "E8"], "other"
    ),
}
RETIRED_ACTIV = {"F3", "P3"}


@dataclass
class Parsed:
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    checksums: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        return None


def _read(folder: Path) -> Parsed:
    parsed = Parsed()
    for name in FILES:
        path = folder / f"{name}.csv"
        if not path.exists():
            continue
        frame, data, notes = read_csv_text(path)
        problems = Problems(path.name)
        for col in COLUMNS[name]:
            if col not in frame.columns:
                problems.add(1, col, "required column is missing")
        problems.raise_if_any(frame.height)
        parsed.frames[name] = frame
        parsed.checksums.append(checksum(data))
        parsed.notes.extend(notes)
    if not parsed.frames:
        none = Problems(folder.name)
        none.add(None, "folder", "no header.csv, episodes.csv, oc3.csv or missing.csv here")
        none.raise_if_any(0)
    return parsed


def validate(parsed: Parsed, known_children: set[str], today: dt.date, year: int | None) -> list[str]:
    """Every problem in the set of files; empty when it may be imported."""
    problems: list[str] = []
    header = parsed.frames.get("header")
    children = set(known_children)
    if header is not None:
        p = Problems("header.csv")
        seen: dict[str, int] = {}
        for r in header.iter_rows(named=True):
            line, child = r["_line"], r["CHILD"]
            if not child:
                p.add(line, "CHILD", "required")
            elif child in seen:
                p.add(line, "CHILD", f"duplicates line {seen[child]}", child)
            seen.setdefault(child, line)
            if r["SEX"] not in SEX:
                p.add(line, "SEX", "not an SSDA903 sex code (1 male, 2 female)", r["SEX"])
            dob = _date(r["DOB"])
            if dob is None:
                p.add(line, "DOB", "not a date as dd/mm/YYYY", r["DOB"])
            elif dob > today:
                p.add(line, "DOB", "in the future", r["DOB"])
            if r["ETHNIC"] not in ETHNIC:
                p.add(line, "ETHNIC", "not an SSDA903 ethnicity code", r["ETHNIC"])
        children |= set(seen)
        problems += p.items
    if "episodes" in parsed.frames:
        p = Problems("episodes.csv")
        for r in parsed.frames["episodes"].iter_rows(named=True):
            line = r["_line"]
            if r["CHILD"] not in children:
                p.add(line, "CHILD", "no such child in header.csv or the database", r["CHILD"])
            start, end = _date(r["DECOM"]), _date(r["DEC"]) if r["DEC"] else None
            if start is None:
                p.add(line, "DECOM", "not a date as dd/mm/YYYY", r["DECOM"])
            if r["DEC"] and end is None:
                p.add(line, "DEC", "not a date as dd/mm/YYYY", r["DEC"])
            elif start and end and end < start:
                p.add(line, "DEC", "before DECOM", r["DEC"])
            if r["REC"] and r["REC"].upper() not in REC:
                p.add(line, "REC", "not an SSDA903 reason episode ceased", r["REC"])
            if r["DEC"] and not r["REC"]:
                p.add(line, "REC", "required when DEC is given")
        problems += p.items
    if "oc3" in parsed.frames:
        p = Problems("oc3.csv")
        if year is None:
            p.add(None, "year", "oc3.csv needs the collection year (--year, e.g. 2025 for 2024-25)")
        for r in parsed.frames["oc3"].iter_rows(named=True):
            line = r["_line"]
            if r["CHILD"] not in children:
                p.add(line, "CHILD", "no such child in header.csv or the database", r["CHILD"])
            if r["IN_TOUCH"] not in codes.IN_TOUCH:
                p.add(line, "IN_TOUCH", "not an SSDA903 in-touch code", r["IN_TOUCH"])
            if r["ACTIV"] in RETIRED_ACTIV:
                p.add(line, "ACTIV", "retired code, no longer accepted", r["ACTIV"])
            elif r["ACTIV"] and r["ACTIV"] not in codes.ACTIV:
                p.add(line, "ACTIV", "not an SSDA903 activity code", r["ACTIV"])
            if r["ACCOM"] in ("S1", "X1"):
                p.add(line, "ACCOM", "does not exist: homeless and custody are never suitable", r["ACCOM"])
            elif r["ACCOM"] and r["ACCOM"] not in codes.ACCOM:
                p.add(line, "ACCOM", "not an SSDA903 accommodation code", r["ACCOM"])
        problems += p.items
    if "missing" in parsed.frames:
        p = Problems("missing.csv")
        for r in parsed.frames["missing"].iter_rows(named=True):
            line = r["_line"]
            if r["CHILD"] not in children:
                p.add(line, "CHILD", "no such child in header.csv or the database", r["CHILD"])
            if r["MISSING"] not in ("M", "A"):
                p.add(line, "MISSING", "not M (missing) or A (away without authorisation)", r["MISSING"])
            start = _date(r["MIS_START"])
            if start is None:
                p.add(line, "MIS_START", "not a date as dd/mm/YYYY", r["MIS_START"])
            if r["MIS_END"]:
                end = _date(r["MIS_END"])
                if end is None:
                    p.add(line, "MIS_END", "not a date as dd/mm/YYYY", r["MIS_END"])
                elif start and end < start:
                    p.add(line, "MIS_END", "before MIS_START", r["MIS_END"])
        problems += p.items
    return problems


def _birthday_in_year(dob_month: dt.date, year: int) -> dt.date:
    """The child's birthday (month) inside the collection year ending 31 March."""
    day = dob_month.replace(year=year)
    return day if day <= dt.date(year, 3, 31) else dob_month.replace(year=year - 1)


def import_903(
    session: Session,
    folder: Path,
    locality: str,
    year: int | None = None,
    actor: str = "cli",
    today: dt.date | None = None,
    dry_run: bool = False,
) -> str:
    """Import whichever 903 files are in `folder` for children of one locality."""
    today = today or dt.date.today()
    parsed = _read(folder)
    loc = session.exec(select(Locality).where(Locality.code == locality.lower())).first()
    if loc is None:
        known = ", ".join(r.code for r in session.exec(select(Locality)))
        raise ValueError(f"--locality: unknown locality '{locality}' (known: {known})")
    key = pseudonym_key()
    existing = {yp.pseudo_key: yp for yp in session.exec(select(YoungPerson).where(YoungPerson.source == "ssda903"))}
    # Known children: ids are not stored, so match by their keyed hash.
    all_ids = set()
    for frame in parsed.frames.values():
        all_ids |= set(frame["CHILD"].to_list())
    known = {child for child in all_ids if pseudonymise(child, key) in existing}
    problems = validate(parsed, known, today, year)
    if problems:
        raise ImportRejected(folder.name, problems, sum(f.height for f in parsed.frames.values()))
    digest = checksum("".join(sorted(parsed.checksums)).encode())
    if session.exec(select(ImportBatch).where(ImportBatch.kind == "ssda903", ImportBatch.checksum == digest)).first():
        return f"{folder.name}: these files were already imported; nothing changed"
    counts = _write(session, parsed, loc.id, year, key, existing, dry_run)
    summary = ", ".join(f"{k}={v}" for k, v in counts.items())
    if dry_run:
        return f"{folder.name}: valid; would import {summary} (dry run, nothing written)"
    session.add(
        ImportBatch(
            kind="ssda903",
            source="SSDA903",
            file_name=folder.name,
            checksum=digest,
            rows=summary.replace(", ", "|"),
            imported_by=actor,
        )
    )
    store.bump_data_version(session)
    return "; ".join([*parsed.notes, f"{folder.name}: imported {summary}"])


def _write(
    session: Session,
    parsed: Parsed,
    locality_id: int,
    year: int | None,
    key: bytes,
    existing: dict[str, YoungPerson],
    dry_run: bool,
) -> dict[str, int]:
    counts: dict[str, int] = {}
    header = parsed.frames.get("header")
    ids: dict[str, int] = {}
    if header is not None:
        for r in header.iter_rows(named=True):
            pk = pseudonymise(r["CHILD"], key)
            yp = existing.get(pk) or YoungPerson(
                pseudo_key=pk,
                birth_month=dt.date(2000, 1, 1),
                sex="X",
                ethnicity="unknown",
                locality_id=locality_id,
                source="ssda903",
            )
            yp.birth_month = month_of(_date(r["DOB"]))  # type: ignore[arg-type]
            yp.sex, yp.ethnicity, yp.locality_id = SEX[r["SEX"]], ETHNIC[r["ETHNIC"]], locality_id
            if not dry_run:
                session.add(yp)
        if not dry_run:
            session.flush()
        counts["young_people"] = header.height
    lookup = {yp.pseudo_key: yp for yp in session.exec(select(YoungPerson).where(YoungPerson.source == "ssda903"))}

    def person(child: str) -> YoungPerson | None:
        return lookup.get(pseudonymise(child, key))

    for name, model in (("episodes", ServiceEpisode), ("oc3", OutcomeObservation), ("missing", MissingEpisode)):
        frame = parsed.frames.get(name)
        if frame is None:
            continue
        counts[name] = frame.height
        if dry_run:
            continue
        people = [p for p in (person(c) for c in frame["CHILD"].unique().to_list()) if p is not None]
        ids = {p.pseudo_key: int(p.id) for p in people}  # type: ignore[arg-type]
        # A re-import replaces what an earlier 903 import said about these children.
        where = model.young_person_id.in_(list(ids.values()))  # type: ignore[attr-defined]
        if model is ServiceEpisode:
            where = where & (ServiceEpisode.service == "looked_after")
        session.exec(delete(model).where(where))  # type: ignore[call-overload]
        for r in frame.iter_rows(named=True):
            yp = person(r["CHILD"])
            assert yp is not None and yp.id is not None
            if name == "episodes":
                session.add(
                    ServiceEpisode(
                        young_person_id=yp.id,
                        service="looked_after",
                        started_on=_date(r["DECOM"]),
                        ended_on=_date(r["DEC"]) if r["DEC"] else None,
                        end_reason=REC[r["REC"].upper()] if r["DEC"] else None,
                    )
                )
            elif name == "oc3":
                assert year is not None
                session.add(
                    OutcomeObservation(
                        young_person_id=yp.id,
                        observed_on=_birthday_in_year(yp.birth_month, year),
                        activity=r["ACTIV"] or None,
                        accommodation=r["ACCOM"] or None,
                        in_touch=r["IN_TOUCH"],
                    )
                )
            else:
                session.add(
                    MissingEpisode(
                        young_person_id=yp.id,
                        kind=r["MISSING"],
                        started_on=_date(r["MIS_START"]),
                        ended_on=_date(r["MIS_END"]) if r["MIS_END"] else None,
                    )
                )
                yp.missing = True
                session.add(yp)
    if not dry_run:
        _care_status(session, list(lookup.values()))
    return counts


def _care_status(session: Session, people: list[YoungPerson]) -> None:
    """Looked after while an episode is open; a care leaver once it has ended."""
    for yp in people:
        eps = session.exec(
            select(ServiceEpisode).where(
                ServiceEpisode.young_person_id == yp.id, ServiceEpisode.service == "looked_after"
            )
        ).all()
        if not eps:
            continue
        yp.care_status = "looked_after" if any(e.ended_on is None for e in eps) else "former_relevant"
        session.add(yp)

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
from sqlalchemy import Connection, bindparam, case, delete, func, update
from sqlmodel import Session, select

from models import Locality, MissingEpisode, OutcomeObservation, ServiceEpisode, YoungPerson, codes
from partnership import store
from partnership.importers.batches import already_imported, record_batch
from partnership.importers.common import (
    Check,
    ImportRejected,
    Problems,
    checksum,
    date_range,
    parse_dates,
    read_csv_text,
    row_problems,
)
from partnership.pseudonymise import pseudonymise
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


def _dates(values: pl.Series) -> pl.Series:
    return parse_dates(values, ("%d/%m/%Y",), _date)


def _read(folder: Path) -> Parsed:
    parsed = Parsed()
    for name in FILES:
        path = folder / f"{name}.csv"
        if not path.exists():
            continue
        # Only the columns used: postcodes, UPNs and the like are never held.
        frame, data, notes = read_csv_text(path, keep=COLUMNS[name])
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


def _not_in(column: str, allowed: object) -> pl.Expr:
    return ~pl.col(column).is_in(list(allowed))  # type: ignore[call-overload]


def validate(parsed: Parsed, known_children: set[str], today: dt.date, year: int | None) -> list[str]:
    """Every problem in the set of files; empty when it may be imported.
    Checks run on whole columns; messages come out in file order."""
    problems: list[str] = []
    header = parsed.frames.get("header")
    children = set(known_children) | (set(header["CHILD"].to_list()) if header is not None else set())
    unknown_child = Check(
        _not_in("CHILD", children), "CHILD", "no such child in header.csv or the database", pl.col("CHILD")
    )
    if header is not None:
        frame = header.with_columns(_dob=_dates(header["DOB"]), _first=pl.col("_line").min().over("CHILD"))
        problems += row_problems(
            "header.csv",
            frame,
            [
                Check(pl.col("CHILD") == "", "CHILD", "required"),
                Check(
                    (pl.col("CHILD") != "") & (pl.col("_line") != pl.col("_first")),
                    "CHILD",
                    pl.format("duplicates line {}", pl.col("_first")),
                    pl.col("CHILD"),
                ),
                Check(_not_in("SEX", SEX), "SEX", "not an SSDA903 sex code (1 male, 2 female)", pl.col("SEX")),
                Check(pl.col("_dob").is_null(), "DOB", "not a date as dd/mm/YYYY", pl.col("DOB")),
                *date_range("_dob", "DOB", today),
                Check(_not_in("ETHNIC", ETHNIC), "ETHNIC", "not an SSDA903 ethnicity code", pl.col("ETHNIC")),
            ],
        )
    if "episodes" in parsed.frames:
        episodes = parsed.frames["episodes"]
        frame = episodes.with_columns(_start=_dates(episodes["DECOM"]), _end=_dates(episodes["DEC"]))
        dec = pl.col("DEC") != ""
        problems += row_problems(
            "episodes.csv",
            frame,
            [
                unknown_child,
                Check(pl.col("_start").is_null(), "DECOM", "not a date as dd/mm/YYYY", pl.col("DECOM")),
                *date_range("_start", "DECOM", today),
                Check(dec & pl.col("_end").is_null(), "DEC", "not a date as dd/mm/YYYY", pl.col("DEC")),
                *date_range("_end", "DEC", today),
                Check(pl.col("_end") < pl.col("_start"), "DEC", "before DECOM", pl.col("DEC")),
                Check(
                    (pl.col("REC") != "") & ~pl.col("REC").str.to_uppercase().is_in(list(REC)),
                    "REC",
                    "not an SSDA903 reason episode ceased",
                    pl.col("REC"),
                ),
                Check(dec & (pl.col("REC") == ""), "REC", "required when DEC is given"),
            ],
        )
    if "oc3" in parsed.frames:
        p = Problems("oc3.csv")
        if year is None:
            p.add(None, "year", "oc3.csv needs the collection year (--year, e.g. 2025 for 2024-25)")
        activ, accom = pl.col("ACTIV"), pl.col("ACCOM")
        p.items += row_problems(
            "oc3.csv",
            parsed.frames["oc3"],
            [
                unknown_child,
                Check(
                    _not_in("IN_TOUCH", codes.IN_TOUCH), "IN_TOUCH", "not an SSDA903 in-touch code", pl.col("IN_TOUCH")
                ),
                Check(activ.is_in(list(RETIRED_ACTIV)), "ACTIV", "retired code, no longer accepted", activ),
                Check(
                    (activ != "") & ~activ.is_in(list(RETIRED_ACTIV)) & _not_in("ACTIV", codes.ACTIV),
                    "ACTIV",
                    "not an SSDA903 activity code",
                    activ,
                ),
                Check(
                    accom.is_in(["S1", "X1"]),
                    "ACCOM",
                    "does not exist: homeless and custody are never suitable",
                    accom,
                ),
                Check(
                    (accom != "") & ~accom.is_in(["S1", "X1"]) & _not_in("ACCOM", codes.ACCOM),
                    "ACCOM",
                    "not an SSDA903 accommodation code",
                    accom,
                ),
            ],
        )
        problems += p.items
    if "missing" in parsed.frames:
        missing = parsed.frames["missing"]
        frame = missing.with_columns(_start=_dates(missing["MIS_START"]), _end=_dates(missing["MIS_END"]))
        ended = pl.col("MIS_END") != ""
        problems += row_problems(
            "missing.csv",
            frame,
            [
                unknown_child,
                Check(
                    ~pl.col("MISSING").is_in(["M", "A"]),
                    "MISSING",
                    "not M (missing) or A (away without authorisation)",
                    pl.col("MISSING"),
                ),
                Check(pl.col("_start").is_null(), "MIS_START", "not a date as dd/mm/YYYY", pl.col("MIS_START")),
                *date_range("_start", "MIS_START", today),
                Check(ended & pl.col("_end").is_null(), "MIS_END", "not a date as dd/mm/YYYY", pl.col("MIS_END")),
                *date_range("_end", "MIS_END", today),
                Check(pl.col("_end") < pl.col("_start"), "MIS_END", "before MIS_START", pl.col("MIS_END")),
            ],
        )
    return problems


def _birthday_in_year(dob_month: dt.date, year: int) -> dt.date:
    """The child's birthday (month) inside the collection year ending 31 March."""
    day = dob_month.replace(year=year)
    return day if day <= dt.date(year, 3, 31) else dob_month.replace(year=year - 1)


def _ssda903_people(session: Session) -> dict[str, int]:
    """pseudo_key -> id of every child an SSDA903 import has written."""
    rows = session.execute(select(YoungPerson.pseudo_key, YoungPerson.id).where(YoungPerson.source == "ssda903"))
    return {pk: int(i) for pk, i in rows}


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
    existing = _ssda903_people(session)
    # Known children: ids are not stored, so match by their keyed hash.
    all_ids: set[str] = set()
    for frame in parsed.frames.values():
        all_ids |= set(frame["CHILD"].unique().to_list())
    keys = {child: pseudonymise(child, key) for child in all_ids}
    known = {child for child, pk in keys.items() if pk in existing}
    problems = validate(parsed, known, today, year)
    rows = sum(f.height for f in parsed.frames.values())
    if problems:
        raise ImportRejected(folder.name, problems, rows)
    if rows == 0:
        # Headers only: nothing changes, so no batch is recorded and no page recomputes.
        return f"{folder.name}: no rows after the header lines; nothing to import"
    digest = checksum("".join(sorted(parsed.checksums)).encode())
    if already_imported(session, "ssda903", digest):
        return f"{folder.name}: these files were already imported; nothing changed"
    counts = {"young_people": parsed.frames["header"].height} if "header" in parsed.frames else {}
    counts |= {name: parsed.frames[name].height for name in ("episodes", "oc3", "missing") if name in parsed.frames}
    summary = ", ".join(f"{k}={v}" for k, v in counts.items())
    if dry_run:
        return f"{folder.name}: valid; would import {summary} (dry run, nothing written)"
    assert loc.id is not None
    _write(session, parsed, loc.id, year, keys, existing)
    record_batch(session, "ssda903", "SSDA903", folder.name, digest, counts, actor)
    store.bump_data_version(session, staffing=False)  # case records only
    return "; ".join([*parsed.notes, f"{folder.name}: imported {summary}"])


def _write(
    session: Session,
    parsed: Parsed,
    locality_id: int,
    year: int | None,
    keys: dict[str, str],
    existing: dict[str, int],
) -> None:
    """Whole frames at a time, through the session's own transaction, so a
    failure anywhere still leaves nothing behind."""
    session.flush()
    conn = session.connection()
    yp = YoungPerson.__table__  # type: ignore[attr-defined]
    header = parsed.frames.get("header")
    if header is not None:
        people = header.select(
            pl.col("CHILD").replace_strict(keys).alias("pseudo_key"),
            _dates(header["DOB"]).dt.truncate("1mo").alias("birth_month"),
            pl.col("SEX").replace_strict(SEX).alias("sex"),
            pl.col("ETHNIC").replace_strict(ETHNIC).alias("ethnicity"),
            pl.lit(locality_id, dtype=pl.Int64).alias("locality_id"),
        )
        is_new = ~pl.col("pseudo_key").is_in(list(existing))
        # A child new to the database has only this return's episodes and
        # missing periods, so both flags are known before the insert (the
        # updates below then leave these rows alone).
        episodes, missing = parsed.frames.get("episodes"), parsed.frames.get("missing")
        open_care = (
            episodes.group_by("CHILD").agg((pl.col("DEC") == "").any().alias("_open"))
            if episodes is not None
            else pl.DataFrame(schema={"CHILD": pl.String, "_open": pl.Boolean})
        )
        went_missing = missing["CHILD"].unique().to_list() if missing is not None else []
        new_people = (
            pl.concat([header.select("CHILD"), people], how="horizontal")
            .filter(is_new)
            .join(open_care, on="CHILD", how="left")
            .select(
                pl.exclude("CHILD", "_open"),
                pl.lit("none").alias("send"),
                pl.when(pl.col("_open"))
                .then(pl.lit("looked_after"))
                .when(pl.col("_open").is_not_null())
                .then(pl.lit("former_relevant"))
                .otherwise(pl.lit("none"))
                .alias("care_status"),
                *[pl.lit(False).alias(flag) for flag in ("cce", "cse", "gangs", "trafficking")],
                pl.col("CHILD").is_in(went_missing).alias("missing"),
                pl.lit("ssda903").alias("source"),
            )
            .sort("pseudo_key")  # the unique index is filled in order
        )
        store.bulk_insert(conn, yp.name, new_people)
        # Children seen before: their details as this return gives them.
        again = people.filter(~is_new).with_columns(
            pl.col("pseudo_key").replace_strict(existing, return_dtype=pl.Int64).alias("_id")
        )
        if again.height:
            conn.execute(
                update(yp)
                .where(yp.c.id == bindparam("_id"))
                .values(
                    birth_month=bindparam("birth_month"),
                    sex=bindparam("sex"),
                    ethnicity=bindparam("ethnicity"),
                    locality_id=bindparam("locality_id"),
                ),
                again.drop("pseudo_key").to_dicts(),
            )
    people = {
        pk: (int(i), month)
        for pk, i, month in session.execute(
            select(YoungPerson.pseudo_key, YoungPerson.id, YoungPerson.birth_month).where(
                YoungPerson.source == "ssda903"
            )
        )
    }
    ids = {child: people[pk][0] for child, pk in keys.items() if pk in people}
    for name, model in (("episodes", ServiceEpisode), ("oc3", OutcomeObservation), ("missing", MissingEpisode)):
        frame = parsed.frames.get(name)
        if frame is None:
            continue
        frame = frame.with_columns(pl.col("CHILD").replace_strict(ids, return_dtype=pl.Int64).alias("young_person_id"))
        # A re-import replaces what an earlier 903 import said about these
        # children; children new to the database have nothing to replace.
        before = [ids[c] for c in frame["CHILD"].unique().to_list() if keys[c] in existing]
        for chunk in store.chunks(before):
            where = model.young_person_id.in_(chunk)  # type: ignore[attr-defined]
            if model is ServiceEpisode:
                where = where & (ServiceEpisode.service == "looked_after")
            conn.execute(delete(model).where(where))  # type: ignore[arg-type]
        if name == "episodes":
            rows = frame.select(
                "young_person_id",
                pl.lit("looked_after").alias("service"),
                _dates(frame["DECOM"]).alias("started_on"),
                _dates(frame["DEC"]).alias("ended_on"),
                pl.when(pl.col("DEC") != "")
                .then(pl.col("REC").str.to_uppercase().replace_strict(REC, default=None))
                .alias("end_reason"),
            )
        elif name == "oc3":
            assert year is not None
            month = pl.col("young_person_id").replace_strict({i: m for i, m in people.values()}, return_dtype=pl.Date)
            # The birthday inside the collection year ending 31 March.
            rows = frame.select(
                "young_person_id",
                pl.date(pl.lit(year) - (month.dt.month() > 3).cast(pl.Int32), month.dt.month(), 1).alias("observed_on"),
                pl.col("ACTIV").replace("", None).alias("activity"),
                pl.col("ACCOM").replace("", None).alias("accommodation"),
                pl.col("IN_TOUCH").alias("in_touch"),
                *[
                    pl.lit(0).alias(c)
                    for c in ("missing_episodes", "ae_attendances", "police_custody", "emergency_housing")
                ],
            )
        else:
            rows = frame.select(
                "young_person_id",
                pl.col("MISSING").alias("kind"),
                _dates(frame["MIS_START"]).alias("started_on"),
                _dates(frame["MIS_END"]).alias("ended_on"),
            )
            for chunk in store.chunks(rows["young_person_id"].unique().to_list()):
                conn.execute(update(yp).where(yp.c.id.in_(chunk), yp.c.missing.is_(False)).values(missing=True))
        store.bulk_insert(conn, model.__tablename__, rows)  # type: ignore[attr-defined]
    _care_status(conn)
    # The ORM must not serve objects from before these writes.
    session.expire_all()


def _care_status(conn: Connection) -> None:
    """Looked after while an episode is open; a care leaver once it has ended.
    One pass over the episodes joined to the children: a correlated EXISTS
    per child is planned badly by PostgreSQL on freshly loaded tables."""
    yp, ep = YoungPerson.__table__, ServiceEpisode.__table__  # type: ignore[attr-defined]
    status = (
        select(ep.c.young_person_id, func.max(case((ep.c.ended_on.is_(None), 1), else_=0)).label("open"))
        .where(ep.c.service == "looked_after")
        .group_by(ep.c.young_person_id)
        .subquery()
    )
    care_status = case((status.c.open == 1, "looked_after"), else_="former_relevant")
    conn.execute(
        update(yp)
        .where(yp.c.id == status.c.young_person_id, yp.c.source == "ssda903", yp.c.care_status != care_status)
        .values(care_status=care_status)
    )

"""Adult social care Client Level Data (CLD), the CSV a council submits to
NHS England each quarter, read for the people this product follows: those
aged 18 to 25 at an event, already known from children's data.

Field names and code lists follow the CLD specification, Release 2 (in use
from April 2024; DHSC's published tables, e.g. DataS-DHSC/ASC-CLD-LA-Dashboard,
have the same columns). A Release 1 file has the same columns this importer
reads. Each `Service` event becomes an adult service episode: mental health
support and substance misuse support by their primary support reason,
every other service as adult social care (Care Act). Requests, assessments
and reviews are checked and counted, not written: they are not services.

Linkage: the person is found by the same keyed hash (HMAC-SHA256 with the
pseudonymisation key) that children's imports apply to their child id,
over the identifier chosen for the import: the council's person identifier
(`LA_Person_Unique_Identifier`, the default, which councils using one case
system for children and adults share) or the NHS number. Neither is stored.
A person not found in children's data is counted, not added: this product
follows young people from children's services across 18.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from sqlalchemy import delete, tuple_
from sqlmodel import Session, select

from models import ServiceEpisode, YoungPerson
from partnership import store
from partnership.importers.batches import already_imported, record_batch
from partnership.importers.common import Check, ImportRejected, checksum, parse_dates, read_csv_text, row_problems
from partnership.wording import plural

KIND = "cld"
LINKS = {"person-id": "LA_Person_Unique_Identifier", "nhs-number": "NHS_Number"}
EVENT_TYPES = ("Request", "Assessment", "Service", "Review")
SERVICE_TYPES = (
    "Long Term Support: Nursing Care",
    "Long Term Support: Residential Care",
    "Long Term Support: Community",
    "Long Term Support: Prison",
    "Short Term Support: ST-Max",
    "Short Term Support: Ongoing Low Level",
    "Short Term Support: Other Short Term",
    "Carer Support: Direct to Carer",
    "Carer Support: Support involving the person cared-for",
)
SUPPORT_REASONS = (
    "Physical Support: Access & mobility only",
    "Physical Support: Personal care support",
    "Sensory Support: Support for visual impairment",
    "Sensory Support: Support for hearing impairment",
    "Sensory Support: Support for dual impairment",
    "Support with Memory & Cognition",
    "Learning Disability Support",
    "Mental Health Support",
    "Social Support: Substance misuse support",
    "Social Support: Asylum seeker support",
    "Social Support: Support for Social Isolation/Other",
)
BY_REASON = {
    "Mental Health Support": "adult_mental_health",
    "Social Support: Substance misuse support": "substance_misuse",
}
READ = (
    "Date_of_Birth",
    "Event_Type",
    "Event_Start_Date",
    "Event_End_Date",
    "Service_Type",
    "Primary_Support_Reason",
)
AGES = (18, 25)


def _slow_date(text: str) -> dt.date | None:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _nhs_number_ok(value: str) -> bool:
    """Ten digits whose last is the modulus 11 check digit of the first nine."""
    digits = value.replace(" ", "")
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(digits[:9])) % 11
    return (0 if check == 11 else check) == int(digits[9]) and check != 10


def _checks(link_column: str, today: dt.date) -> list[Check]:
    ident = pl.col(link_column).str.strip_chars()
    service = pl.col("Event_Type") == "Service"
    checks = [
        Check(ident == "", link_column, "required: the identifier this import links people by"),
        Check(pl.col("_dob").is_null(), "Date_of_Birth", "not a date (YYYY-MM-DD)", pl.col("Date_of_Birth")),
        Check(
            ~pl.col("Event_Type").is_in(EVENT_TYPES),
            "Event_Type",
            f"not one of {', '.join(EVENT_TYPES)}",
            pl.col("Event_Type"),
        ),
        Check(pl.col("_start").is_null(), "Event_Start_Date", "not a date (YYYY-MM-DD)", pl.col("Event_Start_Date")),
        Check(pl.col("_start") > today, "Event_Start_Date", "in the future", pl.col("Event_Start_Date")),
        Check(
            (pl.col("Event_End_Date") != "") & pl.col("_end").is_null(),
            "Event_End_Date",
            "not a date (YYYY-MM-DD)",
            pl.col("Event_End_Date"),
        ),
        Check(
            pl.col("_end") < pl.col("_start"), "Event_End_Date", "before the event's start", pl.col("Event_End_Date")
        ),
        Check(
            pl.col("_start") < pl.col("_dob"),
            "Event_Start_Date",
            "before the person was born",
            pl.col("Event_Start_Date"),
        ),
        Check(
            service & ~pl.col("Service_Type").is_in(SERVICE_TYPES),
            "Service_Type",
            "not a service type in the CLD specification",
            pl.col("Service_Type"),
        ),
        Check(
            service & ~pl.col("Primary_Support_Reason").is_in(SUPPORT_REASONS),
            "Primary_Support_Reason",
            "not a primary support reason in the CLD specification",
            pl.col("Primary_Support_Reason"),
        ),
    ]
    if link_column == "NHS_Number":
        checks.append(
            Check(
                (ident != "") & ~pl.col("_nhs_ok"),
                link_column,
                "not a valid NHS number (ten digits, the last a modulus 11 check digit)",
                pl.col(link_column),
            )
        )
    return checks


def import_cld(
    session: Session,
    path: Path,
    link: str = "person-id",
    actor: str = "cli",
    today: dt.date | None = None,
    dry_run: bool = False,
) -> str:
    """Import the service events of people aged 18 to 25 already known from
    children's data, linked by the keyed hash of `link`'s identifier."""
    from partnership.pseudonymise import pseudonymise
    from partnership.settings import pseudonym_key

    if link not in LINKS:
        raise ValueError(f"--link: '{link}' is not one of {', '.join(LINKS)}")
    today = today or dt.date.today()
    column = LINKS[link]
    frame, data, notes = read_csv_text(path, keep=[*READ, column, "_line"])
    missing = [c for c in (*READ, column) if c not in frame.columns]
    if missing:
        raise ImportRejected(path.name, [f"{path.name}:1:{c}: required column is missing" for c in missing])
    frame = frame.with_columns(
        parse_dates(frame["Date_of_Birth"], ["%Y-%m-%d", "%d/%m/%Y"], _slow_date).alias("_dob"),
        parse_dates(frame["Event_Start_Date"], ["%Y-%m-%d", "%d/%m/%Y"], _slow_date).alias("_start"),
        parse_dates(frame["Event_End_Date"], ["%Y-%m-%d", "%d/%m/%Y"], _slow_date).alias("_end"),
    )
    if column == "NHS_Number":
        ok = {v: _nhs_number_ok(v) for v in frame[column].unique().to_list()}
        frame = frame.with_columns(pl.col(column).replace_strict(ok, return_dtype=pl.Boolean).alias("_nhs_ok"))
    problems = row_problems(path.name, frame, _checks(column, today))
    if problems:
        raise ImportRejected(path.name, problems, frame.height)

    # Age at the event, in whole years: 18 to 25 are the years this product follows.
    def month_day(column: str) -> pl.Expr:  # as Int32: month() is Int8, and 4 * 100 overflows it
        return pl.col(column).dt.month().cast(pl.Int32) * 100 + pl.col(column).dt.day().cast(pl.Int32)

    age = (
        pl.col("_start").dt.year() - pl.col("_dob").dt.year() - (month_day("_start") < month_day("_dob")).cast(pl.Int32)
    )
    in_years = frame.filter(age.is_between(*AGES))
    key = pseudonym_key()
    ids = {v: v.replace(" ", "") if column == "NHS_Number" else v.strip() for v in in_years[column].unique().to_list()}
    hashes = {v: pseudonymise(clean, key) for v, clean in ids.items()}
    known = {
        row.pseudo_key: row.id
        for chunk in store.chunks(sorted(set(hashes.values())))
        for row in session.exec(select(YoungPerson).where(YoungPerson.pseudo_key.in_(chunk)))  # type: ignore[attr-defined]
    }
    linked = in_years.with_columns(
        pl.col(column).replace_strict(hashes).replace_strict(known, default=None, return_dtype=pl.Int64).alias("_yp")
    ).filter(pl.col("_yp").is_not_null())
    services = (
        linked.filter(pl.col("Event_Type") == "Service")
        .select(
            pl.col("_yp").alias("young_person_id"),
            pl.col("Primary_Support_Reason").replace_strict(BY_REASON, default="adult_social_care").alias("service"),
            pl.col("_start").alias("started_on"),
            pl.col("_end").alias("ended_on"),
            pl.when(pl.col("_end").is_not_null()).then(pl.lit("other")).alias("end_reason"),
        )
        .unique(["young_person_id", "service", "started_on"], keep="last", maintain_order=True)
    )
    people = linked["_yp"].n_unique()
    outside = frame.height - in_years.height
    not_found = in_years.height - linked.height
    summary = (
        f"{frame.height} {plural(frame.height, 'event')}; {people} {'person' if people == 1 else 'people'} "
        f"linked to children's data, {services.height} adult service {plural(services.height, 'episode')}; "
        f"{not_found} {plural(not_found, 'event')} of people not in children's data and {outside} outside "
        "ages 18 to 25 left out"
    )
    if frame.height == 0:
        return f"{path.name}: no rows after the header line; nothing to import"
    digest = checksum(data)
    if already_imported(session, KIND, digest):
        return f"{path.name}: this file was already imported; nothing changed"
    if dry_run:
        return f"{path.name}: valid; would import {summary} (dry run, nothing written)"
    conn = session.connection()
    # A later quarter's file repeats services still open: the same person,
    # service and start is one episode, with what the latest file says.
    same = tuple_(ServiceEpisode.young_person_id, ServiceEpisode.service, ServiceEpisode.started_on)  # type: ignore[arg-type]
    keys = services.select("young_person_id", "service", "started_on").rows()
    for start in range(0, len(keys), 1000):
        conn.execute(delete(ServiceEpisode).where(same.in_(keys[start : start + 1000])))
    store.bulk_insert(conn, ServiceEpisode.__tablename__, services)  # type: ignore[arg-type]
    session.expire_all()
    counts = {"events": frame.height, "linked_people": people, "service_episodes": services.height}
    record_batch(session, KIND, f"CLD ({link})", path.name, digest, counts, actor)
    store.bump_data_version(session, staffing=False)  # case records only
    return "; ".join([*notes, f"{path.name}: imported {summary}"])

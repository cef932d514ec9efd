"""The partnership's own files: one template per table, CSV or Excel.

The header row of a template is the contract; a second sheet (Excel) or a
README block (CSV) describes every column and its codes. Rows are validated
before anything is written; a rejected file leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import delete
from sqlmodel import Session, select

from models import (
    ImportBatch,
    Locality,
    OutcomeObservation,
    RiskAssessment,
    ServiceEpisode,
    TransitionPlan,
    YoungPerson,
    codes,
)
from partnership import capacity, queries, store
from partnership.importers.common import ImportRejected, Problems, checksum, read_csv_text
from partnership.pseudonymise import month_of, pseudonymise
from partnership.settings import pseudonym_key

YES_NO = {"Y": "yes", "N": "no"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # id, date, month, quarter, code, int, fte, number, text, bool
    required: bool
    description: str
    codes: dict[str, str] | None = None


def _c(name: str, kind: str, required: bool, description: str, code_list: dict[str, str] | None = None) -> Column:
    return Column(name, kind, required, description, code_list)


CHILD = _c("child_id", "id", True, "The child's id in your case system; stored only as a keyed hash")
TEMPLATES: dict[str, list[Column]] = {
    "young_people": [
        CHILD,
        _c("birth_date", "date", True, "Date of birth, dd/mm/YYYY or YYYY-MM-DD; only the month is kept"),
        _c("sex", "code", True, "Sex", codes.SEX),
        _c("ethnicity", "code", True, "Ethnic group (DfE major groups)", codes.ETHNICITY_GROUPS),
        _c("send", "code", True, "Special educational needs and disability", codes.SEND_STATUS),
        _c("care_status", "code", True, "Looked after or care-leaver eligibility", codes.CARE_STATUS),
        _c("locality", "code", True, "EmPower locality", {"east": "East", "central": "Central", "north": "North"}),
        *[_c(k, "bool", False, f"{v}: Y or N (blank = N)", YES_NO) for k, v in codes.EXPLOITATION_FACTORS.items()],
    ],
    "service_episodes": [
        CHILD,
        _c("service", "code", True, "Service", codes.SERVICES),
        _c("start_date", "date", True, "Date the service started"),
        _c("end_date", "date", False, "Date it ended (blank if still open)"),
        _c("end_reason", "code", False, "Why it ended (required with end_date)", codes.END_REASONS),
    ],
    "transition_plans": [
        CHILD,
        _c("started_date", "date", False, "Date transition planning started"),
        _c("agreed_date", "date", False, "Date the plan was agreed"),
        _c("post18_service", "code", False, "Adult service identified in the plan", codes.ADULT_SERVICES),
    ],
    "risk_assessments": [
        CHILD,
        _c("agency", "code", True, "Agency that assessed", codes.RISK_AGENCIES),
        _c("assessed_date", "date", True, "Date of the assessment"),
        _c("level", "code", True, "Level of risk", codes.RISK_LEVELS),
    ],
    "outcomes": [
        CHILD,
        _c("observed_date", "date", True, "Date of the record (usually the birthday, as SSDA903 OC3)"),
        _c("activity", "code", False, "SSDA903 ACTIV", codes.ACTIV),
        _c("accommodation", "code", False, "SSDA903 ACCOM", codes.ACCOM),
        _c("in_touch", "code", False, "SSDA903 IN_TOUCH", codes.IN_TOUCH),
        _c("missing_episodes", "int", False, "Missing episodes in the year before"),
        _c("ae_attendances", "int", False, "A&E attendances in the year before"),
        _c("police_custody", "int", False, "Times in police custody in the year before"),
        _c("emergency_housing", "int", False, "Times placed in emergency housing in the year before"),
    ],
    "staffing_snapshots": [
        _c("month", "month", True, "Month, YYYY-MM"),
        _c("post", "text", True, "Post as the Team capacity page names it, e.g. 'East Team 1 · Social Worker 2'"),
        _c("filled_fte", "fte", True, "FTE filled by permanent staff"),
        _c("agency_fte", "fte", True, "FTE covered by agency staff"),
        _c("vacant_fte", "fte", True, "FTE vacant; filled + vacant = funded"),
        _c("cases_held", "int", True, "Cases held"),
    ],
    "indicator_values": [
        _c("indicator", "text", True, "Indicator code (entered indicators only)"),
        _c("period", "quarter", True, "Quarter, e.g. 2025-Q3"),
        _c("value", "number", True, "Value, in the indicator's unit"),
        _c("note", "text", False, "Note"),
    ],
}


def _date(text: str) -> dt.date | None:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def describe(table: str) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "column": c.name,
                "required": "yes" if c.required else "no",
                "description": c.description,
                "codes": "; ".join(f"{k} = {v}" for k, v in (c.codes or {}).items()),
            }
            for c in TEMPLATES[table]
        ]
    )


def template_bytes(table: str, excel: bool) -> bytes:
    """A blank template: header row, and the column guide as a second sheet
    (Excel) or a README block of # lines after a blank line (CSV)."""
    if table not in TEMPLATES:
        raise KeyError(f"unknown table '{table}' (known: {', '.join(TEMPLATES)})")
    blank = pl.DataFrame(schema={c.name: pl.String for c in TEMPLATES[table]})
    if excel:
        buffer = io.BytesIO()
        import xlsxwriter

        with xlsxwriter.Workbook(buffer) as book:
            blank.write_excel(book, worksheet=table)
            describe(table).write_excel(book, worksheet="README")
        return buffer.getvalue()
    guide = "\n".join(
        f"# {r['column']} ({'required' if r['required'] == 'yes' else 'optional'}): "
        f"{r['description']}" + (f". Codes: {r['codes']}" if r["codes"] else "")
        for r in describe(table).to_dicts()
    )
    return (",".join(blank.columns) + "\n\n" + guide + "\n").encode()


def read_table(path: Path) -> tuple[pl.DataFrame, bytes, list[str]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        data = path.read_bytes()
        try:
            frame = pl.read_excel(io.BytesIO(data), sheet_id=1, infer_schema_length=0)
        except Exception as exc:  # a damaged or non-Excel file: say so, do not crash
            raise ImportRejected(path.name, [f"{path.name}:file: not a readable Excel file ({exc})"]) from None
        frame = frame.with_columns(pl.all().cast(pl.String).fill_null("").str.strip_chars())
        frame = frame.with_row_index("_line", offset=2).with_columns(pl.col("_line").cast(pl.Int64))
        return frame, data, []
    frame, data, notes = read_csv_text(path)
    # The README block of a CSV template is comment lines: not data.
    first = frame.columns[1] if frame.width > 1 else None
    if first:
        frame = frame.filter(~pl.col(first).str.starts_with("#"))
    return frame, data, notes


def _check(frame: pl.DataFrame, table: str, file_name: str) -> Problems:
    problems = Problems(file_name)
    for col in TEMPLATES[table]:
        if col.name not in frame.columns:
            problems.add(1, col.name, "required column is missing" if col.required else "column is missing")
    if problems.items:
        return problems
    for row in frame.iter_rows(named=True):
        line = row["_line"]
        for col in TEMPLATES[table]:
            value = row[col.name]
            if value == "":
                if col.required:
                    problems.add(line, col.name, "required")
                continue
            if col.kind == "date" and _date(value) is None:
                problems.add(line, col.name, "not a date as dd/mm/YYYY or YYYY-MM-DD", value)
            elif col.kind == "month" and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
                problems.add(line, col.name, "not a month as YYYY-MM", value)
            elif col.kind == "quarter" and not re.fullmatch(r"\d{4}-?Q[1-4]", value, flags=re.IGNORECASE):
                problems.add(line, col.name, "not a quarter such as 2025-Q3", value)
            elif col.kind == "code" and col.codes is not None and value not in col.codes:
                problems.add(line, col.name, "not one of the codes in the template guide", value)
            elif col.kind == "bool" and value.upper() not in YES_NO:
                problems.add(line, col.name, "not Y or N", value)
            elif col.kind == "int" and not (value.isdigit()):
                problems.add(line, col.name, "not a whole number of 0 or more", value)
            elif col.kind in ("fte", "number"):
                try:
                    number = float(value)
                except ValueError:
                    problems.add(line, col.name, "not a number", value)
                    continue
                if col.kind == "fte" and number < 0:
                    problems.add(line, col.name, "cannot be negative", value)
    return problems


def import_table(
    session: Session, table: str, path: Path, actor: str = "cli", dry_run: bool = False, today: dt.date | None = None
) -> str:
    if table not in TEMPLATES:
        raise ValueError(f"table: unknown table '{table}' (known: {', '.join(TEMPLATES)})")
    today = today or dt.date.today()
    frame, data, notes = read_table(path)
    problems = _check(frame, table, path.name)
    problems.raise_if_any(frame.height)
    key = pseudonym_key()
    people = {yp.pseudo_key: yp for yp in session.exec(select(YoungPerson))}
    if table != "young_people" and "child_id" in frame.columns:
        for row in frame.iter_rows(named=True):
            if pseudonymise(row["child_id"], key) not in people:
                problems.add(
                    row["_line"], "child_id", "no such young person (import young_people first)", row["child_id"]
                )
    digest = checksum(data)
    if session.exec(
        select(ImportBatch).where(ImportBatch.kind == f"template:{table}", ImportBatch.checksum == digest)
    ).first():
        return f"{path.name}: already imported; nothing changed"
    writer = WRITERS[table]
    rows = writer(session, frame, key, people, problems, today, dry_run or bool(problems.items))
    # Anything a writer added is discarded by the caller's rollback when this raises.
    problems.raise_if_any(frame.height)
    if dry_run:
        session.rollback()
        return f"{path.name}: valid; would import {rows} {table} row(s) (dry run, nothing written)"
    session.add(
        ImportBatch(
            kind=f"template:{table}",
            source=table,
            file_name=path.name,
            checksum=digest,
            rows=f"{table}={rows}",
            imported_by=actor,
        )
    )
    store.bump_data_version(session)
    return "; ".join([*notes, f"{path.name}: imported {rows} {table} row(s)"])


def _opt_date(text: str) -> dt.date | None:
    return _date(text) if text else None


def _young_people(
    session: Session, frame: pl.DataFrame, key: bytes, people: dict, problems: Problems, today: dt.date, dry: bool
) -> int:
    localities = {loc.code: loc.id for loc in session.exec(select(Locality))}
    seen: dict[str, int] = {}
    for row in frame.iter_rows(named=True):
        if row["child_id"] in seen:
            problems.add(row["_line"], "child_id", f"duplicates line {seen[row['child_id']]}", row["child_id"])
        seen.setdefault(row["child_id"], row["_line"])
        birth = _date(row["birth_date"])
        if birth and birth > today:
            problems.add(row["_line"], "birth_date", "in the future", row["birth_date"])
    if dry or problems.items:
        return frame.height
    for row in frame.iter_rows(named=True):
        pk = pseudonymise(row["child_id"], key)
        yp = people.get(pk) or YoungPerson(
            pseudo_key=pk,
            birth_month=dt.date(2000, 1, 1),
            sex="X",
            ethnicity="unknown",
            locality_id=1,
            source="template",
        )
        yp.birth_month = month_of(_date(row["birth_date"]))  # type: ignore[arg-type]
        yp.sex, yp.ethnicity, yp.send, yp.care_status = row["sex"], row["ethnicity"], row["send"], row["care_status"]
        yp.locality_id = localities[row["locality"]]
        for flag in codes.EXPLOITATION_FACTORS:
            setattr(yp, flag, row[flag].upper() == "Y")
        session.add(yp)
    session.flush()
    return frame.height


def _replace_for_children(session: Session, model: type, frame: pl.DataFrame, key: bytes, people: dict) -> None:
    """A file replaces what was held for the children it names in that table."""
    ids = [people[pseudonymise(c, key)].id for c in frame["child_id"].unique().to_list()]
    session.exec(delete(model).where(model.young_person_id.in_(ids)))  # type: ignore[attr-defined,call-overload]


def _child_rows(model: type, build):  # type: ignore[no-untyped-def]
    def writer(
        session: Session, frame: pl.DataFrame, key: bytes, people: dict, problems: Problems, today: dt.date, dry: bool
    ) -> int:
        for row in frame.iter_rows(named=True):
            build(row, problems, None)
        if dry or problems.items:
            return frame.height
        _replace_for_children(session, model, frame, key, people)
        for row in frame.iter_rows(named=True):
            session.add(build(row, problems, people[pseudonymise(row["child_id"], key)].id))
        return frame.height

    return writer


def _episode(row: dict, problems: Problems, yp_id: int | None) -> ServiceEpisode | None:
    start, end = _date(row["start_date"]), _opt_date(row["end_date"])
    if yp_id is None:
        if start and end and end < start:
            problems.add(row["_line"], "end_date", "before start_date", row["end_date"])
        if end and not row["end_reason"]:
            problems.add(row["_line"], "end_reason", "required when end_date is given")
        return None
    return ServiceEpisode(
        young_person_id=yp_id,
        service=row["service"],
        started_on=start,
        ended_on=end,
        end_reason=row["end_reason"] or None,
    )


def _plan(row: dict, problems: Problems, yp_id: int | None) -> TransitionPlan | None:
    started, agreed = _opt_date(row["started_date"]), _opt_date(row["agreed_date"])
    if yp_id is None:
        if started and agreed and agreed < started:
            problems.add(row["_line"], "agreed_date", "before started_date", row["agreed_date"])
        return None
    return TransitionPlan(
        young_person_id=yp_id, started_on=started, agreed_on=agreed, post18_service=row["post18_service"] or None
    )


def _risk(row: dict, problems: Problems, yp_id: int | None) -> RiskAssessment | None:
    if yp_id is None:
        return None
    return RiskAssessment(
        young_person_id=yp_id, agency=row["agency"], assessed_on=_date(row["assessed_date"]), level=row["level"]
    )


def _outcome(row: dict, problems: Problems, yp_id: int | None) -> OutcomeObservation | None:
    if yp_id is None:
        return None
    counts = {
        k: int(row[k] or 0) for k in ("missing_episodes", "ae_attendances", "police_custody", "emergency_housing")
    }
    return OutcomeObservation(
        young_person_id=yp_id,
        observed_on=_date(row["observed_date"]),
        activity=row["activity"] or None,
        accommodation=row["accommodation"] or None,
        in_touch=row["in_touch"] or None,
        **counts,
    )


def _staffing(
    session: Session, frame: pl.DataFrame, key: bytes, people: dict, problems: Problems, today: dt.date, dry: bool
) -> int:
    engine = session.get_bind()
    labels = capacity.post_labels(capacity.month_of(queries.load_staffing(engine, [1, 2, 3]), None))
    posts = {r["label"]: r for r in labels.to_dicts()}
    by_month: dict[dt.date, list[capacity.SnapshotRow]] = {}
    for row in frame.iter_rows(named=True):
        post = posts.get(row["post"])
        if post is None:
            problems.add(row["_line"], "post", "no such post (use the names on the Team capacity page)", row["post"])
            continue
        month = dt.date(int(row["month"][:4]), int(row["month"][5:7]), 1)
        if month > today:
            problems.add(row["_line"], "month", "has not started yet", row["month"])
        snap = capacity.SnapshotRow(
            post["post_id"],
            f"{row['_line']}:{row['post']}",
            post["funded_fte"],
            float(row["filled_fte"]),
            float(row["agency_fte"]),
            float(row["vacant_fte"]),
            int(row["cases_held"]),
        )
        by_month.setdefault(month, []).append(snap)
    for snaps in by_month.values():
        for message in capacity.validate_snapshot(snaps):
            problems.items.append(f"{problems.file_name}:{message}")
    if dry or problems.items:
        return frame.height
    for month, snaps in by_month.items():
        capacity.save_month(session, month, snaps, "import")
    return frame.height


def _indicator_values(
    session: Session, frame: pl.DataFrame, key: bytes, people: dict, problems: Problems, today: dt.date, dry: bool
) -> int:
    from partnership import themes

    # Validation is record_value's own; in a dry run or on any problem the
    # session is rolled back, so nothing added here is kept.
    count = 0
    for row in frame.iter_rows(named=True):
        try:
            themes.record_value(session, row["indicator"], row["period"], row["value"], row["note"], "import", today)
            session.flush()
            count += 1
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            problems.add(row["_line"], field, reason)
    return count


WRITERS = {
    "young_people": _young_people,
    "service_episodes": _child_rows(ServiceEpisode, _episode),
    "transition_plans": _child_rows(TransitionPlan, _plan),
    "risk_assessments": _child_rows(RiskAssessment, _risk),
    "outcomes": _child_rows(OutcomeObservation, _outcome),
    "staffing_snapshots": _staffing,
    "indicator_values": _indicator_values,
}

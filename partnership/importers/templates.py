"""The partnership's own files: one template per table, CSV or Excel.

The header row of a template is the contract; a second sheet (Excel) or a
README block (CSV) describes every column and its codes. Rows are validated
before anything is written; a rejected file leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import bindparam, delete, update
from sqlmodel import Session, select

from models import (
    Locality,
    OutcomeObservation,
    RiskAssessment,
    ServiceEpisode,
    TransitionPlan,
    YoungPerson,
    codes,
)
from partnership import capacity, queries, store
from partnership.importers.batches import already_imported, record_batch
from partnership.importers.common import (
    WHITESPACE,
    Check,
    ImportRejected,
    Problems,
    check_lengths,
    checksum,
    date_range,
    parse_dates,
    read_csv_text,
    row_problems,
)
from partnership.importers.limits import Limits, TooLarge, check_workbook
from partnership.importers.masking import split_problem
from partnership.pseudonymise import pseudonymise
from partnership.settings import pseudonym_key
from partnership.wording import plural

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


def read_table(path: Path, n_rows: int | None = None) -> tuple[pl.DataFrame, bytes, list[str]]:
    """A template file, CSV or Excel, as text columns with file line numbers.
    `n_rows` reads only the first rows of a workbook (a preview)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_workbook(path.name, path.read_bytes(), n_rows)
    # The README block of a CSV template is comment lines: not data.
    return read_csv_text(path, comment_prefix="#")


def read_workbook(name: str, data: bytes, n_rows: int | None = None) -> tuple[pl.DataFrame, bytes, list[str]]:
    limits = Limits.from_settings()
    try:
        # Before any Excel reader unpacks it: a small file can unpack to gigabytes.
        check_workbook(name, data, limits)
    except TooLarge as exc:
        raise ImportRejected(name, [f"{name}:file: {str(exc).removeprefix(name + ': ')}"]) from None
    try:
        frame = pl.read_excel(
            io.BytesIO(data),
            sheet_id=1,
            infer_schema_length=0,
            drop_empty_rows=False,
            read_options={"n_rows": n_rows} if n_rows is not None else None,
        )
    except Exception as exc:  # a damaged or non-Excel file: say so, on one line, do not crash
        reason = " ".join(str(exc).split())[:300].replace("(", "[").replace(")", "]")
        raise ImportRejected(name, [f"{name}:file: not a readable Excel file ({reason})"]) from None
    cells = frame.columns
    frame = frame.with_columns(
        pl.all()
        .cast(pl.String)
        .fill_null("")
        .str.strip_chars(WHITESPACE)
        # A cell typed as a date reads back as midnight of that day.
        .str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1")
    )
    # Spreadsheet row numbers (header = row 1): blank rows are dropped but still counted.
    frame = frame.with_row_index("_line", offset=2).with_columns(pl.col("_line").cast(pl.Int64))
    if cells:
        frame = frame.filter(pl.any_horizontal([pl.col(c) != "" for c in cells]))
    check_lengths(frame, name, limits)
    return frame, data, []


def _dates(values: pl.Series) -> pl.Series:
    return parse_dates(values, ("%d/%m/%Y", "%Y-%m-%d"), _date)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check(frame: pl.DataFrame, table: str, file_name: str, today: dt.date) -> Problems:
    """Each column against its kind, whole columns at a time; messages in
    file order, a row's in column order."""
    problems = Problems(file_name)
    for col in TEMPLATES[table]:
        if col.name not in frame.columns:
            problems.add(1, col.name, "required column is missing" if col.required else "column is missing")
    if problems.items:
        raise ImportRejected(file_name, problems.items, frame.height)
    checks: list[Check] = []
    parsed: dict[str, pl.Series] = {}
    for col in TEMPLATES[table]:
        value = pl.col(col.name)
        given = value != ""
        if col.required:
            checks.append(Check(~given, col.name, "required"))
        if col.kind == "date":
            parsed[f"_{col.name}"] = _dates(frame[col.name])
            bad = pl.col(f"_{col.name}").is_null()
            checks.append(Check(given & bad, col.name, "not a date as dd/mm/YYYY or YYYY-MM-DD", value))
            checks += date_range(f"_{col.name}", col.name, today)
        elif col.kind == "month":
            bad = ~value.str.contains(r"^\d{4}-(0[1-9]|1[0-2])$")
            checks.append(Check(given & bad, col.name, "not a month as YYYY-MM", value))
        elif col.kind == "quarter":
            bad = ~value.str.contains(r"(?i)^\d{4}-?Q[1-4]$")
            checks.append(Check(given & bad, col.name, "not a quarter such as 2025-Q3", value))
        elif col.kind == "code" and col.codes is not None:
            bad = ~value.is_in(list(col.codes))
            checks.append(Check(given & bad, col.name, "not one of the codes in the template guide", value))
        elif col.kind == "bool":
            bad = ~value.str.to_uppercase().is_in(list(YES_NO))
            checks.append(Check(given & bad, col.name, "not Y or N", value))
        elif col.kind == "int":
            # Plain digits only: a count is written to an integer column.
            bad = ~value.str.contains(r"^[0-9]+$")
            checks.append(Check(given & bad, col.name, "not a whole number of 0 or more", value))
            too_big = value.str.strip_chars_start("0").str.len_chars() > 9
            checks.append(Check(given & ~bad & too_big, col.name, "too large for a count", value))
        elif col.kind in ("fte", "number"):
            # float() is the rule (it reads 1e3, 1_000 and nan); asked once per distinct value.
            distinct = [v for v in frame[col.name].unique().to_list() if v != ""]
            not_numbers = [v for v in distinct if not _is_number(v)]
            checks.append(Check(value.is_in(not_numbers), col.name, "not a number", value))
            if col.kind == "fte":
                negative = [v for v in distinct if _is_number(v) and float(v) < 0]
                checks.append(Check(value.is_in(negative), col.name, "cannot be negative", value))
    problems.items += row_problems(file_name, frame.with_columns(**parsed), checks)
    return problems


def _people(session: Session) -> dict[str, int]:
    """pseudo_key -> id of every young person, whatever brought them in."""
    return {pk: int(i) for pk, i in session.execute(select(YoungPerson.pseudo_key, YoungPerson.id))}


def import_table(
    session: Session, table: str, path: Path, actor: str = "cli", dry_run: bool = False, today: dt.date | None = None
) -> str:
    if table not in TEMPLATES:
        raise ValueError(f"table: unknown table '{table}' (known: {', '.join(TEMPLATES)})")
    today = today or dt.date.today()
    frame, data, notes = read_table(path)
    # Every problem is listed in one refusal: the column checks, unknown
    # children and the table's own checks (a writer adds its checks and, with
    # problems already found, writes nothing).
    problems = _check(frame, table, path.name, today)
    if frame.height == 0:
        # A header and nothing else: no batch is recorded, no page recomputes.
        return f"{path.name}: no rows after the header; nothing to import"
    key = pseudonym_key()
    people = _people(session)
    keys: dict[str, str] = {}
    if "child_id" in frame.columns:
        keys = {child: pseudonymise(child, key) for child in frame["child_id"].unique().to_list()}
        frame = frame.with_columns(pl.col("child_id").replace_strict(keys).alias("_pseudo_key"))
    if table != "young_people" and "child_id" in frame.columns:
        problems.items += row_problems(
            path.name,
            frame,
            [
                Check(
                    ~pl.col("_pseudo_key").is_in(list(people)),
                    "child_id",
                    "no such young person (import young_people first)",
                    pl.col("child_id"),
                )
            ],
        )
    digest = checksum(data)
    if already_imported(session, f"template:{table}", digest):
        return f"{path.name}: already imported; nothing changed"
    writer = WRITERS[table]
    rows = writer(session, frame, people, problems, today, dry_run or bool(problems.items))
    # Anything a writer added is discarded by the caller's rollback when this raises.
    problems.raise_if_any(frame.height)
    if dry_run:
        session.rollback()
        return f"{path.name}: valid; would import {rows} {table} {plural(rows, 'row')} (dry run, nothing written)"
    record_batch(session, f"template:{table}", table, path.name, digest, {table: rows}, actor)
    cohort = table not in ("staffing_snapshots", "indicator_values")
    store.bump_data_version(session, cohort=cohort, staffing=not cohort)
    return "; ".join([*notes, f"{path.name}: imported {rows} {table} {plural(rows, 'row')}"])


def _young_people(
    session: Session, frame: pl.DataFrame, people: dict[str, int], problems: Problems, today: dt.date, dry: bool
) -> int:
    localities = {loc.code: loc.id for loc in session.exec(select(Locality))}
    birth = _dates(frame["birth_date"])
    first = pl.col("_line").min().over("child_id")
    problems.items += row_problems(
        problems.file_name,
        frame.with_columns(_birth=birth),
        [Check(pl.col("_line") != first, "child_id", pl.format("duplicates line {}", first), pl.col("child_id"))],
    )
    if dry or problems.items:
        return frame.height
    rows = frame.select(
        pl.col("_pseudo_key").alias("pseudo_key"),
        birth.dt.truncate("1mo").alias("birth_month"),
        "sex",
        "ethnicity",
        "send",
        "care_status",
        pl.col("locality").replace_strict(localities, return_dtype=pl.Int64).alias("locality_id"),
        *[(pl.col(flag).str.to_uppercase() == "Y").alias(flag) for flag in codes.EXPLOITATION_FACTORS],
    )
    session.flush()
    conn = session.connection()
    yp = YoungPerson.__table__  # type: ignore[attr-defined]
    is_new = ~pl.col("pseudo_key").is_in(list(people))
    store.bulk_insert(conn, yp.name, rows.filter(is_new).with_columns(pl.lit("template").alias("source")))
    again = rows.filter(~is_new).with_columns(
        pl.col("pseudo_key").replace_strict(people, return_dtype=pl.Int64).alias("_id")
    )
    if again.height:
        # Whatever brought them in first, the file's details now stand.
        fields = [c for c in again.columns if c not in ("pseudo_key", "_id")]
        conn.execute(
            update(yp).where(yp.c.id == bindparam("_id")).values({f: bindparam(f) for f in fields}),
            again.drop("pseudo_key").to_dicts(),
        )
    session.expire_all()
    return frame.height


def _child_rows(
    model: type, checks: Callable[[pl.DataFrame, str], list[str]], build: Callable[[pl.DataFrame], pl.DataFrame]
):  # type: ignore[no-untyped-def]
    """A writer for a table of rows about children: `checks` adds the
    table's own problems, `build` gives the rows to insert. The file replaces
    what was held for the children it names in that table."""

    def writer(
        session: Session, frame: pl.DataFrame, people: dict[str, int], problems: Problems, today: dt.date, dry: bool
    ) -> int:
        problems.items += checks(frame, problems.file_name)
        if dry or problems.items:
            return frame.height
        frame = frame.with_columns(
            pl.col("_pseudo_key").replace_strict(people, return_dtype=pl.Int64).alias("young_person_id")
        )
        session.flush()
        conn = session.connection()
        for chunk in store.chunks(frame["young_person_id"].unique().to_list()):
            conn.execute(delete(model).where(model.young_person_id.in_(chunk)))  # type: ignore[attr-defined]
        store.bulk_insert(conn, model.__tablename__, build(frame))  # type: ignore[attr-defined]
        session.expire_all()
        return frame.height

    return writer


def _none_if_empty(column: str) -> pl.Expr:
    return pl.when(pl.col(column) != "").then(pl.col(column))


def _episode_checks(frame: pl.DataFrame, file_name: str) -> list[str]:
    dated = frame.with_columns(_start=_dates(frame["start_date"]), _end=_dates(frame["end_date"]))
    return row_problems(
        file_name,
        dated,
        [
            Check(pl.col("_end") < pl.col("_start"), "end_date", "before start_date", pl.col("end_date")),
            Check(
                pl.col("_end").is_not_null() & (pl.col("end_reason") == ""),
                "end_reason",
                "required when end_date is given",
            ),
        ],
    )


def _episode_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "young_person_id",
        "service",
        _dates(frame["start_date"]).alias("started_on"),
        _dates(frame["end_date"]).alias("ended_on"),
        _none_if_empty("end_reason").alias("end_reason"),
    )


def _plan_checks(frame: pl.DataFrame, file_name: str) -> list[str]:
    dated = frame.with_columns(_started=_dates(frame["started_date"]), _agreed=_dates(frame["agreed_date"]))
    first = pl.col("_line").min().over("child_id")
    return row_problems(
        file_name,
        dated,
        [
            # One plan per young person (the table allows no more).
            Check(pl.col("_line") != first, "child_id", pl.format("duplicates line {}", first), pl.col("child_id")),
            Check(pl.col("_agreed") < pl.col("_started"), "agreed_date", "before started_date", pl.col("agreed_date")),
        ],
    )


def _plan_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "young_person_id",
        _dates(frame["started_date"]).alias("started_on"),
        _dates(frame["agreed_date"]).alias("agreed_on"),
        _none_if_empty("post18_service").alias("post18_service"),
    )


def _no_checks(frame: pl.DataFrame, file_name: str) -> list[str]:
    return []


def _risk_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select("young_person_id", "agency", _dates(frame["assessed_date"]).alias("assessed_on"), "level")


def _outcome_rows(frame: pl.DataFrame) -> pl.DataFrame:
    counts = ("missing_episodes", "ae_attendances", "police_custody", "emergency_housing")
    return frame.select(
        "young_person_id",
        _dates(frame["observed_date"]).alias("observed_on"),
        _none_if_empty("activity").alias("activity"),
        _none_if_empty("accommodation").alias("accommodation"),
        _none_if_empty("in_touch").alias("in_touch"),
        *[_none_if_empty(c).fill_null("0").cast(pl.Int64).alias(c) for c in counts],
    )


def _refused_lines(problems: Problems) -> set[int]:
    return {parts.row for parts in map(split_problem, problems.items) if parts and parts.row is not None}


def _staffing(
    session: Session, frame: pl.DataFrame, people: dict[str, int], problems: Problems, today: dt.date, dry: bool
) -> int:
    engine = session.get_bind()
    labels = capacity.post_labels(capacity.month_of(queries.load_staffing(engine, [1, 2, 3]), None))
    posts = {r["label"]: r for r in labels.to_dicts()}
    by_month: dict[dt.date, list[capacity.SnapshotRow]] = {}
    lines: dict[int, int] = {}  # id of a snapshot row -> its file line
    # A row the column checks refused is not checked again: its FTE sums
    # would only repeat what they said.
    refused = _refused_lines(problems)
    for row in frame.iter_rows(named=True):
        if row["_line"] in refused:
            continue
        post = posts.get(row["post"])
        if post is None:
            problems.add(row["_line"], "post", "no such post (use the names on the Team capacity page)", row["post"])
            continue
        month = dt.date(int(row["month"][:4]), int(row["month"][5:7]), 1)
        figures = [float(row[c]) for c in ("filled_fte", "agency_fte", "vacant_fte")]
        cases = int(row["cases_held"])
        if month > today:
            problems.add(row["_line"], "month", "has not started yet", row["month"])
        snap = capacity.SnapshotRow(post["post_id"], row["post"], post["funded_fte"], *figures, cases)
        lines[id(snap)] = row["_line"]
        by_month.setdefault(month, []).append(snap)
    for snaps in by_month.values():
        for snap, column, reason, value in capacity.snapshot_problems(snaps):
            shown = value if value is not None else getattr(snap, column)
            problems.add(lines[id(snap)], column, reason, f"{shown:g}" if isinstance(shown, float) else shown)
    if dry or problems.items:
        return frame.height
    for month, snaps in by_month.items():
        capacity.save_month(session, month, snaps, "import")
    return frame.height


def _indicator_values(
    session: Session, frame: pl.DataFrame, people: dict[str, int], problems: Problems, today: dt.date, dry: bool
) -> int:
    from partnership import themes

    # Validation is record_value's own; in a dry run or on any problem the
    # session is rolled back, so nothing added here is kept.
    count = 0
    refused = _refused_lines(problems)  # already named by the column checks
    for row in frame.iter_rows(named=True):
        if row["_line"] in refused:
            continue
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
    "service_episodes": _child_rows(ServiceEpisode, _episode_checks, _episode_rows),
    "transition_plans": _child_rows(TransitionPlan, _plan_checks, _plan_rows),
    "risk_assessments": _child_rows(RiskAssessment, _no_checks, _risk_rows),
    "outcomes": _child_rows(OutcomeObservation, _no_checks, _outcome_rows),
    "staffing_snapshots": _staffing,
    "indicator_values": _indicator_values,
}

"""Data quality: how complete each data table is, field by field, what was
last imported from each source, and the last import that was refused.

Counts here are rows of whole tables, never about one young person; the
page showing them is for the project lead and administrators only, who see
every locality, so no scope is applied."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Column, Engine, String, func, select
from sqlmodel import Session, SQLModel

from models import (
    IndicatorValue,
    MissingEpisode,
    OutcomeObservation,
    PostSnapshot,
    RiskAssessment,
    ServiceEpisode,
    TransitionPlan,
    YoungPerson,
)
from partnership import uploads
from partnership.importers import batches
from partnership.wording import plural

TABLES: dict[str, type[SQLModel]] = {
    "Young people": YoungPerson,
    "Service episodes": ServiceEpisode,
    "Transition plans": TransitionPlan,
    "Risk assessments": RiskAssessment,
    "Outcomes": OutcomeObservation,
    "Missing episodes": MissingEpisode,
    "Staffing snapshots": PostSnapshot,
    "Indicator values": IndicatorValue,
}
KIND_LABELS = {
    "ssda903": "SSDA903 return",
    "cin": "Children in need census",
    "cld": "Adult social care CLD",
    "benchmark": "DfE benchmark",
    "neighbours": "Statistical neighbours",
    "template": "Partnership file",
}
ROW_NAMES = {
    "benchmarkvalue": "values",
    "statneighbour": "neighbour pairs",
    "oc3": "oc3 outcomes",
    "missing": "missing episodes",
}


def _is_text(column: Column) -> bool:
    # SQLModel's AutoString wraps String and reports its python type as object.
    kind = column.type
    return isinstance(kind, String) or isinstance(getattr(kind, "impl", None), String)


def _filled(column: Column):  # type: ignore[no-untyped-def]
    """COUNT of values that are there: not null and, for text, not blank."""
    if _is_text(column):
        return func.count(func.nullif(func.trim(column), ""))
    return func.count(column)


# Field names as a reader of the page would say them; a field not listed
# here is shown with its underscores as spaces.
FIELD_WORDS = {
    "pseudo_key": "Pseudonymised key",
    "birth_month": "Month of birth",
    "send": "SEND",
    "care_status": "Care status",
    "locality_id": "Locality",
    "cce": "At risk of criminal exploitation",
    "cse": "At risk of sexual exploitation",
    "gangs": "Gang involvement",
    "trafficking": "Trafficking",
    "missing": "Missing from home or care",
    "source": "Source of the record",
    "young_person_id": "Young person",
    "team_id": "Team",
    "started_on": "Start date",
    "ended_on": "End date",
    "end_reason": "Reason it ended",
    "agreed_on": "Date agreed",
    "post18_service": "Planned adult service",
    "assessed_on": "Date assessed",
    "level": "Risk level",
    "observed_on": "Date observed",
    "in_touch": "In touch",
    "missing_episodes": "Missing episodes",
    "ae_attendances": "A&E attendances",
    "police_custody": "Police custody",
    "emergency_housing": "Emergency housing",
    "kind": "Kind of episode",
    "post_id": "Post",
    "filled_fte": "Filled FTE",
    "agency_fte": "Agency FTE",
    "vacant_fte": "Vacant FTE",
    "cases_held": "Cases held",
    "recorded_by": "Recorded by",
    "recorded_at": "Recorded at",
    "indicator_id": "Indicator",
    "entered_by": "Entered by",
    "entered_at": "Entered at",
}


def field_words(name: str) -> str:
    return FIELD_WORDS.get(name) or name.replace("_", " ").capitalize()


def completeness(engine: Engine) -> pl.DataFrame:
    """One row per table and field (the surrogate key left out): rows in the
    table, values filled, and the filled share (null when the table is empty)."""
    out = []
    with engine.connect() as conn:
        for label, model in TABLES.items():
            columns = [c for c in model.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]
            counts = conn.execute(select(func.count(), *(_filled(c) for c in columns)).select_from(model)).one()
            rows = int(counts[0])
            for column, filled in zip(columns, counts[1:], strict=True):
                out.append(
                    {
                        "table": label,
                        "field": field_words(column.name),
                        "rows": rows,
                        "filled": int(filled),
                        "share": int(filled) / rows if rows else None,
                    }
                )
    return pl.DataFrame(
        out, schema={"table": pl.String, "field": pl.String, "rows": pl.Int64, "filled": pl.Int64, "share": pl.Float64}
    )


def table_summary(fields: pl.DataFrame) -> pl.DataFrame:
    """Per table: rows, fields, fields complete, and the least complete field."""
    return (
        fields.sort("share", nulls_last=True)
        .group_by("table", maintain_order=True)
        .agg(
            pl.col("rows").first(),
            pl.len().alias("fields"),
            (pl.col("share") == 1).sum().alias("complete"),
            pl.col("field").first().alias("least_field"),
            pl.col("share").first().alias("least_share"),
        )
        .with_columns(pl.col("table").replace_strict(list(TABLES), list(range(len(TABLES)))).alias("_order"))
        .sort("_order")
        .drop("_order")
    )


def _kind_label(kind: str) -> str:
    base, _, table = kind.partition(":")
    label = KIND_LABELS.get(base, base)
    return f"{label}: {table.replace('_', ' ')}" if table else label


def _rows_text(rows: str) -> str:
    """'young_people=2675|episodes=5050' as '2,675 young people, 5,050 episodes'."""
    parts = []
    for item in filter(None, rows.split("|")):
        name, _, count = item.partition("=")
        parts.append(f"{int(count):,} {ROW_NAMES.get(name, name.replace('_', ' '))}" if count.isdigit() else item)
    return ", ".join(parts)


def _when(at: dt.datetime) -> str:
    # Stored in UTC; SQLite hands it back without a zone.
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).strftime("%d %b %Y %H:%M UTC")


def last_imports(engine: Engine) -> pl.DataFrame:
    """The latest accepted import of each kind and source, newest first."""
    with Session(engine) as session:
        rows = [
            {
                "Source": _kind_label(b.kind),
                "Dataset": b.source,
                "File": b.file_name,
                "Rows": _rows_text(b.rows),
                "Imported": _when(b.imported_at),
                "By": b.imported_by,
            }
            for b in batches.last_batches(session)
        ]
    return pl.DataFrame(rows, schema=dict.fromkeys(["Source", "Dataset", "File", "Rows", "Imported", "By"], pl.String))


@dataclass
class Rejection:
    source: str
    file_name: str
    when: str
    by: str
    summary: str
    problems: pl.DataFrame  # identifiers masked
    shown: int  # problems kept in the log (the first 200)
    total: int


def last_rejection(engine: Engine) -> Rejection | None:
    with Session(engine) as session:
        r = batches.last_rejection(session)
        if r is None:
            return None
        lines = [line for line in r.problems.splitlines() if line]
        return Rejection(
            source=_kind_label(r.kind),
            file_name=r.file_name,
            when=_when(r.attempted_at),
            by=r.attempted_by,
            summary=(
                f"{r.file_name}: rejected, {r.problem_count} {plural(r.problem_count, 'problem')} in {r.rows} "
                f"{plural(r.rows, 'row')}; nothing was imported"
            ),
            problems=uploads.problem_table(lines),
            shown=len(lines),
            total=r.problem_count,
        )


# Where children's records and adults' records come from: the imports the linkage table draws on.
LINKAGE_KINDS = ("ssda903", "cin", "cld", "template:young_people", "template:service_episodes")


def linkage(engine: Engine, as_of: dt.date, years: int = 6) -> pl.DataFrame:
    """Of the young people who turned 18 in each calendar year (the last
    `years`, to the figures' date), by locality: how many have any adult
    service episode, from whichever import (CLD, a partnership file) it came."""
    from models import Locality
    from models.codes import ADULT_SERVICES

    with Session(engine) as session:
        people = pl.DataFrame(
            session.execute(select(YoungPerson.id, YoungPerson.birth_month, YoungPerson.locality_id)).all(),
            schema={"id": pl.Int64, "birth_month": pl.Date, "locality_id": pl.Int64},
            orient="row",
        )
        adult = pl.DataFrame(
            session.execute(
                select(ServiceEpisode.young_person_id)
                .where(ServiceEpisode.service.in_(list(ADULT_SERVICES)))  # type: ignore[attr-defined]
                .distinct()
            ).all(),
            schema={"id": pl.Int64},
            orient="row",
        )
        names = dict(session.execute(select(Locality.id, Locality.name)).all())
    first = as_of.year - years + 1
    eighteen = pl.col("birth_month").dt.offset_by("18y")
    turned = people.with_columns(eighteen.dt.year().alias("year")).filter(
        pl.col("year").is_between(first, as_of.year) & (eighteen <= as_of)  # not those still to turn 18 this year
    )
    table = (
        turned.with_columns(pl.col("id").is_in(adult["id"].implode()).alias("found"))
        .group_by("year", "locality_id")
        .agg(pl.len().alias("turned"), pl.col("found").sum().alias("found"))
        .with_columns(pl.col("locality_id").replace_strict(names, return_dtype=pl.String).alias("Locality"))
        .sort("year", "Locality", descending=[True, False])
    )
    return table.select(
        pl.col("year").alias("Year turned 18"),
        "Locality",
        pl.col("turned").alias("Turned 18"),
        pl.col("found").alias("Found in adult data"),
        (pl.col("found") / pl.col("turned") * 100).round(1).alias("Found (%)"),
    )


def linkage_imports(engine: Engine) -> pl.DataFrame:
    """The latest import of each kind that holds children's or adults' records."""
    frame = last_imports(engine)
    labels = [_kind_label(k) for k in LINKAGE_KINDS]
    return frame.filter(pl.col("Source").is_in(labels))

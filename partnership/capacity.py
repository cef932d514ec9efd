"""Team capacity: establishment, fill, vacancy and agency rates, caseloads.

Definitions follow the DfE children's social work workforce statistics so
our figures sit beside England's: vacancy rate = vacant FTE / (vacant FTE +
filled FTE); agency rate = agency FTE / (agency FTE + filled FTE); caseload =
cases held / case-holding FTE (filled plus agency FTE in case-holding roles).
A team with no case-holding FTE has no caseload figure, never a division by zero.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import polars as pl
from sqlmodel import Session, select

from models import PostSnapshot, Scenario
from partnership import accounts, store

ENGLAND_CASELOAD = 15.2  # DfE CSWW 2025, cases per case-holding FTE
NO_CASE_HOLDERS = "no case holders"


def month_of(staffing: pl.DataFrame, month: dt.date | None) -> pl.DataFrame:
    """Snapshots of one month (latest held when month is None)."""
    if staffing.is_empty():
        return staffing
    chosen = month or staffing["month"].max()
    return staffing.filter(pl.col("month") == chosen)


def _rates(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        fill_rate=pl.when(pl.col("funded_fte") > 0).then(pl.col("filled_fte") / pl.col("funded_fte")),
        vacancy_rate=pl.when((pl.col("vacant_fte") + pl.col("filled_fte")) > 0).then(
            pl.col("vacant_fte") / (pl.col("vacant_fte") + pl.col("filled_fte"))
        ),
        agency_rate=pl.when((pl.col("agency_fte") + pl.col("filled_fte")) > 0).then(
            pl.col("agency_fte") / (pl.col("agency_fte") + pl.col("filled_fte"))
        ),
        caseload=pl.when(pl.col("case_fte") > 0).then(pl.col("cases") / pl.col("case_fte")),
    )


def _sums(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    holding = pl.col("case_holding")
    return frame.group_by(by, maintain_order=True).agg(
        posts=pl.len(),
        funded_fte=pl.col("funded_fte").sum(),
        filled_fte=pl.col("filled_fte").sum(),
        agency_fte=pl.col("agency_fte").sum(),
        vacant_fte=pl.col("vacant_fte").sum(),
        case_fte=pl.when(holding).then(pl.col("filled_fte") + pl.col("agency_fte")).otherwise(0.0).sum(),
        cases=pl.when(holding).then(pl.col("cases_held")).otherwise(0).sum(),
    )


def establishment(month_rows: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Funded, filled, agency and vacant FTE with rates, grouped by `by`
    (e.g. ["locality"], ["locality", "team"], ["locality", "team", "role"])."""
    ordered = month_rows.sort("locality_id", "team_order", "role_order")
    return _rates(_sums(ordered, by))


def trend(staffing: pl.DataFrame) -> pl.DataFrame:
    """Monthly vacancy rate, agency rate and caseload per FTE per locality."""
    return _rates(_sums(staffing.sort("month", "locality_id"), ["month", "locality"]))


def fmt_rate(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.0f}%"


def fmt_caseload(value: float | None) -> str:
    return NO_CASE_HOLDERS if value is None else f"{value:.1f}"


def display_table(frame: pl.DataFrame, labels: list[str]) -> pl.DataFrame:
    """The establishment as text. No caseload here: a caseload times the FTE
    beside it gives the cases back, so caseloads are released with the cases
    (partnership.figures.cases_release) and shown in the Caseloads section."""
    # Text is made in Python from plain lists: no Python function runs inside
    # polars (on its thread pool it needs the GIL and can deadlock the server).
    return frame.select(
        *[pl.col(c).alias(c.capitalize()) for c in labels],
        pl.col("posts").alias("Posts"),
        pl.col("funded_fte").round(1).alias("Funded FTE"),
        pl.col("filled_fte").round(1).alias("Filled FTE"),
        pl.col("agency_fte").round(1).alias("Agency FTE"),
        pl.col("vacant_fte").round(1).alias("Vacant FTE"),
        pl.Series("Fill rate", [fmt_rate(v) for v in frame["fill_rate"].to_list()], dtype=pl.String),
        pl.Series("Vacancy rate", [fmt_rate(v) for v in frame["vacancy_rate"].to_list()], dtype=pl.String),
    )


@dataclass(frozen=True)
class WhatIf:
    """A scenario: FTE of vacancies filled and new case-holding posts, per team."""

    fill: dict[str, float]
    add: dict[str, float]


def project(month_rows: pl.DataFrame, scenario: WhatIf) -> pl.DataFrame:
    """Caseload per case-holding FTE per team now and under the scenario.
    Filling is capped at the team's vacant case-holding FTE."""
    holding = month_rows.filter(pl.col("case_holding")).sort("locality_id", "team_order")
    # Order is kept throughout: the page's editor rows and these results must line up.
    teams = _sums(holding, ["locality", "team"]).join(
        holding.group_by("team", maintain_order=True).agg(
            vacant_holding=(pl.col("vacant_fte") - pl.col("agency_fte")).clip(lower_bound=0).sum()
        ),
        on="team",
        maintain_order="left",
    )
    rows = []
    for t in teams.to_dicts():
        filled = min(scenario.fill.get(t["team"], 0.0), t["vacant_holding"])
        added = scenario.add.get(t["team"], 0.0)
        now = t["cases"] / t["case_fte"] if t["case_fte"] > 0 else None
        fte = t["case_fte"] + filled + added
        rows.append(
            {
                "locality": t["locality"],
                "team": t["team"],
                "cases": t["cases"],
                "case_fte_now": t["case_fte"],
                "caseload_now": now,
                "vacancies_filled": filled,
                "posts_added": added,
                "case_fte_then": fte,
                "caseload_then": t["cases"] / fte if fte > 0 else None,
            }
        )
    return pl.DataFrame(rows, schema_overrides={"caseload_now": pl.Float64, "caseload_then": pl.Float64})


@dataclass(frozen=True)
class SnapshotRow:
    post_id: int
    label: str
    funded_fte: float
    filled_fte: float
    agency_fte: float
    vacant_fte: float
    cases_held: int


def snapshot_problems(rows: list[SnapshotRow]) -> list[tuple[SnapshotRow, str, str, float | int | None]]:
    """(row, field, reason, value) for every problem; the page and the
    template importer each say where in their own terms."""
    problems: list[tuple[SnapshotRow, str, str, float | int | None]] = []
    for r in rows:
        for name in ("filled_fte", "agency_fte", "vacant_fte"):
            value = getattr(r, name)
            if value is None or value < 0:
                problems.append((r, name, f"{name.replace('_fte', ' FTE')} cannot be negative or empty", value))
        if r.cases_held is None or r.cases_held < 0:
            problems.append((r, "cases_held", "cases held cannot be negative or empty", r.cases_held))
        if (
            r.filled_fte is not None
            and r.vacant_fte is not None
            and abs(r.filled_fte + r.vacant_fte - r.funded_fte) > 1e-6
        ):
            reason = f"filled FTE {r.filled_fte:g} + vacant FTE {r.vacant_fte:g} must equal funded FTE {r.funded_fte:g}"
            problems.append((r, "vacant_fte", reason, None))
    return problems


def validate_snapshot(rows: list[SnapshotRow]) -> list[str]:
    """Problems naming post and field; empty when the month may be saved."""
    return [
        f"{r.label}: {reason}" + ("" if value is None else f" ({value})")
        for r, _field, reason, value in snapshot_problems(rows)
    ]


def post_labels(month_rows: pl.DataFrame) -> pl.DataFrame:
    """A readable, stable name for each post: team, role and a number where a
    team has more than one of a role, with the post's note."""
    return (
        month_rows.sort("locality_id", "team_order", "role_order", "post_id")
        .with_columns(
            n=pl.col("post_id").rank("ordinal").over("team", "role").cast(pl.Int64),
            many=pl.len().over("team", "role") > 1,
        )
        .with_columns(
            label=pl.concat_str(
                pl.col("team"),
                pl.lit(" · "),
                pl.col("role"),
                pl.when(pl.col("many")).then(pl.lit(" ") + pl.col("n").cast(pl.String)).otherwise(pl.lit("")),
                pl.when(pl.col("note").is_not_null())
                .then(pl.lit(" (") + pl.col("note") + pl.lit(")"))
                .otherwise(pl.lit("")),
            )
        )
        .drop("n", "many")
    )


def save_month(session: Session, month: dt.date, rows: list[SnapshotRow], actor: str) -> int:
    """Record a month as one transaction: each post whose figures differ from
    its latest version gets a new version; earlier versions stay as history.
    Raises ValueError listing every problem (post and field) and saves nothing."""
    problems = validate_snapshot(rows)
    if problems:
        raise ValueError("\n".join(problems))
    month = month.replace(day=1)
    written = 0
    for r in rows:
        latest = session.exec(
            select(PostSnapshot)
            .where(PostSnapshot.post_id == r.post_id, PostSnapshot.month == month)
            .order_by(PostSnapshot.version.desc())  # type: ignore[attr-defined]
        ).first()
        same = latest is not None and (latest.filled_fte, latest.agency_fte, latest.vacant_fte, latest.cases_held) == (
            r.filled_fte,
            r.agency_fte,
            r.vacant_fte,
            r.cases_held,
        )
        if same:
            continue
        session.add(
            PostSnapshot(
                post_id=r.post_id,
                month=month,
                filled_fte=r.filled_fte,
                agency_fte=r.agency_fte,
                vacant_fte=r.vacant_fte,
                cases_held=r.cases_held,
                version=(latest.version + 1) if latest else 1,
                recorded_by=actor,
            )
        )
        written += 1
    if written:
        accounts.audit(session, actor, "staffing_recorded", f"month={month:%Y-%m} posts={written}")
        store.bump_data_version(session, cohort=False)
    return written


def history(session: Session, post_id: int, month: dt.date) -> pl.DataFrame:
    rows = session.exec(
        select(PostSnapshot)
        .where(PostSnapshot.post_id == post_id, PostSnapshot.month == month)
        .order_by(PostSnapshot.version)
    ).all()  # type: ignore[arg-type]
    return pl.DataFrame(
        [
            {
                "Version": r.version,
                "Filled FTE": r.filled_fte,
                "Agency FTE": r.agency_fte,
                "Vacant FTE": r.vacant_fte,
                "Cases held": r.cases_held,
                "Recorded by": r.recorded_by,
                "Recorded at": r.recorded_at.strftime("%Y-%m-%d %H:%M"),
            }
            for r in rows
        ]
    )


def save_scenario(
    session: Session, name: str, month: dt.date, locality_id: int | None, scenario: WhatIf, actor: str
) -> Scenario:
    if not name.strip():
        raise ValueError("a saved scenario needs a name")
    row = Scenario(
        name=name.strip()[:80],
        month=month,
        locality_id=locality_id,
        created_by=actor,
        changes=json.dumps({"fill": scenario.fill, "add": scenario.add}, sort_keys=True),
    )
    session.add(row)
    accounts.audit(session, actor, "scenario_saved", f"{row.name} month={month:%Y-%m}")
    store.bump_data_version(session, cohort=False)  # the page lists saved scenarios by the data version
    return row


def load_scenarios(session: Session, locality_ids: list[int]) -> list[tuple[Scenario, WhatIf]]:
    rows = session.exec(select(Scenario).order_by(Scenario.created_at.desc())).all()  # type: ignore[attr-defined]
    out = []
    for row in rows:
        if row.locality_id is not None and row.locality_id not in locality_ids:
            continue
        changes = json.loads(row.changes)
        out.append((row, WhatIf(changes.get("fill", {}), changes.get("add", {}))))
    return out

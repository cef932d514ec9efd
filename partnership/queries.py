"""The one query layer. Every read of cohort or staffing data comes through
here with the locality ids a viewer may see, already decided by
partnership.access.scope_localities; nothing outside it builds SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Engine, text


@dataclass(frozen=True)
class Cohort:
    """Polars frames for one scope. Frames hold pseudonymised keys only."""

    young_people: pl.DataFrame
    episodes: pl.DataFrame
    plans: pl.DataFrame
    risks: pl.DataFrame
    outcomes: pl.DataFrame


def _ids_clause(ids: list[int]) -> str:
    # Ids are ints chosen by the access layer; formatting them keeps the
    # statement identical on SQLite and PostgreSQL.
    return ", ".join(str(int(i)) for i in ids) or "NULL"


def _read(engine: Engine, sql: str, schema: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
    """Run a SELECT and type its columns; SQLite hands dates back as text and
    booleans as 0/1, PostgreSQL as native types, and both end up the same."""
    with engine.connect() as conn:
        result = conn.execute(text(sql))
        cols = list(result.keys())
        rows = result.fetchall()
    schema = schema or {}
    data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    series = []
    for col in cols:
        want = schema.get(col)
        values = data[col]
        first = next((v for v in values if v is not None), None)
        if want == pl.Date and isinstance(first, str):
            series.append(pl.Series(col, values, dtype=pl.String).str.slice(0, 10).str.to_date())
        elif want == pl.Boolean:
            series.append(pl.Series(col, [None if v is None else bool(v) for v in values], dtype=pl.Boolean))
        elif want is not None:
            series.append(pl.Series(col, values, dtype=want, strict=False))
        else:
            series.append(pl.Series(col, values))
    return pl.DataFrame(series)


def load_cohort(engine: Engine, locality_ids: list[int]) -> Cohort:
    ids = _ids_clause(locality_ids)
    yp_where = f"yp.locality_id IN ({ids})"
    join = f"JOIN youngperson yp ON yp.id = t.young_person_id AND {yp_where}"
    young_people = _read(
        engine,
        "SELECT yp.id, yp.pseudo_key, yp.birth_month, yp.sex, yp.ethnicity, yp.send, yp.care_status, "
        "yp.locality_id, l.name AS locality, yp.cce, yp.cse, yp.gangs, yp.trafficking, yp.missing "
        f"FROM youngperson yp JOIN locality l ON l.id = yp.locality_id WHERE {yp_where}",
        {
            "id": pl.Int64,
            "birth_month": pl.Date,
            "locality_id": pl.Int64,
            "cce": pl.Boolean,
            "cse": pl.Boolean,
            "gangs": pl.Boolean,
            "trafficking": pl.Boolean,
            "missing": pl.Boolean,
            "pseudo_key": pl.String,
            "sex": pl.String,
            "ethnicity": pl.String,
            "send": pl.String,
            "care_status": pl.String,
            "locality": pl.String,
        },
    )
    episodes = _read(
        engine,
        f"SELECT t.young_person_id, t.service, t.team_id, t.started_on, t.ended_on, t.end_reason "
        f"FROM serviceepisode t {join}",
        {
            "young_person_id": pl.Int64,
            "service": pl.String,
            "team_id": pl.Int64,
            "started_on": pl.Date,
            "ended_on": pl.Date,
            "end_reason": pl.String,
        },
    )
    plans = _read(
        engine,
        f"SELECT t.young_person_id, t.started_on, t.agreed_on, t.post18_service FROM transitionplan t {join}",
        {"young_person_id": pl.Int64, "started_on": pl.Date, "agreed_on": pl.Date, "post18_service": pl.String},
    )
    risks = _read(
        engine,
        f"SELECT t.young_person_id, t.agency, t.assessed_on, t.level FROM riskassessment t {join}",
        {"young_person_id": pl.Int64, "agency": pl.String, "assessed_on": pl.Date, "level": pl.String},
    )
    outcomes = _read(
        engine,
        f"SELECT t.young_person_id, t.observed_on, t.activity, t.accommodation, t.in_touch, t.missing_episodes, "
        f"t.ae_attendances, t.police_custody, t.emergency_housing FROM outcomeobservation t {join}",
        {
            "young_person_id": pl.Int64,
            "observed_on": pl.Date,
            "activity": pl.String,
            "accommodation": pl.String,
            "in_touch": pl.String,
            "missing_episodes": pl.Int64,
            "ae_attendances": pl.Int64,
            "police_custody": pl.Int64,
            "emergency_housing": pl.Int64,
        },
    )
    return Cohort(young_people, episodes, plans, risks, outcomes)


def load_staffing(engine: Engine, locality_ids: list[int]) -> pl.DataFrame:
    """Latest version of each post's monthly snapshot, with post, team and role.
    Posts shared by a locality's teams are grouped as '<Locality> shared posts'."""
    ids = _ids_clause(locality_ids)
    return _read(
        engine,
        "SELECT s.post_id, s.month, s.filled_fte, s.agency_fte, s.vacant_fte, s.cases_held, s.version, "
        "p.fte AS funded_fte, p.note, r.code AS role_code, r.name AS role, r.id AS role_order, r.case_holding, "
        "COALESCE(t.name, l.name || ' shared posts') AS team, COALESCE(t.id, 1000) AS team_order, "
        "l.name AS locality, p.locality_id "
        "FROM postsnapshot s "
        "JOIN post p ON p.id = s.post_id JOIN role r ON r.id = p.role_id "
        "JOIN locality l ON l.id = p.locality_id LEFT JOIN team t ON t.id = p.team_id "
        f"WHERE p.locality_id IN ({ids}) AND s.version = (SELECT MAX(s2.version) FROM postsnapshot s2 "
        "WHERE s2.post_id = s.post_id AND s2.month = s.month)",
        {
            "post_id": pl.Int64,
            "month": pl.Date,
            "filled_fte": pl.Float64,
            "agency_fte": pl.Float64,
            "vacant_fte": pl.Float64,
            "cases_held": pl.Int64,
            "version": pl.Int64,
            "funded_fte": pl.Float64,
            "note": pl.String,
            "role_code": pl.String,
            "role": pl.String,
            "role_order": pl.Int64,
            "case_holding": pl.Boolean,
            "team": pl.String,
            "team_order": pl.Int64,
            "locality": pl.String,
            "locality_id": pl.Int64,
        },
    )


def load_localities(engine: Engine) -> pl.DataFrame:
    return _read(engine, "SELECT id, code, name FROM locality ORDER BY id", {"id": pl.Int64})


def load_indicators(engine: Engine) -> pl.DataFrame:
    return _read(
        engine,
        "SELECT i.id, i.code, i.name, i.unit, i.polarity, i.baseline, i.baseline_period, i.target, i.target_date, "
        "i.source, i.metric_key, t.number AS theme, t.short_title AS theme_title, m.position AS impact "
        "FROM indicator i JOIN intendedimpact m ON m.id = i.impact_id JOIN theme t ON t.id = m.theme_id "
        "ORDER BY t.number, m.position, i.id",
        {
            "id": pl.Int64,
            "baseline": pl.Float64,
            "target": pl.Float64,
            "target_date": pl.Date,
            "theme": pl.Int64,
            "impact": pl.Int64,
        },
    )


def load_indicator_values(engine: Engine) -> pl.DataFrame:
    """Latest version of each entered value per period: corrections win, history stays in the table."""
    return _read(
        engine,
        "SELECT v.indicator_id, v.period, v.value FROM indicatorvalue v WHERE v.version = "
        "(SELECT MAX(v2.version) FROM indicatorvalue v2 WHERE v2.indicator_id = v.indicator_id "
        "AND v2.period = v.period)",
        {"indicator_id": pl.Int64, "period": pl.Date, "value": pl.Float64},
    )


def load_settings(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {k: v for k, v in conn.execute(text("SELECT key, value FROM setting"))}


def data_version(engine: Engine) -> str:
    """The one row every write of data or settings changes (store.bump_data_version)."""
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT value FROM setting WHERE key = 'data_version'")).scalar() or "0")


def as_of_date(settings: dict[str, str], today: dt.date | None = None) -> dt.date:
    """The date figures are 'as of': the demo's generation month while the
    data is synthetic (so the demo never goes stale), otherwise today."""
    if settings.get("synthetic") == "true" and settings.get("as_of"):
        return dt.date.fromisoformat(settings["as_of"])
    return today or dt.date.today()


def load_impacts(engine: Engine) -> pl.DataFrame:
    return _read(
        engine,
        "SELECT t.number AS theme, t.title, t.short_title, m.position, m.text FROM intendedimpact m "
        "JOIN theme t ON t.id = "
        "m.theme_id ORDER BY t.number, m.position",
        {"theme": pl.Int64, "position": pl.Int64},
    )

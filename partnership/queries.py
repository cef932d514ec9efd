"""The one query layer. Every read of cohort or staffing data comes through
here with the locality ids a viewer may see, already decided by
partnership.access.scope_localities; nothing outside it builds SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

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
    # Frames worked out from this cohort (who has turned 18, outcomes by age),
    # asked for by several measures: made once per cohort, never changed.
    _derived: dict[tuple[object, ...], pl.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def narrowed(self, young_people: pl.DataFrame) -> Cohort:
        """The cohort of some of these young people (a SEND, care or
        exploitation filter): every frame, and every frame already worked out
        from it (each row is one person's), with only their rows."""
        ids = young_people.select("id")

        def theirs(frame: pl.DataFrame) -> pl.DataFrame:
            on = "young_person_id" if "young_person_id" in frame.columns else "id"
            return frame.join(ids, left_on=on, right_on="id", how="semi")

        out = Cohort(young_people, theirs(self.episodes), theirs(self.plans), theirs(self.risks), theirs(self.outcomes))
        for name, frame in list(self._derived.items()):
            if "young_person_id" in frame.columns or "id" in frame.columns:
                out._derived[name] = theirs(frame)
        return out

    def derived(self, name: tuple[object, ...], make: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        found = self._derived.get(name)
        if found is None:  # two sessions may both make it once; either result is the same frame
            found = self._derived[name] = make()
        return found


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
    return pl.DataFrame([_column(col, data[col], schema.get(col)) for col in cols])


def _column(name: str, values: list[object] | tuple[object, ...], want: pl.DataType | None) -> pl.Series:
    """One column of driver values, typed the same on both engines: SQLite
    hands dates back as text and booleans as 0/1, PostgreSQL as native types."""
    first = next((v for v in values if v is not None), None)
    if want == pl.Date and isinstance(first, str):
        return pl.Series(name, values, dtype=pl.String).str.slice(0, 10).str.to_date()
    if want == pl.Boolean:
        return pl.Series(name, [None if v is None else bool(v) for v in values], dtype=pl.Boolean)
    if want is not None:
        return pl.Series(name, values, dtype=want, strict=False)
    return pl.Series(name, values)


# The cohort tables, every locality, each row with its young person's locality
# (`scope_locality`) so a scope is a filter on the snapshot rather than a query.
_BY_YP = "JOIN youngperson yp ON yp.id = t.young_person_id"
COHORT_TABLES: dict[str, tuple[str, dict[str, pl.DataType]]] = {
    "young_people": (
        "SELECT yp.id, yp.pseudo_key, yp.birth_month, yp.sex, yp.ethnicity, yp.send, yp.care_status, "
        "yp.locality_id, l.name AS locality, yp.cce, yp.cse, yp.gangs, yp.trafficking, yp.missing, "
        "yp.locality_id AS scope_locality FROM youngperson yp JOIN locality l ON l.id = yp.locality_id ORDER BY yp.id",
        {
            "id": pl.Int64,
            "pseudo_key": pl.String,
            "birth_month": pl.Date,
            "sex": pl.String,
            "ethnicity": pl.String,
            "send": pl.String,
            "care_status": pl.String,
            "locality_id": pl.Int64,
            "locality": pl.String,
            "cce": pl.Boolean,
            "cse": pl.Boolean,
            "gangs": pl.Boolean,
            "trafficking": pl.Boolean,
            "missing": pl.Boolean,
            "scope_locality": pl.Int64,
        },
    ),
    "episodes": (
        "SELECT t.young_person_id, t.service, t.team_id, t.started_on, t.ended_on, t.end_reason, "
        f"yp.locality_id AS scope_locality FROM serviceepisode t {_BY_YP} ORDER BY t.id",
        {
            "young_person_id": pl.Int64,
            "service": pl.String,
            "team_id": pl.Int64,
            "started_on": pl.Date,
            "ended_on": pl.Date,
            "end_reason": pl.String,
            "scope_locality": pl.Int64,
        },
    ),
    "plans": (
        "SELECT t.young_person_id, t.started_on, t.agreed_on, t.post18_service, "
        f"yp.locality_id AS scope_locality FROM transitionplan t {_BY_YP} ORDER BY t.id",
        {
            "young_person_id": pl.Int64,
            "started_on": pl.Date,
            "agreed_on": pl.Date,
            "post18_service": pl.String,
            "scope_locality": pl.Int64,
        },
    ),
    "risks": (
        "SELECT t.young_person_id, t.agency, t.assessed_on, t.level, "
        f"yp.locality_id AS scope_locality FROM riskassessment t {_BY_YP} ORDER BY t.id",
        {
            "young_person_id": pl.Int64,
            "agency": pl.String,
            "assessed_on": pl.Date,
            "level": pl.String,
            "scope_locality": pl.Int64,
        },
    ),
    "outcomes": (
        "SELECT t.young_person_id, t.observed_on, t.activity, t.accommodation, t.in_touch, t.missing_episodes, "
        "t.ae_attendances, t.police_custody, t.emergency_housing, "
        f"yp.locality_id AS scope_locality FROM outcomeobservation t {_BY_YP} ORDER BY t.id",
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
            "scope_locality": pl.Int64,
        },
    ),
}


def load_cohort(engine: Engine, locality_ids: list[int]) -> Cohort:
    """The cohort of the localities a viewer may see: a filter on the columnar
    snapshot of the current cohort version (partnership/snapshot.py), which is
    read from the database once per version, not once per scope or process."""
    from partnership import snapshot
    from partnership.figures import scoped_precomputed

    frames = snapshot.current(engine)
    wanted = {int(i) for i in locality_ids}
    tables = {name: frames[name] for name in COHORT_TABLES}
    # The lead and the board see every locality: their cohort is the copy itself, not a filtered copy of it.
    everyone = wanted >= set(tables["young_people"]["scope_locality"].unique().to_list())
    if not everyone:
        keep = pl.col("scope_locality").is_in(sorted(wanted))
        tables = {name: frame.filter(keep) for name, frame in tables.items()}
    cohort = Cohort(**{name: frame.drop("scope_locality") for name, frame in tables.items()})
    derived = {name.removeprefix(snapshot.DERIVED): frame for name, frame in frames.items() if name not in tables}
    cohort._derived.update(scoped_precomputed(derived, None if everyone else cohort.young_people))
    return cohort


def read_cohort_tables(engine: Engine) -> tuple[str, dict[str, pl.DataFrame]]:
    """The cohort version and every cohort table, read in one transaction so
    the tables are the ones that version names. Rows go straight from the
    driver into columns: raw SQLite cursor rows on SQLite, COPY as CSV on
    PostgreSQL (SQLAlchemy's row objects cost more than the read itself)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        raw = conn.connection.dbapi_connection
        assert raw is not None
        postgres = conn.dialect.name == "postgresql"
        cur = raw.cursor()
        try:
            if not postgres:
                cur.execute("BEGIN")  # SQLite reads one state of the file until the transaction ends
            cur.execute(_COHORT_VERSION_SQL)
            version = _cohort_version(cur.fetchall())
            frames = {
                name: (_copy_csv(cur, sql, schema) if postgres else _fetch_columns(cur, sql, schema))
                for name, (sql, schema) in COHORT_TABLES.items()
            }
        finally:
            raw.rollback()
            cur.close()
    return version, frames


def _fetch_columns(cur: object, sql: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    cur.execute(sql)  # type: ignore[attr-defined]
    rows = cur.fetchall()  # type: ignore[attr-defined]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pl.DataFrame(
        [_column(name, values, want) for (name, want), values in zip(schema.items(), columns, strict=True)]
    )


# The cohort version names the columnar copy; a database from before it was
# kept separately is named by its data version.
_COHORT_VERSION_SQL = "SELECT key, value FROM setting WHERE key IN ('cohort_version', 'data_version')"


def _cohort_version(rows: list[tuple[str, str]]) -> str:
    found = dict(rows)
    return str(found.get("cohort_version") or found.get("data_version") or "0")


def cohort_version(engine: Engine) -> str:
    """The version of the cohort tables (store.bump_data_version changes it with every cohort write)."""
    with engine.connect() as conn:
        return _cohort_version([(k, v) for k, v in conn.execute(text(_COHORT_VERSION_SQL))])


def _copy_csv(cur: object, sql: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    import io

    buffer = io.BytesIO()
    with cur.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:  # type: ignore[attr-defined]
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    # PostgreSQL writes NULL as an empty field and an empty string as "": read
    # text as text (empty stays empty) and booleans as t/f.
    overrides = {n: (pl.String if t == pl.Boolean else t) for n, t in schema.items()}
    frame = pl.read_csv(buffer, schema=overrides)
    return frame.with_columns(
        pl.col(n).replace_strict({"t": True, "f": False}, default=None, return_dtype=pl.Boolean)
        for n, t in schema.items()
        if t == pl.Boolean
    )


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

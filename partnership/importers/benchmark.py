"""DfE Explore Education Statistics tidy CSVs and statistical neighbour groupings."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from sqlalchemy import delete
from sqlmodel import Session

from models import BenchmarkValue, StatNeighbour
from partnership import store
from partnership.importers.batches import already_imported, record_batch
from partnership.importers.common import Problems, checksum, read_csv_text

GSS_SYMBOLS = {
    "c": "confidential (suppressed)",
    "z": "not applicable",
    "x": "not available",
    "k": "rounds to zero but is not zero",
    "low": "rounds to zero but is not zero",
    "u": "low reliability",
}
GEO_COLUMNS = [
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "region_code",
    "region_name",
    "old_la_code",
    "la_name",
    "new_la_code",
]
LEVELS = {
    "National": ("country_code", "country_name"),
    "Regional": ("region_code", "region_name"),
    "Local authority": ("old_la_code", "la_name"),
}
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _is_value(text: str) -> bool:
    return text == "" or bool(NUMBER.match(text.replace(",", ""))) or text.lower() in GSS_SYMBOLS


def tidy_to_values(frame: pl.DataFrame, file_name: str, dataset: str) -> pl.DataFrame:
    """Validate a tidy file and turn it into benchmark rows; raises ImportRejected."""
    problems = Problems(file_name)
    for required in ("time_period", "geographic_level"):
        if required not in frame.columns:
            problems.add(1, required, "required column is missing")
    problems.raise_if_any(frame.height)
    levels = set(frame["geographic_level"].unique().to_list())
    for level, (_code, name) in LEVELS.items():
        if level in levels and name not in frame.columns:
            problems.add(1, name, f"required column is missing (the file has {level.lower()} rows)")
    problems.raise_if_any(frame.height)
    others = [c for c in frame.columns if c not in GEO_COLUMNS and c != "_line"]
    indicators, filters = [], []
    for col in others:
        values = [v for v in frame[col].to_list() if v != ""]
        fits = sum(_is_value(v) for v in values)
        # A column that is (almost) all numbers or GSS symbols is an indicator;
        # the odd value that is neither is then an error, not a new category.
        (indicators if values and fits >= 0.9 * len(values) else filters).append(col)
    if not indicators:
        problems.add(1, "header", "no indicator columns (columns of numbers or GSS symbols) found")
    for row in frame.iter_rows(named=True):
        line = row["_line"]
        if not re.match(r"^\d{4}(\d{2})?$", row["time_period"]):
            problems.add(line, "time_period", "not a year such as 2025 or 202425", row["time_period"])
        level = row["geographic_level"]
        if level not in LEVELS:
            problems.add(line, "geographic_level", f"not one of {', '.join(LEVELS)}", level)
        else:
            code_col = LEVELS[level][0]
            code = row.get(code_col) or (row.get("new_la_code") if level == "Local authority" else None)
            if not code:
                problems.add(line, code_col, f"a {level.lower()} row needs a code")
        for col in indicators:
            if not _is_value(row[col]):
                problems.add(line, col, "not a number or a GSS symbol (c, z, x, k, low, u)", row[col])
    problems.raise_if_any(frame.height)

    def col(name: str) -> pl.Expr:
        # A column a file leaves out holds nothing (validation above made sure none is needed).
        return pl.col(name) if name in frame.columns else pl.lit(None, dtype=pl.String)

    geo = frame.with_columns(
        geo_code=pl.when(pl.col("geographic_level") == "National")
        .then(col("country_code"))
        .when(pl.col("geographic_level") == "Regional")
        .then(col("region_code"))
        .otherwise(
            pl.when(col("old_la_code").fill_null("") != "").then(col("old_la_code")).otherwise(col("new_la_code"))
        ),
        geo_name=pl.when(pl.col("geographic_level") == "National")
        .then(col("country_name"))
        .when(pl.col("geographic_level") == "Regional")
        .then(col("region_name"))
        .otherwise(col("la_name")),
        filters=pl.concat_str([pl.lit(f"{c}=") + pl.col(c) for c in sorted(filters)], separator="|")
        if filters
        else pl.lit(""),
        region_code=col("region_code"),
    )
    dupes = (
        geo.group_by("time_period", "geographic_level", "geo_code", "filters")
        .agg(pl.col("_line"))
        .filter(pl.col("_line").list.len() > 1)
    )
    for d in dupes.to_dicts():
        lines = d["_line"]
        problems.add(lines[1], "row", f"duplicates line {lines[0]} (same period, geography and filters)")
    problems.raise_if_any(frame.height)
    long = geo.unpivot(
        index=["time_period", "geographic_level", "geo_code", "geo_name", "region_code", "filters"],
        on=indicators,
        variable_name="indicator",
        value_name="raw",
    ).filter(pl.col("raw") != "")
    lowered = pl.col("raw").str.to_lowercase()
    return long.select(
        pl.lit(dataset).alias("dataset"),
        "time_period",
        "geographic_level",
        "geo_code",
        pl.col("geo_name").fill_null(""),
        pl.col("region_code").replace("", None),
        "filters",
        "indicator",
        pl.when(lowered.is_in(list(GSS_SYMBOLS)))
        .then(None)
        .otherwise(pl.col("raw").str.replace_all(",", "").cast(pl.Float64))
        .alias("value"),
        pl.when(lowered.is_in(list(GSS_SYMBOLS))).then(lowered).otherwise(None).alias("symbol"),
    )


def import_benchmark(
    session: Session, path: Path, dataset: str | None = None, actor: str = "cli", dry_run: bool = False
) -> str:
    """Import a tidy file, replacing any earlier import of the same dataset.
    One transaction: a rejected file leaves the database as it was. A dry run
    validates and counts but writes nothing."""
    frame, data, notes = read_csv_text(path)
    digest = checksum(data)
    dataset = dataset or path.stem
    if already_imported(session, "benchmark", digest, source=dataset):
        return f"{path.name}: already imported as {dataset}; nothing changed"
    values = tidy_to_values(frame, path.name, dataset)
    if frame.height == 0:
        # Not an empty dataset to replace the last one with: nothing is written.
        return f"{path.name}: no rows after the header; nothing to import"
    if dry_run:
        return "; ".join(
            [
                *notes,
                f"{path.name}: valid; would import {frame.height} rows, {values.height} values as {dataset} "
                "(dry run, nothing written)",
            ]
        )
    session.exec(delete(BenchmarkValue).where(BenchmarkValue.dataset == dataset))  # type: ignore[call-overload]
    store.bulk_insert(session.connection(), "benchmarkvalue", values)
    record_batch(session, "benchmark", dataset, path.name, digest, {"benchmarkvalue": values.height}, actor)
    store.bump_data_version(session, cohort=False)
    return "; ".join([*notes, f"{path.name}: {frame.height} rows, {values.height} values imported as {dataset}"])


def import_neighbours(session: Session, path: Path, actor: str = "cli", dry_run: bool = False) -> str:
    """DfE statistical neighbour groupings: each LA's ten neighbours (SN1..SN10) and closeness.
    A dry run validates and counts but writes nothing."""
    frame, data, notes = read_csv_text(path)
    problems = Problems(path.name)
    sn_cols = [f"SN{i}" for i in range(1, 11)]
    code_col = next((c for c in ("LA number", "LA num", "old_la_code") if c in frame.columns), None)
    if code_col is None:
        problems.add(1, "LA number", "required column is missing")
    for col in sn_cols:
        if col not in frame.columns:
            problems.add(1, col, "required column is missing")
    problems.raise_if_any(frame.height)
    assert code_col is not None
    if frame.height == 0:
        return f"{path.name}: no rows after the header; nothing to import"
    # Each SNi is followed by its closeness column, headed SNP every time.
    close_cols = [c for c in frame.columns if c.startswith("SNP")]
    # The DfE file lists superseded (pre-reorganisation) groupings after a
    # row reading "Old SNs:"; only the current groupings above it are kept.
    marker = frame.filter(pl.concat_str(pl.exclude("_line")).str.contains("(?i)old sns"))
    if marker.height:
        cut = int(marker["_line"][0])
        notes.append(
            f"{path.name}: {frame.filter(pl.col('_line') > cut).height} superseded groupings after line "
            f"{cut} ('Old SNs:') left out"
        )
        frame = frame.filter(pl.col("_line") < cut)
    rows = []
    seen: dict[str, int] = {}
    for row in frame.iter_rows(named=True):
        code = row[code_col]
        if not code.isdigit():
            problems.add(row["_line"], code_col, "not a local authority number", code)
            continue
        if code in seen:
            problems.add(row["_line"], code_col, f"duplicates line {seen[code]}", code)
            continue
        seen[code] = row["_line"]
        for rank, col in enumerate(sn_cols, start=1):
            neighbour = row[col]
            if not neighbour.isdigit():
                problems.add(row["_line"], col, "not a local authority number", neighbour)
                continue
            closeness = row[close_cols[rank - 1]] if rank - 1 < len(close_cols) else ""
            rows.append(
                {
                    "la_code": code,
                    "la_name": row.get("LA Name", "") or "",
                    "neighbour_code": neighbour,
                    "rank": rank,
                    "closeness": closeness,
                }
            )
    problems.raise_if_any(frame.height)
    digest = checksum(data)
    if already_imported(session, "neighbours", digest):
        return f"{path.name}: already imported; nothing changed"
    if dry_run:
        return "; ".join(
            [
                *notes,
                f"{path.name}: valid; would import {len(rows) // 10} authorities' neighbours "
                "(dry run, nothing written)",
            ]
        )
    session.exec(delete(StatNeighbour))  # type: ignore[call-overload]
    store.bulk_insert(session.connection(), "statneighbour", pl.DataFrame(rows))
    record_batch(
        session, "neighbours", "statistical neighbours", path.name, digest, {"statneighbour": len(rows)}, actor
    )
    return "; ".join([*notes, f"{path.name}: {len(rows) // 10} authorities' neighbours imported"])

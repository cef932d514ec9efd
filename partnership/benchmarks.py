"""Our figures beside England, our region, our authority's published figure
and our statistical neighbours, from imported DfE tidy files."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Engine, text

CARE_LEAVER_MEASURES = {
    "NEET": "Total not in education, employment or training",
    "Information not known": "Total information not known",
}
AGE_BANDS = {"17 to 18 years": (17, 18), "19 to 21 years": (19, 21)}


def load_indicator(engine: Engine, indicator: str) -> pl.DataFrame:
    """Every imported value of one indicator (all datasets, periods, geographies)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT time_period, geographic_level, geo_code, geo_name, region_code, filters, value, symbol "
                "FROM benchmarkvalue WHERE indicator = :indicator"
            ),
            {"indicator": indicator},
        ).fetchall()
    return pl.DataFrame(
        rows,
        schema={
            "time_period": pl.String,
            "geographic_level": pl.String,
            "geo_code": pl.String,
            "geo_name": pl.String,
            "region_code": pl.String,
            "filters": pl.String,
            "value": pl.Float64,
            "symbol": pl.String,
        },
        orient="row",
    )


def load_neighbours(engine: Engine, la_code: str) -> list[str]:
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                text("SELECT neighbour_code FROM statneighbour WHERE la_code = :code ORDER BY rank"), {"code": la_code}
            )
        ]


def _shown(value: float | None, symbol: str | None) -> str:
    return symbol if symbol else ("" if value is None else f"{value:g}")


def comparators(
    values: pl.DataFrame, la_code: str, neighbours: list[str], filters: str, time_period: str | None = None
) -> dict[str, str] | None:
    """Published values for one filter combination: our authority, its region,
    the mean of its statistical neighbours' values (those with a number), and
    England. Symbols (c, z, x, k, low, u) are shown as themselves, never as 0."""
    rows = values.filter(pl.col("filters") == filters)
    if rows.is_empty():
        return None
    period = time_period or rows["time_period"].max()
    rows = rows.filter(pl.col("time_period") == period)
    ours = rows.filter((pl.col("geographic_level") == "Local authority") & (pl.col("geo_code") == la_code))
    out: dict[str, str] = {"period": str(period)}
    if ours.height:
        out["authority"] = _shown(ours["value"][0], ours["symbol"][0])
        out["authority_name"] = ours["geo_name"][0]
        region = rows.filter(
            (pl.col("geographic_level") == "Regional") & (pl.col("geo_code") == ours["region_code"][0])
        )
        if region.height:
            out["region"] = _shown(region["value"][0], region["symbol"][0])
            out["region_name"] = region["geo_name"][0]
    sn = rows.filter((pl.col("geographic_level") == "Local authority") & pl.col("geo_code").is_in(neighbours))
    numbers = sn["value"].drop_nulls()
    if sn.height:
        out["neighbours"] = f"{numbers.mean():.1f}" if numbers.len() else "x"
        out["neighbours_n"] = f"{numbers.len()} of {len(neighbours)}"
    england = rows.filter(pl.col("geographic_level") == "National")
    if england.height:
        out["england"] = _shown(england["value"][0], england["symbol"][0])
    return out


def care_leaver_table(
    values: pl.DataFrame, la_code: str, neighbours: list[str], ours: dict[tuple[str, str], str]
) -> pl.DataFrame:
    """Rows: age band x measure; ours[(band, measure)] is our cohort's figure as the viewer may see it."""
    rows = []
    for band in AGE_BANDS:
        for measure, breakdown in CARE_LEAVER_MEASURES.items():
            filters = f"breakdown={breakdown}|care_leaver_age={band}"
            comp = comparators(values, la_code, neighbours, filters) or {}
            rows.append(
                {
                    "Age": band.replace(" years", ""),
                    "Measure (%)": measure,
                    "Our cohort": ours.get((band, measure), ""),
                    "Our authority (published)": comp.get("authority", ""),
                    "Region": comp.get("region", ""),
                    "Statistical neighbours (mean)": comp.get("neighbours", ""),
                    "England": comp.get("england", ""),
                    "Published year": comp.get("period", ""),
                }
            )
    return pl.DataFrame(rows)

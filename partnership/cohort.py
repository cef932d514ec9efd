"""Figures for the Cohort flow page (questions 1-7 and 10), each returned as
the viewer may see it: counts of 1 to 5 and rates built on them suppressed
when `suppressed` is set."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

import polars as pl

from models.codes import (
    CARE_STATUS,
    ETHNICITY_GROUPS,
    RISK_AGENCIES,
    RISK_LEVELS,
    SEND_STATUS,
    SERVICES,
    SEX,
)
from partnership import disclosure, metrics
from partnership.pseudonymise import SHORT_KEY_LENGTH
from partnership.queries import Cohort

SUPPRESSED = disclosure.SUPPRESSED
AGES = list(range(14, 26))
GAP_BINS = [
    ("No gap", 0, 0),
    ("1-28 days", 1, 28),
    ("29-90 days", 29, 90),
    ("91-180 days", 91, 180),
    ("Over 180 days", 181, 10**6),
]


def _count(n: int, suppressed: bool, threshold: int) -> int | str:
    return disclosure.suppress_count(n, threshold) if suppressed else n  # type: ignore[return-value]


def _pct(num: int, den: int, suppressed: bool, threshold: int) -> float | str | None:
    if den == 0:
        return None
    if suppressed:
        return disclosure.suppress_share(num, den, threshold, digits=1)
    return round(100.0 * num / den, 1)


def _rate(total: float, den: int, suppressed: bool, threshold: int) -> float | str | None:
    if den == 0:
        return None
    if suppressed and disclosure.is_small(den, threshold):
        return SUPPRESSED
    return f"{total / den:.2f}"  # type: ignore[return-value]


def _text(value: object) -> str | None:
    """A table cell as text (None stays empty)."""
    return None if value is None else str(value)


def words_count(value: int | str | None, threshold: int = 5) -> str:
    """A count for a sentence; tables hold counts as text, so both are taken."""
    if value is None:
        return "no"
    return f"fewer than {threshold + 1}" if value == SUPPRESSED else f"{int(value):,}"


def words_pct(value: float | str | None) -> str:
    """A share for a sentence; tables hold shares as text, so both are taken."""
    if value is None:
        return "no data"
    if value == SUPPRESSED:
        return "a suppressed share"
    return f"{float(value):.0f}%"


# --- 1. open by age -------------------------------------------------------------


def open_any_now(cohort: Cohort, as_of: dt.date) -> pl.DataFrame:
    return (
        cohort.episodes.filter(
            (pl.col("started_on") <= as_of) & (pl.col("ended_on").is_null() | (pl.col("ended_on") > as_of))
        )
        .select("young_person_id")
        .unique()
    )


def by_age(cohort: Cohort, as_of: dt.date, suppressed: bool, threshold: int) -> pl.DataFrame:
    """Young people open to any service now, by locality and single year of age 14-25."""
    ages = (
        cohort.young_people.join(open_any_now(cohort, as_of), left_on="id", right_on="young_person_id", how="semi")
        .with_columns(age=metrics.age_years(pl.col("birth_month"), as_of))
        .filter(pl.col("age").is_between(AGES[0], AGES[-1]))
    )
    localities = sorted(cohort.young_people["locality"].unique().to_list())
    grid = pl.DataFrame({"Locality": localities}).join(
        ages.group_by("locality", "age")
        .len("n")
        .pivot("age", index="locality", values="n")
        .rename({"locality": "Locality"}),
        on="Locality",
        how="left",
    )
    for age in AGES:
        if str(age) not in grid.columns:
            grid = grid.with_columns(pl.lit(0).alias(str(age)))
    grid = (
        grid.select("Locality", *[str(a) for a in AGES])
        .fill_null(0)
        .with_columns([pl.col(str(a)).cast(pl.Int64) for a in AGES])
    )
    if suppressed:
        return disclosure.suppress_table(grid, [str(a) for a in AGES], threshold=threshold)
    totals = grid.select(pl.lit("Total").alias("Locality"), *[pl.col(str(a)).sum() for a in AGES])
    out = pl.concat([grid, totals]).with_columns(Total=pl.sum_horizontal([str(a) for a in AGES]))
    return out.with_columns([pl.col(c).cast(pl.String) for c in out.columns if c != "Locality"])


# --- 1b. turning 18 -------------------------------------------------------------


def turning_18(cohort: Cohort, as_of: dt.date, suppressed: bool, threshold: int) -> pl.DataFrame:
    """Per locality: open young people turning 18 within 3, 6 and 12 months,
    and of the 12-month group how many have no agreed plan."""
    soon = metrics.turning_18_soon(cohort, as_of, 12).with_columns(
        months_to_18=((pl.col("b18").dt.year() - as_of.year) * 12 + pl.col("b18").dt.month() - as_of.month)
    )
    localities = sorted(cohort.young_people["locality"].unique().to_list())
    rows = []
    for loc in localities:
        mine = soon.filter(pl.col("locality") == loc)
        rows.append(
            {
                "Locality": loc,
                "Within 3 months": mine.filter(pl.col("months_to_18") <= 3).height,
                "Within 6 months": mine.filter(pl.col("months_to_18") <= 6).height,
                "Within 12 months": mine.height,
                "Of those, no agreed plan": mine.filter(~pl.col("plan_agreed")).height,
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "Locality": pl.String,
            "Within 3 months": pl.Int64,
            "Within 6 months": pl.Int64,
            "Within 12 months": pl.Int64,
            "Of those, no agreed plan": pl.Int64,
        },
    )
    cols = frame.columns[1:]
    if suppressed:
        # Nested columns: a row total would mean nothing, column totals are shown.
        return disclosure.suppress_table(frame, cols, threshold=threshold, row_totals=False)
    totals = frame.select(pl.lit("Total").alias("Locality"), *[pl.col(c).sum() for c in cols])
    return pl.concat([frame, totals]).with_columns([pl.col(c).cast(pl.String) for c in cols])


def current_service(cohort: Cohort, as_of: dt.date) -> pl.DataFrame:
    rank = {code: i for i, code in enumerate(SERVICES)}
    return (
        cohort.episodes.filter(
            (pl.col("started_on") <= as_of) & (pl.col("ended_on").is_null() | (pl.col("ended_on") > as_of))
        )
        .with_columns(rank=pl.col("service").replace_strict(rank, return_dtype=pl.Int32))
        .sort("rank")
        .group_by("young_person_id")
        .agg(service=pl.col("service").first())
    )


def latest_risk(cohort: Cohort) -> pl.DataFrame:
    """Highest level given on the latest assessment date."""
    order = {code: i for i, code in enumerate(RISK_LEVELS)}
    latest = cohort.risks.group_by("young_person_id").agg(last=pl.col("assessed_on").max())
    return (
        cohort.risks.join(latest, on="young_person_id")
        .filter(pl.col("assessed_on") == pl.col("last"))
        .with_columns(rank=pl.col("level").replace_strict(order, return_dtype=pl.Int32))
        .sort("rank", descending=True)
        .group_by("young_person_id")
        .agg(level=pl.col("level").first(), assessed=pl.col("last").first())
    )


def turning_18_list(cohort: Cohort, as_of: dt.date, months: int = 12) -> pl.DataFrame:
    """Case list for managers and the lead: pseudonymised key only."""
    soon = metrics.turning_18_soon(cohort, as_of, months)
    plans = cohort.plans.select("young_person_id", "started_on", "agreed_on")
    out = (
        soon.join(current_service(cohort, as_of), left_on="id", right_on="young_person_id", how="left")
        .join(plans, left_on="id", right_on="young_person_id", how="left")
        .join(latest_risk(cohort), left_on="id", right_on="young_person_id", how="left")
        .with_columns(
            months=(as_of.year - pl.col("birth_month").dt.year()) * 12 + as_of.month - pl.col("birth_month").dt.month()
        )
        .select(
            pl.col("pseudo_key").str.slice(0, SHORT_KEY_LENGTH).alias("Young person (key)"),
            pl.col("locality").alias("Locality"),
            pl.format("{}y {}m", pl.col("months") // 12, pl.col("months") % 12).alias("Age"),
            pl.col("b18").dt.strftime("%Y-%m-%d").alias("Turns 18"),
            pl.col("service").replace_strict(SERVICES, default="None open").alias("Current service"),
            pl.when(pl.col("agreed_on").is_not_null() & (pl.col("agreed_on") <= as_of))
            .then(pl.lit("Agreed"))
            .when(pl.col("started_on").is_not_null() & (pl.col("started_on") <= as_of))
            .then(pl.lit("Started"))
            .otherwise(pl.lit("None"))
            .alias("Transition plan"),
            pl.col("level").replace_strict(RISK_LEVELS, default="Not assessed").alias("Latest risk level"),
        )
        .sort("Turns 18", "Young person (key)")
    )
    return out


# --- 3. the gap -------------------------------------------------------------------


@dataclass(frozen=True)
class GapSummary:
    turned_18: int | str
    with_both: int | str
    over_28: float | str | None
    over_90: float | str | None
    no_adult_3m: float | str | None
    slipped: int | str
    intensive: int | str
    slipped_share: float | str | None
    median_gap: float | None


def gap_figures(
    trans: pl.DataFrame, start: dt.date, end: dt.date, suppressed: bool, threshold: int
) -> tuple[GapSummary, pl.DataFrame, pl.DataFrame]:
    """Summary, distribution of gap days, and slipped-through trend by quarter of 18th birthday."""
    period = trans.filter(pl.col("b18").is_between(start, end) & pl.col("window_3m"))
    gaps = period.filter(pl.col("gap_days").is_not_null())
    intensive = trans.filter(pl.col("b18").is_between(start, end) & pl.col("intensive") & pl.col("window_6m"))
    n_slipped = int(intensive["slipped"].sum())
    median = None
    if gaps.height and not (suppressed and disclosure.is_small(gaps.height, threshold)):
        median = float(gaps["gap_days"].median())  # type: ignore[arg-type]
    summary = GapSummary(
        turned_18=_count(period.height, suppressed, threshold),
        with_both=_count(gaps.height, suppressed, threshold),
        over_28=_pct(int((gaps["gap_days"] > 28).sum()), gaps.height, suppressed, threshold),
        over_90=_pct(int((gaps["gap_days"] > 90).sum()), gaps.height, suppressed, threshold),
        no_adult_3m=_pct(int((~period["picked_3m"]).sum()), period.height, suppressed, threshold),
        slipped=_count(n_slipped, suppressed, threshold),
        intensive=_count(intensive.height, suppressed, threshold),
        slipped_share=_pct(n_slipped, intensive.height, suppressed, threshold),
        median_gap=median,
    )
    dist = pl.DataFrame(
        {
            "Gap": [label for label, _, _ in GAP_BINS],
            "Young people": [int(gaps["gap_days"].is_between(lo, hi).sum()) for _, lo, hi in GAP_BINS],
        }
    )
    dist = (
        disclosure.suppress_table(dist, ["Young people"], threshold=threshold, row_totals=False)
        if suppressed
        else dist.with_columns(pl.col("Young people").cast(pl.String))
    )
    trend = (
        trans.filter(pl.col("intensive") & pl.col("window_6m"))
        .group_by(pl.col("b18").dt.truncate("1q").alias("quarter"))
        .agg(intensive=pl.len(), slipped=pl.col("slipped").sum())
        .sort("quarter")
    )
    trend = trend.select(
        pl.format("{} Q{}", pl.col("quarter").dt.year(), pl.col("quarter").dt.quarter()).alias(
            "Quarter of 18th birthday"
        ),
        pl.col("quarter").alias("quarter_start"),
        pl.col("intensive").alias("Intensive support before 18"),
        pl.col("slipped").cast(pl.Int64).alias("Slipped through the net"),
    )
    rows = []
    for r in trend.to_dicts():
        n, k = r["Intensive support before 18"], r["Slipped through the net"]
        rows.append(
            {
                **r,
                "Intensive support before 18": str(_count(n, suppressed, threshold)),
                "Slipped through the net": str(_count(k, suppressed, threshold)),
                "Share slipped (%)": _text(_pct(k, n, suppressed, threshold)),
            }
        )
    trend_out = pl.DataFrame(
        rows,
        schema={
            "Quarter of 18th birthday": pl.String,
            "quarter_start": pl.Date,
            "Intensive support before 18": pl.String,
            "Slipped through the net": pl.String,
            "Share slipped (%)": pl.String,
        },
    )
    return summary, dist, trend_out


# --- 4. outcomes by what happened at 18 --------------------------------------------


def outcomes_by_route(
    cohort: Cohort, trans: pl.DataFrame, start: dt.date, end: dt.date, suppressed: bool, threshold: int
) -> pl.DataFrame:
    """Outcome records at 19-21 made in the period, grouped by what happened
    at each young person's 18th birthday: plan timeliness, picked up or not."""
    people = trans.filter(pl.col("window_3m")).select("id", "plan", "picked_3m")
    obs = (
        metrics.outcomes_at(cohort, (19, 21))
        .filter(pl.col("observed_on").is_between(start, end))
        .join(people, left_on="young_person_id", right_on="id")
    )
    groups = [
        ("Plan by 17½", "plan", ["on time", "late", "none"]),
        ("Adult service by 18 + 3 months", "picked_3m", [True, False]),
    ]
    labels = {
        "on time": "Agreed on time",
        "late": "Agreed late",
        "none": "No plan",
        True: "Picked up",
        False: "Not picked up",
    }
    rows = []
    for title, col, values in groups:
        for value in values:
            mine = obs.filter(pl.col(col) == value)
            yp = mine["young_person_id"].n_unique()
            neet, home = int(mine["neet"].sum()), int(mine["homeless"].sum())
            rows.append(
                {
                    "What happened at 18": title,
                    "Group": labels[value],
                    "Young people": str(_count(yp, suppressed, threshold)),
                    "Records at 19-21": str(_count(mine.height, suppressed, threshold)),
                    "NEET (%)": _text(_pct(neet, mine.height, suppressed, threshold)),
                    "Homeless or emergency housing (%)": _text(_pct(home, mine.height, suppressed, threshold)),
                    "Missing episodes per young person": _text(
                        _rate(float(mine["missing_episodes"].sum()), yp, suppressed, threshold)
                    ),
                    "Crisis contacts per young person": _text(
                        _rate(float(mine["crisis"].sum()), yp, suppressed, threshold)
                    ),
                }
            )
    return pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String))


def our_care_leaver_figures(
    cohort: Cohort, start: dt.date, end: dt.date, suppressed: bool, threshold: int
) -> dict[tuple[str, str], str]:
    """NEET and 'information not known' shares of our records in the period,
    in the age bands and words DfE publishes for care leavers."""
    out: dict[tuple[str, str], str] = {}
    for band, ages in (("17 to 18 years", (17, 18)), ("19 to 21 years", (19, 21))):
        obs = metrics.outcomes_at(cohort, ages).filter(pl.col("observed_on").is_between(start, end))
        not_known = int((pl.Series(obs["activity"]).is_null() | (obs["activity"] == "0")).sum())
        for measure, k in (("NEET", int(obs["neet"].sum())), ("Information not known", not_known)):
            value = _pct(k, obs.height, suppressed, threshold)
            out[(band, measure)] = "" if value is None else str(value)
    return out


# --- 5. shared view of risk --------------------------------------------------------


def risk_views(
    cohort: Cohort, suppressed: bool, threshold: int, window_days: int = 90
) -> tuple[dict[str, object], pl.DataFrame]:
    agree = metrics.risk_agreement(cohort, window_days)
    n, k = agree.height, int(agree["agree"].sum())
    summary = {"assessed": _count(n, suppressed, threshold), "agree": _pct(k, n, suppressed, threshold)}
    first = cohort.risks.group_by("young_person_id").agg(first=pl.col("assessed_on").min())
    latest = (
        cohort.risks.join(first, on="young_person_id")
        .filter((pl.col("assessed_on") - pl.col("first")).dt.total_days() <= window_days)
        .sort("assessed_on")
        .group_by("young_person_id", "agency")
        .agg(level=pl.col("level").last())
    )
    rows = []
    for a, b in itertools.combinations(RISK_AGENCIES, 2):
        both = latest.filter(pl.col("agency") == a).join(
            latest.filter(pl.col("agency") == b), on="young_person_id", suffix="_b"
        )
        differ = int((both["level"] != both["level_b"]).sum())
        rows.append({"Agencies": f"{RISK_AGENCIES[a]} and {RISK_AGENCIES[b]}", "n": both.height, "differ": differ})
    pairs = pl.DataFrame(rows).with_columns(
        share=pl.when(pl.col("n") > 0).then(pl.col("differ") / pl.col("n")).otherwise(None)
    )
    pairs = pairs.sort(["share", "n"], descending=True, nulls_last=True)
    counts = list(zip(pairs["differ"].to_list(), pairs["n"].to_list(), strict=True))
    out = pairs.select(
        "Agencies",
        pl.Series("Young people assessed by both", [str(_count(n, suppressed, threshold)) for _, n in counts]),
        pl.Series("Levels differ (%)", [_text(_pct(k, n, suppressed, threshold)) for k, n in counts], dtype=pl.String),
    )
    return summary, out


# --- 6. who is over-represented -----------------------------------------------------


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion k/n."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (centre - half, centre + half)


CHARACTERISTICS = {
    "Sex": ("sex", SEX),
    "Ethnicity": ("ethnicity", ETHNICITY_GROUPS),
    "SEND": ("send", SEND_STATUS),
    "Care status": ("care_status", CARE_STATUS),
}


def _hidden(counts: list[int], suppressed: bool, threshold: int) -> list[bool]:
    """Primary and secondary suppression down one column whose total is shown."""
    if not suppressed or not counts:
        return [False] * len(counts)
    mask = disclosure.suppression_mask([[c] for c in counts], threshold, row_totals=False, col_totals=True)
    return [row[0] for row in mask]


def representation(focus: pl.DataFrame, base: pl.DataFrame, suppressed: bool, threshold: int) -> pl.DataFrame:
    """Share of each group among `focus` against its share of `base` (the
    cohort the focus is drawn from): ratio and 95% Wilson interval. The base
    share is taken as fixed; the interval is the focus share's, divided by it."""
    rows = []
    n_focus, n_base = focus.height, base.height
    for title, (col, labels) in CHARACTERISTICS.items():
        codes = [c for c in labels if int((base[col] == c).sum()) > 0]
        ks = [int((focus[col] == c).sum()) for c in codes]
        ms = [int((base[col] == c).sum()) for c in codes]
        hide_k, hide_m = _hidden(ks, suppressed, threshold), _hidden(ms, suppressed, threshold)
        for code, k, m, hk, hm in zip(codes, ks, ms, hide_k, hide_m, strict=True):
            q = m / n_base
            lo, hi = wilson(k, n_focus)
            ratio = (k / n_focus) / q if n_focus else math.nan
            hide = hk or hm
            flag = "Over-represented" if lo / q > 1 else "Under-represented" if hi / q < 1 else ""
            rows.append(
                {
                    "Characteristic": title,
                    "Group": labels[code],
                    "In focus group": SUPPRESSED if hk else str(k),
                    "Share of focus group (%)": SUPPRESSED if hk else (f"{100 * k / n_focus:.1f}" if n_focus else None),
                    "Share of cohort (%)": SUPPRESSED if hm else f"{100 * q:.1f}",
                    "Ratio": SUPPRESSED if hide else (f"{ratio:.2f}" if n_focus else None),
                    "95% interval": SUPPRESSED if hide else (f"{lo / q:.2f} to {hi / q:.2f}" if n_focus else None),
                    "Flag": "" if hide else flag,
                    "ratio_value": None if hide or not n_focus else ratio,
                    "lo": None if hide or not n_focus else lo / q,
                    "hi": None if hide or not n_focus else hi / q,
                }
            )
    # A full schema even with no rows: an empty cohort is a normal case.
    text_cols = [
        "Characteristic",
        "Group",
        "In focus group",
        "Share of focus group (%)",
        "Share of cohort (%)",
        "Ratio",
        "95% interval",
        "Flag",
    ]
    schema = {**dict.fromkeys(text_cols, pl.String), "ratio_value": pl.Float64, "lo": pl.Float64, "hi": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def representation_tables(
    cohort: Cohort, trans: pl.DataFrame, start: dt.date, end: dt.date, suppressed: bool, threshold: int
) -> dict[str, tuple[pl.DataFrame, int | str, int | str]]:
    intensive = trans.filter(pl.col("b18").is_between(start, end) & pl.col("intensive") & pl.col("window_6m"))
    slipped = intensive.filter(pl.col("slipped"))
    exploited = cohort.young_people.filter(pl.col("cce") | pl.col("cse"))
    return {
        "slipped": (
            representation(slipped, intensive, suppressed, threshold),
            _count(slipped.height, suppressed, threshold),
            _count(intensive.height, suppressed, threshold),
        ),
        "exploited": (
            representation(exploited, cohort.young_people, suppressed, threshold),
            _count(exploited.height, suppressed, threshold),
            _count(cohort.young_people.height, suppressed, threshold),
        ),
    }


@dataclass
class CohortPage:
    flow_people: int | str
    flow_hidden: int
    flow_links: pl.DataFrame
    flow_nodes: pl.DataFrame
    flow_ribbons: pl.DataFrame
    by_age: pl.DataFrame
    turning_18: pl.DataFrame
    case_list: pl.DataFrame | None
    gap: GapSummary
    gap_distribution: pl.DataFrame
    gap_trend: pl.DataFrame
    outcomes: pl.DataFrame
    risk_summary: dict[str, object]
    risk_pairs: pl.DataFrame
    representation: dict[str, tuple[pl.DataFrame, int | str, int | str]]
    care_leavers: dict[tuple[str, str], str]


def build_page(
    cohort: Cohort, as_of: dt.date, period: str, suppressed: bool, show_rows: bool, threshold: int = 5
) -> CohortPage:
    """Every figure on the cohort page for one scope, filter set and viewer kind."""
    from partnership import flow

    start, end = metrics.period_bounds(period, as_of)
    trans = metrics.transitions(cohort, as_of)
    people = flow.person_stages(cohort, as_of, start, end)
    flow_links, hidden = flow.drawable_links(people, suppressed, threshold)
    nodes, ribbons = flow.layout(flow_links)
    gap, dist, trend = gap_figures(trans, start, end, suppressed, threshold)
    risk_summary, risk_pairs = risk_views(cohort, suppressed, threshold)
    return CohortPage(
        flow_people=_count(people.height, suppressed, threshold),
        flow_hidden=hidden,
        flow_links=flow_links,
        flow_nodes=nodes,
        flow_ribbons=ribbons,
        by_age=by_age(cohort, as_of, suppressed, threshold),
        turning_18=turning_18(cohort, as_of, suppressed, threshold),
        case_list=turning_18_list(cohort, as_of) if show_rows and not suppressed else None,
        gap=gap,
        gap_distribution=dist,
        gap_trend=trend,
        outcomes=outcomes_by_route(cohort, trans, start, end, suppressed, threshold),
        risk_summary=risk_summary,
        risk_pairs=risk_pairs,
        representation=representation_tables(cohort, trans, start, end, suppressed, threshold),
        care_leavers=our_care_leaver_figures(cohort, start, end, suppressed, threshold),
    )

"""The measure layer: every figure of the catalogue computed once, for one
scope, as releases that the disclosure step decides on.

A release is one population (people who turned 18, people with intensive
support, young people open now, ...) split into atoms, with every figure
published from it: for each locality in scope and for all of them together,
for the period asked for (a calendar year holds its quarters too). So a
locality's view is a slice of the same released figures as the
partnership's, the quarterly trend and the year's summary are one release,
and a board member combining views finds each figure hidden the same way
everywhere.

Keys are `measure|period|slice|detail`: the measure id of the catalogue,
the period ("2025", "12m", "now", a quarter "2025-Q3" or a month
"2026-10"), the slice ("all" or a locality's name) and what part of the
measure it is. Nothing here knows who is looking beyond `suppressed`,
which is handed to the disclosure step.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from models.codes import (
    CARE_STATUS,
    ETHNICITY_GROUPS,
    RISK_AGENCIES,
    SEND_STATUS,
    SEX,
)
from partnership import capacity, flow, metrics
from partnership.disclosure import Count, Derived, Median, Rate, Release, Released, Share, disclose, merge
from partnership.queries import Cohort

ALL = "all"
GAP_BANDS = [
    ("No gap", 0, 0),
    ("1-28 days", 1, 28),
    ("29-90 days", 29, 90),
    ("91-180 days", 91, 180),
    ("Over 180 days", 181, 10**6),
]
NO_GAP_MEASURED = "No gap measured"
CHARACTERISTICS: dict[str, tuple[str, dict[str, str]]] = {
    "Sex": ("sex", SEX),
    "Ethnicity": ("ethnicity", ETHNICITY_GROUPS),
    "SEND": ("send", SEND_STATUS),
    "Care status": ("care_status", CARE_STATUS),
}
ROUTE_GROUPS: list[tuple[str, str, str, object]] = [
    ("Plan by 17½", "Agreed on time", "plan", "on time"),
    ("Plan by 17½", "Agreed late", "plan", "late"),
    ("Plan by 17½", "No plan", "plan", "none"),
    ("Adult service by 18 + 3 months", "Picked up", "picked", True),
    ("Adult service by 18 + 3 months", "Not picked up", "picked", False),
]
RISK_PAIRS = list(itertools.combinations(RISK_AGENCIES, 2))
AGES = list(range(14, 26))
TURNING_BANDS = {"3": ("0-3",), "6": ("0-3", "4-6"), "12": ("0-3", "4-6", "7-12")}


def key(*parts: object) -> str:
    return "|".join(str(p) for p in parts)


def quarter_label(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


# --- periods ------------------------------------------------------------------------


def period_months(period: str, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """First and last month of a period: a calendar year (to the as-of month
    for the current one) or '12m', the 12 months to the as-of month."""
    last = as_of.replace(day=1)
    if period.isdigit():
        year = int(period)
        return dt.date(year, 1, 1), min(dt.date(year, 12, 1), last)
    first_year, first_month = divmod(last.year * 12 + last.month - 1 - 11, 12)
    return dt.date(first_year, first_month + 1, 1), last


def period_words(period: str, as_of: dt.date) -> str:
    first, last = period_months(period, as_of)
    if period.isdigit():
        return period if last.month == 12 else f"{period} (to {last:%B})"
    return f"the 12 months {first:%B %Y} to {last:%B %Y}"


def birthday_words(period: str, as_of: dt.date) -> str:
    """The 18th birthdays a figure about crossing 18 counts, in words: those
    of the period six months or more before the figures' date."""
    first, last = period_months(period, as_of)
    last = min(last, _six_months_before(as_of))
    if last < first:
        return f"{period_words(period, as_of)} (nobody is six months past an 18th birthday in it yet)"
    if period.isdigit() and first.month == 1 and last.month == 12:
        return period
    if first.year == last.year:
        return f"{first:%B} to {last:%B %Y}" if first != last else f"{first:%B %Y}"
    return f"{first:%B %Y} to {last:%B %Y}"


def ended_quarters(year: int, as_of: dt.date) -> list[dt.date]:
    """Quarters of `year` that have ended by the as-of date: a quarter in
    progress would swing the latest value."""
    out = []
    for q in range(4):
        start = dt.date(year, 3 * q + 1, 1)
        end = dt.date(year + (q == 3), (3 * q + 3) % 12 + 1, 1)
        if end <= as_of.replace(day=1) or end <= as_of:
            out.append(start)
    return out


def closed_quarters(year: int, as_of: dt.date) -> list[dt.date]:
    """Quarters of `year` whose every young person is six months past their
    18th birthday (the last month's window closed): the quarters of the
    figures about crossing 18. A quarter still filling would show a part of
    its people, and its next value would give the rest away."""
    return [q for q in ended_quarters(year, as_of) if q.replace(month=q.month + 2) <= _six_months_before(as_of)]


def _six_months_before(as_of: dt.date) -> dt.date:
    """The last 18th-birthday month whose 6-month window has closed by as_of
    (metrics.transitions: the birthday, a month's first day, plus six months
    is at most as_of)."""
    months = as_of.year * 12 + as_of.month - 1 - 6
    return dt.date(months // 12, months % 12 + 1, 1)


def _months_in(column: str, first: dt.date, last: dt.date) -> pl.Expr:
    return pl.col(column).is_between(first, last)


def _quarter_months(q: dt.date) -> list[dt.date]:
    return [dt.date(q.year, q.month + i, 1) for i in range(3)]


def _where(slice_: str, **more: object) -> dict[str, object]:
    return ({} if slice_ == ALL else {"locality": slice_}) | more


# A population weighed (see weigh): each row stands for this many young people.
WEIGHT = "weight"


def weigh(people: pl.DataFrame, summed: tuple[str, ...] = ()) -> pl.DataFrame:
    """Young people alike in every column as one row, with how many they are
    (WEIGHT) and the columns in `summed` added up. A quarterly series is one
    release per year, each a filter and a count of its population: on a
    hundred thousand young people, fourteen years of eighteen series took a
    second of the first view after new data; on a few thousand weighed rows,
    a tenth of that. Every count is the same."""
    keys = [c for c in people.columns if c not in summed]
    return people.group_by(keys).agg(pl.len().alias(WEIGHT), *(pl.col(c).sum() for c in summed))


def _headcount(frame: pl.DataFrame) -> pl.Expr:
    """How many young people a group of `frame`'s rows stands for, as n: its
    rows, or their weights where the frame is weighed."""
    return (pl.col(WEIGHT).sum() if WEIGHT in frame.columns else pl.len()).cast(pl.Int64).alias("n")


def _atoms(frame: pl.DataFrame, dims: list[str]) -> pl.DataFrame:
    return frame.group_by(dims).agg(_headcount(frame))


def yearly_atoms(
    people: pl.DataFrame, column: str, dims: list[str], as_of: dt.date, summed: tuple[str, ...] = ()
) -> tuple[dict[int, pl.DataFrame], pl.DataFrame]:
    """The atoms of a population's release for every calendar year at once
    (one query, not a filter and a count for each of fourteen years), with
    an empty frame for a year nobody is in. `column` is the month (a year's
    release reads its months to the as-of month) or the quarter (its ended
    quarters) each person falls in; `summed` columns are added up beside n."""
    ended = (
        pl.col(column).dt.offset_by("3mo") <= as_of if column == "quarter" else pl.col(column) <= as_of.replace(day=1)
    )
    grouped = (
        people.filter(ended)
        .group_by(pl.col(column).dt.year().alias("_year"), *dims)
        .agg(_headcount(people), *(pl.col(c).sum() for c in summed))
    )
    parts = grouped.partition_by("_year", as_dict=True, include_key=False)
    return {int(year): frame for (year,), frame in parts.items()}, grouped.clear().drop("_year")


def _locality_lines(release: Release, slices: list[str]) -> None:
    """Every count of the partnership is the sum of the same count for each
    locality: one line per count (disclosure checks that it holds)."""
    localities = [s for s in slices if s != ALL]
    if len(localities) < 2:
        return
    keys = {i.key for i in release.items if isinstance(i, Count) and i.published}
    for k in keys:
        parts = k.split("|")
        if len(parts) < 3 or parts[2] != ALL:
            continue
        each = ["|".join([*parts[:2], loc, *parts[3:]]) for loc in localities]
        if all(e in keys for e in each):
            release.line(k, each)


# --- people behind each release ------------------------------------------------------


def transition_people(cohort: Cohort, as_of: dt.date) -> pl.DataFrame:
    """Everyone six months past their 18th birthday (flow.transition_people):
    month of the 18th birthday, locality, the four flow stages, gap band and
    days, intensive support and whether they slipped through the net."""
    people = flow.transition_people(cohort, as_of)
    band = pl.lit(NO_GAP_MEASURED)
    for label, lo, hi in reversed(GAP_BANDS):
        band = pl.when(pl.col("gap_days").is_between(lo, hi)).then(pl.lit(label)).otherwise(band)
    return people.select(
        "id",
        pl.col("b18").dt.truncate("1mo").alias("month"),
        "locality",
        *flow.STAGES,
        band.alias("gap_band"),
        "gap_days",
        "intensive",
        "slipped",
        "sex",
        "ethnicity",
        "send",
        "care_status",
    )


def slipped_population(trans: pl.DataFrame) -> pl.DataFrame:
    """Who "slipped through the net" counts among (of metrics.transitions):
    intensive support before 18, the 6-month window closed. The measure and
    the managers' list of who slipped both read it."""
    return trans.filter(pl.col("intensive") & pl.col("window_6m"))


def slipped_people(cohort: Cohort, as_of: dt.date) -> pl.DataFrame:
    """Intensive support before 18, 6-month window closed, with characteristics."""
    return slipped_population(metrics.transitions(cohort, as_of)).select(
        pl.col("b18").dt.truncate("1mo").alias("month"),
        "locality",
        "slipped",
        "sex",
        "ethnicity",
        "send",
        "care_status",
    )


def outcome_people(cohort: Cohort, as_of: dt.date, first: dt.date, last: dt.date) -> pl.DataFrame:
    """Young people aged 17-18 or 19-21 with an activity record in the months
    first..last, each once per age band, by their latest record there; with
    what happened at 18 and their missing and crisis totals over the records."""
    records = (
        metrics.outcomes_at(cohort, (17, 21))
        .filter(pl.col("observed_on").dt.truncate("1mo").is_between(first, last))
        .with_columns(band=pl.when(pl.col("age") <= 18).then(pl.lit("17-18")).otherwise(pl.lit("19-21")))
        .sort("observed_on")
    )
    not_known = pl.col("activity").is_null() | (pl.col("activity") == "0")
    people = records.group_by("young_person_id", "band").agg(
        pl.col("locality").last(),
        pl.col("neet").last(),
        pl.col("eet").last(),
        not_known.last().alias("not_known"),
        pl.col("homeless").last(),
        pl.col("missing_episodes").sum().alias("missing_total"),
        pl.col("crisis").sum().alias("crisis_total"),
    )
    routes = metrics.transitions(cohort, as_of).select(
        pl.col("id").alias("young_person_id"), "plan", pl.col("picked_3m").alias("picked")
    )
    return people.join(routes, on="young_person_id", how="left")


def risk_people(cohort: Cohort, window_days: int = 90) -> pl.DataFrame:
    """Per young person assessed: month of the first assessment, whether two or
    more agencies assessed within `window_days` and agreed, and each pair's status
    (once per cohort version: see metrics.transitions_base)."""
    return cohort.derived(("risk_people", window_days), lambda: _risk_people(cohort, window_days))


def _risk_people(cohort: Cohort, window_days: int) -> pl.DataFrame:
    first = cohort.risks.group_by("young_person_id").agg(first=pl.col("assessed_on").min())
    latest = (
        cohort.risks.join(first, on="young_person_id")
        .filter((pl.col("assessed_on") - pl.col("first")).dt.total_days() <= window_days)
        .sort("assessed_on")
        .group_by("young_person_id", "agency")
        .agg(level=pl.col("level").last())
    )
    wide = latest.pivot("agency", index="young_person_id", values="level")
    for agency in RISK_AGENCIES:
        if agency not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.String).alias(agency))
    pairs = [
        pl.when(pl.col(a).is_null() | pl.col(b).is_null())
        .then(pl.lit("none"))
        .when(pl.col(a) == pl.col(b))
        .then(pl.lit("same"))
        .otherwise(pl.lit("differ"))
        .alias(f"{a}-{b}")
        for a, b in RISK_PAIRS
    ]
    agencies = pl.sum_horizontal([pl.col(a).is_not_null().cast(pl.Int32) for a in RISK_AGENCIES])
    # One level among them: the lowest and highest agree (nulls, agencies that did not assess, are skipped).
    # A list of levels and its n_unique took half of this function's time.
    one_level = pl.min_horizontal(list(RISK_AGENCIES)) == pl.max_horizontal(list(RISK_AGENCIES))
    return (
        wide.join(first, on="young_person_id")
        .join(cohort.young_people.select(pl.col("id").alias("young_person_id"), "locality"), on="young_person_id")
        .select(
            "young_person_id",  # so a filtered cohort keeps its own rows (Cohort.narrowed)
            pl.col("first").dt.truncate("1mo").alias("month"),
            "locality",
            (agencies >= 2).alias("assessed2"),
            ((agencies >= 2) & one_level).alias("agree"),
            *pairs,
            *RISK_AGENCIES,  # each agency's level: what the board's joint release is worked out from
        )
    )


def open_now_people(cohort: Cohort, as_of: dt.date) -> pl.DataFrame:
    """Open to any service now and aged 14-25: age, whether a children's
    service is open, months to 18 (band) and whether a plan is agreed."""
    any_open = cohort.episodes.filter(
        (pl.col("started_on") <= as_of) & (pl.col("ended_on").is_null() | (pl.col("ended_on") > as_of))
    )
    children = any_open.filter(pl.col("service").is_in(metrics.CHILDREN)).select("young_person_id").unique()
    agreed = cohort.plans.filter(pl.col("agreed_on").is_not_null() & (pl.col("agreed_on") <= as_of))
    months_to_18 = (pl.col("b18").dt.year() - as_of.year) * 12 + pl.col("b18").dt.month() - as_of.month
    band = (
        pl.when((pl.col("b18") <= as_of) | ~pl.col("open_children"))
        .then(None)
        .when(months_to_18 <= 3)
        .then(pl.lit("0-3"))
        .when(months_to_18 <= 6)
        .then(pl.lit("4-6"))
        .when(months_to_18 <= 12)
        .then(pl.lit("7-12"))
    )
    return (
        metrics.with_ages(cohort.young_people)
        .join(any_open.select("young_person_id").unique(), left_on="id", right_on="young_person_id", how="semi")
        .with_columns(
            age=metrics.age_years(pl.col("birth_month"), as_of),
            open_children=pl.col("id").is_in(children["young_person_id"].implode()),
            plan_agreed=pl.col("id").is_in(agreed["young_person_id"].implode()),
        )
        .filter(pl.col("age").is_between(AGES[0], AGES[-1]))
        .with_columns(band18=band)
        .select("id", "locality", "age", "open_children", "band18", "plan_agreed")
    )


# --- releases ------------------------------------------------------------------------------


def _representation(
    release: Release,
    measure: str,
    base: str,
    slice_: str,
    focus_col: str,
    focus_value: object,
    title: str,
    where: dict[str, object],
    k_key: str,
    n_key: str,
    atoms: pl.DataFrame | None = None,
) -> None:
    """Counts and shares by one characteristic (`title`) for a focus group
    (count `k_key`) within a base population (count `n_key`, both already in
    the release), with the ratio of the shares and its 95% Wilson interval.
    Read from the release's own atoms (locality, focus, characteristic: a few
    dozen rows), not from the people again: a polars query costs about half
    a millisecond whatever its size, and this ran four for each slice."""
    col, labels = CHARACTERISTICS[title]
    counted: dict[object, tuple[int, int]] = {}
    for row in (release.atoms if atoms is None else atoms).iter_rows(named=True):
        if slice_ != ALL and row["locality"] != slice_:
            continue
        m, k = counted.get(row[col], (0, 0))
        counted[row[col]] = (m + row["n"], k + (row["n"] if row[focus_col] == focus_value else 0))
    n_base = sum(m for m, _k in counted.values())
    n_focus = sum(k for _m, k in counted.values())
    present = [c for c in labels if counted.get(c, (0, 0))[0]]
    release.line(k_key, [key(measure, base, slice_, title, c, "k") for c in present])
    release.line(n_key, [key(measure, base, slice_, title, c, "m") for c in present])
    for code in labels:
        m, k = counted.get(code, (0, 0))
        if m == 0:
            continue
        g = key(measure, base, slice_, title, code)
        release.add(
            Count(g + "|k", where | {focus_col: focus_value, col: code}),
            Count(g + "|m", where | {col: code}),
            Share(g + "|share_focus", g + "|k", k_key),
            Share(g + "|share_base", g + "|m", n_key),
        )
        if n_focus and n_base:
            q = m / n_base
            lo, hi = wilson(k, n_focus)
            ratio = (k / n_focus) / q
            flag = "Over-represented" if lo / q > 1 else "Under-represented" if hi / q < 1 else ""
            deps = (g + "|k", g + "|m", k_key, n_key)
            release.add(
                Derived(g + "|ratio", round(ratio, 2), deps),
                Derived(g + "|low", round(lo / q, 2), deps),
                Derived(g + "|high", round(hi / q, 2), deps),
                Derived(g + "|flag", flag, deps),
            )


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion k/n."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (centre - half, centre + half)


def flow_release(people: pl.DataFrame, period: str, as_of: dt.date, slices: list[str]) -> Release:
    """The flow across 18 for one period: turned 18, each stage's groups
    (nodes), the bands between adjacent stages (links) and the shares picked
    up and not picked up by an adult service. A band of 1 to the threshold is
    left out for board-level viewers rather than shown as c.

    The atoms are the bands (each young person is on one band between each
    pair of stages) and the audit is told that the people into a middle stage
    are the people out of it: by flow decomposition, what a reader can work
    out from nodes and bands is exactly this, with far fewer atoms than the
    young people's whole paths."""
    first, last = period_months(period, as_of)
    mine = people.filter(_months_in("month", first, last))
    bands = pl.concat(
        [
            mine.select(
                "locality",
                pl.lit(i, dtype=pl.Int32).alias("step"),
                pl.col(a).alias("src"),
                pl.col(b).alias("tgt"),
            )
            for i, (a, b) in enumerate(itertools.pairwise(flow.STAGES))
        ]
    )
    release = Release(key("flow", period), _atoms(bands, ["locality", "step", "src", "tgt"]))
    nodes = {s: sorted(mine[s].unique().to_list()) for s in flow.STAGES}
    if "No adult service" not in nodes["adult_3m"]:
        nodes["adult_3m"].append("No adult service")
    pairs = {
        i: mine.select(a, b).unique().sort(a, b).rows() for i, (a, b) in enumerate(itertools.pairwise(flow.STAGES))
    }
    last_step = len(flow.STAGES) - 2
    adult = [v for v in nodes["adult_3m"] if v != "No adult service"]
    for s in slices:
        w = _where(s)
        total = key("turned_18", period, s)
        release.add(Count(total, w | {"step": 0}, headline=True))
        for index, (stage, values) in enumerate(nodes.items()):
            for v in values:
                node = key("flow", period, s, "node", stage, v)
                if index <= last_step:
                    release.add(Count(node, w | {"step": index, "src": v}))
                    if index > 0:
                        into = node + "|in"
                        release.add(Count(into, w | {"step": index - 1, "tgt": v}, published=False))
                        release.same(node, into)
                else:
                    release.add(Count(node, w | {"step": last_step, "tgt": v}))
            release.line(total, [key("flow", period, s, "node", stage, v) for v in values])
        for i, rows in pairs.items():
            release.add(
                *(
                    Count(
                        key("flow", period, s, "link", i, x, y),
                        w | {"step": i, "src": x, "tgt": y},
                        unlisted_when_small=True,
                    )
                    for x, y in rows
                )
            )
            a, b = flow.STAGES[i], flow.STAGES[i + 1]
            for x in nodes[a]:
                outs = [key("flow", period, s, "link", i, x, y) for xx, y in rows if xx == x]
                release.line(key("flow", period, s, "node", a, x), outs)
            for y in nodes[b]:
                ins = [key("flow", period, s, "link", i, x, y) for x, yy in rows if yy == y]
                release.line(key("flow", period, s, "node", b, y), ins)
        none_node = key("flow", period, s, "node", "adult_3m", "No adult service")
        picked = key("adult_service_3m", period, s, "k")
        release.add(
            Count(picked, w | {"step": 2, "src": adult}, published=False),
            Share(key("adult_service_3m", period, s), picked, total, digits=0),
            Share(key("no_adult_service_3m", period, s), none_node, total, digits=0),
        )
    _locality_lines(release, slices)
    return release


def gap_release(
    people: pl.DataFrame, period: str, as_of: dt.date, slices: list[str], breakdowns: list[str] | None = None
) -> Release:
    """The gap between children's and adult services: how many had a gap
    measured, the shares over 28 and 90 days, the median, and the bands (for
    the slices in `breakdowns`: the partnership only at board level)."""
    first, last = period_months(period, as_of)
    mine = people.filter(_months_in("month", first, last))
    release = Release(key("gap", period), _atoms(mine, ["locality", "gap_band"]))
    measured = [b for b, _, _ in GAP_BANDS]
    for s in slices:
        w = _where(s)
        gap_n = key("gap_days", period, s, "n")
        if breakdowns is None or s in breakdowns:
            release.add(*(Count(key("gap_days", period, s, "band", b), w | {"gap_band": b}) for b in measured))
            release.line(gap_n, [key("gap_days", period, s, "band", b) for b in measured])
        release.add(
            Count(gap_n, w | {"gap_band": measured}, headline=True),
            Count(key("gap_over_28", period, s, "k"), w | {"gap_band": measured[2:]}, published=False),
            Count(key("gap_over_90", period, s, "k"), w | {"gap_band": measured[3:]}, published=False),
            Share(key("gap_over_28", period, s), key("gap_over_28", period, s, "k"), gap_n, digits=0),
            Share(key("gap_over_90", period, s), key("gap_over_90", period, s, "k"), gap_n, digits=0),
        )
        gaps = mine.filter(pl.col("gap_band") != NO_GAP_MEASURED)
        if s != ALL:
            gaps = gaps.filter(pl.col("locality") == s)
        median = float(gaps["gap_days"].median()) if gaps.height else None  # type: ignore[arg-type]
        release.add(Median(key("gap_days", period, s, "median"), median, gap_n))
    _locality_lines(release, slices)
    return release


def pickup_people(people: pl.DataFrame) -> pl.DataFrame:
    """Theme 1's population: intensive support before 18, 6-month window closed (slipped's population)."""
    return people.filter(pl.col("intensive")).select(
        pl.col("month").dt.truncate("1q").alias("quarter"),
        "locality",
        (pl.col("adult_3m") != "No adult service").alias("picked"),
    )


def slipped_release(
    people: pl.DataFrame,
    period: str,
    as_of: dt.date,
    slices: list[str],
    breakdowns: list[str] | None = None,
    atoms: pl.DataFrame | None = None,
) -> Release:
    """Slipped through the net for the period, and by quarter for the slices
    in `breakdowns` (the partnership only at board level). `atoms`, where
    given, are the period's already (locality, slipped, month)."""
    quarters = closed_quarters(int(period), as_of) if period.isdigit() else []
    if atoms is None:
        mine = people.filter(_months_in("month", *period_months(period, as_of)))
        atoms = _atoms(mine, ["locality", "slipped"] + (["month"] if quarters else []))
    release = Release(key("slipped", period), atoms)
    for s in slices:
        w = _where(s)
        n, k = key("slipped", period, s, "n"), key("slipped", period, s, "k")
        release.add(Count(n, w, headline=True), Count(k, w | {"slipped": True}, headline=True))
        release.add(Share(key("slipped", period, s), k, n, digits=0))
        if breakdowns is not None and s not in breakdowns:
            continue
        for q in quarters:
            ql = quarter_label(q)
            wq = w | {"month": _quarter_months(q)}
            qn, qk = key("slipped_through", ql, s, "n"), key("slipped_through", ql, s, "k")
            release.add(Count(qn, wq), Count(qk, wq | {"slipped": True}), Share(key("slipped_through", ql, s), qk, qn))
        if quarters:
            for part in ("n", "k"):
                qs = [key("slipped_through", quarter_label(q), s, part) for q in quarters]
                release.line(key("slipped", period, s, part), qs)
    _locality_lines(release, slices)
    return release


def representation_release(
    name: str,
    measure: str,
    base: str,
    people: pl.DataFrame,
    focus_col: str,
    totals: Callable[[str], tuple[str, str]],
    characteristic: str,
    slices: list[str],
    breakdowns: list[str],
    atoms: pl.DataFrame | None = None,
) -> Release:
    """One characteristic's breakdown of a focus group within its population
    (slipped through the net among those with intensive support; at risk of
    exploitation among everyone): a release of its own, with the totals it
    shares with the main release (disclosure.merge hides a total hidden in either).
    `atoms`, where given, are `people` already counted by (locality, focus, characteristic)."""
    col, _labels = CHARACTERISTICS[characteristic]
    if atoms is None:
        atoms = _atoms(people, ["locality", focus_col, col])
    release = Release(key(name, base, characteristic), atoms)
    for s in slices:
        w = _where(s)
        k, n = totals(s)
        release.add(Count(k, w | {focus_col: True}, headline=True), Count(n, w, headline=True))
        if s in breakdowns:
            _representation(release, measure, base, s, focus_col, True, characteristic, w, k, n)
    _locality_lines(release, slices)
    return release


def outcomes_release(people: pl.DataFrame, period: str, slices: list[str]) -> Release:
    dims = ["locality", "band", "neet", "eet", "not_known", "homeless", "plan", "picked"]
    release = Release(key("outcomes", period), _atoms(people, dims))
    for s in slices:
        w = _where(s)
        scoped = people if s == ALL else people.filter(pl.col("locality") == s)
        for band, measure in (("19-21", "neet_19_21"), ("17-18", "neet_17_18")):
            n = key(measure, period, s, "n")
            release.add(
                Count(n, w | {"band": band}, headline=True),
                Count(key(measure, period, s, "k"), w | {"band": band, "neet": True}, published=False),
                Share(key(measure, period, s), key(measure, period, s, "k"), n),
                Count(
                    key("activity_not_known", period, s, band, "k"),
                    w | {"band": band, "not_known": True},
                    published=False,
                ),
                Share(key("activity_not_known", period, s, band), key("activity_not_known", period, s, band, "k"), n),
            )
        n19 = key("neet_19_21", period, s, "n")
        release.add(
            Count(key("homeless_19_21", period, s, "k"), w | {"band": "19-21", "homeless": True}, published=False),
            Share(key("homeless_19_21", period, s), key("homeless_19_21", period, s, "k"), n19, digits=0),
        )
        older = scoped.filter(pl.col("band") == "19-21")
        for _title, label, col, value in ROUTE_GROUPS:
            g = key("outcomes_by_route", period, s, label)
            wg = w | {"band": "19-21", col: value}
            group = older.filter(pl.col(col) == value)
            release.add(
                Count(g + "|n", wg),
                Count(g + "|neet_k", wg | {"neet": True}, published=False),
                Count(g + "|homeless_k", wg | {"homeless": True}, published=False),
                Share(g + "|neet", g + "|neet_k", g + "|n"),
                Share(g + "|homeless", g + "|homeless_k", g + "|n"),
                Rate(g + "|missing", float(group["missing_total"].sum()), g + "|n"),
                Rate(g + "|crisis", float(group["crisis_total"].sum()), g + "|n"),
            )
        for title in dict.fromkeys(t for t, _, _, _ in ROUTE_GROUPS):
            groups = [key("outcomes_by_route", period, s, lab) + "|n" for t, lab, _, _ in ROUTE_GROUPS if t == title]
            release.line(n19, groups)
    _locality_lines(release, slices)
    return release


def risk_release(
    people: pl.DataFrame, period: str, as_of: dt.date, slices: list[str], atoms: pl.DataFrame | None = None
) -> Release:
    """Agreement on the level of risk, for the period and each of its quarters
    (`atoms`, where given: the period's, by locality, assessed2, agree and month)."""
    quarters = ended_quarters(int(period), as_of) if period.isdigit() else []
    if atoms is None:
        mine = people.filter(_months_in("month", *period_months(period, as_of)))
        atoms = _atoms(mine, ["locality", "assessed2", "agree"] + (["month"] if quarters else []))
    release = Release(key("risk", period), atoms)
    for s in slices:
        w = _where(s)
        n = key("risk_agreement", period, s, "n")
        release.add(
            Count(n, w | {"assessed2": True}, headline=True),
            Count(key("risk_agreement", period, s, "k"), w | {"agree": True}, published=False),
            Share(key("risk_agreement", period, s), key("risk_agreement", period, s, "k"), n, digits=0),
        )
        for q in quarters:
            ql = quarter_label(q)
            wq = w | {"month": _quarter_months(q)}
            qn, qk = key("risk_agreement_quarterly", ql, s, "n"), key("risk_agreement_quarterly", ql, s, "k")
            release.add(
                Count(qn, wq | {"assessed2": True}, published=False),
                Count(qk, wq | {"agree": True}, published=False),
                Share(key("risk_agreement_quarterly", ql, s), qk, qn),
            )
    _locality_lines(release, slices)
    return release


def risk_pair_release(
    people: pl.DataFrame,
    period: str,
    as_of: dt.date,
    slices: list[str],
    pair: str,
    atoms: pl.DataFrame | None = None,
) -> Release:
    """One pair of agencies: young people assessed by both, and the share whose levels differ."""
    if atoms is None:
        atoms = _atoms(people.filter(_months_in("month", *period_months(period, as_of))), ["locality", pair])
    release = Release(key("risk_pair", period, pair), atoms)
    for s in slices:
        w = _where(s)
        pn, pk = key("risk_pair_differ", period, s, pair, "n"), key("risk_pair_differ", period, s, pair, "k")
        release.add(
            Count(pn, w | {pair: ["same", "differ"]}),
            Count(pk, w | {pair: "differ"}, published=False),
            Share(key("risk_pair_differ", period, s, pair), pk, pn),
        )
    _locality_lines(release, slices)
    return release


def open_now_release(people: pl.DataFrame, slices: list[str]) -> Release:
    release = Release("open_now", _atoms(people, ["locality", "age", "open_children", "band18", "plan_agreed"]))
    for s in slices:
        w = _where(s)
        release.add(*(Count(key("open_by_age", "now", s, age), w | {"age": age}) for age in AGES))
        release.add(Count(key("open_by_age", "now", s, "total"), w, headline=True))
        release.add(Count(key("open_16_17", "now", s), w | {"age": [16, 17], "open_children": True}, headline=True))
        for months, bands in TURNING_BANDS.items():
            release.add(Count(key("turning_18", "now", s, months), w | {"band18": list(bands)}, headline=True))
            if months != "3":
                release.add(
                    Count(
                        key("turning_18_no_plan", "now", s, months), w | {"band18": list(bands), "plan_agreed": False}
                    )
                )
        release.line(key("open_by_age", "now", s, "total"), [key("open_by_age", "now", s, age) for age in AGES])
    _locality_lines(release, slices)
    return release


def share_series_release(
    name: str,
    measure: str,
    people: pl.DataFrame,
    flag: str,
    as_of: dt.date,
    slices: list[str],
    year: int,
    atoms: pl.DataFrame | None = None,
    quarters: list[dt.date] | None = None,
) -> Release:
    """A quarterly indicator published as shares only (its counts are never
    shown): rows of `people` carry `quarter` (first day), locality and `flag`
    (or `atoms` are the year's already, by those three), for the `quarters`
    given (else every ended quarter of the year)."""
    quarters = ended_quarters(year, as_of) if quarters is None else quarters
    if atoms is None:
        atoms = _atoms(people.filter(pl.col("quarter").is_in(quarters)), ["quarter", "locality", flag])
    release = Release(key(name, year), atoms)
    for s in slices:
        for q in quarters:
            ql = quarter_label(q)
            w = _where(s, quarter=q)
            n, k = key(measure, ql, s, "n"), key(measure, ql, s, "k")
            release.add(
                Count(n, w, published=False),
                Count(k, w | {flag: True}, published=False),
                Share(key(measure, ql, s), k, n),
            )
    return release


def rate_series_release(
    name: str,
    measure: str,
    people: pl.DataFrame,
    total: str,
    as_of: dt.date,
    slices: list[str],
    year: int,
    tallies: pl.DataFrame | None = None,
) -> Release:
    """A quarterly mean per young person (crisis contacts): events over people.
    `tallies`, where given, are the year's people (n) and events (`total`)
    by quarter and locality already."""
    quarters = ended_quarters(year, as_of)
    if tallies is None:
        mine = people.filter(pl.col("quarter").is_in(quarters))
        tallies = mine.group_by("quarter", "locality").agg(_headcount(mine), pl.col(total).sum())
    release = Release(key(name, year), tallies.select("quarter", "locality", "n"))
    events: dict[tuple[dt.date, str], float] = {}
    for row in tallies.iter_rows(named=True):
        events[(row["quarter"], row["locality"])] = float(row[total] or 0)
    for s in slices:
        for q in quarters:
            n = key(measure, quarter_label(q), s, "n")
            spent = sum(v for (when, where), v in events.items() if when == q and s in (ALL, where))
            release.add(
                Count(n, _where(s, quarter=q), published=False), Rate(key(measure, quarter_label(q), s), spent, n)
            )
    return release


# --- the quarterly populations of the other indicators ---------------------------------


def plan_people(cohort: Cohort, as_of: dt.date) -> pl.DataFrame:
    return (
        metrics.with_ages(cohort.young_people)
        .filter(pl.col("b17_6") <= as_of)
        .join(cohort.plans.select("young_person_id", "agreed_on"), left_on="id", right_on="young_person_id", how="left")
        .select(
            pl.col("b17_6").dt.truncate("1q").alias("quarter"),
            "locality",
            (pl.col("agreed_on") <= pl.col("b17_6")).fill_null(False).alias("on_time"),
        )
    )


def outcome_quarter_people(cohort: Cohort) -> pl.DataFrame:
    """Young people aged 19-21 with a record in a quarter, by their latest record there."""
    return cohort.derived(("outcome_quarter_people",), lambda: _outcome_quarter_people(cohort))


def _outcome_quarter_people(cohort: Cohort) -> pl.DataFrame:
    return (
        metrics.outcomes_at(cohort, (19, 21))
        .with_columns(quarter=pl.col("observed_on").dt.truncate("1q"))
        .sort("observed_on")
        .group_by("young_person_id", "quarter")
        .agg(
            pl.col("locality").last(),
            pl.col("neet").last(),
            pl.col("homeless").last(),
            pl.col("crisis").sum().alias("crisis_total"),
        )
    )


def send_pairs(cohort: Cohort) -> pl.DataFrame:
    """Consecutive post-16 records of young people with SEND, by quarter (once per cohort version)."""
    return cohort.derived(("send_pairs",), lambda: _send_pairs(cohort))


def _send_pairs(cohort: Cohort) -> pl.DataFrame:
    pairs = metrics._pairs(cohort)
    return pairs.select(
        "young_person_id",  # so a filtered cohort keeps its own rows (Cohort.narrowed)
        pl.col("observed_on").dt.truncate("1q").alias("quarter"),
        "locality",
        "prev_eet",
        "prev_neet",
        pl.col("neet").alias("dropped"),
        pl.col("eet").alias("reengaged"),
    )


# --- worked out once per cohort version, by the writer -------------------------------

# Frames of one row per young person (or per record), the same whatever the
# as-of date and whoever looks: the writer of a cohort change works them out
# for every locality, once, and keeps them beside the columnar copy of the
# tables (partnership/snapshot.py); a viewer's cohort starts with its scope's
# rows of them. At a million young people they were 5 of the 9 s of the
# first view after an import. By file name, the Cohort.derived key each fills.
PRECOMPUTED: dict[str, tuple[object, ...]] = {
    "outcomes_17_21": ("outcomes_at", metrics.OUTCOME_AGES),
    "transitions_base": ("transitions_base",),
    "service_at_17": ("service_at_17",),
    "latest_outcome": ("latest_outcome",),
    "risk_people": ("risk_people", 90),
    "send_pairs": ("send_pairs",),
    "outcome_quarter_people": ("outcome_quarter_people",),
}


def _code_of_precomputed() -> str:
    import hashlib
    from pathlib import Path

    from partnership import queries

    code = hashlib.sha256()
    for module in (metrics, flow, queries):
        code.update(Path(str(module.__file__)).read_bytes())
    code.update(Path(__file__).read_bytes())
    return code.hexdigest()[:12]


# The code the PRECOMPUTED frames are worked out by: their files in the columnar copy are
# named by it, so frames made before an upgrade are made again rather than misread.
PRECOMPUTED_CODE = _code_of_precomputed()


def precompute(cohort: Cohort) -> dict[str, pl.DataFrame]:
    """Every PRECOMPUTED frame of `cohort` (every locality), by file name."""
    metrics.outcomes_at(cohort, metrics.OUTCOME_AGES)
    metrics.transitions_base(cohort)
    flow.service_at_17(cohort)
    flow.latest_outcome(cohort)
    risk_people(cohort)
    send_pairs(cohort)
    outcome_quarter_people(cohort)
    return {name: cohort.derived(k, lambda: pl.DataFrame()) for name, k in PRECOMPUTED.items()}


def scoped_precomputed(
    frames: dict[str, pl.DataFrame], people: pl.DataFrame | None
) -> dict[tuple[object, ...], pl.DataFrame]:
    """The PRECOMPUTED `frames` (by file name) as Cohort.derived entries,
    with only the rows that belong to `people` (a scope's young people; None:
    every locality): by locality where a frame has one, else by young person."""
    out = {}
    for name, frame in frames.items():
        if name not in PRECOMPUTED:
            continue
        if people is None:
            out[PRECOMPUTED[name]] = frame
        elif "locality" in frame.columns:
            out[PRECOMPUTED[name]] = frame.filter(pl.col("locality").is_in(people["locality"].unique().implode()))
        else:
            out[PRECOMPUTED[name]] = frame.join(
                people.select("id"), left_on="young_person_id", right_on="id", how="semi"
            )
    return out


# --- one scope's figures ----------------------------------------------------------------


@dataclass
class Figures:
    """Every release for one data version, scope and disclosure level, built
    when first asked for and kept: shared by every session with that scope."""

    cohort: Cohort
    as_of: dt.date
    suppressed: bool
    threshold: int
    localities: list[str]  # the localities in scope, by name
    _cache: dict[str, Released] = field(default_factory=dict)
    _people: dict[str, pl.DataFrame] = field(default_factory=dict)
    _years: dict[str, tuple[dict[int, pl.DataFrame], pl.DataFrame]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    # One lock per release or population while it is made: sessions asking for
    # the same one wait for it (made once); different ones are made side by side.
    _making: dict[str, threading.Lock] = field(default_factory=dict)

    @property
    def slices(self) -> list[str]:
        return [ALL, *self.localities] if len(self.localities) > 1 else [*self.localities, ALL]

    def released(self) -> list[Released]:
        """Every release worked out so far (for the board pack's audit line)."""
        with self._lock:
            return list(self._cache.values())

    def _once(self, store: dict[str, Any], name: str, make: Callable[[], Any]) -> Any:
        with self._lock:
            if name in store:
                return store[name]
            making = self._making.setdefault(f"{id(store)}:{name}", threading.Lock())
        # Releases depend on populations and merged releases on their parts, never
        # the other way round, so these per-name locks are always taken in one order.
        with making:
            with self._lock:
                if name in store:
                    return store[name]
            made = make()
            with self._lock:
                store[name] = made
            return made

    def _memo(self, name: str, make: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        return self._once(self._people, name, make)  # type: ignore[no-any-return]

    def _year_atoms(
        self,
        name: str,
        people: pl.DataFrame,
        column: str,
        dims: list[str],
        year: int,
        summed: tuple[str, ...] = (),
    ) -> pl.DataFrame:
        """`people`'s atoms in one year's release, every year's worked out at once (yearly_atoms)."""
        parts, empty = self._once(self._years, name, lambda: yearly_atoms(people, column, dims, self.as_of, summed))
        return parts.get(year, empty)  # type: ignore[no-any-return]

    def _period_atoms(self, name: str, people: pl.DataFrame, period: str, dims: list[str]) -> pl.DataFrame | None:
        """The atoms of a calendar-year period with an ended quarter (its
        release counts by month), from every year's at once; None for another
        period, whose release counts its own people."""
        if not (period.isdigit() and ended_quarters(int(period), self.as_of)):
            return None
        return self._year_atoms(name, people, "month", dims, int(period))

    def _released(self, name: str, make: Callable[[], Release]) -> Released:
        return self._once(  # type: ignore[no-any-return]
            self._cache, name, lambda: disclose(make(), self.suppressed, self.threshold)
        )

    def prefetch(self, measures: list[str], slice_: str) -> None:
        """Work out several quarterly series at once, on two threads: polars
        lets go of the GIL while it computes, so the first view after new data
        (eighteen series on the programme pages) takes about half as long."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="figures") as pool:
            list(pool.map(lambda m: self.series(m, slice_), measures))

    def _outcome_quarters(self) -> pl.DataFrame:
        people = outcome_quarter_people(self.cohort).drop("young_person_id")
        return weigh(people, summed=("crisis_total",))

    def _transition_people(self) -> pl.DataFrame:
        return self._memo("transition", lambda: transition_people(self.cohort, self.as_of))

    def flow(self, period: str) -> Released:
        people = self._transition_people()
        return self._released(key("flow", period), lambda: flow_release(people, period, self.as_of, self.slices))

    def gap(self, period: str) -> Released:
        people = self._transition_people()
        return self._released(
            key("gap", period), lambda: gap_release(people, period, self.as_of, self.slices, self.breakdowns)
        )

    @property
    def breakdowns(self) -> list[str]:
        """Slices broken down by characteristic: all of them, or the partnership
        only at board level (a locality's few young people split four ways pin small counts)."""
        return [ALL] if self.suppressed else self.slices

    def slipped(self, period: str) -> Released:
        people = self._memo("slipped", lambda: weigh(slipped_people(self.cohort, self.as_of)))
        main = self._released(
            key("slipped", period),
            lambda: slipped_release(
                people,
                period,
                self.as_of,
                self.slices,
                self.breakdowns,
                self._period_atoms("slipped", people, period, ["locality", "slipped", "month"]),
            ),
        )

        def part(title: str) -> Release:
            col = CHARACTERISTICS[title][0]
            by = self._period_atoms(f"slipped_{col}", people, period, ["locality", "slipped", col])
            return representation_release(
                "representation_slipped",
                "representation_slipped",
                period,
                people.filter(_months_in("month", *period_months(period, self.as_of))) if by is None else people,
                "slipped",
                lambda s: (key("slipped", period, s, "k"), key("slipped", period, s, "n")),
                title,
                self.slices,
                self.breakdowns,
                by,
            )

        parts = [
            self._released(key("representation_slipped", period, title), lambda title=title: part(title))
            for title in CHARACTERISTICS
        ]
        return merge(key("slipped", period), main, *parts)

    def outcomes(self, period: str) -> Released:
        first, last = period_months(period, self.as_of)
        return self._released(
            key("outcomes", period),
            lambda: outcomes_release(outcome_people(self.cohort, self.as_of, first, last), period, self.slices),
        )

    def risk(self, period: str) -> Released:
        people = self._memo("risk", lambda: weigh(risk_people(self.cohort).drop("young_person_id", *RISK_AGENCIES)))
        main = self._released(
            key("risk", period),
            lambda: risk_release(
                people,
                period,
                self.as_of,
                self.slices,
                self._period_atoms("risk", people, period, ["locality", "assessed2", "agree", "month"]),
            ),
        )
        pairs = [
            self._released(
                key("risk_pair", period, f"{a}-{b}"),
                lambda pair=f"{a}-{b}": risk_pair_release(
                    people,
                    period,
                    self.as_of,
                    self.slices,
                    pair,
                    self._period_atoms(f"risk_{pair}", people, period, ["locality", pair]),
                ),
            )
            for a, b in RISK_PAIRS
        ]
        return merge(key("risk", period), main, *pairs)

    def open_now(self) -> Released:
        return self._released(
            "open_now", lambda: open_now_release(open_now_people(self.cohort, self.as_of), self.slices)
        )

    def cohort_all(self) -> Released:
        people = self._memo(
            "cohort_all",
            lambda: weigh(
                self.cohort.young_people.select(
                    "locality",
                    (pl.col("cce") | pl.col("cse")).alias("exploited"),
                    "sex",
                    "ethnicity",
                    "send",
                    "care_status",
                )
            ),
        )
        parts = [
            self._released(
                key("representation_exploited", "now", title),
                lambda title=title: representation_release(
                    "representation_exploited",
                    "representation_exploited",
                    "now",
                    people,
                    "exploited",
                    lambda s: (
                        key("representation_exploited", "now", s, "k"),
                        key("representation_exploited", "now", s, "n"),
                    ),
                    title,
                    self.slices,
                    self.breakdowns,
                ),
            )
            for title in CHARACTERISTICS
        ]
        return merge("cohort_all", *parts)

    def years(self) -> list[int]:
        """Calendar years with any 18th birthday, outcome record or assessment: the span of the quarterly series."""
        found: set[int] = set()
        for frame, col in (
            (self.cohort.young_people, "birth_month"),
            (self.cohort.outcomes, "observed_on"),
            (self.cohort.risks, "assessed_on"),
        ):
            if frame.height:
                lo, hi = frame[col].min(), frame[col].max()
                if col == "birth_month":
                    lo, hi = lo.replace(year=lo.year + 17), hi.replace(year=hi.year + 18)  # type: ignore[union-attr]
                found |= set(range(lo.year, min(hi.year, self.as_of.year) + 1))  # type: ignore[union-attr]
        return sorted(y for y in found if y <= self.as_of.year)

    def series_release(self, measure: str, year: int) -> Released:
        """The release a quarterly indicator's values for `year` are published in."""
        if measure == "slipped_through":
            return self.slipped(str(year))
        if measure == "risk_agreement_quarterly":
            return self.risk(str(year))
        if measure == "crisis_contacts_19_21":
            people = self._memo("outcomes_q", self._outcome_quarters)
            return self._released(
                key(measure, year),
                lambda: rate_series_release(
                    measure,
                    measure,
                    people,
                    "crisis_total",
                    self.as_of,
                    self.slices,
                    year,
                    self._year_atoms(measure, people, "quarter", ["quarter", "locality"], year, ("crisis_total",)),
                ),
            )
        name, people, flag = self._share_series(measure)
        quarters = closed_quarters(year, self.as_of) if measure == "post18_pickup_3m" else None
        return self._released(
            key(name, year),
            lambda: share_series_release(
                name,
                measure,
                people,
                flag,
                self.as_of,
                self.slices,
                year,
                self._year_atoms(measure, people, "quarter", ["quarter", "locality", flag], year),
                quarters,
            ),
        )

    def _share_series(self, measure: str) -> tuple[str, pl.DataFrame, str]:
        """A quarterly indicator published as shares: its release's name, its
        people (weighed) and the flag counted among them."""
        if measure == "post18_pickup_3m":
            return "pickup", self._memo("pickup", lambda: weigh(pickup_people(self._transition_people()))), "picked"
        if measure == "plan_by_17_5":
            return "plans", self._memo("plans", lambda: weigh(plan_people(self.cohort, self.as_of))), "on_time"
        if measure in ("neet_19_21_quarterly", "homeless_19_21_quarterly"):
            people = self._memo("outcomes_q", self._outcome_quarters)
            return measure, people, "neet" if measure.startswith("neet") else "homeless"
        if measure in ("send_post16_dropout", "send_reengaged"):
            prev, flag = ("prev_eet", "dropped") if measure == "send_post16_dropout" else ("prev_neet", "reengaged")
            pairs = self._memo("send", lambda: weigh(send_pairs(self.cohort).drop("young_person_id")))
            return measure, self._memo(measure, lambda: pairs.filter(pl.col(prev))), flag
        raise KeyError(f"no quarterly measure called {measure!r}")

    def series(self, measure: str, slice_: str) -> pl.DataFrame:
        """A quarterly indicator as released: quarter, value (None where
        hidden), shown (text), hidden."""
        rows = []
        for year in self.years():
            released = self.series_release(measure, year)
            for q in ended_quarters(year, self.as_of):
                k = key(measure, quarter_label(q), slice_)
                if k not in released.values:
                    continue
                value = released[k]
                hidden = released.is_hidden(k)
                rows.append({"period": q, "value": None if hidden else value, "hidden": hidden})
        frame = pl.DataFrame(rows, schema={"period": pl.Date, "value": pl.Float64, "hidden": pl.Boolean})
        # A quarter nobody was in has no value: it is not drawn, and not a gap.
        return frame.filter(pl.col("value").is_not_null() | pl.col("hidden"))


# --- team capacity ----------------------------------------------------------------------------


def cases_release(month_rows: pl.DataFrame, month: str, caseload_threshold: float) -> Release:
    """Cases held (each a young person) per team, locality and the partnership,
    with what is worked out from them: caseload per case-holding FTE and cases
    over capacity. A caseload times the FTE shown beside it gives the cases
    back, so it is released (and hidden) with them."""
    teams = capacity.establishment(month_rows.filter(pl.col("case_holding")), ["locality", "team"])
    release = Release(key("cases", month), teams.select("locality", "team", pl.col("cases").cast(pl.Int64).alias("n")))
    localities = teams["locality"].unique(maintain_order=True).to_list()
    for row in teams.to_dicts():
        c = key("cases_held", month, "team", row["team"])
        release.add(Count(c, {"team": row["team"]}))
        if row["caseload"] is not None:
            release.add(Derived(key("caseload", month, "team", row["team"]), round(row["caseload"], 1), (c,)))
    by_loc = capacity.establishment(month_rows.filter(pl.col("case_holding")), ["locality"])
    for row in by_loc.to_dicts():
        c = key("cases_held", month, row["locality"])
        over = row["cases"] - row["case_fte"] * caseload_threshold
        release.add(
            Count(c, {"locality": row["locality"]}, headline=True),
            Derived(key("cases_over_capacity", month, row["locality"]), round(over), (c,)),
        )
        if row["caseload"] is not None:
            release.add(Derived(key("caseload", month, row["locality"]), round(row["caseload"], 1), (c,)))
        mine = teams.filter(pl.col("locality") == row["locality"])["team"].to_list()
        release.line(c, [key("cases_held", month, "team", t) for t in mine])
    everyone = capacity.establishment(month_rows.filter(pl.col("case_holding")), [])
    total = key("cases_held", month, ALL)
    release.add(Count(total, {}, headline=True))
    if everyone.height and everyone["caseload"][0] is not None:
        release.add(Derived(key("caseload", month, ALL), round(everyone["caseload"][0], 1), (total,)))
    release.line(total, [key("cases_held", month, loc) for loc in localities])
    return release


def holders_release(month_rows: pl.DataFrame, month: str, caseload_threshold: float, by_team: bool) -> Release:
    """Case holders (posts with someone in them) over the caseload threshold,
    counted, never named: per locality and the partnership, and per team when
    `by_team` (teams have at most four case holders: not at board level)."""
    holders = month_rows.filter(
        pl.col("case_holding") & ((pl.col("filled_fte") + pl.col("agency_fte")) > 0)
    ).with_columns(over=(pl.col("cases_held") / (pl.col("filled_fte") + pl.col("agency_fte"))) > caseload_threshold)
    release = Release(key("holders", month), _atoms(holders, ["locality", "team", "over"]))
    # How many case holders there are is no secret (the establishment lists the posts, and
    # case-holding FTE is their number where posts are full-time): shown, and known to the
    # audit, so what it protects is how many are over the threshold.
    localities = holders["locality"].unique(maintain_order=True).to_list()
    for loc in localities:
        n, k = key("case_holders_over", month, loc, "n"), key("case_holders_over", month, loc)
        release.add(Count(n, {"locality": loc}, headline=True, known=True), Count(k, {"locality": loc, "over": True}))
        if by_team:
            teams = holders.filter(pl.col("locality") == loc)["team"].unique(maintain_order=True).to_list()
            for t in teams:
                release.add(
                    Count(key("case_holders_over", month, "team", t, "n"), {"team": t}, known=True),
                    Count(key("case_holders_over", month, "team", t), {"team": t, "over": True}),
                )
            release.line(k, [key("case_holders_over", month, "team", t) for t in teams])
    total = key("case_holders_over", month, ALL)
    release.add(
        Count(total, {"over": True}, headline=True), Count(key("case_holders_over", month, ALL, "n"), {}, known=True)
    )
    release.line(total, [key("case_holders_over", month, loc) for loc in localities])
    return release

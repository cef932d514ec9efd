"""Cohort flow across 18: who crosses, to what, after how long, and how they fare."""

from __future__ import annotations

import polars as pl
import streamlit as st

from partnership import benchmarks, charts, queries
from partnership.access import ALL_ROLES
from partnership.cohort import words_count, words_pct
from ui import chrome, data, present
from ui.auth import guard
from ui.filters import filter_bar

viewer = present.begin(guard(ALL_ROLES), "cohort")
settings = chrome.page_header(viewer, "cohort", "Cohort flow across 18")
as_of = queries.as_of_date(settings)
filters = filter_bar(viewer, data.localities(), as_of)
threshold = data.settings().suppression_threshold
page = data.cohort_page(
    settings.get("data_version", "0"),
    tuple(filters.locality_ids),
    filters.cohort,
    filters.period,
    viewer.suppressed,
    viewer.can_see_rows,
    as_of,
)
where = "across all localities" if filters.locality_label == "All localities" else f"in {filters.locality_label}"
st.caption(
    f"{filters.locality_label} · 18th birthdays in {filters.period_label.lower()} · figures as of {as_of:%d %B %Y}"
    + (f" · counts from 1 to {threshold} are shown as **c** (fewer than {threshold + 1})" if viewer.suppressed else "")
)


def _flow() -> None:
    st.subheader("From the service at 17 to how young people fare at 19-21")
    if page.flow_nodes.is_empty():
        st.info(f"No young people turned 18 {where} in this period with a closed 3-month window.")
    else:
        g = page.gap
        summary = (
            f"**{words_pct(g.no_adult_3m)}** of the {words_count(g.turned_18, threshold)} young people who turned 18 "
            f"{where} ({filters.period_label.lower()}) had no adult service within 3 months."
        )
        not_yet = int(
            page.flow_links.filter((pl.col("stage") == 2) & (pl.col("target") == "Not yet 19"))["value"].sum()
        )
        if not_yet:
            summary += (
                f" {words_count(not_yet if not_yet > threshold or not viewer.suppressed else 'c', threshold)} are "
                "not yet 19: choose an earlier year under Period to follow young people to 19-21."
            )
        if viewer.suppressed:
            summary += (
                f" Bands of 1 to {threshold} are folded into *Other / suppressed*, so some groups here look smaller "
                "than in the headline figures"
                + (
                    f"; {words_count(page.flow_hidden if page.flow_hidden > threshold else 'c', threshold)}"
                    " young people are left out of the drawing."
                    if page.flow_hidden
                    else "."
                )
            )
        table = page.flow_links.select(
            pl.col("stage")
            .replace_strict({0: "17 to plan", 1: "plan to 18", 2: "18 to 19-21"}, return_dtype=pl.String)
            .alias("Step"),
            pl.col("source").alias("From"),
            pl.col("target").alias("To"),
            pl.col("value").alias("Young people"),
        )
        chrome.chart_block(
            charts.flow_diagram(page.flow_nodes, page.flow_ribbons), table, summary, "cohort_flow", "flow"
        )


def _age() -> None:
    st.subheader("Open to a service now, by single year of age")
    total = page.by_age.filter(pl.col("Locality") == "Total")["Total"]
    chrome.table_block(
        page.by_age,
        f"**{words_count(total[0], threshold)}** young people aged 14-25 are open "
        f"to a children's or adult service {where}.",
        "cohort_by_age",
        "age",
    )
    st.subheader("Turning 18 soon")
    soon_total = page.turning_18.filter(pl.col("Locality") == "Total")
    chrome.table_block(
        page.turning_18,
        f"**{words_count(soon_total['Within 6 months'][0], threshold)}** open young people turn 18 in the next "
        f"6 months {where}; of the {words_count(soon_total['Within 12 months'][0], threshold)} turning 18 within "
        f"12 months, **{words_count(soon_total['Of those, no agreed plan'][0], threshold)}** have no agreed "
        "transition plan.",
        "turning_18",
        "soon",
    )
    if page.case_list is not None:
        st.subheader("Young people turning 18 in the next 12 months")
        st.caption("Pseudonymised keys only. Sort by clicking a column heading.")
        chrome.table_block(page.case_list, f"{page.case_list.height} young people {where}.", "turning_18_list", "list")
    else:
        st.caption("Board members see counts only; managers see their own young people here.")


def _gap() -> None:
    g = page.gap
    st.subheader("The gap between children's and adult services")
    cols = st.columns(4)
    cols[0].metric("Median gap", "no data" if g.median_gap is None else f"{g.median_gap:.0f} days")
    cols[1].metric("Gap over 28 days", words_pct(g.over_28))
    cols[2].metric("Gap over 90 days", words_pct(g.over_90))
    cols[3].metric(
        "Slipped through the net",
        words_pct(g.slipped_share),
        help="Intensive support before 18 (child protection, looked after or EmPower) and no adult "
        "service within 6 months of the 18th birthday.",
    )
    chrome.chart_block(
        charts.count_bars(page.gap_distribution, "Gap", "Young people", "Young people"),
        page.gap_distribution,
        f"Of {words_count(g.with_both, threshold)} young people with both a children's and an adult service, "
        f"{words_pct(g.over_28)} waited more than 28 days and {words_pct(g.over_90)} more than 90 days.",
        "gap_distribution",
        "gapdist",
    )
    st.subheader("Slipped through the net, by quarter of 18th birthday")
    trend = page.gap_trend.drop("quarter_start")
    chrome.chart_block(
        charts.trend_line(page.gap_trend, "quarter_start", "Share slipped (%)", "Slipped through the net (%)"),
        trend,
        f"{words_count(g.slipped, threshold)} of {words_count(g.intensive, threshold)} young people with intensive "
        f"support before 18 {where} slipped through the net ({words_pct(g.slipped_share)}) in this period.",
        "slipped_trend",
        "trend",
    )


def _outcomes() -> None:
    st.subheader("How young people fare at 19-21, by what happened at 18")
    out = page.outcomes
    neet = dict(zip(out["Group"], out["NEET (%)"], strict=True))
    chrome.chart_block(
        charts.share_bars(out, "Group", "NEET (%)", "NEET at 19-21 (%)", charts.PALETTE[1]),
        out,
        f"NEET at 19-21: {words_pct(neet.get('Agreed on time'))} with a plan agreed on time against "
        f"{words_pct(neet.get('No plan'))} with no plan; {words_pct(neet.get('Not picked up'))} for those "
        "no adult service picked up.",
        "outcomes_19_21",
        "outcomes",
    )

    st.subheader("Beside England, our region and our statistical neighbours")
    values, neighbours = data.care_leaver_benchmarks(settings.get("data_version", "0"))
    if values.is_empty():
        st.info("No published comparators imported yet: `python cli.py import-benchmark FILE`.")
    else:
        comparison = benchmarks.care_leaver_table(values, data.settings().our_la_code, neighbours, page.care_leavers)
        row = comparison.filter((pl.col("Age") == "19 to 21") & (pl.col("Measure (%)") == "NEET")).to_dicts()[0]
        chrome.table_block(
            comparison,
            f"NEET at 19-21: **{words_pct(row['Our cohort'] or None)}** in our cohort ({filters.period_label.lower()}) "
            f"against {row['England']}% for care leavers in England and {row['Statistical neighbours (mean)']}% "
            f"across our statistical neighbours ({row['Published year']}). Published figures are for care leavers "
            "(DfE, year ending 31 March); ours are every young person in this cohort. Symbols: c suppressed, "
            "z not applicable, x not available, k below 0.5.",
            "care_leaver_comparison",
            "bench",
        )


def _risk() -> None:
    st.subheader("Do partners agree on the level of risk?")
    rs = page.risk_summary
    chrome.chart_block(
        charts.share_bars(page.risk_pairs, "Agencies", "Levels differ (%)", "Levels differ (%)", charts.PALETTE[5]),
        page.risk_pairs,
        f"Of {words_count(rs['assessed'], threshold)} young people assessed by two or more agencies within 90 days, "
        f"**{words_pct(rs['agree'])}** had the same level from every agency. Pairs that differ most come first.",
        "risk_agreement",
        "risk",
    )


def _representation() -> None:
    for key, title, focus_words, base_words in (
        (
            "slipped",
            "Slipped through the net",
            "slipped through the net",
            "young people with intensive support before 18",
        ),
        (
            "exploited",
            "Criminally or sexually exploited",
            "were at risk of criminal or sexual exploitation",
            "young people in the cohort",
        ),
    ):
        table, n_focus, n_base = page.representation[key]
        st.subheader(title)
        flagged = table.filter(pl.col("Flag") != "")
        shown = table.drop("ratio_value", "lo", "hi")
        summary = (
            f"{words_count(n_focus, threshold)} of {words_count(n_base, threshold)} {base_words} "
            f"{focus_words}. "
            + (
                "Over- or under-represented (95% interval excludes 1): "
                + "; ".join(
                    f"{r['Characteristic'].lower()} {r['Group']} ({r['Ratio']}, {r['Flag'].lower()})"
                    for r in flagged.to_dicts()
                )
                if flagged.height
                else "No group's interval excludes 1."
            )
        )
        if table.filter(pl.col("ratio_value").is_not_null()).is_empty():
            chrome.table_block(shown, summary, f"representation_{key}", f"rep_{key}")
        else:
            chrome.chart_block(charts.ratio_chart(table), shown, summary, f"representation_{key}", f"rep_{key}")


present.sections(
    "cohort",
    [
        ("flow", "Flow across 18", _flow),
        ("age", "Cohort by age", _age),
        ("gap", "The gap", _gap),
        ("outcomes", "Outcomes at 19-21", _outcomes),
        ("risk", "Shared view of risk", _risk),
        ("representation", "Who is over-represented", _representation),
    ],
)

"""Sections: what a page, a story step, the board pack and an export show of
one part of the product, built from released figures only.

A section is a title, headline tiles, and blocks (a sentence, a table of
what is shown, and a chart drawn from that table), with notes on anything
hidden. The pages render sections, the board pack prints the same sections,
exports write their tables: so a section reads the same everywhere. Nothing
here does arithmetic on figures: numbers come from the release, words from
partnership.wording.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from models.codes import RISK_AGENCIES
from partnership import capacity, charts, flow
from partnership.disclosure import SUPPRESSED, Audit, Released
from partnership.figures import (
    AGES,
    ALL,
    CHARACTERISTICS,
    GAP_BANDS,
    RISK_PAIRS,
    ROUTE_GROUPS,
    Figures,
    birthday_words,
    ended_quarters,
    key,
    period_words,
    quarter_label,
)
from partnership.wording import (
    capital,
    cell,
    count,
    fewer_than,
    hidden_note,
    number,
    pct,
    pct_cell,
    plural,
    points,
    small_counts_rule,
)


@dataclass(frozen=True)
class Narrow:
    """A case list a reader may narrow: offered as a toggle above the table;
    what is shown is what is exported, under a name that says so."""

    label: str
    column: str
    kept: tuple[str, ...]
    suffix: str


@dataclass
class Block:
    heading: str
    sentence: str  # Markdown; the chart's alt text and the first line of an export's notes
    table: pl.DataFrame
    filename: str
    chart: dict | None = None
    notes: list[str] = field(default_factory=list)
    narrow: Narrow | None = None
    # Presenting, a chart too tall for one screen is drawn as these pieces, one screen each.
    pieces: list[dict] = field(default_factory=list)


@dataclass
class Section:
    slug: str
    title: str
    blocks: list[Block]
    tiles: list[tuple[str, str, str]] = field(default_factory=list)  # label, value, help
    notes: list[str] = field(default_factory=list)
    measures: tuple[str, ...] = ()  # catalogue ids, for "how figures are worked out"
    audit: Audit | None = None  # what the disclosure check found over the releases it reads


@dataclass(frozen=True)
class View:
    period: str  # "2025" or "12m"
    slice: str  # ALL or a locality's name
    as_of: dt.date

    @property
    def where(self) -> str:
        return "across all localities" if self.slice == ALL else f"in {self.slice}"

    @property
    def when(self) -> str:
        return period_words(self.period, self.as_of)

    @property
    def birthdays(self) -> str:
        """The 18th birthdays the figures about crossing 18 count (six months on)."""
        return birthday_words(self.period, self.as_of)

    def birthdays_of(self, released: Released) -> str:
        """The same, for figures kept from an earlier publication: the birthdays they counted then."""
        return birthday_words(self.period, released.kept_as_of or self.as_of)


def kept_note(*released: Released) -> list[str]:
    """Why figures are not shown, or were kept from an earlier board publication, in words."""
    return sorted({r.note for r in released if r.note})


PIECE_ROWS = 10  # rows of a one-row-per-group chart that fit a projector's screen with its heading and sentence


def _chart(chart: object) -> dict:
    return charts.spec(chart)  # type: ignore[arg-type]


def suppression_line(released: Released) -> str:
    if not released.suppressed:
        return ""
    return f"{capital(small_counts_rule(released.threshold))}."


# --- the flow across 18 -------------------------------------------------------------------


def flow_section(figs: Figures, view: View) -> Section:
    r = figs.flow(view.period)
    s, p = view.slice, view.period
    total = key("turned_18", p, s)
    none_share = key("no_adult_service_3m", p, s)
    nodes, links = [], []
    for stage in flow.STAGES:
        for k, v in r.values.items():
            prefix = key("flow", p, s, "node", stage) + "|"
            if k.startswith(prefix):
                nodes.append((stage, k[len(prefix) :], k, v))
    for i in range(len(flow.STAGES) - 1):
        prefix = key("flow", p, s, "link", i) + "|"
        for k, v in r.values.items():
            if k.startswith(prefix):
                src, tgt = k[len(prefix) :].split("|", 1)
                links.append((i, src, tgt, k, v))
    shown_links = [(i, a, b, int(v)) for i, a, b, _k, v in links if isinstance(v, int) and v > 0]
    shown_nodes = {(stage, name): int(v) for stage, name, _k, v in nodes if isinstance(v, int) and v > 0}
    drawn_total = r.get(total)
    not_yet = r.get(key("flow", p, s, "node", "outcome", "Not yet 19"))
    sentence = (
        f"Of {count(r, total, 'young person', 'young people')} who turned 18 {view.where} in {view.birthdays_of(r)} "
        f"(six months on), **{pct(r, none_share)}** had no adult service within 3 months."
    )
    if not_yet == SUPPRESSED or (isinstance(not_yet, int) and not_yet > 0):
        not_yet_words = count(r, key("flow", p, s, "node", "outcome", "Not yet 19"))
        sentence += (
            f" {not_yet_words[0].upper()}{not_yet_words[1:]} of them are not yet 19: their outcome is still to come."
        )
    table = pl.DataFrame(
        [
            {
                "Step": ["17 to plan", "plan to 18", "18 to 19-21"][i],
                "From": a,
                "To": b,
                "Young people": cell(r, k),
            }
            for i, a, b, k, v in links
            if v is not None
        ],
        schema={"Step": pl.String, "From": pl.String, "To": pl.String, "Young people": pl.String},
    )
    notes = []
    if r.suppressed:
        dropped = [k for _i, _a, _b, k, v in links if v is None or v == SUPPRESSED]
        hidden_nodes = [k for _s, _n, k, v in nodes if v == SUPPRESSED]
        if dropped:
            notes.append(
                f"Bands of {fewer_than(r.threshold)} young people are not drawn or listed "
                f"({len(dropped)} {plural(len(dropped), 'band')}); each group is drawn at its full size, so the "
                "unfilled part of a group is the young people on those bands."
            )
        if hidden_nodes:
            notes.append(
                f"{len(hidden_nodes)} {plural(len(hidden_nodes), 'group')} of the flow "
                f"{'is' if len(hidden_nodes) == 1 else 'are'} not drawn (c: not shown to protect confidentiality)."
            )
    chart = None
    if shown_nodes and isinstance(drawn_total, int) and drawn_total > 0:
        node_frame, ribbons = flow.layout_released(shown_nodes, shown_links, drawn_total)
        chart = _chart(charts.flow_diagram(node_frame, ribbons))
    block = Block(
        "From the service at 17 to how young people fare at 19-21", sentence, table, "cohort_flow", chart, notes
    )
    return Section(
        "flow",
        "Flow across 18",
        [block],
        notes=kept_note(r),
        measures=("flow", "turned_18", "no_adult_service_3m"),
        audit=r.audit,
    )


# --- open now and turning 18 ---------------------------------------------------------------


def _slices_for_rows(figs: Figures, view: View) -> list[str]:
    """Rows of a by-locality table: each locality in view, then the total."""
    if view.slice != ALL:
        return [view.slice]
    return [*figs.localities, ALL] if len(figs.localities) > 1 else [ALL]


def age_section(figs: Figures, view: View, case_list: pl.DataFrame | None) -> Section:
    r = figs.open_now()
    rows = []
    for s in _slices_for_rows(figs, view):
        row = {"Locality": "Total" if s == ALL else s}
        for age in AGES:
            row[str(age)] = cell(r, key("open_by_age", "now", s, age))
        row["Total"] = cell(r, key("open_by_age", "now", s, "total"))
        rows.append(row)
    by_age = pl.DataFrame(rows, schema={"Locality": pl.String, **{str(a): pl.String for a in AGES}, "Total": pl.String})
    soon_rows = []
    for s in _slices_for_rows(figs, view):
        soon_rows.append(
            {
                "Locality": "Total" if s == ALL else s,
                "Within 3 months": cell(r, key("turning_18", "now", s, "3")),
                "Within 6 months": cell(r, key("turning_18", "now", s, "6")),
                "Within 12 months": cell(r, key("turning_18", "now", s, "12")),
                "No agreed plan (within 6 months)": cell(r, key("turning_18_no_plan", "now", s, "6")),
                "No agreed plan (within 12 months)": cell(r, key("turning_18_no_plan", "now", s, "12")),
            }
        )
    soon = pl.DataFrame(soon_rows)
    s = view.slice
    blocks = [
        Block(
            "Open to a service now, by single year of age",
            f"**{count(r, key('open_by_age', 'now', s, 'total'), 'young person', 'young people')}** aged 14-25 "
            f"{'is' if r.get(key('open_by_age', 'now', s, 'total')) == 1 else 'are'} open to a children's or adult "
            f"service {view.where} now. Ages are from the month of birth.",
            by_age,
            "by_age",
            notes=[
                n
                for n in [
                    hidden_note(
                        r, [key("open_by_age", "now", x, a) for x in _slices_for_rows(figs, view) for a in AGES], "cell"
                    )
                ]
                if n
            ],
        ),
        Block(
            "Turning 18 soon",
            f"**{count(r, key('turning_18', 'now', s, '6'), 'young person', 'young people')}** open to children's "
            f"services {view.where} turn 18 in the next 6 months, and "
            f"{count(r, key('turning_18_no_plan', 'now', s, '6'))} of them have no agreed transition plan; "
            f"within 12 months, {count(r, key('turning_18', 'now', s, '12'))}, of whom "
            f"{count(r, key('turning_18_no_plan', 'now', s, '12'))} without a plan. The months are cumulative.",
            soon,
            "turning_18",
        ),
    ]
    if case_list is not None:
        blocks.append(
            Block(
                "Young people turning 18 in the next 12 months",
                f"{case_list.height} {plural(case_list.height, 'young person', 'young people')} {view.where}. "
                "Pseudonymised keys only; sort by clicking a column heading.",
                case_list,
                "turning_18_list",
                narrow=Narrow("Only those without an agreed plan", "Transition plan", ("None", "Started"), "no_plan"),
            )
        )
    notes = (
        [] if case_list is not None else ["Board members see counts only; managers see their own young people here."]
    )
    return Section(
        "age",
        "Cohort by age",
        blocks,
        notes=[*notes, "Open now: on the figures' date, whatever period is chosen.", *kept_note(r)],
        measures=("open_by_age", "open_16_17", "turning_18", "turning_18_no_plan"),
        audit=r.audit,
    )


# --- the gap -------------------------------------------------------------------------------------


def gap_section(figs: Figures, view: View, slipped_list: pl.DataFrame | None = None) -> Section:
    r = figs.gap(view.period)
    sl = figs.slipped(view.period)
    p, s = view.period, view.slice
    n = key("gap_days", p, s, "n")
    bands = [key("gap_days", p, s, "band", b) for b, _, _ in GAP_BANDS]
    dist = pl.DataFrame(
        {"Gap": [b for b, _, _ in GAP_BANDS] + ["Total"], "Young people": [cell(r, k) for k in [*bands, n]]}
    )
    tiles = [
        (
            "Median gap",
            _median_words(r, key("gap_days", p, s, "median")),
            f"Over {count(r, n)} young people with a gap measured.",
        ),
        ("Gap over 28 days", pct(r, key("gap_over_28", p, s)), ""),
        ("Gap over 90 days", pct(r, key("gap_over_90", p, s)), ""),
        (
            "Slipped through the net",
            pct(sl, key("slipped", p, s)),
            "Intensive support before 18 (child protection, looked after or EmPower) and no adult service within "
            "6 months of the 18th birthday; 18th birthdays in the period, 6-month window closed.",
        ),
    ]
    trend_rows = []
    for year in figs.years():
        released = figs.slipped(str(year)) if str(year) != p else sl
        for q in ended_quarters(year, view.as_of):
            ql = quarter_label(q)
            if key("slipped_through", ql, s, "n") not in released.values:
                continue
            n_q = released.get(key("slipped_through", ql, s, "n"))
            if n_q == 0:
                continue
            trend_rows.append(
                {
                    "Quarter of 18th birthday": ql.replace("-", " "),
                    "quarter_start": q,
                    "Intensive support before 18": cell(released, key("slipped_through", ql, s, "n")),
                    "Slipped through the net": cell(released, key("slipped_through", ql, s, "k")),
                    "Share slipped (%)": pct_cell(released, key("slipped_through", ql, s)),
                }
            )
    trend = pl.DataFrame(
        trend_rows,
        schema={
            "Quarter of 18th birthday": pl.String,
            "quarter_start": pl.Date,
            "Intensive support before 18": pl.String,
            "Slipped through the net": pl.String,
            "Share slipped (%)": pl.String,
        },
    )
    gaps_hidden = sum(1 for row in trend_rows if row["Share slipped (%)"] == SUPPRESSED)
    trend_notes = [
        "The same figures are Theme 4's indicator 'Slipped through the net': by quarter there, by the period here."
    ]
    if gaps_hidden:
        trend_notes.append(
            f"{gaps_hidden} {plural(gaps_hidden, 'quarter')} not shown (c: to protect confidentiality): the line "
            "has a gap there."
        )
    partnership_only = (
        "At board level the breakdown is shown for the whole partnership only: a locality's few young people "
        "split into bands or quarters would give small counts away. The partnership's breakdown is in the view "
        "for all localities."
    )
    if bands[0] not in r.values:
        dist = dist.filter(pl.col("Gap") == "Total")
    if not trend_rows and r.suppressed and s != ALL:
        trend_notes = [partnership_only]
    blocks = [
        Block(
            "How long the gap was",
            f"Of {count(r, n, 'young person', 'young people')} who turned 18 {view.where} in "
            f"{view.birthdays_of(r)} with "
            f"both a children's and an adult service, {pct(r, key('gap_over_28', p, s))} waited more than 28 days "
            f"and {pct(r, key('gap_over_90', p, s))} more than 90 days.",
            dist,
            "gap_distribution",
            _chart(charts.count_bars(dist, "Gap", "Young people", "Young people")) if dist.height > 1 else None,
            [x for x in [hidden_note(r, bands, "band")] if x] if dist.height > 1 else [partnership_only],
        ),
        Block(
            "Slipped through the net, by quarter of 18th birthday",
            capital(
                f"{count(sl, key('slipped', p, s, 'k'))} of "
                f"{count(sl, key('slipped', p, s, 'n'), 'young person', 'young people')} with intensive support "
                f"before 18 {view.where} slipped through the net in {view.birthdays_of(sl)} "
                f"({pct(sl, key('slipped', p, s))})."
            ),
            trend.drop("quarter_start"),
            "slipped_trend",
            _chart(charts.trend_line(trend, "quarter_start", "Share slipped (%)", "Slipped through the net (%)"))
            if trend.height
            else None,
            trend_notes,
        ),
    ]
    notes = []
    if slipped_list is not None:
        blocks.append(
            Block(
                "Who slipped through the net",
                f"{slipped_list.height} {plural(slipped_list.height, 'young person', 'young people')} {view.where} "
                f"whose 18th birthday fell in {view.birthdays}: the children's service they left, when, and any adult "
                "service that came after the 6 months. Pseudonymised keys only; the longest wait first; sort by "
                "clicking a column heading.",
                slipped_list,
                "slipped_list",
            )
        )
    else:
        notes.append("Board members see counts only; managers see their own young people who slipped here.")
    return Section(
        "gap",
        "The gap",
        blocks,
        notes=[*notes, *kept_note(r, sl)],
        tiles=tiles,
        measures=("gap_days", "gap_over_28", "gap_over_90", "slipped", "slipped_through"),
        audit=r.audit.merge(sl.audit),
    )


def _median_words(r: Released, k: str) -> str:
    value = r.get(k)
    if value == SUPPRESSED:
        return "not shown"
    return "no data" if value is None else f"{float(value):.0f} days"


# --- outcomes at 19-21 ----------------------------------------------------------------------------


def outcomes_section(figs: Figures, view: View, comparison: pl.DataFrame | None) -> Section:
    r = figs.outcomes(view.period)
    p, s = view.period, view.slice
    rows = []
    for title, label, _col, _value in ROUTE_GROUPS:
        g = key("outcomes_by_route", p, s, label)
        rows.append(
            {
                "What happened at 18": title,
                "Group": label,
                "Young people at 19-21": cell(r, g + "|n"),
                "NEET (%)": pct_cell(r, g + "|neet"),
                "Homeless or emergency housing (%)": pct_cell(r, g + "|homeless"),
                "Missing episodes per young person": number(r, g + "|missing"),
                "Crisis contacts per young person": number(r, g + "|crisis"),
            }
        )
    table = pl.DataFrame(rows)

    def neet(label: str) -> str:
        return pct(r, key("outcomes_by_route", p, s, label) + "|neet")

    blocks = [
        Block(
            "How young people fare at 19-21, by what happened at 18",
            f"NEET at 19-21 ({view.when}): {neet('Agreed on time')} of those with a plan agreed on time against "
            f"{neet('No plan')} of those with no plan; {neet('Not picked up')} of those not picked up by an adult "
            f"service within 3 months of 18. Each young person is counted once, by their latest record in the period.",
            table,
            "outcomes_19_21",
            _chart(charts.share_bars(table, "Group", "NEET (%)", "NEET at 19-21 (%)", charts.PALETTE[1])),
        )
    ]
    if comparison is not None and comparison.height:
        england = comparison.filter((pl.col("Age") == "19 to 21") & (pl.col("Measure (%)") == "NEET")).row(
            0, named=True
        )
        homeless = pct(r, key("homeless_19_21", p, s))
        # Homelessness at 19-21 on the same view as NEET: no published figure measures it (DfE publishes
        # whether care leavers' accommodation is suitable, a different question), so its comparators are x.
        homeless_row = {name: "x" for name in comparison.columns} | {
            "Age": "19 to 21",
            "Measure (%)": "Homeless or emergency housing",
            "Our cohort": pct_cell(r, key("homeless_19_21", p, s)),
            "Published year": "",
        }
        blocks.append(
            Block(
                "NEET and homelessness at 19-21, beside England, our region and our statistical neighbours",
                f"NEET at 19-21: **{pct(r, key('neet_19_21', p, s))}** of our young people ({view.when}) against "
                f"{england['England']}% of care leavers in England and {england['Statistical neighbours (mean)']}% "
                f"across our statistical neighbours ({england['Published year']}). Homeless or in emergency "
                f"housing at 19-21: **{homeless}**; no published figure measures this (x), so it has no "
                "comparator. Published figures are for care leavers (DfE, year ending 31 March); ours are every "
                "young person in view. Symbols: c suppressed, z not applicable, x not available, k below 0.5.",
                pl.concat([comparison, pl.DataFrame([homeless_row], schema=comparison.schema)]),
                "care_leaver_comparison",
            )
        )
    return Section(
        "outcomes",
        "Outcomes at 19-21",
        blocks,
        tiles=[
            (
                f"NEET at 19-21 in {view.when}",
                pct(r, key("neet_19_21", p, s)),
                f"Of {count(r, key('neet_19_21', p, s, 'n'), 'young person', 'young people')} "
                "with a record in the period.",
            ),
            (f"Homeless or emergency housing at 19-21 in {view.when}", pct(r, key("homeless_19_21", p, s)), ""),
        ],
        notes=kept_note(r),
        measures=("neet_19_21", "homeless_19_21", "outcomes_by_route", "neet_17_18", "activity_not_known"),
        audit=r.audit,
    )


def care_leaver_figures(figs: Figures, view: View) -> dict[tuple[str, str], str]:
    """Our released shares in the bands and words DfE publishes for care leavers."""
    r = figs.outcomes(view.period)
    p, s = view.period, view.slice
    return {
        ("17 to 18 years", "NEET"): pct_cell(r, key("neet_17_18", p, s)),
        ("19 to 21 years", "NEET"): pct_cell(r, key("neet_19_21", p, s)),
        ("17 to 18 years", "Information not known"): pct_cell(r, key("activity_not_known", p, s, "17-18")),
        ("19 to 21 years", "Information not known"): pct_cell(r, key("activity_not_known", p, s, "19-21")),
    }


# --- risk ----------------------------------------------------------------------------------------------


def risk_section(figs: Figures, view: View) -> Section:
    r = figs.risk(view.period)
    p, s = view.period, view.slice
    rows = []
    for a, b in RISK_PAIRS:
        pair = f"{a}-{b}"
        rows.append(
            {
                "Agencies": f"{RISK_AGENCIES[a]} and {RISK_AGENCIES[b]}",
                "Young people assessed by both": cell(r, key("risk_pair_differ", p, s, pair, "n")),
                "Levels differ (%)": pct_cell(r, key("risk_pair_differ", p, s, pair)),
                "_sort": r.get(key("risk_pair_differ", p, s, pair)),
            }
        )
    rows.sort(key=lambda x: -(x["_sort"] if isinstance(x["_sort"], float) else -1.0))
    table = pl.DataFrame(rows).drop("_sort")
    n = key("risk_agreement", p, s, "n")
    return Section(
        "risk",
        "Shared view of risk",
        [
            Block(
                "Do partners agree on the level of risk?",
                f"Of {count(r, n, 'young person', 'young people')} whose first risk assessment {view.where} fell in "
                f"{view.when} and who were assessed by two or more agencies within 90 days, "
                f"**{pct(r, key('risk_agreement', p, s))}** had the same level from every agency. Pairs that differ "
                "most come first. Theme 3's indicator is the same measure by quarter.",
                table,
                "risk_agreement",
                _chart(
                    charts.share_bars(table, "Agencies", "Levels differ (%)", "Levels differ (%)", charts.PALETTE[5])
                ),
            )
        ],
        notes=kept_note(r),
        measures=("risk_agreement", "risk_pair_differ", "risk_agreement_quarterly"),
        audit=r.audit,
    )


# --- representation -----------------------------------------------------------------------------------


def _representation_block(
    r: Released,
    measure: str,
    base: str,
    s: str,
    totals: tuple[str, str],
    heading: str,
    focus_words: str,
    base_words: str,
    filename: str,
) -> Block:
    rows = []
    for title, (_col, labels) in CHARACTERISTICS.items():
        for code, label in labels.items():
            g = key(measure, base, s, title, code)
            if g + "|k" not in r.values:
                continue
            rows.append(
                {
                    "Characteristic": title,
                    "Group": label,
                    "In focus group": cell(r, g + "|k"),
                    "Share of focus group (%)": pct_cell(r, g + "|share_focus"),
                    "Share of cohort (%)": pct_cell(r, g + "|share_base"),
                    "Ratio": number(r, g + "|ratio"),
                    "95% interval": (
                        SUPPRESSED
                        if r.get(g + "|low") == SUPPRESSED
                        else (
                            f"{r.get(g + '|low'):.2f} to {r.get(g + '|high'):.2f}"
                            if r.get(g + "|low") is not None
                            else ""
                        )
                    ),
                    "Flag": "" if r.get(g + "|flag") in (SUPPRESSED, None) else str(r.get(g + "|flag")),
                    "ratio_value": r.get(g + "|ratio") if isinstance(r.get(g + "|ratio"), float) else None,
                    "lo": r.get(g + "|low") if isinstance(r.get(g + "|low"), float) else None,
                    "hi": r.get(g + "|high") if isinstance(r.get(g + "|high"), float) else None,
                }
            )
    schema = {
        **dict.fromkeys(
            [
                "Characteristic",
                "Group",
                "In focus group",
                "Share of focus group (%)",
                "Share of cohort (%)",
                "Ratio",
                "95% interval",
                "Flag",
            ],
            pl.String,
        ),
        "ratio_value": pl.Float64,
        "lo": pl.Float64,
        "hi": pl.Float64,
    }
    table = pl.DataFrame(rows, schema=schema)
    flagged = table.filter(pl.col("Flag") != "")
    k, n = totals
    # The finding first, in words; the counts after it.
    findings = []
    for flag in ("Over-represented", "Under-represented"):
        groups = [row for row in flagged.to_dicts() if row["Flag"].lower() == flag.lower()]
        if groups:
            findings.append(
                f"{flag}: "
                + "; ".join(
                    f"{row['Group']} ({row['Characteristic'].lower()}), {row['Ratio']} times their share of the cohort"
                    for row in groups
                )
                + "."
            )
    finding = " ".join(findings) if findings else "No group is over- or under-represented (no 95% interval excludes 1)."
    counted = capital(f"{count(r, k)} of {count(r, n)} {base_words} {focus_words}.")
    sentence = f"{finding} {counted}" if rows else counted
    hidden = table.filter(pl.col("In focus group").is_in([SUPPRESSED, ""]))
    notes = []
    if not rows and r.suppressed:
        notes.append(
            "At board level the breakdown by characteristic is shown for the whole partnership only: a "
            "locality's few young people split four ways would give small counts away; it is in the view for all "
            "localities."
        )
    if hidden.height:
        names = ", ".join(f"{g} ({c.lower()})" for g, c in zip(hidden["Group"], hidden["Characteristic"], strict=True))
        notes.append(f"Not shown and not drawn (c: to protect confidentiality): {names}.")
    chart = None
    pieces: list[dict] = []
    drawn = table.filter(pl.col("ratio_value").is_not_null())
    if drawn.height:
        chart = _chart(charts.ratio_chart(table))
        # Four characteristics, up to twenty groups: on a projector, two screens of whole characteristics.
        characteristics = drawn["Characteristic"].unique(maintain_order=True).to_list()
        if drawn.height > PIECE_ROWS and len(characteristics) > 1:
            half = len(characteristics) // 2
            pieces = [
                _chart(charts.ratio_chart(table.filter(pl.col("Characteristic").is_in(group))))
                for group in (characteristics[:half], characteristics[half:])
            ]
    return Block(heading, sentence, table.drop("ratio_value", "lo", "hi"), filename, chart, notes, pieces=pieces)


def representation_section(figs: Figures, view: View) -> Section:
    p, s = view.period, view.slice
    return Section(
        "representation",
        "Who is over-represented",
        [
            _representation_block(
                figs.slipped(p),
                "representation_slipped",
                p,
                s,
                (key("slipped", p, s, "k"), key("slipped", p, s, "n")),
                "Slipped through the net",
                "slipped through the net",
                f"young people with intensive support before 18 {view.where} ({view.birthdays})",
                "representation_slipped",
            ),
            _representation_block(
                figs.cohort_all(),
                "representation_exploited",
                "now",
                s,
                (key("representation_exploited", "now", s, "k"), key("representation_exploited", "now", s, "n")),
                "At risk of criminal or sexual exploitation",
                "are flagged at risk of criminal or sexual exploitation",
                f"young people {view.where}",
                "representation_exploited",
            ),
        ],
        notes=kept_note(figs.slipped(p), figs.cohort_all()),
        measures=("representation_slipped", "representation_exploited"),
        audit=figs.slipped(p).audit.merge(figs.cohort_all().audit),
    )


# --- overview ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    detail: str
    page: str  # the page it drills into
    measure: str  # its entry on "How figures are worked out"
    delta: str | None = None  # against the same period a year earlier, both as released
    delta_color: str = "off"  # "normal" where higher is better, "inverse" where lower is


ESTABLISHMENT_TILES = ("Funded posts", "Filled (permanent FTE)", "Vacant FTE", "Covered by agency (FTE)")


def establishment_tiles(month_rows: pl.DataFrame) -> list[tuple[str, str, str]]:
    """The establishment of one month in view: posts and FTE, not people, so
    nothing here is disclosive. The capacity page, its story step and the
    Overview's staffing card read these same figures."""
    t = capacity.establishment(month_rows, []).row(0, named=True)
    values = (f"{t['posts']}", f"{t['filled_fte']:g}", f"{t['vacant_fte']:g}", f"{t['agency_fte']:g}")
    helps = ("The establishment from the staffing structure.", "", "", "")
    return list(zip(ESTABLISHMENT_TILES, values, helps, strict=True))


def staffing_card(staffing: pl.DataFrame, slice_: str) -> Card | None:
    """The Overview's staffing card: the latest month's establishment tiles."""
    staff = staffing if slice_ == ALL else staffing.filter(pl.col("locality") == slice_)
    if staff.is_empty():
        return None
    latest = staff.filter(pl.col("month") == staff["month"].max())
    tiles = {label: value for label, value, _ in establishment_tiles(latest)}
    return Card(
        "Funded posts / filled FTE",
        f"{tiles['Funded posts']} / {tiles['Filled (permanent FTE)']}",
        f"{tiles['Covered by agency (FTE)']} FTE agency cover, {latest['month'][0]:%B %Y}",
        "capacity",
        "posts",
    )


def _year_on_year(now: Released, then: Released | None, k_now: str, k_then: str, unit: str, year: str) -> str | None:
    """The change on the year before, from the two figures as released and
    rounded as shown (a hidden or missing one gives no change)."""
    if then is None:
        return None
    a, b = now.get(k_now), then.get(k_then)
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return None
    if k_now in now.withheld or k_then in then.withheld:
        return None
    diff = round(float(a)) - round(float(b))
    if diff == 0:
        return f"no change on {year}"
    words = points(diff) if unit == "percent" else f"{abs(diff)} {plural(abs(diff), 'day')}"
    return f"{'+' if diff > 0 else '-'}{words} on {year}"


def _comparators_words(comparison: pl.DataFrame | None, age: str, measure: str) -> str:
    """Published figures for care leavers beside ours, where they were imported."""
    if comparison is None or comparison.is_empty():
        return ""
    rows = comparison.filter((pl.col("Age") == age) & (pl.col("Measure (%)") == measure)).to_dicts()
    if not rows or not rows[0]["England"]:
        return ""
    r = rows[0]
    neighbours = (
        f", statistical neighbours {r['Statistical neighbours (mean)']}%" if r["Statistical neighbours (mean)"] else ""
    )
    return f". Care leavers {r['Published year']}: England {r['England']}%{neighbours}"


def overview_cards(
    figs: Figures, view: View, staffing_card: Card | None, comparison: pl.DataFrame | None = None
) -> list[Card]:
    """The headline figures, each the same released figure its page shows;
    for a calendar year, each period figure beside the year before."""
    o, f, g, out = figs.open_now(), figs.flow(view.period), figs.gap(view.period), figs.outcomes(view.period)
    p, s = view.period, view.slice
    before = str(int(p) - 1) if p.isdigit() and int(p) - 1 in figs.years() else None
    f0, g0, out0 = (figs.flow(before), figs.gap(before), figs.outcomes(before)) if before else (None, None, None)
    b = before or ""
    cards = [
        Card(
            "Open to children's services aged 16-17",
            count(o, key("open_16_17", "now", s)),
            "open on the figures' date",
            "cohort",
            "open_16_17",
        ),
        Card(
            "Turning 18 in the next 6 months",
            count(o, key("turning_18", "now", s, "6")),
            f"of whom without an agreed transition plan: {count(o, key('turning_18_no_plan', 'now', s, '6'))}",
            "cohort",
            "turning_18",
        ),
        Card(
            "Adult service within 3 months of 18",
            pct(f, key("adult_service_3m", p, s)),
            f"of {count(f, key('turned_18', p, s), 'young person', 'young people')} who turned 18 in "
            f"{view.birthdays_of(f)}",
            "cohort",
            "adult_service_3m",
            _year_on_year(f, f0, key("adult_service_3m", p, s), key("adult_service_3m", b, s), "percent", b),
            "normal",
        ),
        Card(
            "Median gap, children's to adult service",
            _median_words(g, key("gap_days", p, s, "median")),
            f"over {count(g, key('gap_days', p, s, 'n'), 'young person', 'young people')} with both services, "
            f"18th birthdays in {view.birthdays_of(g)}",
            "cohort",
            "gap_days",
            _year_on_year(g, g0, key("gap_days", p, s, "median"), key("gap_days", b, s, "median"), "days", b),
            "inverse",
        ),
        Card(
            f"NEET at 19-21 in {view.when}",
            pct(out, key("neet_19_21", p, s)),
            f"of {count(out, key('neet_19_21', p, s, 'n'), 'young person', 'young people')} with an "
            f"activity record in {view.when} (latest record)" + _comparators_words(comparison, "19 to 21", "NEET"),
            "cohort",
            "neet_19_21",
            _year_on_year(out, out0, key("neet_19_21", p, s), key("neet_19_21", b, s), "percent", b),
            "inverse",
        ),
    ]
    if staffing_card is not None:
        cards.append(staffing_card)
    return cards


def open_16_17_block(figs: Figures, view: View) -> Block:
    o = figs.open_now()
    rows = [
        {"Locality": "Total" if s == ALL else s, "Young people aged 16-17": cell(o, key("open_16_17", "now", s))}
        for s in _slices_for_rows(figs, view)
    ]
    table = pl.DataFrame(rows)
    total = count(o, key("open_16_17", "now", view.slice), "young person", "young people")
    return Block(
        "Open to children's services aged 16-17, by locality",
        capital(
            f"**{total}** aged 16-17 {'is' if total.startswith('1 ') else 'are'} open to children's services "
            f"{view.where}; all of them turn 18 within two years."
        ),
        table,
        "overview_open_16_17",
        _chart(charts.count_bars(table, "Locality", "Young people aged 16-17", "Young people aged 16-17")),
    )


# --- team capacity: caseloads ---------------------------------------------------------------------


def caseload_section(
    cases: Released,
    holders: Released,
    month_rows: pl.DataFrame,
    month: str,
    month_words: str,
    caseload_threshold: float,
    england: float,
    slice_: str,
    by_team: bool,
) -> Section:
    """Caseloads, case holders over the threshold and cases against capacity,
    from the released cases and case-holder counts; FTE is the establishment's."""
    from partnership import capacity

    rows = month_rows if slice_ == ALL else month_rows.filter(pl.col("locality") == slice_)
    where = "across all localities" if slice_ == ALL else f"in {slice_}"
    teams = capacity.establishment(rows.filter(pl.col("case_holding")), ["locality", "team"])

    def released(k: str) -> float | int | None:
        v = cases.get(k)
        return None if v == SUPPRESSED or v is None else v  # type: ignore[return-value]

    team_frame = teams.select(
        "locality", "team", "posts", "funded_fte", "filled_fte", "agency_fte", "case_fte"
    ).with_columns(
        caseload=pl.Series([released(key("caseload", month, "team", t)) for t in teams["team"]], dtype=pl.Float64),
        cases=pl.Series([released(key("cases_held", month, "team", t)) for t in teams["team"]], dtype=pl.Int64),
    )
    shown = team_frame.filter(pl.col("caseload").is_not_null()).sort("caseload", descending=True)
    hidden_teams = team_frame.height - shown.height
    table = team_frame.select(
        pl.col("locality").alias("Locality"),
        pl.col("team").alias("Team"),
        pl.col("case_fte").round(1).alias("Case-holding FTE"),
        pl.Series(
            "Cases per case-holding FTE",
            [
                number(cases, key("caseload", month, "team", t), 1) or ("no case holders" if fte == 0 else "not shown")
                for t, fte in zip(teams["team"], teams["case_fte"], strict=True)
            ],
            dtype=pl.String,
        ),
    )
    if shown.height:
        top = shown.row(0, named=True)
        highest = (
            f"Highest caseload{' shown' if hidden_teams else ''}: **{top['team']}** at {top['caseload']:.1f} cases "
            f"per case-holding FTE, against a threshold of {caseload_threshold:g} and England's {england:g}."
        )
    else:
        highest = "No team's caseload can be shown at this level."
    notes = []
    if hidden_teams and cases.suppressed:
        notes.append(
            f"{hidden_teams} {plural(hidden_teams, 'team')}' caseloads are not shown: a caseload times the FTE "
            f"beside it gives the cases back, and a team holding {fewer_than(cases.threshold)} cases, or one that "
            "would give such a team away, is hidden."
        )
    over_rows = []
    localities = rows["locality"].unique(maintain_order=True).to_list()
    for loc in localities:
        if by_team:
            for t in rows.filter(pl.col("locality") == loc)["team"].unique(maintain_order=True).to_list():
                k = key("case_holders_over", month, "team", t)
                if k in holders.values:
                    over_rows.append(
                        {
                            "Locality": loc,
                            "Team": t,
                            "Case holders": cell(holders, k + "|n"),
                            "Case holders over threshold": cell(holders, k),
                        }
                    )
        else:
            over_rows.append(
                {
                    "Locality": loc,
                    "Case holders": cell(holders, key("case_holders_over", month, loc, "n")),
                    "Case holders over threshold": cell(holders, key("case_holders_over", month, loc)),
                }
            )
    over_total = key("case_holders_over", month, ALL if slice_ == ALL else slice_)
    over_table = pl.DataFrame(over_rows)
    over_notes = []
    if over_table.height and (over_table["Case holders over threshold"] == "").any():
        # A blank cell is the disclosure step's: say so, or it reads as a fault (the reason, not the values).
        over_notes.append(
            "A blank count is withheld by the disclosure check: shown, even as c, beside the total it would let a "
            "small count be worked out."
        )
    capacity_rows = []
    by_loc = capacity.establishment(rows.filter(pl.col("case_holding")), ["locality"])
    for row in by_loc.to_dicts():
        loc = row["locality"]
        over = cases.get(key("cases_over_capacity", month, loc))
        capacity_rows.append(
            {
                "Locality": loc,
                "Cases held": cell(cases, key("cases_held", month, loc)),
                "Case-holding FTE": f"{row['case_fte']:.1f}",
                f"Capacity at {caseload_threshold:g} per FTE": f"{row['case_fte'] * caseload_threshold:.0f}",
                "Cases over capacity": SUPPRESSED
                if over == SUPPRESSED
                else ("" if over is None else f"{int(over):+d}"),
            }
        )
    chart_frame = shown.sort(["locality", "team"])
    return Section(
        "caseloads",
        "Caseloads",
        [
            Block(
                "Cases per case-holding FTE",
                highest,
                table,
                "caseload_team",
                _chart(charts.caseload_bars(chart_frame, caseload_threshold, england)) if chart_frame.height else None,
                notes,
            ),
            Block(
                "Case holders over the threshold",
                capital(
                    f"{count(holders, over_total, 'case holder')} {where} "
                    f"{'holds' if holders.get(over_total) == 1 else 'hold'} more than {caseload_threshold:g} cases "
                    f"per FTE in {month_words}. Counted, never named"
                    + (" (by locality at board level: a team has at most four case holders)." if not by_team else ".")
                ),
                over_table,
                "over_threshold",
                notes=over_notes,
            ),
            Block(
                "Open cases against case-holding capacity",
                f"Capacity is case-holding FTE times the threshold of {caseload_threshold:g}; cases over capacity "
                "is the difference, signed.",
                pl.DataFrame(capacity_rows),
                "case_capacity",
            ),
        ],
        measures=("caseload", "case_holders_over", "cases_held", "cases_over_capacity"),
        audit=cases.audit.merge(holders.audit),
    )

"""The board pack: one PDF for the area board with the programme summary,
each theme's indicators, the cohort flow across 18 and the gap, team capacity
and notes on the data.

Every figure comes from the same computation the pages use, run for a board
viewer, so board-level disclosure control applies whoever builds the pack.
Text is real PDF text (Helvetica, Windows-1252) and tables are text tables;
charts are Vega-Lite rendered to PNG at print resolution by vl-convert.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
import vl_convert
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace
from sqlalchemy import Engine
from sqlmodel import Session

from partnership import capacity, charts, disclosure, metrics, overview, progress, queries, themes
from partnership import cohort as cohort_figures
from partnership.access import Viewer, scope_localities
from partnership.cohort import words_count, words_pct
from partnership.importers.batches import last_batches
from partnership.settings import get_settings

TITLE = "Transitional safeguarding programme - board pack"
BOARD = Viewer("board pack", "board")
SYNTHETIC_NOTICE = (
    "Synthetic demo data. Every young person, team figure and indicator in this pack is made up by the demo "
    "generator; none is real."
)

# Chart pixels to millimetres: a chart 690 px wide fills the text width, so
# Vega's 11 px labels print at about 8 pt.
MM_PER_PX = 0.26
PNG_SCALE = 3  # about 290 dpi at that size
INK = (27, 27, 27)
MUTED = (90, 90, 90)
ACCENT = (0, 84, 140)
HEAD_FILL = (222, 230, 238)
ROW_FILL = (245, 247, 249)
NOTICE_FILL = (255, 236, 200)
NOTICE_LINE = (230, 159, 0)

# Helvetica in the PDF's own encoding has no glyph for these; plain stand-ins keep the text readable.
_REPLACE = {"≥": ">=", "≤": "<=", "\u2212": "-", "→": "->", "≠": "!="}


class BoardPackError(ValueError):
    """An unknown locality or period was asked for."""


def _t(text: object) -> str:
    """Text as Helvetica can print it in Windows-1252."""
    out = "".join(_REPLACE.get(ch, ch) for ch in str(text))
    return out.encode("cp1252", errors="replace").decode("cp1252")


def _plain(markdown: str) -> str:
    # The pages' sentences carry Markdown emphasis; the pack prints them as plain text.
    return markdown.replace("**", "").replace("*", "")


def _long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _fmt_fte(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _thousands(count: str) -> str:
    """A count held as text, with thousands separators; the symbol c stays as it is."""
    return f"{int(count):,}" if count.isdigit() else count


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


@dataclass(frozen=True)
class Scope:
    locality_ids: list[int]
    locality_label: str
    period: str
    period_label: str
    as_of: dt.date
    start: dt.date
    end: dt.date

    @property
    def where(self) -> str:
        return "across all localities" if self.locality_label == "All localities" else f"in {self.locality_label}"


def resolve_scope(engine: Engine, locality: str | None, period: str | None, today: dt.date | None = None) -> Scope:
    """Locality (code or name, any case) and period key checked as the filter bar checks them."""
    db_settings = queries.load_settings(engine)
    as_of = queries.as_of_date(db_settings, today)
    localities = queries.load_localities(engine)
    codes = {r["code"]: r for r in localities.to_dicts()}
    requested: list[int] | None = None
    label = "All localities"
    if locality and locality.strip().lower() != "all":
        wanted = locality.strip().lower()
        match = next((r for c, r in codes.items() if wanted in (c.lower(), r["name"].lower())), None)
        if match is None:
            raise BoardPackError(f"unknown locality '{locality}' (known: all, {', '.join(codes)})")
        requested, label = [match["id"]], match["name"]
    periods = metrics.period_options(as_of)
    key = period or "12m"
    if key not in periods:
        raise BoardPackError(f"unknown period '{key}' (known: {', '.join(periods)})")
    ids = scope_localities(BOARD, requested, [r["id"] for r in codes.values()])
    start, end = metrics.period_bounds(key, as_of)
    return Scope(ids, label, key, periods[key], as_of, start, end)


# --- the document ---------------------------------------------------------------------


class _Pdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        # Windows-1252 is the PDF's WinAnsiEncoding for the core fonts: en and em
        # dashes, curly quotes and the pound sign print and extract correctly.
        self.core_fonts_encoding = "cp1252"
        self.footer_text = footer_text
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(True, margin=18)
        self.set_text_color(*INK)
        self.set_font("Helvetica", size=10)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7.5)
        self.set_text_color(*MUTED)
        self.cell(0, 4, _t(f"{self.footer_text} · page {self.page_no()} of {{nb}}"), align="C")
        self.set_text_color(*INK)

    # Building blocks ------------------------------------------------------------

    def room(self, height: float) -> None:
        """Start a new page unless `height` mm still fit on this one."""
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()

    def section(self, title: str, landscape: bool = False) -> None:
        self.add_page(orientation="L" if landscape else "P")
        self.start_section(_t(title), level=0)
        self.set_font("Helvetica", "B", 17)
        self.set_text_color(*ACCENT)
        self.multi_cell(0, 8, _t(title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.ln(2)

    def heading(self, title: str, keep: float = 30) -> None:
        self.room(keep)
        self.ln(2)
        self.set_font("Helvetica", "B", 12)
        self.set_text_color(*ACCENT)
        self.multi_cell(0, 6, _t(title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.ln(1)

    def para(self, text: str, size: float = 10, style: str = "", colour: tuple[int, int, int] = INK) -> None:
        self.set_font("Helvetica", style, size)
        self.set_text_color(*colour)
        self.multi_cell(0, size * 0.5, _t(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.ln(1.5)

    def caption(self, text: str) -> None:
        self.para(text, size=8.5, colour=MUTED)

    def quote(self, text: str) -> None:
        self.set_x(self.l_margin + 5)
        self.set_font("Helvetica", "I", 10)
        self.multi_cell(self.epw - 5, 5, _t(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)

    def notice(self, text: str) -> None:
        self.set_fill_color(*NOTICE_FILL)
        self.set_draw_color(*NOTICE_LINE)
        self.set_line_width(0.6)
        self.set_font("Helvetica", "B", 11)
        self.multi_cell(0, 6, _t(text), border=1, fill=True, align="L", padding=3, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_line_width(0.2)
        self.set_draw_color(0, 0, 0)
        self.set_fill_color(255, 255, 255)
        self.ln(3)

    def grid(
        self,
        header: Sequence[str] | None,
        rows: Sequence[Sequence[object]],
        widths: Sequence[float],
        right: Sequence[int] = (),
        size: float = 8.5,
    ) -> None:
        """A text table: one cell per value, numbers right-aligned, the
        heading row repeated after a page break."""
        self.set_font("Helvetica", size=size)
        align = tuple("RIGHT" if i in right else "LEFT" for i in range(len(widths)))
        # Short tables are kept on one page; long ones break with their headings repeated.
        row_mm = size * 0.5 * 2 + 2.4
        self.room(min((len(rows) + 1) * row_mm, 70))
        with self.table(
            col_widths=tuple(widths),
            text_align=align,
            first_row_as_headings=header is not None,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
            line_height=size * 0.5,
            padding=(1.2, 1.5),
            cell_fill_color=ROW_FILL,
            cell_fill_mode="ROWS",
            borders_layout="HORIZONTAL_LINES",
            width=self.epw,
        ) as table:
            for values in ([header] if header is not None else []) + [list(r) for r in rows]:
                row = table.row()
                for value in values:
                    row.cell(_t("" if value is None else value))
        self.ln(3)

    def chart(self, spec: dict, width_px: int | None = None, height_px: int | None = None, alt_text: str = "") -> None:
        """A Vega-Lite chart as a PNG at print resolution, scaled so labels print at one size."""
        spec = dict(spec)
        if width_px is not None:
            spec["width"] = width_px
        if height_px is not None:
            spec["height"] = height_px
        png = vl_convert.vegalite_to_png(spec, scale=PNG_SCALE)
        px_w, px_h = _png_size(png)
        w = px_w / PNG_SCALE * MM_PER_PX
        h = px_h / PNG_SCALE * MM_PER_PX
        fit = min(1.0, self.epw / w, (self.eph - 10) / h)
        w, h = w * fit, h * fit
        self.room(h + 2)
        self.image(io.BytesIO(png), x=self.l_margin, w=w, h=h, alt_text=_t(alt_text))
        self.ln(2)


# --- sections --------------------------------------------------------------------------


@dataclass
class _Inputs:
    scope: Scope
    settings: dict[str, str]
    threshold: int
    caseload_threshold: float
    tolerance: float
    cohort: queries.Cohort
    staffing: pl.DataFrame
    indicators: pl.DataFrame
    values: pl.DataFrame
    today: dt.date
    generated_by: str


def _cover(pdf: _Pdf, d: _Inputs) -> None:
    s = d.scope
    pdf.add_page()
    pdf.start_section("Cover", level=0)
    pdf.ln(18)
    pdf.set_font("Helvetica", "B", 24)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(0, 11, _t(TITLE), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.ln(2)
    pdf.para(
        "Report to the area board: young people at risk of exploitation moving from children's to adult "
        "services at 18.",
        size=12,
        colour=MUTED,
    )
    pdf.ln(4)
    if d.settings.get("synthetic") == "true":
        pdf.notice(SYNTHETIC_NOTICE)
    pdf.grid(
        None,
        [
            ["Period", f"{s.period_label}: {_long_date(s.start)} to {_long_date(s.end)}"],
            ["Locality", s.locality_label],
            ["Cohort", "Everyone: no SEND, care status or exploitation filter"],
            ["Figures as of", _long_date(s.as_of)],
            ["Date", _long_date(d.today)],
            [
                "Disclosure control",
                f"Board level: counts from 1 to {d.threshold} are shown as c (fewer than {d.threshold + 1}), "
                "with secondary suppression; no young person is listed.",
            ],
        ],
        widths=(0.25, 0.75),
        size=10,
    )
    pdf.ln(4)
    pdf.heading("Contents")
    short_titles = dict(zip(d.indicators["theme"], d.indicators["theme_title"], strict=True))
    for line in [
        "Programme summary",
        *[f"Theme {n}: {short}" for n, short in sorted(short_titles.items())],
        "Cohort flow across 18 and the gap",
        "Team capacity",
        "Data notes",
    ]:
        pdf.para(line, size=10)


def _summary(pdf: _Pdf, d: _Inputs, views: list[themes.IndicatorView], titles: dict[int, str]) -> pl.DataFrame:
    s = d.scope
    # No indicators: the theme statuses come from the themes computation below,
    # so overview.build need not work them out a second time (seconds at 100,000).
    ov = overview.build(
        d.cohort,
        d.staffing,
        d.indicators.clear(),
        d.values,
        s.as_of,
        s.period,
        BOARD.suppressed,
        d.threshold,
        d.tolerance,
    )
    pdf.section("Programme summary")
    pdf.caption(
        f"{s.locality_label} · {s.period_label} · figures as of {_long_date(s.as_of)} · counts from 1 to "
        f"{d.threshold} are shown as c (fewer than {d.threshold + 1})"
    )
    pdf.heading("Headline figures", keep=70)
    pdf.grid(["Figure", "Value", "Detail"], [[f.label, f.value, f.detail] for f in ov.figures], (0.36, 0.2, 0.44))

    summary = themes.theme_summary(views, titles)
    pdf.heading("The four themes")
    counts = summary.group_by("status").len()
    count_words = ", ".join(f"{r['len']} {r['status'].lower()}" for r in counts.sort("status").to_dicts())
    pdf.para(f"Of the four themes: {count_words}.")
    pdf.grid(
        ["Theme", "Status", "Why"],
        [[f"Theme {r['theme']}: {r['title']}", r["status"], r["reason"]] for r in summary.sort("theme").to_dicts()],
        (0.46, 0.14, 0.40),
    )
    pdf.caption(
        "Status rule: on track if the straight-line trend, projected to the target date (or the latest value once "
        f"that date has passed), meets the target; at risk if short by no more than {d.tolerance:.0%} of the "
        "distance from baseline to target; off track otherwise; not yet measurable with fewer than three values. "
        f"Indicators computed from the cohort follow the locality filter ({s.locality_label}); entered ones cover "
        "the partnership."
    )
    return summary


def _theme(
    pdf: _Pdf,
    d: _Inputs,
    number: int,
    title: str,
    row: dict[str, object],
    impacts: pl.DataFrame,
    views: list[themes.IndicatorView],
    milestones: pl.DataFrame,
    commentary: dict[int, tuple[dt.date, str, str]],
) -> None:
    pdf.section(f"Theme {number}: {title}")
    pdf.para(f"Status: {row['status']} — {row['reason']}", style="B")
    pdf.heading("Intended impact (in the project's own words)")
    for text in impacts.filter(pl.col("theme") == number)["text"]:
        pdf.quote(text)
    if number in commentary:
        period, text, author = commentary[number]
        pdf.heading("Commentary from the project lead")
        pdf.caption(f"{period.year} Q{(period.month - 1) // 3 + 1}, by {author}")
        pdf.para(text)

    mine = [v for v in views if v.theme == number]
    pdf.heading("Indicators", keep=25 + 12 * (len(mine) + 1))
    pdf.para(f"{len(mine)} indicators; {sum(v.status.status == 'on_track' for v in mine)} on track.")
    pdf.grid(
        ["Indicator", "Baseline", "Latest", "Target", "Direction", "Status"],
        [
            [
                v.name,
                f"{themes.fmt(v.baseline, v.unit)} ({v.baseline_period})",
                v.latest,
                f"{themes.fmt(v.target, v.unit)} by {v.target_date:%b %Y}",
                v.direction,
                progress.STATUS_LABELS[v.status.status],
            ]
            for v in mine
        ],
        (0.36, 0.14, 0.1, 0.15, 0.11, 0.14),
        right=(2,),
    )
    for v in mine:
        pdf.heading(v.name, keep=75)
        if v.series.drop_nulls("value").is_empty():
            pdf.caption("No values to draw yet" + (" (all suppressed)" if v.series.height else "") + ".")
            continue
        sentence = (
            f"Latest {v.latest} against a baseline of {themes.fmt(v.baseline, v.unit)} and a target of "
            f"{themes.fmt(v.target, v.unit)} by {v.target_date:%B %Y}; {v.direction}; "
            f"{progress.STATUS_LABELS[v.status.status].lower()}."
        )
        pdf.para(sentence)
        pdf.chart(
            charts.indicator_trend(v.series, v.name, v.unit, v.baseline, v.target, v.target_date).to_dict(),
            width_px=520,
            height_px=150,
            alt_text=sentence,
        )

    ms = milestones.filter(pl.col("theme") == number)
    if ms.height:
        late = ms.filter(pl.col("status") == "Late").height
        pdf.heading("Milestones", keep=25 + 8 * (ms.height + 1))
        pdf.para(f"{ms.height} milestones, {late} late (late ones first).")
        pdf.grid(
            ["Milestone", "Owner", "Due", "Status"],
            [[r["title"], r["owner"], f"{r['due']:%b %Y}", r["status"]] for r in ms.to_dicts()],
            (0.55, 0.2, 0.12, 0.13),
        )


def _cohort(pdf: _Pdf, d: _Inputs) -> None:
    s, threshold = d.scope, d.threshold
    page = cohort_figures.build_page(d.cohort, s.as_of, s.period, BOARD.suppressed, BOARD.can_see_rows, threshold)
    # Landscape, so the flow's labels have room at a print size.
    pdf.section("Cohort flow across 18", landscape=True)
    pdf.caption(
        f"{s.locality_label} · 18th birthdays in {s.period_label.lower()} · figures as of {_long_date(s.as_of)} · "
        f"counts from 1 to {threshold} are shown as c (fewer than {threshold + 1})"
    )
    pdf.heading("From the service at 17 to how young people fare at 19-21")
    g = page.gap
    if page.flow_nodes.is_empty():
        pdf.para(f"No young people turned 18 {s.where} in this period with a closed 3-month window.")
    else:
        summary = (
            f"{words_pct(g.no_adult_3m)} of the {words_count(g.turned_18, threshold)} young people who turned 18 "
            f"{s.where} ({s.period_label.lower()}) had no adult service within 3 months."
        )
        not_yet = int(
            page.flow_links.filter((pl.col("stage") == 2) & (pl.col("target") == "Not yet 19"))["value"].sum()
        )
        if not_yet:
            summary += (
                f" {words_count(not_yet if not_yet > threshold else 'c', threshold)} are not yet 19: choose an "
                "earlier year as the period to follow young people to 19-21."
            )
        summary += (
            f" Bands of 1 to {threshold} are folded into Other / suppressed, so some groups here look smaller than "
            "in the headline figures"
            + (
                f"; {words_count(page.flow_hidden if page.flow_hidden > threshold else 'c', threshold)}"
                " young people are left out of the drawing."
                if page.flow_hidden
                else "."
            )
        )
        pdf.para(summary)
        pdf.chart(
            charts.flow_diagram(page.flow_nodes, page.flow_ribbons, height=440).to_dict(),
            width_px=960,
            alt_text=summary,
        )
        steps = ["17 to plan", "plan to 18", "18 to 19-21"]
        pdf.add_page(orientation="P")
        pdf.heading("The flow as a table")
        pdf.grid(
            ["Step", "From", "To", "Young people"],
            [[steps[r["stage"]], r["source"], r["target"], f"{r['value']:,}"] for r in page.flow_links.to_dicts()],
            (0.16, 0.34, 0.34, 0.16),
            right=(3,),
        )

    pdf.section("The gap between children's and adult services")
    pdf.caption(f"{s.locality_label} · 18th birthdays in {s.period_label.lower()}")
    pdf.grid(
        ["Median gap", "Gap over 28 days", "Gap over 90 days", "Slipped through the net"],
        [
            [
                "no data" if g.median_gap is None else f"{g.median_gap:.0f} days",
                words_pct(g.over_28),
                words_pct(g.over_90),
                words_pct(g.slipped_share),
            ]
        ],
        (0.25, 0.25, 0.25, 0.25),
        size=10,
    )
    gap_words = (
        f"Of {words_count(g.with_both, threshold)} young people with both a children's and an adult service, "
        f"{words_pct(g.over_28)} waited more than 28 days and {words_pct(g.over_90)} more than 90 days."
    )
    pdf.para(gap_words)
    bars = charts.count_bars(page.gap_distribution, "Gap", "Young people", "Young people").to_dict()
    pdf.chart(bars, width_px=520, alt_text=gap_words)
    pdf.grid(
        ["Gap", "Young people"],
        [[r["Gap"], _thousands(r["Young people"])] for r in page.gap_distribution.to_dicts()],
        (0.5, 0.5),
        right=(1,),
    )
    pdf.para(
        f"{words_count(g.slipped, threshold)} of {words_count(g.intensive, threshold)} young people with intensive "
        f"support before 18 {s.where} slipped through the net ({words_pct(g.slipped_share)}) in this period: "
        "intensive support before 18 (child protection, looked after or EmPower) and no adult service within "
        "6 months of the 18th birthday."
    )


def _suppressed_cases(cases: int, threshold: int) -> str:
    shown = disclosure.suppress_count(cases, threshold)
    return shown if isinstance(shown, str) else f"{shown:,}"


def _capacity(pdf: _Pdf, d: _Inputs) -> None:
    s, threshold = d.scope, d.caseload_threshold
    pdf.section("Team capacity")
    if d.staffing.is_empty():
        pdf.para("No staffing has been recorded yet.")
        return
    rows = capacity.month_of(d.staffing, None)
    month = rows["month"][0]
    pdf.caption(
        f"{s.locality_label} · staffing for {month:%B %Y} · caseload threshold {threshold:g} cases per "
        f"case-holding FTE (England 2025: {capacity.ENGLAND_CASELOAD})"
    )

    by_loc = capacity.establishment(rows, ["locality"])
    total = capacity.establishment(rows, []).row(0, named=True)
    pdf.heading("Establishment by locality", keep=60)
    pdf.para(
        f"{total['posts']} funded posts {s.where} ({total['funded_fte']:g} FTE): {total['filled_fte']:g} filled by "
        f"permanent staff, {total['vacant_fte']:g} vacant, of which {total['agency_fte']:g} FTE covered by agency "
        "staff."
    )
    lines = [*by_loc.to_dicts(), *([{**total, "locality": "Total"}] if by_loc.height > 1 else [])]
    pdf.grid(
        ["Locality", "Posts", "Funded FTE", "Filled FTE", "Agency FTE", "Vacant FTE", "Fill rate", "Vacancy rate"],
        [
            [
                r["locality"],
                str(r["posts"]),
                _fmt_fte(r["funded_fte"]),
                _fmt_fte(r["filled_fte"]),
                _fmt_fte(r["agency_fte"]),
                _fmt_fte(r["vacant_fte"]),
                capacity.fmt_rate(r["fill_rate"]),
                capacity.fmt_rate(r["vacancy_rate"]),
            ]
            for r in lines
        ],
        (0.16, 0.08, 0.12, 0.11, 0.12, 0.12, 0.1, 0.14),
        right=(1, 2, 3, 4, 5, 6, 7),
    )

    pdf.heading("Cases per case-holding FTE", keep=90)
    teams = capacity.hide_small_caseloads(
        capacity.establishment(rows.filter(pl.col("case_holding")), ["locality", "team"]), d.threshold
    )
    worst = teams.sort("caseload", descending=True, nulls_last=True).row(0, named=True)
    worst_words = (
        f"Highest caseload: {worst['team']} at {capacity.fmt_caseload(worst['caseload'])} cases per case-holding "
        f"FTE, against a threshold of {threshold:g} and England's {capacity.ENGLAND_CASELOAD}."
    )
    pdf.para(worst_words)
    pdf.chart(
        charts.caseload_bars(teams, threshold, capacity.ENGLAND_CASELOAD).to_dict(), width_px=460, alt_text=worst_words
    )
    pdf.grid(
        ["Locality", "Team", "Case-holding FTE", "Cases per case-holding FTE"],
        [
            [
                r["locality"],
                r["team"],
                _fmt_fte(r["case_fte"]),
                disclosure.SUPPRESSED if r["small"] else capacity.fmt_caseload(r["caseload"]),
            ]
            for r in teams.to_dicts()
        ],
        (0.2, 0.36, 0.2, 0.24),
        right=(2, 3),
    )

    pdf.heading("Case holders over the threshold", keep=50)
    over = capacity.over_threshold(rows, threshold)
    over_total = int(over["over"].sum())
    # Teams have at most four case holders: the board sees localities only.
    over = over.group_by("locality", maintain_order=True).agg(pl.col("case_holders").sum(), pl.col("over").sum())
    shown_over = capacity.suppress_team_counts(
        over.rename({"over": "Case holders over threshold"}),
        "Case holders over threshold",
        BOARD.suppressed,
        d.threshold,
    )
    over_words = f"fewer than {d.threshold + 1}" if 0 < over_total <= d.threshold else str(over_total)
    pdf.caption("Counted, never named.")
    pdf.para(f"{over_words.capitalize()} case holder(s) {s.where} hold more than {threshold:g} cases per FTE.")
    pdf.grid(
        ["Locality", "Case holders", "Case holders over threshold"],
        [[r["locality"], str(r["case_holders"]), r["Case holders over threshold"]] for r in shown_over.to_dicts()],
        (0.4, 0.3, 0.3),
        right=(1, 2),
    )

    pdf.heading("Open cases against case-holding capacity", keep=50)
    table = capacity.capacity_table(rows, threshold, True, d.threshold)
    pdf.para("Capacity is case-holding FTE times the threshold.")
    pdf.grid(
        table.columns,
        [[r[0], _thousands(r[1]), _fmt_fte(r[2]), f"{r[3]:,}", r[4]] for r in table.iter_rows()],
        (0.24, 0.16, 0.2, 0.2, 0.2),
        right=(1, 2, 3, 4),
    )


BATCH_KINDS = {
    "benchmark": "DfE published statistics (Explore Education Statistics)",
    "neighbours": "DfE statistical neighbours",
    "ssda903": "SSDA903 looked-after children return",
}


def _data_notes(pdf: _Pdf, d: _Inputs, engine: Engine, generated_at: dt.datetime) -> None:
    pdf.section("Data notes")
    pdf.heading("Sources")
    with Session(engine) as session:
        batches = last_batches(session)
    if d.settings.get("synthetic") == "true":
        pdf.para(
            f"Young people, service episodes, plans, risk assessments, outcomes, staffing and entered indicator "
            f"values: synthetic demo partnership made by the demo generator (seed {d.settings.get('demo_seed', '?')}),"
            f" as of {_long_date(d.scope.as_of)}. {SYNTHETIC_NOTICE}"
        )
    else:
        pdf.para(
            "Young people, service episodes, plans, risk assessments, outcomes and staffing: imported by the "
            "partnership (latest import of each kind below) and recorded in the dashboard; indicator values "
            "entered by the project lead."
        )
    pdf.para("Last import of each kind and source:", size=9)
    pdf.grid(
        ["Source", "Dataset", "File", "Imported", "Rows"],
        [
            [
                BATCH_KINDS.get(b.kind, b.kind.replace("template:", "Partnership template: ")),
                b.source,
                b.file_name,
                f"{b.imported_at:%d %b %Y %H:%M} by {b.imported_by}",
                ", ".join(
                    f"{part.split('=')[0]}: {int(part.split('=')[1]):,}" for part in b.rows.split("|") if "=" in part
                ),
            ]
            for b in batches
        ]
        or [["No imports yet", "", "", "", ""]],
        (0.22, 0.18, 0.24, 0.18, 0.18),
        size=7.5,
    )
    t = d.threshold
    pdf.heading("Disclosure control")
    pdf.para(
        f"This pack is built at board level whoever generates it. Counts from 1 to {t} are shown as c (fewer than "
        f"{t + 1}); 0 is shown as 0. A percentage or rate built on such a count is suppressed too, and a second "
        "cell is hidden wherever a row or column total would let the hidden one be worked out (secondary "
        f"suppression). In the flow diagram bands of 1 to {t} young people are folded into Other / suppressed. "
        f"The rule follows DfE children-in-need statistics; the threshold ({t}) is the setting "
        "DASHBOARD_SUPPRESSION_THRESHOLD. No young person is listed and no pseudonymised key is printed."
    )
    pdf.heading("Definitions")
    for text in (
        "Gap: days from the children's service closing to the first adult service starting. Slipped through the "
        "net: intensive support before 18 (child protection, looked after or EmPower) and no adult service within "
        "6 months of the 18th birthday.",
        "Vacancy rate = vacant FTE / (vacant FTE + filled FTE); agency rate = agency FTE / (agency FTE + filled "
        "FTE); caseload = cases held / case-holding FTE (filled plus agency FTE in case-holding roles), as in the "
        "DfE children's social work workforce statistics.",
        f"Status rule: on track if the straight-line trend, projected to the target date, meets the target; at "
        f"risk if short by no more than {d.tolerance:.0%} of the distance from baseline to target; off track "
        "otherwise; not yet measurable with fewer than three values.",
    ):
        pdf.para(text, size=9)
    pdf.heading("About this pack")
    pdf.para(
        f"Generated {generated_at:%d %B %Y at %H:%M} by {d.generated_by}; data version "
        f"{d.settings.get('data_version', '0')}.",
        size=9,
    )


def build_board_pack(
    engine: Engine,
    locality: str | None = None,
    period: str | None = None,
    today: dt.date | None = None,
    *,
    generated_by: str = "the command line",
) -> bytes:
    """The board pack as PDF bytes. `locality` is a code or name (None or
    'all' for every locality), `period` a filter-bar period key ('12m' or a
    year). Raises BoardPackError for an unknown locality or period."""
    settings = get_settings()
    today = today or dt.date.today()
    scope = resolve_scope(engine, locality, period, today)
    db_settings = queries.load_settings(engine)
    d = _Inputs(
        scope=scope,
        settings=db_settings,
        threshold=settings.suppression_threshold,
        caseload_threshold=settings.caseload_threshold,
        tolerance=settings.status_tolerance,
        cohort=queries.load_cohort(engine, scope.locality_ids),
        staffing=queries.load_staffing(engine, scope.locality_ids),
        indicators=queries.load_indicators(engine),
        values=queries.load_indicator_values(engine),
        today=today,
        generated_by=generated_by,
    )
    views = themes.indicator_views(
        d.indicators, d.cohort, d.values, scope.as_of, BOARD.suppressed, d.threshold, d.tolerance
    )
    impacts = queries.load_impacts(engine)
    titles = dict(zip(impacts["theme"], impacts["title"], strict=False))
    with Session(engine) as session:
        milestones = themes.milestones(session, today)
        commentary = themes.latest_commentary(session)

    synthetic = db_settings.get("synthetic") == "true"
    footer = " · ".join(
        [TITLE, scope.period_label, scope.locality_label, *(["Synthetic demo data"] if synthetic else [])]
    )
    pdf = _Pdf(footer)
    pdf.set_title(TITLE)
    pdf.set_subject(f"{scope.period_label}, {scope.locality_label}")
    pdf.set_creator("Transitional safeguarding dashboard")
    pdf.set_lang("en-GB")
    generated_at = dt.datetime.now()
    pdf.set_creation_date(generated_at.astimezone())

    _cover(pdf, d)
    summary = _summary(pdf, d, views, titles)
    for number in sorted(titles):
        row = summary.filter(pl.col("theme") == number).row(0, named=True)
        _theme(pdf, d, number, titles[number], row, impacts, views, milestones, commentary)
    _cohort(pdf, d)
    _capacity(pdf, d)
    _data_notes(pdf, d, engine, generated_at)
    return bytes(pdf.output())

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
import hashlib
import io
import json
import struct
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl
import vl_convert
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace
from sqlalchemy import Engine
from sqlmodel import Session

from partnership import capacity, figures, metrics, progress, publication, queries, sections, themes, views
from partnership.access import Viewer, scope_localities
from partnership.disclosure import Audit, protection
from partnership.importers.batches import last_batches
from partnership.settings import get_settings
from partnership.wording import capital, small_counts_rule

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
    all_ids: list[int] = field(default_factory=list)  # figures are released over every locality

    @property
    def slice(self) -> str:
        return figures.ALL if self.locality_label == "All localities" else self.locality_label

    @property
    def where(self) -> str:
        return "across all localities" if self.locality_label == "All localities" else f"in {self.locality_label}"


def resolve_scope(board: publication.Reader, locality: str | None, period: str | None) -> Scope:
    """Locality (code or name, any case) and period key checked as the filter
    bar checks them, against what the publication holds."""
    as_of = board.as_of
    localities = queries.load_localities(board.engine)
    codes = {r["code"]: r for r in localities.to_dicts()}
    requested: list[int] | None = None
    label = "All localities"
    if locality and locality.strip().lower() != "all":
        wanted = locality.strip().lower()
        match = next((r for c, r in codes.items() if wanted in (c.lower(), r["name"].lower())), None)
        if match is None:
            raise BoardPackError(f"unknown locality '{locality}' (known: all, {', '.join(codes)})")
        requested, label = [match["id"]], match["name"]
    # Board level: calendar years only, as on the pages (overlapping periods give months away).
    periods = board.meta.periods
    key = period or metrics.default_period(as_of)
    if key not in periods:
        raise BoardPackError(f"unknown period '{key}' (known: {', '.join(periods)}; the pack is for calendar years)")
    ids = scope_localities(BOARD, requested, [r["id"] for r in codes.values()])
    start, end = metrics.period_bounds(key, as_of)
    return Scope(ids, label, key, periods[key], as_of, start, end, all_ids=[r["id"] for r in codes.values()])


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
        png = _render(spec)
        px_w, px_h = _png_size(png)
        w = px_w / PNG_SCALE * MM_PER_PX
        h = px_h / PNG_SCALE * MM_PER_PX
        fit = min(1.0, self.epw / w, (self.eph - 10) / h)
        w, h = w * fit, h * fit
        self.room(h + 2)
        self.image(io.BytesIO(png), x=self.l_margin, w=w, h=h, alt_text=_t(alt_text))
        self.ln(2)


# Rendering was the largest single cost of a pack (a third of it at 100,000
# young people). A chart's spec holds its data, so the same spec is the same
# picture: packs made again for the same data (another locality's managers,
# the same meeting's second copy) reuse the pictures.
_RENDERED: OrderedDict[str, bytes] = OrderedDict()
_RENDERED_MAX = 256
_render_lock = threading.Lock()


def _render(spec: dict) -> bytes:
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
    with _render_lock:
        if digest in _RENDERED:
            _RENDERED.move_to_end(digest)
            return _RENDERED[digest]
    png = vl_convert.vegalite_to_png(spec, scale=PNG_SCALE)
    with _render_lock:
        _RENDERED[digest] = png
        while len(_RENDERED) > _RENDERED_MAX:
            _RENDERED.popitem(last=False)
    return png


# --- sections --------------------------------------------------------------------------


@dataclass
class _Inputs:
    scope: Scope
    settings: dict[str, str]
    threshold: int
    caseload_threshold: float
    tolerance: float
    board: publication.Reader
    today: dt.date
    generated_by: str

    @property
    def view(self) -> sections.View:
        return sections.View(self.scope.period, self.scope.slice, self.scope.as_of)

    @property
    def themes(self) -> views.ThemesPage:
        return self.board.part("themes", self.scope.slice)  # type: ignore[no-any-return]

    @property
    def cohort(self) -> dict[str, sections.Section]:
        return self.board.part("cohort", self.scope.period, self.scope.slice)  # type: ignore[no-any-return]

    @property
    def audit(self) -> Audit:
        return self.board.meta.audit


def attacker_words(threshold: int) -> str:
    """The check the board's figures pass, in plain words: who the reader is
    assumed to be and what they are assumed to hold (the cover says it, and
    tests/test_publication_attack.py plays that reader)."""
    return (
        f"Every figure, word, chart and table the board is shown in this publication (every page, locality, period "
        f"and quarter, every story, this pack and every export) was checked together, as a reader would use it who "
        f"holds all of it at once, and the previous publication too, and who knows which figures were hidden for "
        f"being small. No count hidden for being 1 to {threshold} can be worked out to fewer than "
        f"{protection(threshold)} possible values from all of that together."
    )


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
            ["Published", d.board.header.words()],
            ["Date", _long_date(d.today)],
            [
                "Disclosure control",
                f"Board level: {small_counts_rule(d.threshold)}, with secondary suppression; no young person is "
                f"listed. {attacker_words(d.threshold)} What the check found: {d.audit.words()}.",
            ],
        ],
        widths=(0.25, 0.75),
        size=10,
    )
    pdf.ln(4)
    pdf.heading("Contents")
    for line in [
        "Programme summary",
        *[f"Theme {n}: {short}" for n, short in sorted(d.themes.short_titles.items())],
        "Cohort flow across 18 and the gap",
        "Team capacity",
        "Data notes",
    ]:
        pdf.para(line, size=10)


def _summary(pdf: _Pdf, d: _Inputs) -> pl.DataFrame:
    s = d.scope
    pdf.section("Programme summary")
    pdf.caption(f"{s.locality_label} · {s.period_label} · {d.board.header.words()} · {small_counts_rule(d.threshold)}")
    pdf.heading("Headline figures", keep=70)
    cards, _block_open, summary = d.board.part("overview", s.period, s.slice)
    pdf.grid(["Figure", "Value", "Detail"], [[c.label, c.value, c.detail] for c in cards], (0.36, 0.2, 0.44))
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
        progress.STATUS_RULE.format(tolerance=d.tolerance)
        + f" Indicators computed from the cohort follow the locality ({s.locality_label}) and are by quarter; "
        "entered ones cover the partnership."
    )
    return summary  # type: ignore[no-any-return]


def _block(pdf: _Pdf, block: sections.Block, width_px: int = 520, height_px: int | None = None) -> None:
    """A section's block as the pages show it: heading, sentence, chart, table, notes."""
    pdf.heading(block.heading, keep=60)
    sentence = _plain(block.sentence)
    pdf.para(sentence)
    if block.chart is not None:
        pdf.chart(block.chart, width_px=width_px, height_px=height_px, alt_text=sentence)
    if block.table.height:
        n = len(block.table.columns)
        pdf.grid(
            block.table.columns,
            [[_thousands(str(v)) if v is not None else "" for v in row] for row in block.table.iter_rows()],
            tuple([1.0 / n] * n),
            size=8 if n > 5 else 9,
        )
    for note in block.notes:
        pdf.caption(_plain(note))


def _theme(pdf: _Pdf, d: _Inputs, number: int, row: dict[str, object]) -> None:
    page = d.themes
    pdf.section(f"Theme {number}: {page.titles[number]}")
    pdf.para(f"Status: {row['status']} — {row['reason']}", style="B")
    pdf.heading("Intended impact (in the project's own words)")
    for text in page.impacts[number]:
        pdf.quote(text)
    if number in page.commentary:
        period, text, author = page.commentary[number]
        pdf.heading("Commentary from the project lead")
        pdf.caption(f"{period.year} Q{(period.month - 1) // 3 + 1}, by {author}")
        pdf.para(text)

    mine = [v for v in page.views if v.theme == number]
    specs = d.board.part("indicator_specs", d.scope.slice)
    pdf.heading("Indicators", keep=25 + 12 * (len(mine) + 1))
    pdf.para(f"{len(mine)} indicators; {sum(v.status.status == 'on_track' for v in mine)} on track.")
    pdf.grid(
        ["Indicator", "Baseline", "Latest", "Target", "Direction on a year before", "Status"],
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
            pdf.caption("No values to draw yet" + (" (all hidden)" if v.series.height else "") + ".")
            continue
        sentence = themes.indicator_sentence(v)
        pdf.para(sentence)
        hidden = page.hidden_quarters[v.code]
        if hidden:
            pdf.caption(
                f"{hidden} {'quarter is' if hidden == 1 else 'quarters are'} not shown (c: to protect confidentiality):"
                " the line has a gap there."
            )
        pdf.chart(specs[v.code], width_px=520, height_px=150, alt_text=sentence)

    ms = page.milestone_tables[number]
    if ms.height:
        pdf.heading("Milestones", keep=25 + 8 * (ms.height + 1))
        pdf.para(f"{ms.height} milestones, {page.late[number]} late (late ones first).")
        pdf.grid(
            ["Milestone", "Owner", "Due", "Status"],
            [[r["Milestone"], r["Owner"], f"{r['Due']:%b %Y}", r["Status"]] for r in ms.to_dicts()],
            (0.55, 0.2, 0.12, 0.13),
        )


def _cohort(pdf: _Pdf, d: _Inputs) -> None:
    s = d.scope
    built = d.cohort
    flow_sec = built["flow"]
    # Landscape, so the flow's labels have room at a print size.
    pdf.section("Cohort flow across 18", landscape=True)
    pdf.caption(
        f"{s.locality_label} · 18th birthdays in {s.period_label.lower()} · {d.board.header.words()} · "
        f"{small_counts_rule(d.threshold)}"
    )
    block = flow_sec.blocks[0]
    pdf.heading(block.heading)
    pdf.para(_plain(block.sentence))
    if block.chart is not None:
        pdf.chart(block.chart, width_px=960, alt_text=_plain(block.sentence))
    for note in [*block.notes, *flow_sec.notes]:
        pdf.caption(_plain(note))
    pdf.add_page(orientation="P")
    pdf.heading("The flow as a table")
    pdf.grid(
        block.table.columns,
        [list(row) for row in block.table.iter_rows()],
        (0.16, 0.34, 0.34, 0.16),
        right=(3,),
    )
    gap = built["gap"]
    pdf.section("The gap between children's and adult services")
    pdf.caption(f"{s.locality_label} · 18th birthdays in {s.period_label.lower()}")
    pdf.grid([t[0] for t in gap.tiles], [[t[1] for t in gap.tiles]], (0.25, 0.25, 0.25, 0.25), size=10)
    for b in gap.blocks:
        _block(pdf, b)
    for note in gap.notes:
        pdf.caption(_plain(note))
    for slug in ("outcomes", "risk"):
        sec = built[slug]
        pdf.section(sec.title)
        # The published care-leaver comparators are the page's; the pack's headline table quotes them.
        for b in sec.blocks:
            if b.filename != "care_leaver_comparison":
                _block(pdf, b)
        for note in sec.notes:
            pdf.caption(_plain(note))


def _capacity(pdf: _Pdf, d: _Inputs) -> None:
    s, threshold = d.scope, d.caseload_threshold
    pdf.section("Team capacity")
    months = d.board.meta.months
    if not months:
        pdf.para("No staffing has been recorded yet.")
        return
    month = months[0]
    pdf.caption(
        f"{s.locality_label} · staffing for {month:%B %Y} · caseload threshold {threshold:g} cases per "
        f"case-holding FTE (England 2025: {capacity.ENGLAND_CASELOAD})"
    )
    est = d.board.part("establishment", month, s.slice)
    total = est.totals
    pdf.heading("Establishment by locality", keep=60)
    pdf.para(
        f"{total['posts']} funded posts {s.where} ({total['funded_fte']:g} FTE): {total['filled_fte']:g} filled by "
        f"permanent staff, {total['vacant_fte']:g} vacant, of which {total['agency_fte']:g} FTE covered by agency "
        "staff."
    )
    table = est.by_locality
    n = len(table.columns)
    lines = [list(row) for row in table.rows()]
    if table.height > 1:
        t = total
        lines.append(
            [
                "Total",
                t["posts"],
                t["funded_fte"],
                t["filled_fte"],
                t["agency_fte"],
                t["vacant_fte"],
                capacity.fmt_rate(t["fill_rate"]),
                capacity.fmt_rate(t["vacancy_rate"]),
            ]
        )
    pdf.grid(
        table.columns,
        [["" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v)) for v in row] for row in lines],
        tuple([1.0 / n] * n),
        right=tuple(range(1, n)),
    )
    sec = d.board.part("caseloads", month, s.slice)
    for b in sec.blocks:
        _block(pdf, b, width_px=460)


BATCH_KINDS = {
    "benchmark": "DfE published statistics (Explore Education Statistics)",
    "neighbours": "DfE statistical neighbours",
    "ssda903": "SSDA903 looked-after children return",
}


def _data_notes(pdf: _Pdf, d: _Inputs, generated_at: dt.datetime) -> None:
    pdf.section("Data notes")
    pdf.heading("Sources")
    with Session(d.board.engine) as session:
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
        f"This pack is built at board level whoever generates it, from the board's publication: "
        f"{d.board.header.words().lower()}. {capital(small_counts_rule(t))}; 0 is shown as 0. A percentage, rate "
        "or median built on such a count is hidden too. Further figures are hidden where they would let a hidden "
        f"one be worked out. {attacker_words(t)} Where a figure's change since the previous publication would "
        f"show a group of 1 to {t} young people, it is hidden the same way, or the figures it belongs to are kept "
        "as last published until more has changed. In the flow diagram, bands of 1 to "
        f"{t} young people are not drawn and each group keeps its full size. The rule follows DfE children-in-need "
        f"statistics; the threshold ({t}) is the setting DASHBOARD_SUPPRESSION_THRESHOLD. No young person is "
        "listed and no pseudonymised key is printed."
    )
    pdf.para(f"What the check found: {d.audit.words()}.", style="B")
    for held in d.board.meta.held:
        pdf.para(held, size=9)
    pdf.heading("Definitions")
    for text in (
        "Gap: days from the children's service closing to the first adult service starting. Slipped through the "
        "net: intensive support before 18 (child protection, looked after or EmPower) and no adult service within "
        "6 months of the 18th birthday. Figures about crossing 18 count young people six months past their 18th "
        "birthday.",
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
        f"Generated {generated_at:%d %B %Y at %H:%M} by {d.generated_by} from publication {d.board.header.id} "
        f"(data version {d.board.header.data_version}).",
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
    """The board pack as PDF bytes, from the board's newest publication.
    `locality` is a code or name (None or 'all' for every locality), `period`
    a year the publication holds. Raises BoardPackError for an unknown
    locality or period, or when nothing has been published yet."""
    board = publication.reader(engine)
    if board is None:
        raise BoardPackError(
            "nothing has been published to the board yet: publish first (`python cli.py publish`, or "
            "Publish to the board on the Presentations page)"
        )
    settings = get_settings()
    today = today or dt.date.today()
    scope = resolve_scope(board, locality, period)
    d = _Inputs(
        scope=scope,
        settings=queries.load_settings(engine),
        threshold=board.header.threshold,
        caseload_threshold=settings.caseload_threshold,
        tolerance=settings.status_tolerance,
        board=board,
        today=today,
        generated_by=generated_by,
    )
    synthetic = d.settings.get("synthetic") == "true"
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
    summary = _summary(pdf, d)
    for number in sorted(d.themes.titles):
        row = summary.filter(pl.col("theme") == number).row(0, named=True)
        _theme(pdf, d, number, row)
    _cohort(pdf, d)
    _capacity(pdf, d)
    _data_notes(pdf, d, generated_at)
    return bytes(pdf.output())

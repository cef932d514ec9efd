"""Programme progress: each theme's indicators with status and direction,
entered values with history, milestones and the lead's commentary."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl
from sqlmodel import Session, func, select

from models import Indicator, IndicatorValue, Milestone, Theme, ThemeCommentary
from partnership import accounts, disclosure, progress, store
from partnership.figures import Figures

UNIT_RANGES = {"percent": (0.0, 100.0), "count": (0.0, None), "days": (0.0, None), "rate": (0.0, None)}
MAX_COMMENTARY = 2000


@dataclass(frozen=True)
class IndicatorView:
    id: int
    code: str
    name: str
    theme: int
    impact: int
    unit: str
    polarity: str
    baseline: float
    baseline_period: str
    target: float
    target_date: dt.date
    source: str
    series: pl.DataFrame  # period, value (None where hidden), shown
    status: progress.Status
    direction: str
    latest: str
    measure: str = ""  # the catalogue measure of a computed indicator
    latest_period: dt.date | None = None
    since_baseline: str = ""  # "+31.6 points since the baseline", from the latest value shown

    @property
    def latest_value_shown(self) -> bool:
        return self.latest not in (disclosure.SUPPRESSED, "no data yet")


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "rate":
        return f"{value:.2f}"
    if unit == "days":
        return f"{value:.0f} days"
    return f"{value:,.0f}"


# The quarterly measure of the catalogue each computed indicator reads.
INDICATOR_MEASURES = {
    "post18_pickup_3m": "post18_pickup_3m",
    "slipped_through": "slipped_through",
    "plan_by_17_5": "plan_by_17_5",
    "neet_19_21": "neet_19_21_quarterly",
    "homeless_19_21": "homeless_19_21_quarterly",
    "crisis_contacts_19_21": "crisis_contacts_19_21",
    "send_post16_dropout": "send_post16_dropout",
    "send_reengaged": "send_reengaged",
    "risk_agreement": "risk_agreement_quarterly",
}


def indicator_views(
    indicators: pl.DataFrame,
    figs: Figures,
    entered: pl.DataFrame,
    as_of: dt.date,
    slice_: str,
    tolerance: float = 0.25,
) -> list[IndicatorView]:
    """Each indicator as released for one slice. Computed ones read their
    measure's quarterly series (a quarter hidden for the board is a gap);
    direction and status are worked out from the series as this viewer is
    shown it, never from a hidden value: a word that read one would give it
    away (a hidden latest quarter called "improving" on 85.7% of at most five
    young people is 100%). Entered ones are partnership-wide figures the lead
    types in: nothing in them is a count of young people."""
    views = []
    figs.prefetch(
        [INDICATOR_MEASURES[k] for k in indicators.filter(pl.col("source") == "computed")["metric_key"]], slice_
    )
    for ind in indicators.to_dicts():
        if ind["source"] == "computed":
            measure = INDICATOR_MEASURES[ind["metric_key"]]
            series = figs.series(measure, slice_)
        else:
            series = (
                entered.filter(pl.col("indicator_id") == ind["id"])
                .select("period", "value")
                .with_columns(hidden=pl.lit(False))
                .sort("period")
            )
        shown_values = series.select("period", "value")
        status = progress.indicator_status(
            shown_values,
            ind["baseline"],
            ind["target"],
            ind["target_date"],
            ind["polarity"],
            as_of,
            ind["unit"],
            tolerance,
        )
        words = [
            disclosure.SUPPRESSED if hidden else fmt(value, ind["unit"])
            for value, hidden in zip(series["value"].to_list(), series["hidden"].to_list(), strict=True)
        ]
        shown = series.with_columns(shown=pl.Series(words, dtype=pl.String)).drop("hidden")
        latest = shown["shown"][-1] if shown.height else "no data yet"
        latest_value = shown["value"][-1] if shown.height else None
        views.append(
            IndicatorView(
                id=ind["id"],
                code=ind["code"],
                name=ind["name"],
                theme=ind["theme"],
                impact=ind["impact"],
                unit=ind["unit"],
                polarity=ind["polarity"],
                baseline=ind["baseline"],
                baseline_period=ind["baseline_period"],
                target=ind["target"],
                target_date=ind["target_date"],
                source=ind["source"],
                series=shown,
                status=status,
                direction=progress.direction(shown_values, ind["polarity"], ind["unit"]),
                latest=latest,
                measure=INDICATOR_MEASURES.get(ind["metric_key"] or "", ""),
                latest_period=shown["period"][-1] if shown.height else None,
                since_baseline=progress.since_baseline(latest_value, ind["baseline"], ind["unit"])
                if shown.height
                else "no values yet",
            )
        )
    return views


def indicator_sentence(v: IndicatorView) -> str:
    """An indicator's chart in one sentence: the same words on the page and in the board pack."""
    when = f" ({v.latest_period.year} Q{(v.latest_period.month - 1) // 3 + 1})" if v.latest_period else ""
    latest = "not shown (c: to protect confidentiality)" if v.latest == disclosure.SUPPRESSED else v.latest
    since = f"; {v.since_baseline} of {fmt(v.baseline, v.unit)} ({v.baseline_period})" if v.latest_value_shown else ""
    return (
        f"Latest{when} {latest}{since}; {v.direction}; target {fmt(v.target, v.unit)} by {v.target_date:%B %Y}: "
        f"{progress.STATUS_LABELS[v.status.status].lower()}."
    )


def _lines(text: str, width: int = 30) -> str:
    """A title broken into lines of about `width` characters, joined by '|'."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "|".join(lines)


def status_grid_frame(views: list[IndicatorView]) -> pl.DataFrame:
    """The status grid's data: every indicator's released series (hidden
    quarters empty), in theme order, with its status for everyone."""
    frames = []
    for order, v in enumerate(sorted(views, key=lambda v: v.theme)):
        frames.append(
            v.series.select(
                pl.lit(order).alias("order"),
                pl.lit(_lines(f"Theme {v.theme}: {v.name}")).alias("panel"),
                pl.lit(progress.STATUS_LABELS[v.status.status]).alias("status"),
                pl.col("period"),
                pl.col("value").cast(pl.Float64),
            )
        )
    schema = {"order": pl.Int32, "panel": pl.String, "status": pl.String, "period": pl.Date, "value": pl.Float64}
    return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame(schema=schema)


def theme_summary(views: list[IndicatorView], titles: dict[int, str]) -> pl.DataFrame:
    rows = []
    for number in sorted(titles):
        mine = [(v.name, v.status) for v in views if v.theme == number]
        status = progress.theme_status(mine)
        rows.append(
            {
                "theme": number,
                "title": titles[number],
                "status": progress.STATUS_LABELS[status.status],
                "reason": status.reason,
            }
        )
    return pl.DataFrame(rows, schema={"theme": pl.Int64, "title": pl.String, "status": pl.String, "reason": pl.String})


def indicator_table(views: list[IndicatorView]) -> pl.DataFrame:
    # Status and the latest value first: they are what a reader looks for.
    return pl.DataFrame(
        [
            {
                "Indicator": v.name,
                "Status": progress.STATUS_LABELS[v.status.status],
                "Latest": v.latest,
                "Target": f"{fmt(v.target, v.unit)} by {v.target_date:%b %Y}",
                "Direction (on a year before)": v.direction,
                "Since baseline": v.since_baseline,
                "Baseline": f"{fmt(v.baseline, v.unit)} ({v.baseline_period})",
                "Better when": "higher" if v.polarity == "higher" else "lower",
                "Source": "From the cohort" if v.source == "computed" else "Entered by the project lead",
                "Why": v.status.reason,
            }
            for v in views
        ]
    )


# --- entered values ------------------------------------------------------------


def parse_period(text: str) -> dt.date:
    """'2025-Q3' or '2025-07' or '2025-07-01' -> first day of that quarter."""
    text = text.strip()
    m = re.fullmatch(r"(\d{4})-?Q([1-4])", text, flags=re.IGNORECASE)
    if m:
        return dt.date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", text)
    if m and 1 <= int(m.group(2)) <= 12:
        month = int(m.group(2))
        return dt.date(int(m.group(1)), month - (month - 1) % 3, 1)
    raise ValueError(f"period: not a quarter such as 2025-Q3 ({text})")


def record_value(
    session: Session,
    indicator_code: str,
    period_text: str,
    value_text: str,
    note: str,
    actor: str,
    today: dt.date | None = None,
) -> IndicatorValue:
    """Add a value (or a corrected version) for an entered indicator. Refuses
    with a message naming the field; audited; earlier versions are kept."""
    today = today or dt.date.today()
    ind = session.exec(select(Indicator).where(Indicator.code == indicator_code)).first()
    if ind is None:
        raise ValueError(f"indicator: unknown indicator ({indicator_code})")
    if ind.source != "entered":
        raise ValueError(f"indicator: {ind.name} is computed from the cohort and cannot be entered")
    period = parse_period(period_text)
    if period > today:
        raise ValueError(f"period: {period_text} has not started yet")
    try:
        value = float(value_text.strip().rstrip("%").replace(",", ""))
    except ValueError:
        raise ValueError(f"value: not a number ({value_text})") from None
    low, high = UNIT_RANGES[ind.unit]
    if value < low or (high is not None and value > high):
        bounds = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ValueError(f"value: a {ind.unit} must be {bounds} ({value_text})")
    if len(note) > 500:
        raise ValueError(f"note: at most 500 characters ({len(note)})")
    latest = session.exec(
        select(func.max(IndicatorValue.version)).where(
            IndicatorValue.indicator_id == ind.id, IndicatorValue.period == period
        )
    ).one()
    row = IndicatorValue(
        indicator_id=ind.id,
        period=period,
        value=value,
        note=note.strip() or None,
        version=(latest or 0) + 1,
        entered_by=actor,
    )
    session.add(row)
    accounts.audit(
        session,
        actor,
        "indicator_value" if not latest else "indicator_corrected",
        f"{ind.code} {period:%Y-%m} = {value:g} (version {row.version})",
    )
    store.bump_data_version(session, cohort=False)
    return row


def value_history(session: Session, indicator_code: str) -> pl.DataFrame:
    ind = session.exec(select(Indicator).where(Indicator.code == indicator_code)).one()
    rows = session.exec(
        select(IndicatorValue)
        .where(IndicatorValue.indicator_id == ind.id)
        .order_by(IndicatorValue.period.desc(), IndicatorValue.version.desc())  # type: ignore[attr-defined]
    ).all()
    return pl.DataFrame(
        [
            {
                "Period": f"{r.period.year}-Q{(r.period.month - 1) // 3 + 1}",
                "Version": r.version,
                "Value": r.value,
                "Note": r.note or "",
                "Entered by": r.entered_by,
                "Entered at": r.entered_at.strftime("%Y-%m-%d %H:%M"),
            }
            for r in rows
        ]
    )


# --- milestones and commentary ----------------------------------------------------


def milestones(session: Session, today: dt.date) -> pl.DataFrame:
    """Milestones with a status as of today: anything past due and not done is late."""
    themes = {t.id: t.number for t in session.exec(select(Theme))}
    rows = []
    for m in session.exec(select(Milestone)):
        status = "done" if m.status == "done" else ("late" if m.due_on < today else m.status)
        rows.append(
            {
                "theme": themes[m.theme_id],
                "title": m.title,
                "owner": m.owner,
                "due": m.due_on,
                "status": {"done": "Done", "on_track": "On track", "late": "Late"}[status],
            }
        )
    order = {"Late": 0, "On track": 1, "Done": 2}
    frame = pl.DataFrame(
        rows, schema={"theme": pl.Int64, "title": pl.String, "owner": pl.String, "due": pl.Date, "status": pl.String}
    )
    return (
        frame.with_columns(rank=pl.col("status").replace_strict(order, return_dtype=pl.Int32))
        .sort("rank", "due")
        .drop("rank")
    )


def plain(text: str) -> str:
    """User text made safe for st.markdown: every Markdown and HTML
    character escaped (and the colon of Streamlit's :colour[...] and
    :icon: directives), so it shows exactly as typed and renders nothing:
    no link, image, colour or HTML from a title, name, note or file name.
    Streamlit's Markdown also turns bare addresses (http://, www., a@b.c)
    into links after escapes are undone, so an invisible word joiner goes
    where each would start: the text reads and copies the same."""
    text = _BARE_LINK.sub("\u2060", text)
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])", r"\\\1", text)


_BARE_LINK = re.compile(r"(?i)(?<=https:)|(?<=http:)|(?<=ftp:)|(?<=www)(?=\.)|(?<=@)")


def save_commentary(
    session: Session, theme_number: int, period_text: str, text: str, actor: str, today: dt.date | None = None
) -> ThemeCommentary:
    today = today or dt.date.today()
    text = text.strip()
    if not text:
        raise ValueError("commentary: empty")
    if len(text) > MAX_COMMENTARY:
        raise ValueError(f"commentary: at most {MAX_COMMENTARY} characters ({len(text)})")
    period = parse_period(period_text)
    if period > today:
        raise ValueError(f"period: {period_text} has not started yet")
    theme = session.exec(select(Theme).where(Theme.number == theme_number)).one()
    latest = session.exec(
        select(func.max(ThemeCommentary.version)).where(
            ThemeCommentary.theme_id == theme.id, ThemeCommentary.period == period
        )
    ).one()
    row = ThemeCommentary(theme_id=theme.id, period=period, text=text, version=(latest or 0) + 1, written_by=actor)
    session.add(row)
    accounts.audit(session, actor, "commentary_saved", f"theme {theme_number} {period:%Y-%m} v{row.version}")
    store.bump_data_version(session, cohort=False)  # pages cache what they show by the data version
    return row


def latest_commentary(session: Session) -> dict[int, tuple[dt.date, str, str]]:
    """Per theme: the most recent period's latest version (period, text, author)."""
    themes = {t.id: t.number for t in session.exec(select(Theme))}
    out: dict[int, tuple[dt.date, str, str]] = {}
    for row in session.exec(
        select(ThemeCommentary).order_by(
            ThemeCommentary.period,  # type: ignore[arg-type]
            ThemeCommentary.version,
        )
    ):
        out[themes[row.theme_id]] = (row.period, row.text, row.written_by)
    return out

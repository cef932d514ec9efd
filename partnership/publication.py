"""The board publication: everything the area board sees, worked out once
for a data version, disclosed and audited together, and stored.

An attacker with a board account holds every page, locality, period,
quarter, story step, board pack and export at once, and the people behind
different figures overlap. So the board's unit of disclosure is not a page
but the whole publication: every board-level figure is made by one
`joint.BoardFigures` (each population's figures one release, audited over
cells a reader cannot rule out), every board view is built from it, and the
views are stored. Board pages, board-level stories, the board pack and board
exports read the stored views; nothing board-level is worked out when
someone looks, so figures move only when a publication is made (monthly by
default, or when the project lead publishes), never at the next import.

A build is a `Publication` row from its start; its parts are written with
it in one transaction, and the board reads the newest that is ready. A build
that fails or is stopped leaves the last publication in place.

Parts are pickled, compressed and signed with a key derived from the
pseudonymisation key (every process and the command line share it; it is
never in the database): a part that does not check out, or that older code
made, is never unpickled.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import pickle
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col, select

from models import Publication, PublicationPart
from partnership import accounts, benchmarks, capacity, figures, metrics, queries, sections, themes, views
from partnership.disclosure import Audit, Released
from partnership.joint import BoardFigures
from partnership.settings import get_settings, pseudonym_key

# Publications kept whole: older ones keep their row (what was published, when) but not their parts.
KEEP = 6
# Months of staffing the board can choose, newest first (the trend shows every month).
BOARD_MONTHS = 12
# A build that has not finished in this long was stopped: another may start.
STALE_BUILD = dt.timedelta(minutes=15)
REASONS = {
    "scheduled": "on its monthly schedule",
    "lead": "by the project lead",
    "cli": "from the command line",
    "demo": "with the demo data",
    "upgrade": "after an upgrade of the dashboard",
}

_HERE = Path(__file__).resolve().parent
# The modules whose objects a publication stores or whose rules make its figures:
# a publication made by other code is made again rather than read.
_CODE_FILES = (
    "publication.py",
    "joint.py",
    "disclosure.py",
    "figures.py",
    "sections.py",
    "views.py",
    "themes.py",
    "progress.py",
    "wording.py",
    "charts.py",
    "flow.py",
    "metrics.py",
    "capacity.py",
)


def _code() -> str:
    digest = hashlib.sha256()
    for name in _CODE_FILES:
        digest.update((_HERE / name).read_bytes())
    return digest.hexdigest()[:16]


CODE = _code()


class PublicationError(RuntimeError):
    """A publication that cannot be read (tampered with, or made by other code)."""


# --- stored parts -------------------------------------------------------------------------------


def _key() -> bytes:
    return hmac.new(pseudonym_key(), b"board publication parts", hashlib.sha256).digest()


def dumps(value: object) -> bytes:
    body = zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 6)
    return hmac.new(_key(), body, hashlib.sha256).digest() + body


def loads(blob: bytes) -> object:
    signature, body = blob[:32], blob[32:]
    if not hmac.compare_digest(signature, hmac.new(_key(), body, hashlib.sha256).digest()):
        raise PublicationError("a stored part of the board publication does not check out: it was not made here")
    return pickle.loads(zlib.decompress(body))


@dataclass(frozen=True)
class Header:
    """A ready publication, as pages name it."""

    id: int
    published_at: dt.datetime
    reason: str
    requested_by: str
    data_version: str
    as_of: dt.date
    threshold: int
    figures: int
    hidden: int
    summary: str

    def words(self) -> str:
        """'Figures published on 7 December 2026 (data to 1 December 2026)'."""
        return f"Figures published on {_long(self.published_at.date())} (data to {_long(self.as_of)})"


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _header(row: Publication) -> Header:
    assert row.id is not None and row.as_of is not None and row.finished_at is not None
    return Header(
        row.id,
        row.finished_at,
        row.reason,
        row.requested_by,
        row.data_version,
        row.as_of,
        row.threshold,
        row.figures,
        row.hidden,
        row.summary,
    )


def latest(engine: Engine) -> Header | None:
    """The newest ready publication made by this code, or None."""
    with Session(engine) as session:
        row = session.exec(
            select(Publication)
            .where(Publication.status == "ready", Publication.code == CODE)
            .order_by(col(Publication.id).desc())
            .limit(1)
        ).first()
        return _header(row) if row is not None else None


def made_by_other_code(engine: Engine) -> bool:
    """Whether the newest ready publication was made by another version of the code (after an update)."""
    with Session(engine) as session:
        row = session.exec(
            select(Publication).where(Publication.status == "ready").order_by(col(Publication.id).desc()).limit(1)
        ).first()
        return row is not None and row.code != CODE


def last_attempt(engine: Engine) -> Publication | None:
    """The newest build of any status (for the lead: is one running, did the last one fail?)."""
    with Session(engine) as session:
        return session.exec(select(Publication).order_by(col(Publication.id).desc()).limit(1)).first()


def read_part(engine: Engine, publication_id: int, name: str) -> object:
    with Session(engine) as session:
        blob = session.exec(
            select(PublicationPart.payload).where(
                PublicationPart.publication_id == publication_id, PublicationPart.name == name
            )
        ).first()
    if blob is None:
        raise KeyError(name)
    return loads(blob)


# --- names of the parts ------------------------------------------------------------------------


def name(*parts: object) -> str:
    return "|".join(str(p) for p in parts)


@dataclass(frozen=True)
class Meta:
    """What a board page needs to know of a publication before it reads a view."""

    periods: dict[str, str]  # the periods the board may choose
    localities: list[str]  # names, in filter-bar order
    months: list[dt.date]  # months of staffing, newest first
    audit: Audit  # what the joint check found over every figure
    synthetic: bool
    held: list[str] = field(default_factory=list)  # what was kept from the last publication, in words


# --- building one -------------------------------------------------------------------------------


@dataclass
class _Inputs:
    engine: Engine
    as_of: dt.date
    today: dt.date
    threshold: int
    caseload_threshold: float
    tolerance: float
    la_code: str
    settings: dict[str, str]
    localities: pl.DataFrame
    figs: BoardFigures
    staffing: pl.DataFrame
    indicators: pl.DataFrame
    values: pl.DataFrame
    impacts: pl.DataFrame
    milestones: pl.DataFrame
    commentary: dict[int, tuple[dt.date, str, str]]
    care_values: pl.DataFrame
    workforce: dict[str, pl.DataFrame]
    neighbours: list[str]
    released: list[Released] = field(default_factory=list)

    def comparison(self, ours: dict[tuple[str, str], str]) -> pl.DataFrame | None:
        if self.care_values.is_empty():
            return None
        return benchmarks.care_leaver_table(self.care_values, self.la_code, self.neighbours, ours)


def _released_dict(released: Released) -> dict[str, object]:
    """A release as plain values, so a later version of the code can read it back."""
    return {
        "name": released.name,
        "values": released.values,
        "hidden": released.hidden,
        "primary": released.primary,
        "withheld": released.withheld,
        "threshold": released.threshold,
        "kept": released.kept,
        "kept_as_of": released.kept_as_of,
        "note": released.note,
        "audit": released.audit,
    }


def _released_from(stored: dict[str, object]) -> Released:
    return Released(
        str(stored["name"]),
        dict(stored["values"]),  # type: ignore[call-overload]
        set(stored["hidden"]),  # type: ignore[call-overload]
        stored.get("audit") or Audit(),  # type: ignore[arg-type]
        True,
        int(stored["threshold"]),  # type: ignore[call-overload]
        set(stored["withheld"]),  # type: ignore[call-overload]
        set(stored["primary"]),  # type: ignore[call-overload]
        str(stored.get("kept", "")),
        stored.get("kept_as_of"),  # type: ignore[arg-type]
        str(stored.get("note", "")),
    )


def _previous(
    engine: Engine, threshold: int
) -> tuple[dict[str, tuple[Released, dict[str, pl.DataFrame]]], str, dt.date | None]:
    """The last ready publication's joint releases and the young people behind
    them (whatever code made it: these are plain values), with words saying
    when it was published; empty where there is none at this threshold."""
    with Session(engine) as session:
        row = session.exec(
            select(Publication).where(Publication.status == "ready").order_by(col(Publication.id).desc()).limit(1)
        ).first()
        if row is None or row.threshold != threshold:
            return {}, "", None
        parts = session.exec(
            select(PublicationPart).where(
                PublicationPart.publication_id == row.id, col(PublicationPart.name).startswith("joint|")
            )
        ).all()
        words = f"as published on {_long(row.finished_at.date())} (data to {_long(row.as_of)})" if row.as_of else ""
    out = {}
    for part in parts:
        stored = loads(part.payload)
        assert isinstance(stored, dict)
        out[part.name.removeprefix("joint|")] = (_released_from(stored["released"]), stored["people"])
    return out, words, row.as_of


def _inputs(engine: Engine, today: dt.date) -> _Inputs:
    config = get_settings()
    db_settings = queries.load_settings(engine)
    as_of = queries.as_of_date(db_settings, today)
    localities = queries.load_localities(engine)
    ids = localities["id"].to_list()
    names = sorted(localities["name"].to_list())
    with Session(engine) as session:
        milestones = themes.milestones(session, today)
        commentary = themes.latest_commentary(session)
    indicators, values = queries.load_indicators(engine), queries.load_indicator_values(engine)
    previous, kept_words, kept_as_of = _previous(engine, config.suppression_threshold)
    figs = BoardFigures(
        queries.load_cohort(engine, ids),
        as_of,
        True,
        config.suppression_threshold,
        names,
        previous=previous,
        kept_words=kept_words,
        kept_as_of=kept_as_of,
    )
    return _Inputs(
        engine=engine,
        as_of=as_of,
        today=today,
        threshold=config.suppression_threshold,
        caseload_threshold=config.caseload_threshold,
        tolerance=config.status_tolerance,
        la_code=config.our_la_code,
        settings=db_settings,
        localities=localities,
        figs=figs,
        staffing=queries.load_staffing(engine, ids),
        indicators=indicators,
        values=values,
        impacts=queries.load_impacts(engine),
        milestones=milestones,
        commentary=commentary,
        care_values=benchmarks.load_indicator(engine, "care_leaver_percent"),
        workforce={
            n: benchmarks.load_indicator(engine, n) for n in ("caseload_fte", "vacancy_rate_fte", "agency_rate_fte")
        },
        neighbours=benchmarks.load_neighbours(engine, config.our_la_code),
    )


def _slices(d: _Inputs) -> list[str]:
    return [figures.ALL, *sorted(d.localities["name"].to_list())]


def _views(d: _Inputs, lock: Callable[[], AbstractContextManager[object]]) -> Iterator[tuple[str, object]]:
    """Every board view, by part name."""
    figs = d.figs
    periods = metrics.period_options(d.as_of, rolling=False)
    titles = dict(zip(d.indicators["theme"], d.indicators["theme_title"], strict=True)) if d.indicators.height else {}
    by_slice: dict[str, list[themes.IndicatorView]] = {}
    for slice_ in _slices(d):
        shown = themes.indicator_views(d.indicators, figs, d.values, d.as_of, slice_, d.tolerance)
        by_slice[slice_] = shown
        with lock():
            yield name("themes", slice_), views.themes_page(shown, d.impacts, d.milestones, d.commentary)
            yield name("indicator_specs", slice_), views.indicator_chart_specs(shown)
            yield name("status_grid", slice_), views.status_grid_spec(shown)
    with lock():
        yield "milestones", (d.milestones, views.milestone_specs(d.milestones, d.today))
    for period in periods:
        for slice_ in _slices(d):
            view = sections.View(period, slice_, d.as_of)
            card = sections.staffing_card(d.staffing, slice_) if not d.staffing.is_empty() else None
            with lock():
                yield (
                    name("overview", period, slice_),
                    views.overview(figs, view, card, by_slice[slice_], titles, d.comparison),
                )
                yield name("cohort", period, slice_), views.cohort_sections(figs, view, d.comparison)
    yield from _capacity(d, lock)


def _capacity(d: _Inputs, lock: Callable[[], AbstractContextManager[object]]) -> Iterator[tuple[str, object]]:
    if d.staffing.is_empty():
        return
    months = sorted(d.staffing["month"].unique().to_list())
    releases: dict[dt.date, tuple[Released, Released]] = {}
    for month in months:
        rows = capacity.month_of(d.staffing, month)
        releases[month] = views.caseload_releases(rows, month, d.caseload_threshold, d.threshold, True)
        d.released.extend(releases[month])
        if month not in months[-BOARD_MONTHS:]:
            continue  # in the trend only
        for slice_ in _slices(d):
            chosen = rows if slice_ == figures.ALL else rows.filter(pl.col("locality") == slice_)
            cases, holders = releases[month]
            with lock():
                est = views.establishment(chosen)
                yield name("establishment", month, slice_), est
                yield (
                    name("caseloads", month, slice_),
                    views.caseload_section(cases, holders, rows, month, d.caseload_threshold, slice_, True),
                )
            yield (
                name("workforce", month, slice_),
                views.workforce_comparison(d.workforce, d.neighbours, d.la_code, est.totals, cases, month, slice_),
            )
    for slice_ in _slices(d):
        series = views.capacity_trend(d.staffing, slice_, releases.__getitem__)
        for column, label, percent, rule in views.TRENDS:
            with lock():
                yield (
                    name("trend", slice_, column),
                    views.capacity_trend_chart(series, column, label, d.caseload_threshold if rule else None, percent),
                )


@dataclass(frozen=True)
class Outcome:
    """What a build did: the publication made (or None) and what it says."""

    header: Header | None
    words: str
    seconds: float


def _begin(engine: Engine, reason: str, requested_by: str, force: bool) -> int | None:
    """Record that a build starts; None when another started recently and has not finished."""
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        running = session.exec(
            select(Publication).where(Publication.status == "building", Publication.started_at > now - STALE_BUILD)
        ).first()
        if running is not None and not force:
            return None
        row = Publication(status="building", reason=reason, requested_by=requested_by[:40], code=CODE)
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def build(
    engine: Engine,
    reason: str = "cli",
    requested_by: str = "the command line",
    today: dt.date | None = None,
    lock: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
    force: bool = False,
) -> Outcome:
    """Make a publication of the data as it is now and store it. `lock` is
    held while charts are made (the server passes Streamlit's lock on
    Altair's process-wide settings)."""
    started = time.perf_counter()
    today = today or dt.date.today()
    build_id = _begin(engine, reason, requested_by, force)
    if build_id is None:
        return Outcome(None, "A publication is already being made; it will be ready in a few minutes.", 0.0)
    try:
        d = _inputs(engine, today)
        data_version = d.settings.get("data_version", "0")
        parts: dict[str, object] = dict(_views(d, lock))
        audit = Audit()
        for released in [*d.figs.released(), *d.released]:
            audit = audit.merge(released.audit)
        if audit.recoverable:
            raise RuntimeError(f"the joint check left {audit.recoverable} hidden figures recoverable")
        months = sorted(d.staffing["month"].unique().to_list(), reverse=True)[:BOARD_MONTHS]
        held = [f"{_release_words(n)}: kept {d.figs._cache[n].kept} ({why})." for n, why in sorted(d.figs.held.items())]
        parts["meta"] = Meta(
            metrics.period_options(d.as_of, rolling=False),
            sorted(d.localities["name"].to_list()),
            months,
            audit,
            d.settings.get("synthetic") == "true",
            held,
        )
        # What the next publication compares itself with: each population's figures as published, and its people.
        for release_name, people in d.figs.people.items():
            released = d.figs._cache[release_name]
            parts[name("joint", release_name)] = {"released": _released_dict(released), "people": people}
        summary = f"{audit.words()}: no hidden figure can be worked out from everything the board is shown"
        summary += f", with the last publication or without it. {' '.join(held)}" if held else "."
        with Session(engine) as session:
            for part, value in parts.items():
                session.add(PublicationPart(publication_id=build_id, name=part, payload=dumps(value)))
            session.exec(
                update(Publication)
                .where(col(Publication.id) == build_id)
                .values(
                    status="ready",
                    finished_at=dt.datetime.now(dt.UTC),
                    data_version=data_version,
                    as_of=d.as_of,
                    threshold=d.threshold,
                    figures=audit.published,
                    hidden=audit.hidden,
                    summary=summary[:4000],
                )
            )
            accounts.audit(session, requested_by[:40], "publication", f"{reason}: {summary}"[:500])
            session.commit()
        _forget_old(engine)
        header = latest(engine)
        return Outcome(header, summary, time.perf_counter() - started)
    except Exception as exc:
        with Session(engine) as session:
            session.exec(
                update(Publication)
                .where(col(Publication.id) == build_id)
                .values(
                    status="failed", finished_at=dt.datetime.now(dt.UTC), summary=f"{type(exc).__name__}: {exc}"[:4000]
                )
            )
            session.commit()
        raise


def _release_words(release_name: str) -> str:
    """'transitions|2026' -> 'Crossing 18 in 2026', for the publication's summary."""
    family, _, period = release_name.partition("|")
    words = {
        "transitions": "Figures about crossing 18",
        "now": "Open now and who is flagged at risk",
        "risk": "Shared view of risk",
        "outcomes": "Outcomes at 17-21",
    }.get(family, family)
    return f"{words} in {period}" if period else words


def _forget_old(engine: Engine) -> None:
    """Keep the newest KEEP ready publications whole; older ones keep their row only."""
    with Session(engine) as session:
        ready = session.exec(
            select(Publication.id).where(Publication.status == "ready").order_by(col(Publication.id).desc())
        ).all()
        old = list(ready[KEEP:])
        if old:
            session.exec(delete(PublicationPart).where(col(PublicationPart.publication_id).in_(old)))
            session.commit()


# --- on a schedule --------------------------------------------------------------------------------

_scheduling = threading.Lock()
_running: dict[str, threading.Thread] = {}


def due(engine: Engine, cadence_days: int, now: dt.datetime | None = None) -> str | None:
    """Why a publication should be made now (or None): there is none yet, the
    newest was made by other code, or it is older than the cadence and the
    data have changed since."""
    now = now or dt.datetime.now(dt.UTC)
    header = latest(engine)
    if header is None:
        attempt = last_attempt(engine)
        return "upgrade" if attempt is not None and attempt.status == "ready" else "scheduled"
    published = header.published_at if header.published_at.tzinfo else header.published_at.replace(tzinfo=dt.UTC)
    if now - published < dt.timedelta(days=cadence_days):
        return None
    return "scheduled" if queries.data_version(engine) != header.data_version else None


def start_if_due(
    engine: Engine, cadence_days: int, lock: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext
) -> bool:
    """Start a build in a thread of its own when one is due (at most one per
    process at a time); True when one was started."""
    key = str(engine.url)
    with _scheduling:
        running = _running.get(key)
        if running is not None and running.is_alive():
            return False
        reason = due(engine, cadence_days)
        if reason is None:
            return False
        thread = threading.Thread(
            target=_build_quietly, args=(engine, reason, lock), name="board-publication", daemon=True
        )
        _running[key] = thread
        thread.start()
        return True


def start(engine: Engine, requested_by: str, lock: Callable[[], AbstractContextManager[object]]) -> bool:
    """The lead's "Publish to the board": a build in a thread of its own."""
    key = str(engine.url)
    with _scheduling:
        running = _running.get(key)
        if running is not None and running.is_alive():
            return False
        thread = threading.Thread(
            target=_build_quietly, args=(engine, "lead", lock, requested_by), name="board-publication", daemon=True
        )
        _running[key] = thread
        thread.start()
        return True


def building(engine: Engine) -> bool:
    with _scheduling:
        running = _running.get(str(engine.url))
        return running is not None and running.is_alive()


def _build_quietly(
    engine: Engine, reason: str, lock: Callable[[], AbstractContextManager[object]], requested_by: str = "schedule"
) -> None:
    try:
        build(engine, reason, requested_by, lock=lock)
    except Exception as exc:  # the row says it failed; the server log says why
        print(f"board publication failed: {type(exc).__name__}: {exc}", flush=True)


# --- reading one outside the app ---------------------------------------------------------------


@dataclass
class Reader:
    """A ready publication read part by part (the command line, the board
    pack): the app's pages read the same parts through their own cache."""

    engine: Engine
    header: Header
    _parts: dict[str, object] = field(default_factory=dict)

    @property
    def meta(self) -> Meta:
        found = self.part("meta")
        assert isinstance(found, Meta)
        return found

    @property
    def as_of(self) -> dt.date:
        return self.header.as_of

    def part(self, *key: object) -> Any:
        wanted = name(*key)
        if wanted not in self._parts:
            self._parts[wanted] = read_part(self.engine, self.header.id, wanted)
        return self._parts[wanted]


def reader(engine: Engine) -> Reader | None:
    """The newest ready publication, to read; None before the first."""
    header = latest(engine)
    return Reader(engine, header) if header is not None else None

"""The Streamlit app driven in-process with AppTest, each test on its own
seeded SQLite database. Expected figures are worked out from the database
directly, not read back from the page code."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import streamlit as st
from conftest import DEMO_AS_OF, TEST_PASSWORD, seed_small
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from models import AuditEvent, Locality, ServiceEpisode, User, YoungPerson
from models.codes import CHILDREN_SERVICES
from models.db import get_engine
from partnership import metrics, queries

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
OPEN_LABEL = "Open to children's services aged 16-17"
TABLE_COLUMN = "Young people aged 16-17"

ROLE_LABELS = {
    "admin": "Administrator",
    "lead": "Project lead",
    "board": "Area board member",
    "manager_east": "Locality manager, East",
    "manager_central": "Locality manager, Central",
    "manager_north": "Locality manager, North",
}


@pytest.fixture
def db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    seed_small(sqlite_url, 400, 11)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    return sqlite_url


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _submit(at: AppTest, username: str, password: str) -> AppTest:
    inputs = {t.label: t for t in at.text_input}
    inputs["Username"].input(username)
    inputs["Password"].input(password)
    (submit,) = [b for b in at.button if b.label == "Sign in"]
    submit.click()
    at.run()
    assert not at.exception, at.exception
    return at


def _sign_in(username: str, password: str = TEST_PASSWORD) -> AppTest:
    return _submit(_app(), username, password)


def _titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def _metric(at: AppTest, label: str) -> str:
    (value,) = [m.value for m in at.metric if m.label == label]
    return str(value)


def _locality_table(at: AppTest) -> dict[str, str]:
    (frame,) = [d.value for d in at.dataframe if TABLE_COLUMN in list(d.value.columns)]
    rows = frame.to_dict("records")
    return {str(r["Locality"]): str(r[TABLE_COLUMN]) for r in rows}


def _events(url: str, action: str, username: str | None = None) -> list[AuditEvent]:
    with Session(get_engine(url)) as session:
        stmt = select(AuditEvent).where(AuditEvent.action == action)
        if username is not None:
            stmt = stmt.where(AuditEvent.username == username)
        return list(session.exec(stmt))


def _as_of(url: str) -> dt.date:
    as_of = queries.as_of_date(queries.load_settings(get_engine(url)))
    assert as_of == DEMO_AS_OF
    return as_of


def _locality_id(url: str, name: str) -> int:
    with Session(get_engine(url)) as session:
        loc = session.exec(select(Locality).where(Locality.name == name)).one()
        assert loc.id is not None
        return loc.id


def _hand_count_open_16_17(url: str, as_of: dt.date) -> dict[str, int]:
    """Open children's cases aged 16-17 per locality, by plain Python over ORM rows."""
    counts: dict[str, int] = {}
    with Session(get_engine(url)) as session:
        names = {loc.id: loc.name for loc in session.exec(select(Locality))}
        open_ids = {
            ep.young_person_id
            for ep in session.exec(select(ServiceEpisode))
            if ep.service in CHILDREN_SERVICES
            and ep.started_on <= as_of
            and (ep.ended_on is None or ep.ended_on > as_of)
        }
        for yp in session.exec(select(YoungPerson)):
            months = (as_of.year - yp.birth_month.year) * 12 + (as_of.month - yp.birth_month.month)
            if yp.id in open_ids and 16 <= months // 12 <= 17:
                counts[names[yp.locality_id]] = counts.get(names[yp.locality_id], 0) + 1
    return counts


# --- sign-in ------------------------------------------------------------------


def test_unauthenticated_sees_only_the_sign_in_form(db: str) -> None:
    at = _app()
    assert "Overview" not in _titles(at)
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert not at.metric
    assert not at.dataframe


@pytest.mark.parametrize("username", list(ROLE_LABELS))
def test_each_role_signs_in_and_sees_the_overview(db: str, username: str) -> None:
    at = _sign_in(username)
    assert "Overview" in _titles(at)
    assert at.session_state["viewer"].username == username
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert f"Signed in as **{username}**" in sidebar
    assert ROLE_LABELS[username] in sidebar
    assert OPEN_LABEL in [m.label for m in at.metric]
    assert "Theme 1" in " ".join(m.value for m in at.markdown)


def test_wrong_password_is_refused_and_audited(db: str) -> None:
    at = _sign_in("lead", "not-the-password")
    assert [e.value for e in at.error] == ["Username or password is not right."]
    assert "Overview" not in _titles(at)
    assert "viewer" not in at.session_state
    assert not at.metric
    failed = _events(db, "sign_in_failed", "lead")
    assert len(failed) == 1
    assert failed[0].details == "attempt 1 of 5 from unknown"  # AppTest has no client address
    assert not _events(db, "sign_in", "lead")


def test_unknown_user_is_refused_and_audited(db: str) -> None:
    at = _sign_in("nobody", TEST_PASSWORD)
    assert [e.value for e in at.error] == ["Username or password is not right."]
    assert "Overview" not in _titles(at)
    assert [e.details for e in _events(db, "sign_in_failed", "nobody")] == ["unknown user from unknown"]


def test_five_wrong_passwords_slow_the_address_and_do_not_lock_the_account(db: str) -> None:
    """From one address (the test's), five wrong passwords read alike, count
    four against the account (one short of its lock) and make the address
    wait; the account stays usable from anywhere else."""
    at = _app()
    for attempt in range(1, 6):
        _submit(at, "board", f"wrong-{attempt}")
        assert [e.value for e in at.error] == ["Username or password is not right."]
    with Session(get_engine(db)) as session:
        assert session.exec(select(User).where(User.username == "board")).one().failed_attempts == 4

    _submit(at, "board", TEST_PASSWORD)
    assert [e.value for e in at.error] == ["Too many failed sign-ins from this address. Try again in 1 minute."]
    assert "viewer" not in at.session_state
    assert [e.details.split(" from ")[0] for e in _events(db, "sign_in_failed", "board")] == [
        "attempt 1 of 5",
        "attempt 2 of 5",
        "attempt 3 of 5",
        "attempt 4 of 5",
        "attempt 4 of 5",
    ]
    assert len(_events(db, "sign_in_refused", "board")) == 1
    assert not _events(db, "sign_in", "board")
    assert not _events(db, "account_locked", "board")


def test_page_view_is_audited_once_per_visit(db: str) -> None:
    at = _sign_in("manager_central")
    views = _events(db, "page_view", "manager_central")
    assert [e.details for e in views] == ["overview"]
    assert len(_events(db, "sign_in", "manager_central")) == 1
    at.run()  # a rerun on the same page is not a new visit
    assert not at.exception
    assert len(_events(db, "page_view", "manager_central")) == 1


# --- scope and figures --------------------------------------------------------


def test_lead_sees_every_locality_with_figures_from_the_database(db: str) -> None:
    as_of = _as_of(db)
    expected = _hand_count_open_16_17(db, as_of)
    assert len(expected) == 3

    at = _sign_in("lead")
    table = _locality_table(at)
    assert table == {**{k: str(v) for k, v in expected.items()}, "Total": str(sum(expected.values()))}
    assert _metric(at, OPEN_LABEL) == f"{sum(expected.values()):,}"


def test_manager_sees_own_locality_only(db: str) -> None:
    as_of = _as_of(db)
    east_id = _locality_id(db, "East")
    cohort = queries.load_cohort(get_engine(db), [east_id])
    assert set(cohort.young_people["locality"].unique()) == {"East"}
    by_hand = _hand_count_open_16_17(db, as_of)
    via_metrics = by_hand["East"]
    assert via_metrics > 0
    # The partnership total is larger, so a leak of other localities would show.
    assert sum(by_hand.values()) > via_metrics

    at = _sign_in("manager_east")
    assert _locality_table(at) == {"East": str(via_metrics)}
    assert _metric(at, OPEN_LABEL) == f"{via_metrics:,}"
    locality_box = next(s for s in at.sidebar.selectbox if s.label == "Locality")
    assert locality_box.disabled
    assert locality_box.value == "east"

    # A link asking for another locality is refused with a warning and changes nothing.
    at.query_params["locality"] = "north"
    at.run()
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("You can see East only") and "North" in w for w in warnings), warnings
    assert _locality_table(at) == {"East": str(via_metrics)}
    assert _metric(at, OPEN_LABEL) == f"{via_metrics:,}"

    # The same link opened in a fresh session before signing in.
    st.cache_resource.clear()
    fresh = AppTest.from_file(APP, default_timeout=60)
    fresh.query_params["locality"] = "north"
    fresh.run()
    _submit(fresh, "manager_east", TEST_PASSWORD)
    assert any(w.value.startswith("You can see East only") for w in fresh.warning)
    assert _locality_table(fresh) == {"East": str(via_metrics)}


def test_manager_scope_warning_survives_a_rerun(db: str) -> None:
    at = _sign_in("manager_east")
    at.query_params["locality"] = "north"
    at.run()
    assert any(w.value.startswith("You can see East only") for w in at.warning)
    at.run()  # nothing changed by the user
    assert not at.exception, at.exception
    assert any(w.value.startswith("You can see East only") for w in at.warning)


def test_lead_can_pick_a_locality_by_url(db: str) -> None:
    as_of = _as_of(db)
    expected = _hand_count_open_16_17(db, as_of)
    # A shared link opened in a new session, then signed in: the filter comes from the URL.
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["locality"] = "north"
    at.run()
    assert not at.exception, at.exception
    _submit(at, "lead", TEST_PASSWORD)
    assert at.query_params["locality"] == "north"
    assert not any(w.value.startswith("You can see") for w in at.warning)
    assert _locality_table(at) == {"North": str(expected["North"])}
    assert _metric(at, OPEN_LABEL) == f"{expected['North']:,}"


# --- disclosure control for board members --------------------------------------


def _assert_no_small_counts(values: list[str]) -> None:
    # c: hidden; blank: withheld by the disclosure check (the table's note says so).
    for value in values:
        assert value in ("c", "", "0") or (value.isdigit() and int(value) >= 6), value


def test_board_sees_no_small_counts_on_the_demo_sized_cohort(db: str) -> None:
    at = _sign_in("board")
    table = _locality_table(at)
    assert set(table) == {"Central", "East", "North", "Total"}
    _assert_no_small_counts(list(table.values()))
    caption = " ".join(c.value for c in at.caption)
    assert "counts from 1 to 5 are shown as c" in caption


def test_board_small_counts_are_suppressed(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_small(sqlite_url, 30, 3)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    as_of = _as_of(sqlite_url)
    engine = get_engine(sqlite_url)
    ids = queries.load_localities(engine)["id"].to_list()
    cohort = queries.load_cohort(engine, ids)
    raw = _hand_count_open_16_17(sqlite_url, as_of)
    small = {k for k, v in raw.items() if 1 <= v <= 5}
    assert small, f"the tiny cohort must give small counts to suppress: {raw}"
    total = sum(raw.values())
    soon = metrics.turning_18_soon(cohort, as_of, 6).height

    at = _sign_in("board")
    table = _locality_table(at)
    assert set(table) == {*raw, "Total"}
    _assert_no_small_counts(list(table.values()))
    for name in small:
        assert table[name] in ("c", "")
    # Shown figures are the true ones; hidden ones cannot be had by subtraction.
    for name, shown in table.items():
        if shown not in ("c", ""):
            assert int(shown) == (total if name == "Total" else raw.get(name, 0))
    assert sum(v in ("c", "") for v in table.values()) != 1

    def expected_metric(n: int) -> set[str]:
        # A headline is hidden when nothing smaller will protect a small count beside it; it is
        # never a wrong figure, and "fewer than 6" only of a figure that is.
        return {"fewer than 6", "a number not shown"} if 1 <= n <= 5 else {f"{n:,}", "a number not shown"}

    assert _metric(at, OPEN_LABEL) in expected_metric(total)
    assert _metric(at, "Turning 18 in the next 6 months") in expected_metric(soon)

    # The same database seen by the lead: nothing hidden.
    st.cache_resource.clear()
    lead = _sign_in("lead")
    assert _locality_table(lead) == {**{k: str(v) for k, v in raw.items()}, "Total": str(total)}
    assert _metric(lead, OPEN_LABEL) == f"{total:,}"


def _change(now: int, then: int, unit: str, year: int) -> str:
    d = now - then
    if d == 0:
        return f"no change on {year}"
    noun = {"points": "point", "days": "day"}[unit]
    return f"{'+' if d > 0 else '-'}{abs(d)} {noun if abs(d) == 1 else unit} on {year}"


def test_headline_cards_show_the_change_on_the_year_before(db: str) -> None:
    """Each period card's change is the card's figure for the year less the
    same card's figure for the year before, as the Overview shows both."""
    at = _sign_in("lead")
    cards = {}
    for year in (2025, 2024):
        at.query_params["period"] = str(year)
        at.run()
        assert not at.exception, at.exception
        cards[year] = {m.label.replace(str(year), "YEAR"): m for m in at.metric}
    checked = 0
    for label, unit in (
        ("Adult service within 3 months of 18", "points"),
        ("Median gap, children's to adult service", "days"),
        ("NEET at 19-21 in YEAR", "points"),
    ):
        now, then = cards[2025][label], cards[2024][label]
        a, b = (int(re.sub(r"\D", "", m.value) or -1) for m in (now, then))
        if a < 0 or b < 0:
            assert not now.delta
            continue
        assert now.delta == _change(a, b, unit, 2024), label
        checked += 1
    assert checked == 3
    # Open now and turning 18 soon are counts on the figures' date: no year before.
    assert not cards[2025]["Open to children's services aged 16-17"].delta

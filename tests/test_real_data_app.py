"""The app on a database holding only real-shaped imported data (no demo):
every page renders for the lead, with no synthetic banner."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from models.db import get_engine, upgrade
from models.reference import load_reference
from partnership import accounts
from partnership.demo import load_comparators
from partnership.importers.ssda903 import import_903
from tests.test_ssda903 import _fixed_copy

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a-long-password-1"


@pytest.fixture
def real_db(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    upgrade(sqlite_url)
    with Session(get_engine(sqlite_url)) as session:
        load_reference(session)
        load_comparators(session)
        import_903(session, _fixed_copy(tmp_path), "north", 2018, today=dt.date(2026, 11, 22))
        accounts.add_user(session, "jo", "Jo Lead", "project_lead", PASSWORD)
        session.commit()
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield sqlite_url
    st.cache_resource.clear()


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/cohort.py", "pages/capacity.py", "pages/themes.py"])
def test_every_page_renders_on_imported_data(real_db: str, page: str) -> None:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    at.text_input[0].input("jo")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    if page != "pages/overview.py":
        at.switch_page(page).run()
    assert not at.exception, at.exception
    assert not [w for w in at.warning if "Synthetic demo data" in str(w.value)]
    if page == "pages/capacity.py":
        assert any("No staffing has been recorded yet" in str(i.value) for i in at.info)

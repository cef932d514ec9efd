"""What every AppTest file needs: a signed-in app, and a private copy of a
database seeded once per module (seeding is the slow part)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models.db import get_engine
from tests.conftest import TEST_PASSWORD, seed_small

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")


def signed_in(username: str, page: str | None = None, password: str = TEST_PASSWORD) -> AppTest:
    """The app after signing in through the form (and switching to `page`)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    inputs = {t.label: t for t in at.text_input}
    inputs["Username"].input(username)
    inputs["Password"].input(password)
    (submit,) = [b for b in at.button if b.label == "Sign in"]
    submit.click()
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["viewer"].username == username
    if page:
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
    return at


def seeded_once(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    path = tmp_path_factory.mktemp(name) / "seeded.db"
    url = f"sqlite:///{path}"
    seed_small(url, 400, 11)
    # SQLite runs in WAL mode: closing every connection folds the log into the file before copying.
    get_engine(url).dispose()
    assert not path.with_name("seeded.db-wal").exists()
    return path


def private_copy(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A copy of the seeded database for one test, so its writes stay there."""
    shutil.copy(seeded, tmp_path / "test.db")
    url = f"sqlite:///{tmp_path / 'test.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url

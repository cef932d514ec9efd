"""The administrator's Sessions and audit page, as the app draws it, and a
session ended there, at the other person's next click."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_support import APP, private_copy, seeded_once, signed_in

PAGE = "pages/sessions.py"


@pytest.fixture(scope="module")
def _seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_once(tmp_path_factory, "seeded")


@pytest.fixture
def db(_seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return private_copy(_seeded, tmp_path, monkeypatch)


def _table(at: AppTest, index: int) -> list[dict[str, str]]:
    return [
        {str(k): str(v) for k, v in row.items()}
        for row in [*at.dataframe, *at.table][index].value.to_dict(orient="records")
    ]


def test_an_administrator_ends_a_session_and_the_person_is_signed_out_at_their_next_click(db: str) -> None:
    lead = signed_in("lead")
    manager = signed_in("manager_east")
    admin = signed_in("admin", PAGE)
    assert [t.value for t in admin.title] == ["Sessions and audit"]
    users = sorted(row["User"] for row in _table(admin, 0))
    assert users == ["admin", "lead", "manager_east"]
    assert [row["This session"] for row in _table(admin, 0) if row["User"] == "admin"] == ["yes"]
    assert any(m.value.startswith("**3** open sessions") for m in admin.markdown)

    (choice,) = [s for s in admin.selectbox if s.label == "Session"]
    lead_label = next(o for o in choice.options if o.startswith("lead "))
    choice.select(lead_label)
    (end,) = [b for b in admin.button if b.label == "End this session"]
    end.click()
    admin.run()
    assert not admin.exception
    assert sorted(row["User"] for row in _table(admin, 0)) == ["admin", "manager_east"]

    lead.run()  # the lead's next click
    assert "viewer" not in lead.session_state
    assert [w.value for w in lead.warning][-1] == "An administrator ended your session. Please sign in again."
    assert not lead.metric
    manager.run()
    assert manager.session_state["viewer"].username == "manager_east"


def test_end_all_other_sessions_asks_first_and_keeps_the_administrators(db: str) -> None:
    lead = signed_in("lead")
    admin = signed_in("admin", PAGE)
    (end_all,) = [b for b in admin.button if b.label == "End all other sessions"]
    end_all.click()
    admin.run()
    assert [w.value for w in admin.warning][-1].startswith("Tick the box first")
    lead.run()
    assert lead.session_state["viewer"].username == "lead"
    admin.checkbox[0].check()
    next(b for b in admin.button if b.label == "End all other sessions").click()
    admin.run()
    assert admin.session_state["viewer"].username == "admin"
    lead.run()
    assert "viewer" not in lead.session_state


def test_the_audit_trail_filters_by_user_and_kind(db: str) -> None:
    wrong = AppTest.from_file(APP, default_timeout=60)
    wrong.run()
    {t.label: t for t in wrong.text_input}["Username"].input("nobody")
    {t.label: t for t in wrong.text_input}["Password"].input("a-wrong-password")
    next(b for b in wrong.button if b.label == "Sign in").click()
    wrong.run()
    signed_in("lead")
    admin = signed_in("admin", PAGE)
    (kinds,) = admin.multiselect
    kinds.select("Refusals")
    admin.run()
    refusals = _table(admin, 1)
    assert [(r["User"], r["Action"], r["Details"]) for r in refusals] == [
        ("nobody", "sign in failed", "unknown user from unknown")
    ]
    admin.multiselect[0].set_value(["Sign-ins and sign-outs"])
    (who,) = [s for s in admin.selectbox if s.label == "User"]
    who.select("lead")
    admin.run()
    assert [(r["User"], r["Action"]) for r in _table(admin, 1)] == [("lead", "sign in")]


def test_other_roles_are_told_the_page_is_not_theirs(db: str) -> None:
    lead = signed_in("lead", PAGE)
    assert [e.value for e in lead.error] == [
        "This page is not available to your role (Project lead). Ask the project lead if you need what it shows."
    ]
    assert not lead.dataframe and not lead.table


def test_a_page_opened_directly_trusts_no_viewer_without_a_live_session(db: str) -> None:
    """pages/ is also served without the entry script: a viewer in session
    state is not enough, the page checks the session itself."""
    from partnership.access import Viewer

    direct = AppTest.from_file(str(Path(APP).parent / PAGE), default_timeout=60)
    direct.session_state["viewer"] = Viewer("admin", "admin")
    direct.run()
    assert [w.value for w in direct.warning] == ["Please sign in to see this page."]
    assert not direct.title and not direct.dataframe

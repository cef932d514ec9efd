"""The Data page (administrators) and the Data quality page (lead and
administrators) driven with AppTest on a copy of a seeded database: the real
SSDA903 files refused with every problem named and nothing written, the
refusal then on the quality page, a corrected copy checked and imported, a
template file imported, and every other role kept out."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from models.db import get_engine
from partnership.importers.templates import template_bytes
from tests.apptest_support import private_copy, seeded_once, signed_in

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "data" / "ssda903"
DATA, QUALITY = "pages/data.py", "pages/quality.py"
REFUSED = "This page is not available to your role"
TABLES = ("youngperson", "serviceepisode", "outcomeobservation", "missingepisode", "importbatch")


@pytest.fixture(scope="module")
def _seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_once(tmp_path_factory, "seeded")


@pytest.fixture
def db(_seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return private_copy(_seeded, tmp_path, monkeypatch)


def _counts(url: str) -> dict[str, int]:
    with get_engine(url).connect() as conn:
        return {t: int(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()) for t in TABLES}


def _real_files() -> list[tuple[str, bytes, str]]:
    return [(p.name, p.read_bytes(), "text/csv") for p in sorted(SOURCE.glob("*.csv"))]


def _fixed_files() -> list[tuple[str, bytes, str]]:
    """The real files with the invalid oc3 codes corrected as in test_ssda903:
    retired activity codes to their current ones, impossible accommodation
    codes to 'not known' or the unsuitable form."""
    files = []
    for name, data, mime in _real_files():
        if name == "oc3.csv":
            rows = list(csv.reader(io.StringIO(data.decode())))
            for row in rows[1:]:
                row[3] = {"F3": "F2", "P3": "P2"}.get(row[3], row[3])
                row[4] = {"01": "0", "02": "0", "S1": "S2"}.get(row[4], row[4])
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(rows)
            data = out.getvalue().encode()
        files.append((name, data, mime))
    return files


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    (button,) = [b for b in at.button if b.label == label]
    return button


def _click(at: AppTest, label: str) -> AppTest:
    _button(at, label).click()
    return _run(at)


def _upload_903(at: AppTest, files: list[tuple[str, bytes, str]]) -> AppTest:
    (locality,) = [s for s in at.selectbox if s.label == "Locality the children belong to"]
    locality.set_value("north")
    at.number_input[0].set_value(2018)
    at.file_uploader(key="upload_ssda903").set_value(files)
    return _run(at)


def _shown_text(at: AppTest) -> str:
    """Everything the page prints as text and in its tables."""
    parts = [e.value for kind in ("markdown", "caption", "error", "success", "info", "warning") for e in at.get(kind)]
    parts += [df.value.to_csv() for df in [*at.dataframe, *at.table]]
    return "\n".join(str(p) for p in parts)


def _problems(at: AppTest) -> set[tuple[str, int, str, str]]:
    frames = [
        df.value
        for df in [*at.dataframe, *at.table]
        if list(df.value.columns) == ["File", "Row", "Field", "Reason", "Value"]
    ]
    assert len(frames) == 1, [list(df.value.columns) for df in [*at.dataframe, *at.table]]
    return {(r.File, int(r.Row), r.Field, r.Value) for r in frames[0].itertuples()}


def test_real_903_files_are_refused_row_by_row_and_nothing_is_written(db: str) -> None:
    before = _counts(db)
    at = signed_in("admin", DATA)
    assert [t.value for t in at.title] == ["Data"]
    at = _upload_903(at, _real_files())

    # The preview names each file with its rows; ids never appear in clear.
    shown = _shown_text(at)
    assert [t.label for t in at.tabs if ".csv" in t.label] == [
        "header.csv (2,675 rows)",
        "episodes.csv (5,050 rows)",
        "oc3.csv (53 rows)",
        "missing.csv (43 rows)",
    ]
    children = {r["CHILD"] for name, data, _ in _real_files() for r in csv.DictReader(io.StringIO(data.decode()))}
    previews = [df.value for df in [*at.dataframe, *at.table] if "CHILD" in df.value.columns]
    assert len(previews) == 4
    assert all(set(df["CHILD"]) == {"•••••"} for df in previews)
    assert not any(child in df.to_csv() for df in previews for child in children if len(child) >= 5)
    assert "HOME_POST" in shown and "Columns never read or stored" in shown  # named, never shown
    assert not any("HOME_POST" in df.columns or "UPN" in df.columns for df in previews)

    # A check refuses the same way and is not logged.
    _click(at, "Check (dry run)")
    assert any("15 problems" in e.value for e in at.error)
    assert "A check is not logged." in _shown_text(at)

    _click(at, "Import")
    (refusal,) = [e.value for e in at.error]
    assert "ssda903-north-2018: rejected, 15 problems in 7821 rows; nothing was imported" in refusal
    assert "**Nothing was written**" in _shown_text(at)
    problems = _problems(at)
    assert len(problems) == 15
    assert ("oc3.csv", 54, "ACCOM", "S1") in problems
    assert ("oc3.csv", 54, "ACTIV", "F3") in problems
    assert ("oc3.csv", 2, "ACCOM", "01") in problems
    assert _counts(db) == before

    # The lead sees that refusal on the quality page.
    lead = signed_in("lead", QUALITY)
    assert [t.value for t in lead.title] == ["Data quality"]
    assert any(
        "SSDA903 return" in e.value and "ssda903-north-2018: rejected, 15 problems in 7821 rows" in e.value
        for e in lead.error
    )
    assert ("oc3.csv", 54, "ACCOM", "S1") in _problems(lead)
    assert "All 15 problems" in _shown_text(lead)


def test_a_corrected_copy_is_checked_then_imported(db: str) -> None:
    before = _counts(db)
    at = _upload_903(signed_in("admin", DATA), _fixed_files())
    _click(at, "Check (dry run)")
    (passed,) = [s.value for s in at.success]
    assert "would import young_people=2675, episodes=5050, oc3=53, missing=43 (dry run, nothing written)" in passed
    assert _counts(db) == before

    _click(at, "Import")
    (done,) = [s.value for s in at.success]
    assert "imported young_people=2675, episodes=5050, oc3=53, missing=43" in done
    after = _counts(db)
    assert after["youngperson"] == before["youngperson"] + 2675
    assert after["serviceepisode"] == before["serviceepisode"] + 5050
    assert after["outcomeobservation"] == before["outcomeobservation"] + 53
    assert after["missingepisode"] == before["missingepisode"] + 43

    # The quality page lists it as the last SSDA903 import, with its rows.
    quality = signed_in("admin", QUALITY)
    imports = [df.value for df in [*quality.dataframe, *quality.table] if "Source" in df.value.columns]
    (row,) = [r for r in imports[0].to_dict("records") if r["Source"] == "SSDA903 return"]
    assert row["Rows"] == "2,675 young people, 5,050 episodes, 53 oc3 outcomes, 43 missing episodes"
    assert row["By"] == "admin"
    assert any(s.value.startswith("No import has been refused yet") for s in quality.success)
    # The demo has no missing episodes: the 903 import brought the only 43.
    (fields,) = [df.value for df in [*quality.dataframe, *quality.table] if "Least complete field" in df.value.columns]
    assert int(fields.set_index("Table").loc["Missing episodes", "Rows"]) == 43


def test_a_template_file_is_imported(db: str) -> None:
    before = _counts(db)
    at = signed_in("admin", DATA)
    at.radio(key="import_kind").set_value("template")
    _run(at)
    at.selectbox(key="import_table").set_value("young_people")
    header = template_bytes("young_people", excel=False).decode().splitlines()[0]
    body = "T1,15/03/2008,M,white,none,none,east,Y,N,N,N,Y\nT2,2007-11-02,F,black,ehcp,former_relevant,east,N,Y,,,\n"
    at.file_uploader(key="upload_template").set_value(("people.csv", f"{header}\n{body}".encode(), "text/csv"))
    _run(at)
    assert "people.csv (2 rows)" in [t.label for t in at.tabs]
    assert "First 2 of 2 rows." in _shown_text(at)
    _click(at, "Import")
    (done,) = [s.value for s in at.success]
    assert "people.csv: imported 2 young_people rows" in done
    assert _counts(db)["youngperson"] == before["youngperson"] + 2

    # The Templates tab offers both forms of every template with its guide.
    assert {b.label for b in at.get("download_button")} >= {"CSV template", "Excel template"}
    guides = [t.value for t in at.table if list(t.value.columns) == ["column", "required", "description", "codes"]]
    assert guides and guides[0]["column"].tolist()[0] == "child_id"


def _kept_out(at: AppTest, page: str) -> None:
    """Typed by someone whose role may not open it: the page's own guard
    refuses in words (every page is registered; the sidebar lists only the
    viewer's)."""
    at.switch_page(page)
    _run(at)
    assert [e.value.split(" (")[0] for e in at.error] == [REFUSED]
    assert not at.file_uploader and not [t for t in at.title if t.value in ("Data", "Data quality")]


def _guarded(page: str, signed: AppTest) -> None:
    """The page opened directly, as pages/ is also served without the entry
    script, by a session signed in as someone whose role may not open it."""
    direct = AppTest.from_file(str(ROOT / page), default_timeout=60)
    direct.session_state["viewer"] = signed.session_state["viewer"]
    direct.session_state["session_id"] = signed.session_state["session_id"]
    _run(direct)
    assert [e.value.split(" (")[0] for e in direct.error] == [REFUSED]
    assert not direct.title and not direct.file_uploader and not direct.dataframe


@pytest.mark.parametrize("username", ["board", "manager_east"])
def test_board_and_managers_are_kept_out(db: str, username: str) -> None:
    at = signed_in(username)
    for page in (DATA, QUALITY):
        _kept_out(at, page)
        _guarded(page, at)


def test_lead_sees_quality_but_not_data(db: str) -> None:
    at = signed_in("lead", QUALITY)
    assert [t.value for t in at.title] == ["Data quality"]
    assert any(s.value.startswith("No import has been refused yet") for s in at.success)
    _kept_out(at, DATA)
    _guarded(DATA, at)

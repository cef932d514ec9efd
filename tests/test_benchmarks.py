"""DfE published files in: parsed as they are, symbols kept, all-or-nothing,
and the comparison a board member reads (question 5)."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from models import BenchmarkValue, ImportBatch, StatNeighbour
from models.db import get_engine, upgrade
from partnership import benchmarks
from partnership.importers.benchmark import import_benchmark, import_neighbours
from partnership.importers.common import ImportRejected

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "dfe"
CARE_LEAVERS = SHARED / "la_care_leavers_activity.csv"
CSWW = SHARED / "csww_indicators_2017_to_2025.csv"
NEIGHBOURS = SHARED / "New_Statistical_Neighbour_Groupings_April_2021.csv"
NEET_19_21 = "breakdown=Total not in education, employment or training|care_leaver_age=19 to 21 years"


def _count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(BenchmarkValue)).one()


def test_real_files_import_with_symbols_kept(session: Session) -> None:
    import_benchmark(session, CARE_LEAVERS)
    import_benchmark(session, CSWW)
    import_neighbours(session, NEIGHBOURS)
    session.commit()
    # 20,040 rows x 2 indicator columns, less blank cells; the workforce file adds its own.
    care = session.exec(
        select(func.count()).select_from(BenchmarkValue).where(BenchmarkValue.dataset == "la_care_leavers_activity")
    ).one()
    assert care == 40_080
    symbols = set(session.exec(select(BenchmarkValue.symbol).where(BenchmarkValue.symbol.is_not(None))))
    assert {"c", "z"} <= symbols
    assert (
        session.exec(
            select(func.count())
            .select_from(BenchmarkValue)
            .where(BenchmarkValue.symbol.is_not(None), BenchmarkValue.value.is_not(None))
        ).one()
        == 0
    )
    # 152 current groupings x 10 neighbours; the superseded "Old SNs" block is left out.
    assert session.exec(select(func.count()).select_from(StatNeighbour)).one() == 1520


def test_comparison_for_lancashire_matches_the_published_file(session: Session) -> None:
    import_benchmark(session, CARE_LEAVERS)
    import_neighbours(session, NEIGHBOURS)
    session.commit()
    engine = session.get_bind()
    values = benchmarks.load_indicator(engine, "care_leaver_percent")
    neighbours = benchmarks.load_neighbours(engine, "888")
    assert neighbours == ["891", "381", "830", "343", "351", "808", "886", "860", "359", "896"]
    comp = benchmarks.comparators(values, "888", neighbours, NEET_19_21)
    # 2025, from the file: Lancashire 50, North West 41, England 40; the ten
    # neighbours 47, 50, 37, 41, 47, 35, 40, 28, 36, 43 -> mean 40.4.
    assert comp == {
        "period": "2025",
        "authority": "50",
        "authority_name": "Lancashire",
        "region": "41",
        "region_name": "North West",
        "neighbours": "40.4",
        "neighbours_n": "10 of 10",
        "england": "40",
    }


def test_same_file_twice_changes_nothing(session: Session) -> None:
    import_benchmark(session, CSWW)
    session.commit()
    before = _count(session)
    message = import_benchmark(session, CSWW)
    session.commit()
    assert "already imported" in message
    assert _count(session) == before
    assert session.exec(select(func.count()).select_from(ImportBatch)).one() == 1


def test_dry_runs_validate_and_count_but_write_nothing(session: Session) -> None:
    message = import_benchmark(session, CSWW, dry_run=True)
    # The workforce file: 1,463 rows (as the CLI test below reports them).
    assert "csww_indicators_2017_to_2025.csv: valid; would import 1463 rows" in message
    assert "(dry run, nothing written)" in message
    neighbours = import_neighbours(session, NEIGHBOURS, dry_run=True)
    assert "valid; would import 152 authorities' neighbours (dry run, nothing written)" in neighbours
    # Not even flushed into the open transaction: nothing to roll back.
    assert _count(session) == 0
    assert session.exec(select(func.count()).select_from(StatNeighbour)).one() == 0
    assert session.exec(select(func.count()).select_from(ImportBatch)).one() == 0
    # A dry run does not count as an import: the real one still happens.
    assert "values imported" in import_benchmark(session, CSWW)


def test_dry_run_of_a_bad_file_is_still_rejected(session: Session, tmp_path: Path) -> None:
    broken = _broken_copy(tmp_path, 2, ",15.2,", ",fifteen,")
    with pytest.raises(ImportRejected, match=re.escape("care.csv:2:caseload_fte: not a number")):
        import_benchmark(session, broken, dry_run=True)


def _broken_copy(tmp_path: Path, line: int, old: str, new: str) -> Path:
    copy = tmp_path / "care.csv"
    lines = CSWW.read_text(encoding="utf-8-sig").splitlines()
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    copy.write_text("\n".join(lines) + "\n")
    return copy


def test_bad_value_is_named_by_row_and_field_and_nothing_changes(session: Session, tmp_path: Path) -> None:
    import_benchmark(session, CARE_LEAVERS)
    session.commit()
    before = _count(session)
    broken = _broken_copy(tmp_path, 2, ",15.2,", ",fifteen,")
    with pytest.raises(ImportRejected) as err:
        import_benchmark(session, broken)
    session.rollback()
    assert "care.csv:2:caseload_fte: not a number or a GSS symbol (c, z, x, k, low, u) (fifteen)" in str(err.value)
    assert "nothing was imported" in str(err.value)
    assert _count(session) == before


def test_semicolons_bom_and_blank_lines_are_handled(session: Session, tmp_path: Path) -> None:
    text = CSWW.read_text(encoding="utf-8-sig").splitlines()[:4]
    semi = tmp_path / "semi.csv"
    semi.write_bytes(b"\xef\xbb\xbf" + ("\n\n".join(line.replace(",", ";") for line in text) + "\n").encode())
    message = import_benchmark(session, semi)
    assert "3 rows" in message


def test_empty_and_headless_files_are_refused(session: Session, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ImportRejected, match=re.escape("empty.csv:file: the file is empty")):
        import_benchmark(session, empty)
    no_period = tmp_path / "noperiod.csv"
    no_period.write_text("geographic_level,x\nNational,1\n")
    with pytest.raises(ImportRejected, match=re.escape("noperiod.csv:1:time_period: required column is missing")):
        import_benchmark(session, no_period)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_any_bytes_are_refused_cleanly_or_imported(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    """Random bytes never crash the importer: a clear rejection, database unchanged."""
    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'f.db'}"
    upgrade(url)
    path = folder / "junk.csv"
    path.write_bytes(data)
    with Session(get_engine(url)) as s:
        try:
            import_benchmark(s, path)
            s.commit()
        except ImportRejected as exc:
            s.rollback()
            assert "junk.csv" in str(exc)
            assert _count(s) == 0


def test_cli_import_reports_and_exits_non_zero(tmp_path: Path, sqlite_url: str) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    shutil.copy(CSWW, tmp_path / "ok.csv")
    lines = CSWW.read_text(encoding="utf-8-sig").splitlines()
    lines[1] = "20x5" + lines[1][4:]
    bad_file = tmp_path / "bad.csv"
    bad_file.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "DATABASE_URL": sqlite_url}
    run = subprocess.run(
        [sys.executable, "cli.py", "import-benchmark", str(bad_file)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "bad.csv:2:time_period: not a year such as 2025 or 202425 (20x5)" in run.stderr
    ok = subprocess.run(
        [sys.executable, "cli.py", "import-benchmark", str(tmp_path / "ok.csv")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0 and "1463 rows" in ok.stdout


def test_columns_a_file_may_leave_out(session: Session, tmp_path: Path) -> None:
    lines = CSWW.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")

    def without(column: str, name: str) -> Path:
        keep = [i for i, h in enumerate(header) if h != column]
        path = tmp_path / name
        with path.open("w", newline="") as handle:
            csv.writer(handle).writerows([row[i] for i in keep] for row in csv.reader(lines))
        return path

    # new_la_code is never stored: every authority here has an old code.
    assert "values imported" in import_benchmark(session, without("new_la_code", "no_new.csv"))
    # The file has local authority rows, so their names are needed.
    with pytest.raises(ImportRejected) as err:
        import_benchmark(session, without("la_name", "no_names.csv"))
    assert err.value.problems == [
        "no_names.csv:1:la_name: required column is missing (the file has local authority rows)"
    ]


def test_an_authority_listed_twice_is_named(session: Session, tmp_path: Path) -> None:
    lines = NEIGHBOURS.read_text(encoding="utf-8-sig").splitlines()
    path = tmp_path / "sn.csv"
    path.write_text("\n".join([*lines[:3], lines[1], *lines[3:]]) + "\n")
    with pytest.raises(ImportRejected) as err:
        import_neighbours(session, path)
    code = next(csv.reader([lines[1]]))[2]  # "LA number", the third column
    assert err.value.problems == [f"sn.csv:4:LA number: duplicates line 2 ({code})"]

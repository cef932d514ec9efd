"""The CSV reader every importer shares: files as people send them, row
numbers that are file line numbers, and large files read by polars rather
than into a Python string per cell."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnership.importers import common
from partnership.importers.common import ImportRejected, read_csv_text


def _read(tmp_path: Path, data: bytes, name: str = "f.csv") -> tuple[list[str], list[tuple[object, ...]], list[str]]:
    path = tmp_path / name
    path.write_bytes(data)
    frame, raw, notes = read_csv_text(path)
    assert raw == data
    return frame.columns, frame.rows(), notes


def _refused(tmp_path: Path, data: bytes) -> list[str]:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with pytest.raises(ImportRejected) as err:
        read_csv_text(path)
    return err.value.problems


@pytest.mark.parametrize(
    ("data", "columns", "rows"),
    [
        # Blank lines (empty, spaces, separators only) dropped; numbers are still file lines.
        (b"a,b\n\n1,2\n   \n,,\n3,4\n", ["_line", "a", "b"], [(3, "1", "2"), (6, "3", "4")]),
        # Windows and old Mac line endings.
        (b"a,b\r\n1,2\r\n\r\n3,4\r\n", ["_line", "a", "b"], [(2, "1", "2"), (4, "3", "4")]),
        (b"a,b\r1,2\r3,4", ["_line", "a", "b"], [(2, "1", "2"), (3, "3", "4")]),
        # Quoted separators and quotes; cells trimmed.
        (
            b'a,b\n"Bristol, City of", 2 \n"say ""hi""",x\n',
            ["_line", "a", "b"],
            [(2, "Bristol, City of", "2"), (3, 'say "hi"', "x")],
        ),
        # Semicolons (with a byte-order mark) and tabs.
        (b"\xef\xbb\xbfa;b\n1,5;2\n", ["_line", "a", "b"], [(2, "1,5", "2")]),
        (b"a\tb\n1\t2\n", ["_line", "a", "b"], [(2, "1", "2")]),
        # A trailing separator leaves nothing; a repeated name gets a suffix; blank lines before the header.
        (b"\n\na,a,\n1,2,\n", ["_line", "a", "a__2"], [(4, "1", "2")]),
        # A quoted line break: the record is numbered by the line it starts on.
        (b'a,b\n"two\nlines",2\n3,4\n', ["_line", "a", "b"], [(2, "two\nlines", "2"), (4, "3", "4")]),
        # Only a header.
        (b"a,b\n", ["_line", "a", "b"], []),
    ],
)
def test_files_as_people_send_them(
    tmp_path: Path, data: bytes, columns: list[str], rows: list[tuple[object, ...]]
) -> None:
    assert _read(tmp_path, data)[:2] == (columns, rows)


def test_windows_1252_is_read_with_a_note(tmp_path: Path) -> None:
    _columns, rows, notes = _read(tmp_path, "name,n\ncafé,1\n".encode("cp1252"))
    assert rows == [(2, "café", "1")]
    assert notes == ["f.csv: not UTF-8; read as Windows-1252"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "f.csv:file: the file is empty"),
        (b" \r\n\n", "f.csv:file: the file is empty"),
        (b"\xef\xbb\xbf", "f.csv:file: no header row"),
        (b"a,b\n1,\x002\n", "f.csv:file: not a text file (it contains NUL bytes)"),
    ],
)
def test_files_that_are_not_tables_are_refused(tmp_path: Path, data: bytes, problem: str) -> None:
    assert _refused(tmp_path, data) == [problem]


def test_ragged_rows_are_named_by_line(tmp_path: Path) -> None:
    data = b"a,b,c\n1,2,3\n\n1,2\n1,2,3,4\n1,2,3,\n"
    assert _refused(tmp_path, data) == [
        "f.csv:4:row: has 2 fields, the header has 3",
        "f.csv:5:row: has 4 fields, the header has 3",
    ]


def test_clean_files_never_reach_the_csv_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Quoted commas, blank lines and Windows line endings are read by polars."""

    def refuse(*_args: object) -> pl.DataFrame:
        raise AssertionError("the csv module was used")

    monkeypatch.setattr(common, "_read_with_csv_module", refuse)
    _columns, rows, _ = _read(tmp_path, b'\xef\xbb\xbfa,b\r\n"x, y",1\r\n\r\n,,\r\n"z",2\r\n')
    assert rows == [(2, "x, y", "1"), (5, "z", "2")]


def test_a_large_file_is_not_held_as_python_strings(tmp_path: Path) -> None:
    """About 6 MB and 700,000 cells: Python allocations stay near the size of
    the file's bytes (one copy), where a string per cell would be ten times it."""
    line = "123456,15/02/2016,L,C2,N3,T2,PR0,14/08/2017,X1\n"
    data = ("CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC\n" + line * 80_000).encode()
    path = tmp_path / "episodes.csv"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        frame, _raw, _notes = read_csv_text(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert frame.height == 80_000 and frame["_line"][-1] == 80_001
    assert peak < 2 * len(data)


# The characters that matter to a CSV reader, and a few that Python and
# polars might see differently (unit separator, non-breaking space).
CSV_TEXT = st.text(alphabet=st.sampled_from(list('ab1 ,;\t"\n\r\x1f\xa0é')), max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CSV_TEXT)
def test_polars_reads_every_file_as_the_csv_module_does(tmp_path: Path, text: str) -> None:
    """Whatever the bytes, the fast path (or its hand-over) gives exactly the
    frame, or exactly the problems, that reading with the csv module gives."""
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    sep = common.sniff_separator(common._first_text_line(body.encode()))

    def outcome(read: object) -> object:
        try:
            frame = read()  # type: ignore[operator]
        except ImportRejected as exc:
            return exc.problems
        return frame.columns, frame.rows()

    expected = outcome(lambda: common._read_with_csv_module(body, sep, common.Problems("f.csv")))
    got = outcome(lambda: read_csv_text(path)[0])
    if not text.encode().strip():  # ASCII white space only: an empty file
        assert got == ["f.csv:file: the file is empty"]
    else:
        assert got == expected


def test_columns_not_kept_are_checked_but_not_held(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    # Line 3 has only a postcode: not blank, so it is a row (with an empty CHILD).
    path.write_bytes(b"CHILD,POSTCODE,SEX\n1,AB1 2CD,2\n,EF3 4GH,\n\n2,,1\n")
    frame, _, _ = read_csv_text(path, keep={"CHILD", "SEX"})
    assert frame.columns == ["_line", "CHILD", "SEX"]
    assert frame.rows() == [(2, "1", "2"), (3, "", ""), (5, "2", "1")]
    path.write_bytes(b"CHILD,POSTCODE,SEX\n1,AB1 2CD\n")
    with pytest.raises(ImportRejected, match=r"header\.csv:2:row: has 2 fields, the header has 3"):
        read_csv_text(path, keep={"CHILD"})

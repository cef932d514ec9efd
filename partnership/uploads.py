"""The Data page without Streamlit: uploaded files staged in a temporary
folder for one import only, previews with identifiers masked, imports run
exactly as the command line runs them (`batches.run_import`), and problem
lines turned into a table.

Identifiers are masked on screen because the screen may be shared; the
person uploading holds the file and finds a row by its number."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import Engine
from sqlmodel import Session

from partnership.importers import batches, benchmark, cin, cld, ssda903, ssda903_xml, templates
from partnership.importers.common import ImportRejected, read_csv_bytes
from partnership.importers.limits import Limits, TooLarge, check_size
from partnership.importers.masking import BIRTH_FIELDS, ID_FIELDS, mask_value, split_problem

KINDS: dict[str, str] = {
    "ssda903": "SSDA903 return (header, episodes, oc3, missing)",
    "cin": "Children in need census (XML)",
    "cld": "Adult social care Client Level Data (CLD, CSV)",
    "template": "Partnership file for one table (from a template)",
    "benchmark": "DfE benchmark file (Explore Education Statistics tidy CSV)",
    "neighbours": "DfE statistical neighbour groupings",
}
SSDA903_NAMES = tuple(f"{name}.csv" for name in ssda903.FILES)
PREVIEW_ROWS = 10
PROBLEM_COLUMNS = {"File": pl.String, "Row": pl.Int64, "Field": pl.String, "Reason": pl.String, "Value": pl.String}


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


@dataclass(frozen=True)
class Request:
    """What the admin asked for: a kind of import, its files and options."""

    kind: str
    files: tuple[Upload, ...]
    locality: str = ""
    year: int | None = None
    table: str = ""
    dataset: str = ""
    link: str = "person-id"  # CLD: the identifier shared with children's data

    def signature(self) -> str:
        """Changes whenever a file or an option changes: a result shown on
        the page belongs to exactly the request it was worked out for."""
        digest = hashlib.sha256(
            repr((self.kind, self.locality, self.year, self.table, self.dataset, self.link)).encode()
        )
        for upload in self.files:
            digest.update(upload.name.encode() + b"\0" + hashlib.sha256(upload.data).digest())
        return digest.hexdigest()


@dataclass
class Preview:
    name: str
    rows: int | None  # rows in the whole file; None where only the first ones were read
    frame: pl.DataFrame  # the first rows as read, identifiers masked
    not_read: list[str] = field(default_factory=list)  # columns in the file the importer ignores
    problems: pl.DataFrame | None = None  # when the file cannot be read at all
    summary: str = ""


@dataclass
class Outcome:
    accepted: bool
    dry_run: bool
    message: str  # the importer's message, or the rejection's summary line
    problems: pl.DataFrame  # empty when accepted


def default_collection_year(today: dt.date) -> int:
    """The latest SSDA903 collection year that has ended (years end 31 March)."""
    return today.year if today.month >= 4 else today.year - 1


def import_kind(request: Request) -> str:
    """The kind recorded for the import, the same as the command line's."""
    return f"template:{request.table}" if request.kind == "template" else request.kind


def used_files(request: Request) -> tuple[list[Upload], list[str]]:
    """The files the import reads, and the names of any it will ignore."""
    if request.kind == "ssda903":
        xml = [u for u in request.files if u.name.lower().endswith(".xml")]
        if xml:  # the XML export holds the whole return: it alone is read
            return xml[:1], [u.name for u in request.files if u is not xml[0]]
        chosen: dict[str, Upload] = {}
        ignored = []
        for upload in request.files:
            name = _safe_name(upload.name)
            if name.lower() in SSDA903_NAMES:
                chosen[name.lower()] = upload  # a second copy of one file replaces the first
            else:
                ignored.append(upload.name)
        return [chosen[n] for n in SSDA903_NAMES if n in chosen], ignored
    return list(request.files[:1]), [u.name for u in request.files[1:]]


def _safe_name(name: str) -> str:
    """A browser sends a bare file name; keep it that way whatever it sends."""
    base = re.sub(r"[^A-Za-z0-9._ ()-]", "_", Path(name.replace("\\", "/")).name).strip()
    return base if base.strip(".") else "upload.csv"


def _folder_name(request: Request) -> str:
    # import_903 names the import after its folder; say what was uploaded.
    if request.kind == "ssda903":
        return f"ssda903-{request.locality or 'upload'}-{request.year or 'no-year'}"
    return "upload"


@contextmanager
def staged(request: Request) -> Iterator[Path]:
    """A temporary folder holding the files the import reads, deleted on exit."""
    files, _ignored = used_files(request)
    with tempfile.TemporaryDirectory(prefix="tsd_upload_") as tmp:
        folder = Path(tmp) / _folder_name(request)
        folder.mkdir()
        for upload in files:
            name = _safe_name(upload.name)
            (folder / (name.lower() if request.kind == "ssda903" else name)).write_bytes(upload.data)
        yield folder


def _masked(frame: pl.DataFrame) -> pl.DataFrame:
    # Masked in Python over plain lists, never as a function inside polars:
    # there it would run on polars' pool and need the GIL (a server deadlock).
    return frame.with_columns(
        pl.Series(c, [mask_value(c, v) for v in frame[c].cast(pl.String).to_list()], dtype=pl.String)
        for c in frame.columns
        if c in ID_FIELDS | BIRTH_FIELDS
    )


def problem_table(problems: list[str]) -> pl.DataFrame:
    """`file:row:field: reason (value)` lines as columns, identifiers masked."""
    rows = []
    for line in problems:
        parts = split_problem(line)
        if parts is None:  # a line in another shape is shown whole rather than lost
            rows.append({"File": "", "Row": None, "Field": "", "Reason": line, "Value": None})
            continue
        rows.append(
            {
                "File": parts.file,
                "Row": parts.row,
                "Field": parts.field,
                "Reason": parts.reason,
                "Value": mask_value(parts.field, parts.value),
            }
        )
    return pl.DataFrame(rows, schema=PROBLEM_COLUMNS)


# A preview reads the first lines of a file, never all of it: a 50 MB file
# read whole for ten rows doubled the server's memory.
PREVIEW_LINES = 200


def _head(data: bytes, lines: int) -> bytes:
    """The first `lines` lines of a file (all of it when shorter)."""
    end = -1
    for _ in range(lines):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return data
    return data[: end + 1]


def _data_lines(data: bytes, comment_prefix: str | None = None) -> int:
    """Lines with something on them, less the header (and comment lines):
    the rows of a file whose records are one line each, counted as polars
    streams the file, with no Python object per line."""
    raw = pl.col("raw").str.strip_chars()
    keep = raw != ""
    if comment_prefix:
        keep = keep & ~raw.str.starts_with(comment_prefix)
    try:
        counted = (
            pl.scan_csv(
                data,
                has_header=False,
                separator="\x00",
                quote_char=None,
                schema={"raw": pl.String},
                empty_string_is_null=False,
            )
            .select(keep.sum())
            .collect(engine="streaming")
            .item()
        )
    except pl.exceptions.PolarsError:
        return 0
    return max(int(counted or 0) - 1, 0)


def _read(request: Request, path: Path) -> tuple[pl.DataFrame, list[str], int | None]:
    """The first rows of a file as its importer reads them, the columns that
    importer uses, and the number of rows in the whole file (None where it
    cannot be known without reading it all)."""
    limits = Limits.from_settings()
    if request.kind == "cin":
        return _census_preview(path), list(CIN_PREVIEW), None
    if request.kind == "ssda903" and path.suffix.lower() == ".xml":
        tables, _where = ssda903_xml.parse(path.name, path.read_bytes(), limits)
        header = pl.DataFrame(
            tables["header"], schema=dict.fromkeys(ssda903_xml.HEADER, pl.String), orient="row"
        ).with_row_index("_line", offset=1)
        return header.with_columns(pl.col("_line").cast(pl.Int64)), ssda903.COLUMNS["header"], header.height
    if request.kind == "template":
        wanted = [c.name for c in templates.TEMPLATES.get(request.table, [])]
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame, _data, _notes = templates.read_workbook(path.name, path.read_bytes(), n_rows=PREVIEW_LINES)
            return frame, wanted, None
    data = path.read_bytes()
    comment = "#" if request.kind == "template" else None
    try:
        check_size(path.name, len(data), limits)
    except TooLarge as exc:
        raise ImportRejected(path.name, [f"{path.name}:file: {str(exc).removeprefix(path.name + ': ')}"]) from None
    frame, _data, _notes = read_csv_bytes(path.name, _head(data, PREVIEW_LINES), comment, limits=limits)
    rows = _data_lines(data, comment)
    if request.kind == "template":
        return frame, wanted, rows
    if request.kind == "ssda903":
        return frame, ssda903.COLUMNS[path.stem], rows
    if request.kind == "cld":
        return frame, [cld.LINKS[request.link], *cld.READ], rows
    return frame, [c for c in frame.columns if c != "_line"], rows  # published aggregates: every column


CIN_PREVIEW = ("LAchildID", "PersonBirthDate", "Sex", "Ethnicity", "Exploitation factors", "Episodes")


def _census_preview(path: Path) -> pl.DataFrame:
    """A census file as the importer reads it, one row per child ('_line' is
    the child's number in the file); ImportRejected if any element is wrong."""
    children = cin.read_census(path.name, path.read_bytes(), dt.date.today())
    return pl.DataFrame(
        {
            "_line": [c.number for c in children],
            "LAchildID": [c.la_child_id for c in children],
            "PersonBirthDate": [f"{c.birth_month:%Y-%m-%d}" for c in children],  # masked to the month
            "Sex": [c.sex for c in children],
            "Ethnicity": [c.ethnicity for c in children],
            "Exploitation factors": [", ".join(sorted(c.flags)) for c in children],
            "Episodes": [len(c.episodes) for c in children],
        },
        schema={"_line": pl.Int64, **dict.fromkeys(CIN_PREVIEW[:-1], pl.String), "Episodes": pl.Int64},
    )


def previews(request: Request, rows: int = PREVIEW_ROWS) -> list[Preview]:
    """The first rows of each file as read. Columns the importer never reads
    (postcodes, UPNs, names) are named but not shown."""
    out = []
    with staged(request) as folder:
        for path in sorted(folder.iterdir(), key=lambda p: _order(request, p.name)):
            try:
                frame, wanted, total = _read(request, path)
            except ImportRejected as exc:
                out.append(
                    Preview(path.name, 0, pl.DataFrame(), problems=problem_table(exc.problems), summary=_summary(exc))
                )
                continue
            shown = [c for c in wanted if c in frame.columns]
            not_read = [c for c in frame.columns if c != "_line" and c not in wanted]
            head = _masked(frame.head(rows).select(pl.col("_line").alias("row"), *shown))
            out.append(Preview(path.name, total, head, not_read))
    return out


def _order(request: Request, name: str) -> int:
    return SSDA903_NAMES.index(name) if request.kind == "ssda903" and name in SSDA903_NAMES else 0


def _work(request: Request, folder: Path, actor: str, dry_run: bool) -> Callable[[Session], str]:
    path = next(iter(sorted(folder.iterdir())), folder / "missing")
    if request.kind == "ssda903" and path.suffix.lower() == ".xml":
        return lambda s: ssda903_xml.import_903_xml(
            s, path, request.locality, request.year, actor=actor, dry_run=dry_run
        )
    if request.kind == "ssda903":
        return lambda s: ssda903.import_903(s, folder, request.locality, request.year, actor=actor, dry_run=dry_run)
    if request.kind == "cin":
        return lambda s: cin.import_cin(s, path, request.locality, actor=actor, dry_run=dry_run)
    if request.kind == "cld":
        return lambda s: cld.import_cld(s, path, request.link, actor=actor, dry_run=dry_run)
    if request.kind == "template":
        return lambda s: templates.import_table(s, request.table, path, actor=actor, dry_run=dry_run)
    if request.kind == "benchmark":
        return lambda s: benchmark.import_benchmark(s, path, request.dataset or None, actor=actor, dry_run=dry_run)
    if request.kind == "neighbours":
        return lambda s: benchmark.import_neighbours(s, path, actor=actor, dry_run=dry_run)
    raise ValueError(f"unknown kind of import '{request.kind}' (known: {', '.join(KINDS)})")


def _summary(exc: ImportRejected) -> str:
    """The rejection's closing line, exactly as the command line prints it."""
    return str(exc).splitlines()[-1]


def run(engine: Engine, request: Request, actor: str, dry_run: bool) -> Outcome:
    """Check (dry run) or import the uploaded files in one transaction. A
    refusal writes nothing; unless a dry run, it is logged for the quality page."""
    files, _ignored = used_files(request)
    if not files:
        wanted = ", ".join(SSDA903_NAMES) if request.kind == "ssda903" else "a file"
        return Outcome(False, dry_run, f"Nothing to import: upload {wanted}.", problem_table([]))
    with staged(request) as folder:
        work = _work(request, folder, actor, dry_run)
        try:
            message = batches.run_import(engine, import_kind(request), actor, work, dry_run=dry_run)
        except ImportRejected as exc:
            return Outcome(False, dry_run, _summary(exc), problem_table(exc.problems))
        except ValueError as exc:  # an unknown table or locality: refused before any row is read
            return Outcome(False, dry_run, str(exc), problem_table([]))
        except Exception as exc:
            # An importer fault (say the database refusing a row the checks let
            # through): run_import's session closed without committing, so the
            # page can say so plainly instead of showing a stack trace.
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            return Outcome(
                False,
                dry_run,
                f"The import stopped on an unexpected error ({type(exc).__name__}: {first}); nothing was written.",
                problem_table([]),
            )
    return Outcome(True, dry_run, message, problem_table([]))

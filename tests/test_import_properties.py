"""Damaged files at every importer, through run_import as the command line runs them.

Each case is either accepted, and the database then holds what was worked out by
hand (row counts, or exactly what the clean file gives), or refused with
ImportRejected: every problem reads `<file>(:<row>)?:<field>: <reason>( (<value>))?`,
the damage is named by line and field, the refusal is logged as one
ImportRejection, and every data table is exactly as it was. One database per
test and engine; an accepted case is undone before the next.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, func, select

from models import AuditEvent, ImportRejection, Post
from models.db import get_engine, upgrade
from models.reference import load_reference
from partnership import capacity
from partnership.importers.batches import run_import
from partnership.importers.benchmark import import_benchmark, import_neighbours
from partnership.importers.common import ImportRejected
from partnership.importers.masking import mask_problem
from partnership.importers.ssda903 import COLUMNS as COLUMNS_903
from partnership.importers.ssda903 import import_903
from partnership.importers.templates import TEMPLATES, import_table, template_bytes
from tests.import_strategies import (
    ANY,
    BOMBS,
    CLEAN,
    COMBINED,
    INVARIANTS,
    Accepted,
    Case,
    FileSpec,
    Layout,
    Rejected,
    Spec,
    Table,
    cases,
    damaged,
    layout_case,
    load_rows,
    render,
    render_xlsx,
    table_of,
)

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
TODAY = dt.date(2026, 11, 22)
# One character past the limits (ID_MAX_CHARS for identifiers, max_field_chars for the rest).
LONG_ID = "7" * 65
LONG_TEXT = "w" * 1001
LOGS = {"importrejection", "auditevent"}
FREE_TEXT = "Zoë, checked · ok"  # a comma for quoting, and letters Windows-1252 encodes differently
PROBLEM = re.compile(
    r"(?P<file>[^:\n]+?)(?::(?P<row>\d+))?:(?P<field>[^:\n]+): (?P<reason>[^\n]+?)(?: \((?P<value>[^\n]*)\))?\Z"
)
SETTINGS = settings(
    max_examples=15,
    print_blob=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- the clean files ---------------------------------------------------------------

# Eleven children of the real 903 files (shared/data/ssda903): the first two in
# header.csv, the five in oc3.csv whose codes are all valid, and the four in
# missing.csv. Every row about them, by file line; counted by hand with
#   grep -nE '^(880820|87520|438490|760316|574154|510000|92296|355937|26033|566910|384923),'
HEADER_LINES = [2, 3, 94, 139, 266, 292, 326, 406, 414, 464, 719]
EPISODE_LINES = [2, 3, 4, 5, 181, 274, 275, 533, 534, 535, 582, 813, 814, 815, 828, 931, 932, 933, 1431, 1432, 1433]
EPISODE_LINES += [1434]
OC3_LINES = [4, 5, 6, 9, 10]
MISSING_LINES = [2, 3, 4, 8, 9]


def _spec_903() -> Spec:
    folder = SHARED / "ssda903"
    # Unused columns get text with a comma and non-ASCII letters: quoting and
    # encoding must not change what is imported.
    header = load_rows(folder / "header.csv", HEADER_LINES).with_cell(0, "UPN", FREE_TEXT)
    episodes = load_rows(folder / "episodes.csv", EPISODE_LINES).with_cell(1, "PL_POST", FREE_TEXT)
    oc3 = load_rows(folder / "oc3.csv", OC3_LINES)
    missing = load_rows(folder / "missing.csv", MISSING_LINES)

    def unused(table: Table, name: str) -> dict[str, dict[str, int] | None]:
        return {c: None for c in table.header if c not in COLUMNS_903[name]}

    return Spec(
        "ssda903",
        (
            FileSpec(
                "header.csv",
                header,
                {
                    "CHILD": (LONG_ID,),
                    "SEX": ("3", "M", ""),
                    "DOB": ("31/02/2008", "2008-03-27", "27/03/08", "01/01/2099", "01/01/1800", ""),
                    "ETHNIC": ("WBRX", "white", LONG_TEXT),
                },
                tuple(COLUMNS_903["header"]),
                unused(header, "header"),
                duplicate="CHILD",
            ),
            FileSpec(
                "episodes.csv",
                episodes,
                {
                    "CHILD": (LONG_ID,),
                    "DECOM": ("31/02/2016", "2016-02-15", "", "01/01/1800"),
                    "DEC": ("32/01/2018", "01/01/1990", "01/01/2099"),  # 1990 is before every DECOM
                    "REC": ("E99", "Z1"),
                },
                tuple(COLUMNS_903["episodes"]),
                unused(episodes, "episodes"),
                duplicate=Accepted({"serviceepisode": 23}),
                child="CHILD",
            ),
            FileSpec(
                "oc3.csv",
                oc3,
                {"IN_TOUCH": ("MAYBE", "yes"), "ACTIV": ("F3", "P3", "Z9"), "ACCOM": ("S1", "X1", "01", "Q1")},
                tuple(COLUMNS_903["oc3"]),
                unused(oc3, "oc3"),
                duplicate=Accepted({"outcomeobservation": 6}),
                child="CHILD",
            ),
            FileSpec(
                "missing.csv",
                missing,
                {
                    "MISSING": ("X", "m"),
                    "MIS_START": ("31/11/2017", "2017-11-13", "13/11/1817"),
                    "MIS_END": ("25/13/2017", "01/01/1990", "25/11/2117"),
                },
                tuple(COLUMNS_903["missing"]),
                unused(missing, "missing"),
                duplicate=Accepted({"missingepisode": 6}),
                child="CHILD",
            ),
        ),
        {"youngperson": 11, "serviceepisode": 22, "outcomeobservation": 5, "missingepisode": 5},
    )


# Two young people are in the database before any template file: A1 and A2.
BASE_PEOPLE = (
    "child_id,birth_date,sex,ethnicity,send,care_status,locality,cce,cse,gangs,trafficking,missing\n"
    "A1,15/03/2008,M,white,none,none,north,Y,N,N,N,Y\n"
    "A2,2007-11-02,F,black,ehcp,former_relevant,east,N,Y,,,\n"
)
BASE_MONTH = dt.date(2026, 9, 1)  # every post staffed as funded (all 65 posts are 1.0 FTE)
PACE = "North shared posts · PACE Worker (Lancaster children only)"


def _template(table: str, rows: list[dict[str, str]], counts: dict[str, int], **kw: object) -> Spec:
    columns = [c.name for c in TEMPLATES[table]]
    clean = table_of([*columns, "comment"], rows).with_cell(0, "comment", FREE_TEXT)
    file = FileSpec(
        f"{table}.csv",
        clean,
        kw.pop("bad"),  # type: ignore[arg-type]
        tuple(columns),  # every template column must be there, required or not
        {"comment": None},
        excel=True,
        **kw,  # type: ignore[arg-type]
    )
    return Spec(table, (file,), counts)


def _row(table: str, *values: str) -> dict[str, str]:
    return dict(zip([c.name for c in TEMPLATES[table]], values, strict=True))


TEMPLATE_SPECS = {
    s.name: s
    for s in (
        _template(
            "young_people",
            [
                _row("young_people", "A1", "15/03/2008", "M", "white", "none", "looked_after", "north", *"YNNNY"),
                _row("young_people", "A3", "01/12/2008", "F", "asian", "sen_support", "eligible", "central", *"NNYNN"),
                _row("young_people", "A4", "2008-06-30", "X", "unknown", "none", "none", "east", *[""] * 5),
            ],
            {"youngperson": 4},  # A1 updated, A3 and A4 new
            bad={
                "child_id": ("", LONG_ID),
                "birth_date": ("31/02/2008", "15.03.2008", "2008/03/15", "01/01/2099", "1800-03-15"),
                "sex": ("Q", "male"),
                "ethnicity": ("WBRI",),
                "send": ("yes",),
                "care_status": ("CL",),
                "locality": ("south", "North"),
                "cce": ("maybe", "1"),
            },
            duplicate="child_id",
        ),
        _template(
            "service_episodes",
            [
                _row("service_episodes", "A1", "looked_after", "01/02/2020", "14/03/2026", "independent_living"),
                _row("service_episodes", "A1", "leaving_care_pa", "15/03/2026", "", ""),
                _row("service_episodes", "A2", "empower", "2024-05-01", "", ""),
            ],
            {"serviceepisode": 3},
            bad={
                "child_id": ("",),
                "service": ("foster_care", "Looked_After"),
                "start_date": ("31/02/2020", "2020.02.01", "", "01/02/1820"),
                "end_date": ("14/13/2026", "01/01/1990", "14/03/2126"),
                "end_reason": ("E7", "moved"),
            },
            duplicate=Accepted({"serviceepisode": 4}),
            child="child_id",
        ),
        _template(
            "transition_plans",
            [
                _row("transition_plans", "A1", "01/09/2025", "2026-01-15", "leaving_care_pa"),
                _row("transition_plans", "A2", "01/06/2025", "", ""),
            ],
            {"transitionplan": 2},
            bad={
                "started_date": ("31/06/2025",),
                "agreed_date": ("15/01/26", "01/01/1990", "2099-01-15"),
                "post18_service": ("none", "housing"),
            },
            duplicate="child_id",
            child="child_id",
        ),
        _template(
            "risk_assessments",
            [
                _row("risk_assessments", "A1", "police", "01/01/2026", "high"),
                _row("risk_assessments", "A1", "health", "2026-02-01", "low"),
                _row("risk_assessments", "A2", "social_care", "15/03/2026", "very_high"),
            ],
            {"riskassessment": 3},
            bad={
                "agency": ("school", "Police"),
                "assessed_date": ("29/02/2026", "", "01/01/1899"),
                "level": ("extreme", "High"),
            },
            duplicate=Accepted({"riskassessment": 4}),
            child="child_id",
        ),
        _template(
            "outcomes",
            [
                _row("outcomes", "A1", "15/03/2026", "G5", "U1", "YES", "1", "0", "0", "0"),
                _row("outcomes", "A2", "2025-11-02", "F2", "S2", "NO", "0", "2", "", ""),
            ],
            {"outcomeobservation": 2},
            bad={
                "observed_date": ("31/02/2026", "15/03/2099"),
                "activity": ("F3", "P3"),
                "accommodation": ("S1", "X1", "01"),
                "in_touch": ("yes", "MAYBE"),
                "missing_episodes": ("-1", "1.5", "two"),
                "ae_attendances": ("-2",),
            },
            duplicate=Accepted({"outcomeobservation": 3}),
            child="child_id",
        ),
        _template(
            "staffing_snapshots",
            [
                _row("staffing_snapshots", "2026-10", "East Team 1 · Social Worker 2", "0.5", "0.5", "0.5", "12"),
                _row("staffing_snapshots", "2026-10", PACE, "1", "0", "0", "3"),
                _row("staffing_snapshots", "2026-10", "Central Team 2 · Family Support Worker", "0.8", "0", "0.2", "0"),
            ],
            {"postsnapshot": 65 + 3},
            bad={
                "month": ("2026-13", "10/2026", "2099-01"),
                "post": ("Nowhere Team · Wizard", "East Team 1 · Social Worker"),
                "filled_fte": ("-0.5", "abc"),
                "agency_fte": ("-1",),
                "vacant_fte": ("-0.2",),
                "cases_held": ("-1", "2.5"),
            },
            # The same figures twice for a post and month are one snapshot.
            duplicate=Accepted({"postsnapshot": 68}),
        ),
        _template(
            "indicator_values",
            [
                _row("indicator_values", "shared_risk_assessment", "2026-Q2", "52", "Zoë's audit, Q2 · final"),
                _row("indicator_values", "risk_info_at_transfer", "2026-Q1", "40", ""),
            ],
            {"indicatorvalue": 2},
            bad={
                "indicator": ("made_up", "neet_19_21"),  # the second is computed, not entered
                "period": ("2026-Q5", "Q3 2026", "2099-Q1"),
                "value": ("abc", "150", "-5"),  # percentages
                "note": ("x" * 501, LONG_TEXT),
            },
            duplicate=Accepted({"indicatorvalue": 3}),  # a second version
        ),
    )
}

# The workforce file: England, the nine regions, and Sunderland ('low'), Hull
# (a quoted comma in its name) and Kirklees ('z'). 13 rows x 22 indicator
# columns, every cell filled: 286 values.
CSWW_LINES = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 25, 55, 56]


def _spec_benchmark() -> Spec:
    csww = load_rows(SHARED / "dfe" / "csww_indicators_2017_to_2025.csv", CSWW_LINES)
    return Spec(
        "benchmark",
        (
            FileSpec(
                "csww.csv",
                csww.with_cell(0, "time_identifier", FREE_TEXT),
                {
                    "time_period": ("20x5", "25", "2025/26"),
                    "geographic_level": ("County", "national", LONG_TEXT),
                    "caseload_fte": ("fifteen", "15.2.1", "n/a"),
                    "agency_fte": ("-", "lots"),
                },
                ("time_period", "geographic_level"),
                {
                    "time_identifier": None,
                    "new_la_code": None,
                    "old_la_code": {"benchmarkvalue": 286},  # authorities then keyed by new code
                    "absence_rate_fte": {"benchmarkvalue": 286 - 13},
                },
                duplicate="row",
            ),
        ),
        {"benchmarkvalue": 286},
    )


# Statistical neighbours: six authorities, Bristol (a quoted comma), then the
# file's own tail: a blank row, "Old SNs:" and superseded groupings, left out.
NEIGHBOUR_LINES = [2, 3, 4, 5, 6, 7, 73, 154, 155, 156, 157, 158]


def _spec_neighbours() -> Spec:
    table = load_rows(SHARED / "dfe" / "New_Statistical_Neighbour_Groupings_April_2021.csv", NEIGHBOUR_LINES)
    return Spec(
        "neighbours",
        (
            FileSpec(
                "neighbours.csv",
                table.with_cell(0, "GOReg", FREE_TEXT),
                {"LA number": ("abc", "", "20l"), "SN3": ("x12", "", "12a"), "SN10": ("n/a",)},
                tuple(f"SN{i}" for i in range(1, 11)),
                {
                    "LA num": None,
                    "GOInd": None,
                    "GOReg": None,
                    "LA number": None,  # "LA num" holds the same numbers
                    # Not "LA Name": the "Old SNs:" marker is in that column.
                },
                data_rows=7,
            ),
        ),
        {"statneighbour": 70},  # 7 authorities x 10 neighbours
    )


SPEC_903 = _spec_903()
SPEC_BENCHMARK = _spec_benchmark()
SPEC_NEIGHBOURS = _spec_neighbours()


# --- the database: dumps, logs, undo ----------------------------------------------

Dump = dict[str, list[tuple[object, ...]]]


def _data_tables() -> list[sa.Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in LOGS]


def dump(engine: Engine) -> Dump:
    """Every data table, ordered by primary key."""
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
            for t in _data_tables()
        }


def _digest(rows: list[tuple[object, ...]]) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:12]


def assert_unchanged(before: Dump, after: Dump) -> None:
    changed = {
        name: f"{len(before[name])} rows {_digest(before[name])} -> {len(after[name])} rows {_digest(after[name])}"
        for name in before
        if before[name] != after[name]
    }
    assert not changed, f"a refused import changed data tables: {changed}"


def counts(snapshot: Dump) -> dict[str, int]:
    return {name: len(rows) for name, rows in snapshot.items()}


def content(snapshot: Dump) -> dict[str, list[str]]:
    """What the data says, without what differs between two imports of the
    same data: surrogate ids (young people by their keyed hash instead),
    timestamps, the batch's checksum and file name, the data version."""
    yp = list(SQLModel.metadata.tables["youngperson"].columns.keys())
    people = {row[yp.index("id")]: row[yp.index("pseudo_key")] for row in snapshot["youngperson"]}
    out = {}
    for t in _data_tables():
        # sqlmodel wraps timestamps in a TypeDecorator (UTCDateTime) over DateTime.
        drop = {"id"} | {c.name for c in t.columns if isinstance(getattr(c.type, "impl", c.type), sa.DateTime)}
        if t.name == "importbatch":
            drop |= {"checksum", "file_name"}
        rows = []
        for row in snapshot[t.name]:
            values = {c.name: v for c, v in zip(t.columns, row, strict=True) if c.name not in drop}
            if "young_person_id" in values:
                values["young_person_id"] = people[values["young_person_id"]]
            # Stamps of a write, different at every write.
            if t.name == "setting" and values["key"] in ("data_version", "cohort_version", "staffing_version"):
                values["value"] = "<version>"
            rows.append(repr(sorted(values.items())))
        out[t.name] = sorted(rows)
    return out


def restore(engine: Engine, baseline: Dump, current: Dump | None = None) -> None:
    """Put every data table back to `baseline`: new rows deleted (children
    first), changed rows updated, deleted rows inserted again."""
    current = current or dump(engine)
    if current == baseline:
        return
    tables = _data_tables()
    with engine.begin() as conn:
        for t in reversed(tables):
            (pk,) = t.primary_key.columns
            i = list(t.columns).index(pk)
            keep = {row[i] for row in baseline[t.name]}
            extra = [row[i] for row in current[t.name] if row[i] not in keep]
            if extra:
                conn.execute(sa.delete(t).where(pk.in_(extra)))
        for t in tables:
            (pk,) = t.primary_key.columns
            i = list(t.columns).index(pk)
            have = {row[i]: row for row in current[t.name]}
            for row in baseline[t.name]:
                values = dict(zip(t.columns.keys(), row, strict=True))
                if row[i] not in have:
                    conn.execute(sa.insert(t).values(values))
                elif have[row[i]] != row:
                    conn.execute(sa.update(t).where(pk == row[i]).values(values))


def _log_marks(engine: Engine) -> tuple[int, int]:
    with Session(engine) as s:
        return (
            s.exec(select(func.max(ImportRejection.id))).one() or 0,
            s.exec(select(func.max(AuditEvent.id))).one() or 0,
        )


def _new_logs(engine: Engine, marks: tuple[int, int]) -> tuple[list[ImportRejection], list[AuditEvent]]:
    with Session(engine) as s:
        rejections = list(s.exec(select(ImportRejection).where(ImportRejection.id > marks[0])))
        audits = list(s.exec(select(AuditEvent).where(AuditEvent.id > marks[1])))
        return rejections, audits


# --- the checks ----------------------------------------------------------------------


def check_problems(problems: list[str], expect: Rejected) -> None:
    assert problems, "refused without naming any problem"
    named = []
    for problem in problems:
        m = PROBLEM.match(problem)
        assert m, f"not <file>(:<row>)?:<field>: <reason>( (<value>))? on one line: {problem!r}"
        assert m["file"] == expect.file, f"expected every problem in {expect.file}: {problem!r}"
        row = int(m["row"]) if m["row"] else None
        if (expect.line is ANY or row == expect.line) and (expect.field is ANY or m["field"] == expect.field):
            named.append(problem)
    assert any(expect.reason in p for p in named), (
        f"no problem names line {expect.line}, field {expect.field} ({expect.reason!r}): {problems}"
    )
    if expect.count is not None:
        assert len(problems) == expect.count, f"expected {expect.count} problem(s): {problems}"


Work = Callable[[Session], str]
Runner = Callable[[Case, Path, bool], tuple[str, Work]]


def run_903(case: Case, folder: Path, dry: bool) -> tuple[str, Work]:
    return "ssda903", lambda s: import_903(s, folder, "north", 2018, today=TODAY, dry_run=dry)


def run_template(case: Case, folder: Path, dry: bool) -> tuple[str, Work]:
    (path,) = folder.iterdir()
    return f"template:{case.spec}", lambda s: import_table(s, case.spec, path, today=TODAY, dry_run=dry)


def run_benchmark(case: Case, folder: Path, dry: bool) -> tuple[str, Work]:
    (path,) = folder.iterdir()
    return "benchmark", lambda s: import_benchmark(s, path, "csww", dry_run=dry)


def run_neighbours(case: Case, folder: Path, dry: bool) -> tuple[str, Work]:
    (path,) = folder.iterdir()
    return "neighbours", lambda s: import_neighbours(s, path, dry_run=dry)


@dataclass(repr=False)
class Harness:
    """One database for many cases: each is imported, checked, and undone."""

    engine: Engine
    tmp: Path
    runner: Runner
    specs: dict[str, Spec]
    dry_runs: bool  # a dry run first (when the case asks) must decide the same and write nothing
    baseline: Dump = field(init=False)
    after: Dump | None = field(default=None, init=False)  # the last dump after an import, for restore()
    clean: dict[str, tuple[dict[str, list[str]], dict[str, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.baseline = dump(self.engine)

    def learn(self, spec: Spec) -> None:
        """Import the clean files once: their row counts must be the hand-counted ones."""
        case = layout_case(spec, "clean", CLEAN)
        folder = self._write(case)
        kind, work = self.runner(case, folder, False)
        run_import(self.engine, kind, "test", work)
        after = dump(self.engine)
        got = counts(after)
        assert {t: got[t] for t in spec.counts} == spec.counts, f"the clean {spec.name} files: not the hand counts"
        self.clean[spec.name] = (content(after), got)
        restore(self.engine, self.baseline, after)
        assert dump(self.engine) == self.baseline, "could not put the database back as it was"

    def _write(self, case: Case) -> Path:
        folder = Path(tempfile.mkdtemp(dir=self.tmp))
        for name, data in case.files.items():
            (folder / name).write_bytes(data)
        return folder

    def check(self, case: Case) -> None:
        if case.spec not in self.clean:
            self.learn(self.specs[case.spec])
        self.after = None
        try:
            self._check(case)
        finally:
            # Also after a failed check, so one failure does not spill into the next example.
            restore(self.engine, self.baseline, self.after)

    def _check(self, case: Case) -> None:
        folder = self._write(case)
        dry_problems = self._dry_run(case, folder) if self.dry_runs and case.dry_run_first else None
        # Every check starts from the baseline (restore() after each).
        before, marks = self.baseline, _log_marks(self.engine)
        kind, work = self.runner(case, folder, False)
        try:
            message = run_import(self.engine, kind, "test", work)
        except ImportRejected as exc:
            assert isinstance(case.expect, Rejected), f"refused a file that should be imported: {exc.problems}"
            check_problems(exc.problems, case.expect)
            if dry_problems is not None:
                assert exc.problems == dry_problems, "a dry run found other problems"
            self.after = dump(self.engine)
            assert_unchanged(before, self.after)
            rejections, audits = _new_logs(self.engine, marks)
            assert [(r.kind, r.file_name, r.problem_count, r.rows) for r in rejections] == [
                (kind, exc.file_name[:200], exc.count, exc.rows)
            ]
            assert rejections[0].problems == "\n".join(mask_problem(p) for p in exc.problems[:200])[:20000]
            assert [a.action for a in audits] == ["import_rejected"]
            return
        assert isinstance(case.expect, Accepted), f"imported a file that should be refused: {message}"
        assert dry_problems is None or dry_problems == [], f"a dry run refused it: {dry_problems}"
        if case.windows_1252:
            assert "read as Windows-1252" in message, message
        after = self.after = dump(self.engine)
        clean_content, clean_counts = self.clean[case.spec]
        expected = case.expect.counts or clean_counts
        got = counts(after)
        wrong = {t: (got[t], n) for t, n in expected.items() if got[t] != n}
        assert not wrong, f"rows (got, expected): {wrong}; {message}"
        if case.expect.counts is None:
            now = content(after)
            differ = {t: sorted(set(now[t]) ^ set(clean_content[t]))[:4] for t in now if now[t] != clean_content[t]}
            assert not differ, f"not the same data as the clean files give: {differ}"
        rejections, audits = _new_logs(self.engine, marks)
        assert rejections == [] and [a.action for a in audits].count("import") == 1

    def _dry_run(self, case: Case, folder: Path) -> list[str]:
        """Problems a dry run finds (empty: it would import); it writes and logs nothing."""
        before, marks = self.baseline, _log_marks(self.engine)
        kind, work = self.runner(case, folder, True)
        try:
            message = run_import(self.engine, kind, "test", work, dry_run=True)
            problems: list[str] = []
            assert "dry run" in message, message
        except ImportRejected as exc:
            problems = exc.problems
        assert_unchanged(before, dump(self.engine))
        assert _new_logs(self.engine, marks) == ([], [])
        return problems


def _database(url: str) -> Engine:
    upgrade(url)
    engine = get_engine(url)
    with Session(engine) as s:
        load_reference(s)
        s.commit()
    return engine


@pytest.fixture
def ssda903(db_url: str, tmp_path: Path) -> Harness:
    return Harness(_database(db_url), tmp_path, run_903, {"ssda903": SPEC_903}, dry_runs=True)


def _template_baseline(engine: Engine, tmp_path: Path) -> None:
    """A1 and A2, imported as a user would; and one month of every post, so
    the posts have the names the Team capacity page shows."""
    people = tmp_path / "base_people.csv"
    people.write_text(BASE_PEOPLE)
    run_import(engine, "template:young_people", "test", lambda s: import_table(s, "young_people", people, today=TODAY))
    with Session(engine) as s:
        rows = [capacity.SnapshotRow(p.id, str(p.id), p.fte, p.fte, 0.0, 0.0, 0) for p in s.exec(select(Post))]  # type: ignore[arg-type]
        assert len(rows) == 65 and all(r.funded_fte == 1.0 for r in rows)
        capacity.save_month(s, BASE_MONTH, rows, "test")
        s.commit()


def _templates(url: str, tmp_path: Path) -> Harness:
    engine = _database(url)
    _template_baseline(engine, tmp_path)
    return Harness(engine, tmp_path, run_template, TEMPLATE_SPECS, dry_runs=True)


@pytest.fixture
def templates(db_url: str, tmp_path: Path) -> Harness:
    return _templates(db_url, tmp_path)


@pytest.fixture(scope="module")
def templates_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    """One SQLite database for the cases below about reading files, which do not
    depend on the engine; every check puts it back as it was."""
    tmp = tmp_path_factory.mktemp("templates")
    return _templates(f"sqlite:///{tmp / 'test.db'}", tmp)


def _benchmark(url: str, tmp_path: Path) -> Harness:
    return Harness(_database(url), tmp_path, run_benchmark, {"benchmark": SPEC_BENCHMARK}, dry_runs=True)


@pytest.fixture
def benchmark(db_url: str, tmp_path: Path) -> Harness:
    return _benchmark(db_url, tmp_path)


@pytest.fixture(scope="module")
def benchmark_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    tmp = tmp_path_factory.mktemp("benchmark")
    return _benchmark(f"sqlite:///{tmp / 'test.db'}", tmp)


@pytest.fixture
def neighbours(db_url: str, tmp_path: Path) -> Harness:
    return Harness(_database(db_url), tmp_path, run_neighbours, {"neighbours": SPEC_NEIGHBOURS}, dry_runs=True)


def _with_invariants(
    specs: list[Spec], layouts: dict[str, Layout]
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Must-accept layouts, run whatever hypothesis draws besides."""

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        for spec in specs:
            for label, layout in layouts.items():
                test = example(case=layout_case(spec, label, layout))(test)
        return test

    return decorate


def _with(*examples: Case) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        for case in examples:
            test = example(case=case)(test)
        return test

    return decorate


# Damage the brief names, every run, whatever hypothesis draws besides; lines worked out by hand.
def _cut(row: int, keep: int) -> Callable[[Table], Table]:
    return lambda t: Table(t.header, (*t.rows[:row], t.rows[row][:keep], *t.rows[row + 1 :]))


EXAMPLES_903 = (
    damaged(SPEC_903, "oc3.csv", lambda t: t.with_cell(0, "ACTIV", "F3"), Rejected("oc3.csv", 2, "ACTIV"), "F3"),
    damaged(SPEC_903, "oc3.csv", lambda t: t.with_cell(1, "ACTIV", "P3"), Rejected("oc3.csv", 3, "ACTIV"), "P3"),
    damaged(SPEC_903, "oc3.csv", lambda t: t.with_cell(4, "ACCOM", "S1"), Rejected("oc3.csv", 6, "ACCOM"), "S1"),
    damaged(
        SPEC_903, "header.csv", lambda t: t.with_cell(2, "DOB", "31/02/2019"), Rejected("header.csv", 4, "DOB"), "31/02"
    ),
    damaged(
        SPEC_903,
        "episodes.csv",
        lambda t: t.with_cell(3, "CHILD", "999999"),
        Rejected("episodes.csv", 5, "CHILD", reason="no such child"),
        "child not in header",
    ),
    damaged(
        SPEC_903,
        "header.csv",
        lambda t: t.with_row(3, t.rows[0]),
        Rejected("header.csv", 5, "CHILD", reason="duplicates line 2"),
        "first child again as line 5",
    ),
    damaged(SPEC_903, "missing.csv", _cut(0, 3), Rejected("missing.csv", 2, "row"), "3 of 5 fields"),
    damaged(SPEC_903, "episodes.csv", lambda t: t.without_column("DEC"), Rejected("episodes.csv", 1, "DEC"), "no DEC"),
)
EXAMPLES_TEMPLATES = (
    # Every bomb, every run: refused by the limits before any Excel reader unpacks it.
    *(
        Case(
            "young_people",
            f"young_people.xlsx: a workbook that {which}",
            {"young_people.xlsx": make()},
            Rejected("young_people.xlsx", None, "file", reason=says),
        )
        for which, (make, says) in BOMBS.items()
    ),
    damaged(
        TEMPLATE_SPECS["young_people"],
        "young_people.csv",
        lambda t: (
            t.with_cell(1, "birth_date", "01/12/1808").with_cell(2, "sex", "Q").with_cell(0, "birth_date", "2099-01-01")
        ),
        Rejected("young_people.csv", 3, "birth_date", count=3, reason="before 1990"),
        "1808, a bad code and the future, all named in one refusal",
    ),
    damaged(
        TEMPLATE_SPECS["staffing_snapshots"],
        "staffing_snapshots.csv",
        lambda t: t.with_cell(0, "filled_fte", "-0.5"),
        Rejected("staffing_snapshots.csv", 2, "filled_fte", reason="cannot be negative"),
        "negative FTE",
    ),
    damaged(
        TEMPLATE_SPECS["outcomes"],
        "outcomes.csv",
        lambda t: t.with_cell(1, "accommodation", "S1"),
        Rejected("outcomes.csv", 3, "accommodation"),
        "S1",
    ),
    damaged(
        TEMPLATE_SPECS["risk_assessments"],
        "risk_assessments.csv",
        lambda t: t.with_cell(2, "assessed_date", "31/02/2019"),
        Rejected("risk_assessments.csv", 4, "assessed_date"),
        "31/02",
    ),
)
EXAMPLES_BENCHMARK = (
    damaged(
        SPEC_BENCHMARK,
        "csww.csv",
        lambda t: t.with_row(13, t.rows[11]),  # Hull again, after Kirklees
        Rejected("csww.csv", 15, "row", reason="duplicates line 13"),
        "Hull twice",
    ),
)
EXAMPLES_NEIGHBOURS = (
    damaged(
        SPEC_NEIGHBOURS,
        "neighbours.csv",
        lambda t: t.with_cell(6, "SN3", "x12"),
        Rejected("neighbours.csv", 8, "SN3"),
        "Bristol's third neighbour",
    ),
)


# --- properties ------------------------------------------------------------------------


@SETTINGS
@given(case=cases(SPEC_903))
@_with_invariants([SPEC_903], INVARIANTS)
@_with(*EXAMPLES_903)
def test_ssda903_damaged_files(ssda903: Harness, case: Case) -> None:
    ssda903.check(case)


@SETTINGS
@given(case=st.sampled_from(list(TEMPLATE_SPECS.values())).flatmap(cases))
# One at a time for the staffing file (non-ASCII post names, numbers), all at once for every table.
@_with_invariants([TEMPLATE_SPECS["staffing_snapshots"]], INVARIANTS)
@_with_invariants(list(TEMPLATE_SPECS.values()), COMBINED)
@_with(*EXAMPLES_TEMPLATES)
def test_template_damaged_files(templates: Harness, case: Case) -> None:
    templates.check(case)


@SETTINGS
@given(case=cases(SPEC_BENCHMARK))
@_with_invariants([SPEC_BENCHMARK], INVARIANTS)
@_with(*EXAMPLES_BENCHMARK)
def test_benchmark_damaged_files(benchmark: Harness, case: Case) -> None:
    benchmark.check(case)


@SETTINGS
@given(case=cases(SPEC_NEIGHBOURS))
@_with_invariants([SPEC_NEIGHBOURS], INVARIANTS)
@_with(*EXAMPLES_NEIGHBOURS)
def test_neighbours_damaged_files(neighbours: Harness, case: Case) -> None:
    neighbours.check(case)


@settings(SETTINGS, max_examples=10)
@given(table=st.sampled_from(sorted(TEMPLATES)), cut=st.floats(0.0, 0.99), blank=st.booleans())
def test_truncated_excel_is_refused_and_nothing_changes(
    templates_sqlite: Harness, table: str, cut: float, blank: bool
) -> None:
    """A cut-off workbook (or the blank template cut off) is refused with the
    file named; the database is unchanged and the refusal logged. The wording
    is checked by test_fixed_unreadable_excel_problem_is_one_line."""
    spec = TEMPLATE_SPECS[table]
    data = template_bytes(table, excel=True) if blank else render_xlsx(spec.files[0].clean, table)[0]
    name = f"{table}.xlsx"
    case = Case(table, f"cut at {cut:.2f}", {name: data[: int(len(data) * cut)]}, Rejected(name, None, "file"))
    before, marks = dump(templates_sqlite.engine), _log_marks(templates_sqlite.engine)
    folder = templates_sqlite._write(case)
    kind, work = run_template(case, folder, False)
    with pytest.raises(ImportRejected) as err:
        run_import(templates_sqlite.engine, kind, "test", work)
    assert len(err.value.problems) == 1 and err.value.problems[0].startswith(f"{name}:file: not a readable Excel file")
    assert_unchanged(before, dump(templates_sqlite.engine))
    rejections, _ = _new_logs(templates_sqlite.engine, marks)
    assert [(r.file_name, r.problem_count) for r in rejections] == [(name, 1)]


# --- bugs found: each a minimal case that fails today ------------------------------------


def _one_file(spec: Spec, name: str, data: bytes, expect: Accepted | Rejected, label: str) -> Case:
    return Case(spec.name, label, {name: data}, expect)


def test_fixed_unreadable_excel_problem_is_one_line(templates_sqlite: Harness) -> None:
    data = render_xlsx(TEMPLATE_SPECS["risk_assessments"].files[0].clean, "risk_assessments")[0]
    name = "risk_assessments.xlsx"
    templates_sqlite.check(
        _one_file(TEMPLATE_SPECS["risk_assessments"], name, data[:100], Rejected(name, None, "file"), "cut")
    )


@pytest.mark.parametrize("column", ["la_name", "country_name", "region_name"])
def test_fixed_benchmark_without_a_name_column(benchmark_sqlite: Harness, column: str) -> None:
    table = SPEC_BENCHMARK.files[0].clean.without_column(column)
    case = _one_file(SPEC_BENCHMARK, "csww.csv", render(table, CLEAN)[0], Rejected("csww.csv", 1, column), column)
    benchmark_sqlite.check(case)


def test_fixed_benchmark_without_new_la_code(benchmark_sqlite: Harness) -> None:
    """Every authority here has an old_la_code, which is the code kept; new_la_code is not stored."""
    benchmark_sqlite.check(
        damaged(SPEC_BENCHMARK, "csww.csv", lambda t: t.without_column("new_la_code"), Accepted(), "-")
    )


def test_fixed_neighbours_authority_listed_twice(neighbours: Harness) -> None:
    table = SPEC_NEIGHBOURS.files[0].clean
    table = table.with_row(2, table.rows[0])  # City of London again, as line 4
    expect = Rejected("neighbours.csv", 4, "LA number", reason="duplicates line 2")
    neighbours.check(_one_file(SPEC_NEIGHBOURS, "neighbours.csv", render(table, CLEAN)[0], expect, "dup"))


@pytest.mark.parametrize("table", ["young_people", "transition_plans"])
def test_fixed_duplicate_child_names_its_own_line(templates_sqlite: Harness, table: str) -> None:
    """Until 7132fe5 two plans for one child crashed on the unique constraint;
    now both tables refuse a repeat, but name the wrong first line."""
    spec = TEMPLATE_SPECS[table]
    case = damaged(
        spec,
        f"{table}.csv",
        lambda t: t.with_row(2, t.rows[0]),  # A1 again, as line 4
        Rejected(f"{table}.csv", 4, "child_id", reason="duplicates line 2"),
        "A1 again as line 4",
    )
    templates_sqlite.check(case)


def test_fixed_excel_line_numbers_after_a_blank_row(templates_sqlite: Harness) -> None:
    spec = TEMPLATE_SPECS["risk_assessments"]
    clean = spec.files[0].clean
    table = clean.with_row(1, ("",) * len(clean.header)).with_cell(2, "level", "extreme")
    # Spreadsheet rows: 1 header, 2 first row, 3 blank, 4 the bad level.
    data = render_xlsx(table, "risk_assessments")[0]
    expect = Rejected("risk_assessments.xlsx", 4, "level")
    templates_sqlite.check(_one_file(spec, "risk_assessments.xlsx", data, expect, "blank row"))


def test_fixed_csv_template_filled_in_below_its_header(templates_sqlite: Harness) -> None:
    spec = TEMPLATE_SPECS["risk_assessments"]
    header, guide = template_bytes("risk_assessments", excel=False).split(b"\n", 1)
    rows = render(spec.files[0].clean.without_column("comment"), CLEAN)[0].split(b"\n", 1)[1]
    data = header + b"\n" + rows + guide
    templates_sqlite.check(_one_file(spec, "risk_assessments.csv", data, Accepted(), "template with guide"))


def test_fixed_excel_date_cells(templates_sqlite: Harness, tmp_path: Path) -> None:
    import xlsxwriter

    spec = TEMPLATE_SPECS["risk_assessments"]
    clean = spec.files[0].clean
    path = tmp_path / "risk_assessments.xlsx"
    with xlsxwriter.Workbook(path) as book:
        sheet, date = book.add_worksheet(), book.add_format({"num_format": "dd/mm/yyyy"})
        sheet.write_row(0, 0, clean.header)
        for r, row in enumerate(clean.rows, start=1):
            sheet.write_row(r, 0, row)
            when = clean.cell(r - 1, "assessed_date")
            fmt = "%d/%m/%Y" if "/" in when else "%Y-%m-%d"
            sheet.write_datetime(r, clean.index("assessed_date"), dt.datetime.strptime(when, fmt), date)
    templates_sqlite.check(_one_file(spec, path.name, path.read_bytes(), Accepted(), "date cells"))


def test_fixed_staffing_sum_names_the_field(templates_sqlite: Harness) -> None:
    spec = TEMPLATE_SPECS["staffing_snapshots"]
    table = spec.files[0].clean.with_cell(1, "vacant_fte", "0.25")  # PACE: 1 filled + 0.25 vacant != 1 funded
    expect = Rejected("staffing_snapshots.csv", 3, "vacant_fte")
    templates_sqlite.check(_one_file(spec, "staffing_snapshots.csv", render(table, CLEAN)[0], expect, "sum"))


def _iter_lines(data: bytes) -> Iterator[str]:
    yield from data.decode("utf-8-sig").splitlines()


def test_render_line_numbers_are_file_lines() -> None:
    """The expected line of every case comes from render(); check it against the text."""
    table = Table(("a", "b"), (("1", "x"), ("2", "y, z"), ("3", "w")))
    data, lines = render(table, INVARIANTS["blank lines"])
    text = list(_iter_lines(data))
    assert lines == (3, 5, 6)
    assert [text[n - 1].split(",")[0] for n in lines] == ["1", "2", "3"]

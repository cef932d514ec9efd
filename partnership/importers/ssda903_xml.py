"""The SSDA903 return as XML (`<EXPSSDA903><CHILD><HEADER>...<EPISODE>...`),
the shape case systems export for DfE: each CHILD holds one HEADER (CHILDID,
SEX, DOB, ETHNIC, and for care leavers IN_TOUCH, ACTIV, ACCOM) and its
EPISODEs (DECOM, DEC, REC, ...), and may hold MISSING periods (MISSING,
MIS_START, MIS_END).

The XML is turned into exactly the tables of the CSV return (header,
episodes, oc3, missing) and imported by the same code, so validation,
pseudonymisation, all-or-nothing and the resulting database are the same as
for the CSV set. Problems are then named by child (its position in the
file) and element instead of CSV line and column. Parsed with defusedxml
after the size limit: no DTD, entity or external reference is resolved.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
from pathlib import Path

from sqlmodel import Session

from partnership.importers import xmlsafe
from partnership.importers.common import ImportRejected
from partnership.importers.limits import Limits
from partnership.importers.ssda903 import import_903

HEADER = ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB")
EPISODE = ("DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC", "REASON_PLACE_CHANGE", "URN")
OC3 = ("IN_TOUCH", "ACTIV", "ACCOM")
MISSING = ("MISSING", "MIS_START", "MIS_END")
# The return's four tables as rows of text, by table name.
Tables = dict[str, list[list[str]]]
_LINE = re.compile(r"^(?P<file>header|episodes|oc3|missing)\.csv:(?P<line>\d+):(?P<rest>.*)$", re.DOTALL)


def parse(
    name: str, data: bytes, limits: Limits | None = None
) -> tuple[dict[str, list[list[str]]], dict[str, list[str]]]:
    """The four tables as rows of text (the CSV files' columns), and for each
    table the words naming each row's child and element (by row index)."""
    root = xmlsafe.parse(name, data, limits)
    if root.tag != "EXPSSDA903":
        raise ImportRejected(name, [f"{name}:file: not an SSDA903 export (<EXPSSDA903>; found <{root.tag}>)"])
    tables: Tables = {"header": [], "episodes": [], "oc3": [], "missing": []}
    where: dict[str, list[str]] = {k: [] for k in tables}
    for number, child in enumerate(root.findall("CHILD"), start=1):
        header = child.find("HEADER")
        if header is None:
            raise ImportRejected(name, [f"{name}:{number}:HEADER: missing: every CHILD needs its HEADER"])
        child_id = xmlsafe.text(header, "CHILDID")
        tables["header"].append([child_id, *[xmlsafe.text(header, c) for c in HEADER[1:]]])
        where["header"].append(f"{number}")
        if any(header.find(c) is not None for c in OC3):
            tables["oc3"].append([child_id, xmlsafe.text(header, "DOB"), *[xmlsafe.text(header, c) for c in OC3]])
            where["oc3"].append(f"{number}")
        for i, episode in enumerate(child.findall("EPISODE"), start=1):
            tables["episodes"].append([child_id, *[xmlsafe.text(episode, c) for c in EPISODE]])
            where["episodes"].append(f"{number}:EPISODE {i}")
        for i, missing in enumerate(child.findall("MISSING"), start=1):
            tables["missing"].append(
                [child_id, xmlsafe.text(header, "DOB"), *[xmlsafe.text(missing, c) for c in MISSING]]
            )
            where["missing"].append(f"{number}:MISSING {i}")
    return tables, where


COLUMNS = {
    "header": HEADER,
    "episodes": ("CHILD", *EPISODE),
    "oc3": ("CHILD", "DOB", *OC3),
    "missing": ("CHILD", "DOB", *MISSING),
}


def import_903_xml(
    session: Session,
    path: Path,
    locality: str,
    year: int | None = None,
    actor: str = "cli",
    today: dt.date | None = None,
    dry_run: bool = False,
) -> str:
    """Import an SSDA903 XML export as the CSV return would be imported."""
    tables, where = parse(path.name, path.read_bytes())
    with tempfile.TemporaryDirectory(prefix="ssda903_xml_") as tmp:
        folder = Path(tmp) / path.stem  # the import is named after the file, as a CSV folder is
        folder.mkdir()
        for table, rows in tables.items():
            if rows or table in ("header", "episodes"):
                with (folder / f"{table}.csv").open("w", newline="") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(COLUMNS[table])
                    writer.writerows(rows)
        try:
            return import_903(session, folder, locality, year, actor=actor, today=today, dry_run=dry_run)
        except ImportRejected as exc:
            raise ImportRejected(path.name, [_renamed(p, path.name, where) for p in exc.problems], exc.rows) from exc


def _renamed(problem: str, name: str, where: dict[str, list[str]]) -> str:
    """`episodes.csv:5:DEC: reason` as `return.xml:2:DEC: reason` plus the
    element it sits in: the child's number in the file and its EPISODE."""
    found = _LINE.match(problem)
    if found is None:
        return problem.replace(".csv:", f" ({name}):", 1) if ".csv:" in problem else problem
    rows = where[found["file"]]
    index = int(found["line"]) - 2  # line 1 is the CSV's header line
    if not 0 <= index < len(rows):
        return f"{name}:{found['rest']}"
    child, _, element = rows[index].partition(":")
    field, _, reason = found["rest"].partition(": ")
    inside = f"{element}: " if element else ""
    return f"{name}:{child}:{field}: {inside}{reason}"

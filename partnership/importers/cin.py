"""Children in need census XML, as local authorities submit it to DfE
(`<Message><Header>...<Children><Child>...`).

What the census gives this product: each child (keyed hash of LAchildID,
birth month, sex, ethnicity), their children-in-need episodes (referral to
closure) and child protection plans as service episodes, and, above all,
the factors social workers identified at assessment: 11A child sexual
exploitation, 24A child criminal exploitation, 13A gangs, 12A trafficking and
10A going missing set the young person's exploitation flags, so "at risk of
exploitation" comes from what was recorded rather than a flag typed into a
template.

The file is untrusted: it is parsed with defusedxml (no DTD, no entity, no
external reference is ever resolved) after the size limit is checked. Every
invalid code and impossible date is named by child (its position in the
file) and element; one problem anywhere refuses the whole file, and the
database is left as it was.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import delete, update
from sqlmodel import Session, select

from models import Locality, ServiceEpisode, YoungPerson
from partnership import store
from partnership.importers import xmlsafe
from partnership.importers.batches import already_imported, record_batch
from partnership.importers.common import ImportRejected, Problems, checksum
from partnership.importers.limits import Limits
from partnership.importers.ssda903 import ETHNIC
from partnership.pseudonymise import month_of, pseudonymise
from partnership.settings import pseudonym_key

KIND = "cin"
# DfE CIN census: sex 1 male, 2 female; 0 not known and 9 not specified.
SEX = {"1": "M", "2": "F", "0": "X", "9": "X"}
# Factors identified at the end of assessment (DfE CIN census guide, 2023 to 2024).
FACTORS = frozenset(
    [f"{n}{s}" for n in range(1, 7) for s in "ABC"]
    + ["7A", "8B", "8C", "8D", "8E", "8F", "9A", "10A", "11A", "12A", "13A", "14A", "15A", "16A", "17A"]
    + ["18B", "18C", "19B", "19C", "20", "21", "22A", "23A", "24A"]
)
EXPLOITATION = {"11A": "cse", "24A": "cce", "13A": "gangs", "12A": "trafficking", "10A": "missing"}
# Reasons a CIN episode closed; RC6 is the move this product is about.
CLOSURE = {
    "RC1": "other",
    "RC2": "other",
    "RC3": "other",
    "RC4": "other",
    "RC5": "moved_away",  # transferred to another local authority
    "RC6": "adult_social_care",
    "RC7": "no_longer_needed",
    "RC8": "no_longer_needed",
    "RC9": "no_longer_needed",
}
MAX_ID_CHARS = 64


@dataclass
class Child:
    number: int  # position in the file, 1-based: how problems name the child
    la_child_id: str
    birth_month: dt.date
    sex: str
    ethnicity: str
    flags: set[str] = field(default_factory=set)
    # (service, started_on, ended_on, end_reason)
    episodes: list[tuple[str, dt.date, dt.date | None, str | None]] = field(default_factory=list)


class _Reader:
    """Walks one census message, keeping what it can use and naming every
    problem by child number and element."""

    def __init__(self, name: str, today: dt.date) -> None:
        self.name, self.today = name, today
        self.problems = Problems(name)

    def date(self, child: int, parent: ET.Element, element: str, where: str, required: bool = False) -> dt.date | None:
        raw = xmlsafe.text(parent, element)
        if not raw:
            if required:
                self.problems.add(child, element, f"{where}: required, but missing")
            return None
        try:
            value = dt.date.fromisoformat(raw)
        except ValueError:
            self.problems.add(child, element, f"{where}: not a date YYYY-MM-DD", raw)
            return None
        if value > self.today:
            self.problems.add(child, element, f"{where}: after today ({self.today:%d/%m/%Y})", raw)
            return None
        return value

    def order(self, child: int, element: str, where: str, first: dt.date | None, then: dt.date | None) -> None:
        if first and then and then < first:
            self.problems.add(child, element, f"{where}: before {first:%d/%m/%Y}", f"{then:%Y-%m-%d}")

    def child(self, number: int, node: ET.Element) -> Child | None:
        ids = node.find("ChildIdentifiers")
        chars = node.find("ChildCharacteristics")
        if ids is None:
            self.problems.add(number, "ChildIdentifiers", "missing: every child needs its identifiers")
            return None
        la_id = xmlsafe.text(ids, "LAchildID")
        if not la_id:
            self.problems.add(number, "LAchildID", "required, but missing")
        elif len(la_id) > MAX_ID_CHARS:
            self.problems.add(number, "LAchildID", f"longer than {MAX_ID_CHARS} characters", la_id)
        born = self.date(number, ids, "PersonBirthDate", "ChildIdentifiers", required=True)
        # <Sex> since the 2022 to 2023 census; <GenderCurrent> before it, with the same codes.
        sex_element = "Sex" if ids.find("Sex") is not None or ids.find("GenderCurrent") is None else "GenderCurrent"
        sex = xmlsafe.text(ids, sex_element)
        if sex not in SEX:
            self.problems.add(
                number, sex_element, "not a CIN census sex code (1 male, 2 female, 0 not known, 9 not specified)", sex
            )
        ethnic = xmlsafe.text(chars, "Ethnicity") if chars is not None else ""
        if ethnic not in ETHNIC:
            self.problems.add(
                number, "Ethnicity", "not a DfE ethnicity code (e.g. WBRI, MWBC, AIND, BCRB, REFU)", ethnic
            )
        kept = Child(
            number,
            la_id,
            month_of(born) if born else dt.date(1900, 1, 1),
            SEX.get(sex, "X"),
            ETHNIC.get(ethnic, "unknown"),
        )
        for i, details in enumerate(node.findall("CINdetails"), start=1):
            self.details(kept, i, details, born)
        return kept

    def details(self, child: Child, i: int, details: ET.Element, born: dt.date | None) -> None:
        n, where = child.number, f"CINdetails {i}"
        referral = self.date(n, details, "CINreferralDate", where, required=True)
        if born and referral and referral < born - dt.timedelta(days=280):
            self.problems.add(
                n, "CINreferralDate", f"{where}: long before the child was born ({born:%d/%m/%Y})", f"{referral}"
            )
        closure = self.date(n, details, "CINclosureDate", where)
        self.order(n, "CINclosureDate", where, referral, closure)
        reason = xmlsafe.text(details, "ReasonForClosure")
        if closure and reason not in CLOSURE:
            self.problems.add(n, "ReasonForClosure", f"{where}: not a reason for closure code (RC1 to RC9)", reason)
        if referral:
            child.episodes.append(("child_in_need", referral, closure, CLOSURE.get(reason) if closure else None))
        for j, assessment in enumerate(details.findall("Assessments"), start=1):
            at = f"{where}, Assessments {j}"
            started = self.date(n, assessment, "AssessmentActualStartDate", at)
            authorised = self.date(n, assessment, "AssessmentAuthorisationDate", at)
            self.order(n, "AssessmentAuthorisationDate", at, started, authorised)
            factors = assessment.find("FactorsIdentifiedAtAssessment")
            for factor in factors.findall("AssessmentFactors") if factors is not None else []:
                code = (factor.text or "").strip().upper()
                if code not in FACTORS:
                    self.problems.add(
                        n, "AssessmentFactors", f"{at}: not an assessment factor code in DfE's list", code
                    )
                elif code in EXPLOITATION:
                    child.flags.add(EXPLOITATION[code])
        for j, plan in enumerate(details.findall("ChildProtectionPlans"), start=1):
            at = f"{where}, ChildProtectionPlans {j}"
            start = self.date(n, plan, "CPPstartDate", at, required=True)
            end = self.date(n, plan, "CPPendDate", at)
            self.order(n, "CPPendDate", at, start, end)
            if start:
                child.episodes.append(("child_protection", start, end, "no_longer_needed" if end else None))


def read_census(name: str, data: bytes, today: dt.date, limits: Limits | None = None) -> list[Child]:
    """The children of one census file; ImportRejected naming every problem."""
    root = xmlsafe.parse(name, data, limits)
    if root.tag != "Message" or root.find("Children") is None:
        found = root.tag.split("}")[-1] if "}" in root.tag else root.tag
        namespace = f" in namespace {root.tag[1:].split('}')[0]}" if root.tag.startswith("{") else ""
        raise ImportRejected(
            name, [f"{name}:file: not a CIN census message (<Message> with <Children>; found <{found}>{namespace})"]
        )
    reader = _Reader(name, today)
    children = [reader.child(i, node) for i, node in enumerate(root.iter("Child"), start=1)]
    kept = [c for c in children if c is not None]
    seen: dict[str, int] = {}
    for child in kept:
        if child.la_child_id in seen:
            reader.problems.add(
                child.number, "LAchildID", f"the same child as child {seen[child.la_child_id]}", child.la_child_id
            )
        seen.setdefault(child.la_child_id, child.number)
    reader.problems.raise_if_any(len(children))
    return kept


def import_cin(
    session: Session,
    path: Path,
    locality: str,
    actor: str = "cli",
    today: dt.date | None = None,
    dry_run: bool = False,
) -> str:
    """Import one CIN census file for children of one locality."""
    today = today or dt.date.today()
    data = path.read_bytes()
    loc = session.exec(select(Locality).where(Locality.code == locality.lower())).first()
    if loc is None or loc.id is None:
        known = ", ".join(r.code for r in session.exec(select(Locality)))
        raise ValueError(f"--locality: unknown locality '{locality}' (known: {known})")
    children = read_census(path.name, data, today)
    episodes = sum(len(c.episodes) for c in children)
    summary = f"young_people={len(children)}, service_episodes={episodes}"
    if not children:
        return f"{path.name}: no children in the file; nothing to import"
    digest = checksum(data)
    if already_imported(session, KIND, digest):
        return f"{path.name}: this file was already imported; nothing changed"
    if dry_run:
        return f"{path.name}: valid; would import {summary} (dry run, nothing written)"
    _write(session, children, loc.id)
    record_batch(
        session,
        KIND,
        "CIN census",
        path.name,
        digest,
        {"young_people": len(children), "service_episodes": episodes},
        actor,
    )
    store.bump_data_version(session, staffing=False)  # case records only
    return f"{path.name}: imported {summary}"


def _write(session: Session, children: list[Child], locality_id: int) -> None:
    """A child already known (by the keyed hash of LAchildID, from any
    import) keeps its record and gains what the census says; its earlier
    CIN and child protection episodes are replaced by this census's. Whole
    tables at a time through the session's transaction (a census of 100,000
    children is written in seconds, and a failure leaves nothing behind)."""
    key = pseudonym_key()
    by_key = {pseudonymise(c.la_child_id, key): c for c in children}
    session.flush()
    conn = session.connection()
    yp = YoungPerson.__table__  # type: ignore[attr-defined]

    def ids_of(keys: list[str]) -> dict[str, int]:
        return {
            pk: int(i)
            for chunk in store.chunks(keys)  # type: ignore[arg-type]
            for pk, i in conn.execute(select(yp.c.pseudo_key, yp.c.id).where(yp.c.pseudo_key.in_(chunk)))
        }

    known = ids_of(sorted(by_key))
    new = [(pk, c) for pk, c in sorted(by_key.items()) if pk not in known]
    flags = sorted(set(EXPLOITATION.values()))
    store.bulk_insert(
        conn,
        yp.name,
        pl.DataFrame(
            {
                "pseudo_key": [pk for pk, _ in new],
                "birth_month": [c.birth_month for _, c in new],
                "sex": [c.sex for _, c in new],
                "ethnicity": [c.ethnicity for _, c in new],
                "send": ["none"] * len(new),
                "care_status": ["none"] * len(new),
                "locality_id": [locality_id] * len(new),
                **{flag: [flag in c.flags for _, c in new] for flag in flags},
                "source": [KIND] * len(new),
            },
            schema={
                "pseudo_key": pl.String,
                "birth_month": pl.Date,
                "sex": pl.String,
                "ethnicity": pl.String,
                "send": pl.String,
                "care_status": pl.String,
                "locality_id": pl.Int64,
                **dict.fromkeys(flags, pl.Boolean),
                "source": pl.String,
            },
        ),
    )
    # A child known before gains the factors this census records (a flag is never cleared by it).
    for flag in flags:
        raised = [known[pk] for pk, c in by_key.items() if pk in known and flag in c.flags]
        for chunk in store.chunks(raised):
            conn.execute(update(yp).where(yp.c.id.in_(chunk)).values({flag: True}))
    ids = ids_of(sorted(by_key))
    ep = ServiceEpisode.__table__  # type: ignore[attr-defined]
    for chunk in store.chunks(sorted(ids.values())):
        conn.execute(
            delete(ep).where(ep.c.young_person_id.in_(chunk), ep.c.service.in_(["child_in_need", "child_protection"]))
        )
    episodes = [(ids[pk], *episode) for pk, c in by_key.items() for episode in c.episodes]
    store.bulk_insert(
        conn,
        ep.name,
        pl.DataFrame(
            episodes,
            schema={
                "young_person_id": pl.Int64,
                "service": pl.String,
                "started_on": pl.Date,
                "ended_on": pl.Date,
                "end_reason": pl.String,
            },
            orient="row",
        ),
    )
    session.expire_all()  # the ORM must not serve objects from before these writes

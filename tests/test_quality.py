"""Data quality figures on a small database made by hand (SQLite and PostgreSQL).
Every expected share is counted from the rows written here."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from models import (
    Indicator,
    IndicatorValue,
    MissingEpisode,
    OutcomeObservation,
    Post,
    PostSnapshot,
    ServiceEpisode,
    TransitionPlan,
    YoungPerson,
)
from partnership import quality
from partnership.importers import batches
from partnership.importers.common import ImportRejected

D = dt.date(2024, 1, 1)


def _people(session: Session) -> list[int]:
    people = [
        YoungPerson(pseudo_key=f"k{i}", birth_month=D, sex="F", ethnicity="white", locality_id=1, source=source)
        for i, source in enumerate(["ssda903", "ssda903", "template", "   "])  # the last is blank text
    ]
    session.add_all(people)
    session.flush()
    return [int(p.id) for p in people]  # type: ignore[arg-type]


def _hand_made(session: Session) -> None:
    a, b, c, _d = _people(session)
    session.add_all(
        [
            # 3 episodes: 2 ended (with a reason), 1 with a team.
            ServiceEpisode(young_person_id=a, service="looked_after", started_on=D, ended_on=D, end_reason="other"),
            ServiceEpisode(young_person_id=b, service="looked_after", started_on=D, ended_on=D, end_reason="other"),
            ServiceEpisode(young_person_id=c, service="looked_after", started_on=D, team_id=1),
            # 2 plans: one agreed with a service, one not started.
            TransitionPlan(young_person_id=a, started_on=D, agreed_on=D, post18_service="adult_social_care"),
            TransitionPlan(young_person_id=b),
            # 5 outcomes: activity on 4, accommodation on 2, in touch on all 5.
            *[
                OutcomeObservation(
                    young_person_id=a,
                    observed_on=D,
                    activity=None if i == 4 else "F1",
                    accommodation="K1" if i < 2 else None,
                    in_touch="YES",
                )
                for i in range(5)
            ],
            MissingEpisode(young_person_id=a, kind="M", started_on=D),  # still missing: no end
        ]
    )
    post = session.exec(select(Post)).first()
    indicator = session.exec(select(Indicator).where(Indicator.source == "entered")).first()
    assert post is not None and indicator is not None
    session.add(PostSnapshot(post_id=post.id, month=D, filled_fte=1.0, recorded_by=""))  # type: ignore[arg-type]
    session.add_all(
        [
            IndicatorValue(indicator_id=indicator.id, period=D, value=1.0, note=None),  # type: ignore[arg-type]
            IndicatorValue(indicator_id=indicator.id, period=D, value=2.0, note="", version=2),  # type: ignore[arg-type]
        ]
    )
    session.commit()


def test_completeness_counts_filled_values_per_table_and_field(session: Session) -> None:
    _hand_made(session)
    fields = quality.completeness(session.get_bind())  # type: ignore[arg-type]
    got = {(r["table"], r["field"]): (r["rows"], r["filled"], r["share"]) for r in fields.to_dicts()}
    assert set(fields["table"].unique()) == set(quality.TABLES)
    assert "id" not in fields["field"].to_list()
    # Fields in words, as the page shows them: no column names with underscores.
    assert not [f for f in fields["field"].to_list() if "_" in f]
    assert got[("Young people", "Source of the record")] == (4, 3, 0.75)  # blank text is not a value
    assert got[("Young people", "Sex")] == (4, 4, 1.0)
    assert got[("Service episodes", "End date")] == (3, 2, pytest.approx(2 / 3))
    assert got[("Service episodes", "Reason it ended")] == (3, 2, pytest.approx(2 / 3))
    assert got[("Service episodes", "Team")] == (3, 1, pytest.approx(1 / 3))
    assert got[("Transition plans", "Start date")] == (2, 1, 0.5)
    assert got[("Transition plans", "Planned adult service")] == (2, 1, 0.5)
    assert got[("Outcomes", "Activity")] == (5, 4, 0.8)
    assert got[("Outcomes", "Accommodation")] == (5, 2, 0.4)
    assert got[("Outcomes", "In touch")] == (5, 5, 1.0)
    assert got[("Missing episodes", "End date")] == (1, 0, 0.0)
    assert got[("Staffing snapshots", "Recorded by")] == (1, 0, 0.0)
    assert got[("Staffing snapshots", "Filled FTE")] == (1, 1, 1.0)
    assert got[("Indicator values", "Note")] == (2, 0, 0.0)  # one null, one empty
    assert got[("Risk assessments", "Risk level")] == (0, 0, None)  # no rows: no share

    summary = {r["table"]: r for r in quality.table_summary(fields).to_dicts()}
    assert list(summary) == list(quality.TABLES)
    people = summary["Young people"]
    assert (people["rows"], people["fields"], people["complete"]) == (4, 13, 12)
    assert (people["least_field"], people["least_share"]) == ("Source of the record", 0.75)
    assert (summary["Outcomes"]["least_field"], summary["Outcomes"]["least_share"]) == ("Accommodation", 0.4)
    assert (summary["Service episodes"]["complete"], summary["Service episodes"]["fields"]) == (3, 6)
    assert summary["Risk assessments"]["rows"] == 0


def test_imports_and_rejections_in_plain_words(session: Session) -> None:
    engine = session.get_bind()
    assert quality.last_rejection(engine) is None  # type: ignore[arg-type]
    assert quality.last_imports(engine).is_empty()  # type: ignore[arg-type]

    def accepted(s: Session) -> str:
        batches.record_batch(s, "ssda903", "SSDA903", "ssda903-north-2018", "abc", {"young_people": 2675}, "admin")
        return "ok"

    def refused(_s: Session) -> str:
        raise ImportRejected(
            "oc3.csv",
            ["oc3.csv:2:CHILD: no such child in header.csv or the database (566910)", "oc3.csv:year: needs a year"],
            53,
        )

    batches.run_import(engine, "ssda903", "admin", accepted)  # type: ignore[arg-type]
    with pytest.raises(ImportRejected):
        batches.run_import(engine, "template:outcomes", "admin", refused)  # type: ignore[arg-type]

    (row,) = quality.last_imports(engine).to_dicts()  # type: ignore[arg-type]
    assert (row["Source"], row["File"], row["Rows"], row["By"]) == (
        "SSDA903 return",
        "ssda903-north-2018",
        "2,675 young people",
        "admin",
    )
    rejection = quality.last_rejection(engine)  # type: ignore[arg-type]
    assert rejection is not None
    assert rejection.source == "Partnership file: outcomes"
    assert rejection.summary == "oc3.csv: rejected, 2 problems in 53 rows; nothing was imported"
    assert (rejection.shown, rejection.total) == (2, 2)
    first, second = rejection.problems.to_dicts()
    # The log holds the child's id as sent; the page shows it masked.
    assert first == {"File": "oc3.csv", "Row": 2, "Field": "CHILD", "Reason": first["Reason"], "Value": "•••••"}
    assert first["Reason"] == "no such child in header.csv or the database"
    assert second == {"File": "oc3.csv", "Row": None, "Field": "year", "Reason": "needs a year", "Value": None}

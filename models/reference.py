"""Reference data taken from the two source documents in shared/seeds.

Structure and wording here must match the seeds exactly; tests/test_reference.py
checks them against the seed text itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, select

from models.tables import (
    Funding,
    Indicator,
    IntendedImpact,
    Locality,
    Milestone,
    Post,
    Role,
    Team,
    Theme,
)

LOCALITIES: dict[str, str] = {"east": "East", "central": "Central", "north": "North"}

# (code, name, case_holding, in the original staffing structure)
ROLES: list[tuple[str, str, bool, bool]] = [
    ("exploitation_sw", "Exploitation Social Worker", True, True),
    ("social_worker", "Social Worker", True, True),
    ("family_support", "Family Support Worker", False, True),
    ("missing_from_home", "Missing From Home Worker", False, True),
    ("targeted_youth", "Targeted Youth Worker", False, True),
    ("parenting_support", "Parenting Support Worker", False, True),
    ("mentor", "Mentor", False, True),
    ("exploitation_nurse", "Exploitation Nurse", False, True),
    ("specialist_nurse", "Specialist Nurse", False, True),
    ("pace", "PACE Worker", False, True),
    # "Multi disciplinary roles - update": added since, with no numbers given.
    ("child_family_practitioner", "Child and Family Practitioner", False, False),
    ("speech_language", "Speech and Language Therapist", False, False),
    ("substance_misuse", "Substance Misuse Worker", False, False),
    ("clinical_psychologist", "Clinical Psychologist", False, False),
    ("mental_health", "Mental Health Practitioner", False, False),
]

TEAM_ROLES = (
    "exploitation_sw",
    "social_worker",
    "family_support",
    "missing_from_home",
    "targeted_youth",
)
STANDARD_TEAM: dict[str, int] = {
    "exploitation_sw": 1,
    "social_worker": 3,
    "family_support": 1,
    "missing_from_home": 1,
    "targeted_youth": 1,
}
# Staffing structure, seed 002: East Team 2 has two family support workers.
TEAMS: list[tuple[str, str, dict[str, int]]] = [
    ("east", "East Team 1", STANDARD_TEAM),
    ("east", "East Team 2", {**STANDARD_TEAM, "family_support": 2}),
    ("central", "Central Team 1", STANDARD_TEAM),
    ("central", "Central Team 2", STANDARD_TEAM),
    ("central", "Central Team 3", STANDARD_TEAM),
    ("north", "North Team 1", STANDARD_TEAM),
    ("north", "North Team 2", STANDARD_TEAM),
]
SHARED_ROLES = (
    "parenting_support",
    "mentor",
    "exploitation_nurse",
    "specialist_nurse",
    "pace",
)
SHARED_NOTES: dict[tuple[str, str], str] = {("north", "pace"): "Lancaster children only"}

# Turnaround (Prevention & Diversion): one P&D team per locality.
PD_TEAMS: list[tuple[str, str]] = [
    ("north", "North P&D team"),
    ("central", "South/Central P&D team"),
    ("east", "East P&D team"),
]
TURNAROUND_TOTAL_PENCE = 102_339_783
ASB_HOTSPOT_PENCE = 9_857_962
TURNAROUND_FUNDED_UNTIL = dt.date(2025, 3, 31)
ASB_COMMITTED_ON = dt.date(2023, 5, 1)

POWER2_OUTCOMES: list[str] = [
    "Reduction in homelessness",
    "Reduction in reoffending",
    "Reduction in substance misuse",
    "Reduction in missing episodes",
    "Reduction in risks of exploitation",
    "Reduction in NEET",
    "Reduction in spend on commissioned Placements and step down in social care status",
    "Reduction in permanent and fixed term Exclusions and improved attendance",
    "Reduction in A&E attendance and hospital admissions",
    "Improvement in attending Health appointments",
]

# Transitional safeguarding project, seed 000: titles and intended impacts in
# the document's own words.
THEMES: list[tuple[int, str, str, list[str]]] = [
    (
        1,
        "How the system can provide effective post-18 support for young people who have received "
        "intensive support prior to their 18th birthday",
        "Effective post-18 support",
        [
            "Success in this theme will mean that more young people are able to access effective post-18 "
            "support that enables them to achieve positive outcomes such as engagement in work and learning "
            "and reduced homelessness.",
            "The need for crisis-related support from across the system will also be reduced.",
        ],
    ),
    (
        2,
        "How the system can best support young people with Special Education Needs/Disability (SEND) who "
        "are also vulnerable to exploitation",
        "SEND and exploitation",
        [
            "The key outcomes related to this theme are that fewer young people will drop out of post-16 work "
            "and learning and those that do will be picked up and supported to re-engage at an earlier stage.",
        ],
    ),
    (
        3,
        "How the system partners can best work together to share information related to risk and "
        "vulnerability so that a shared assessment of risk is in place for each young person",
        "Shared assessment of risk",
        [
            "Improved sharing of information and consistency of assessment of risk will mean that partners "
            "will have a shared understanding of our most vulnerable young people and be able to respond more "
            "effectively when intervention is required.",
            "This will also enable consistency of support and response when young people move across and "
            "between services and parts of the system.",
        ],
    ),
    (
        4,
        "How we can ensure that planning for transition from pre-18 to post-18 services is well-planned and effective",
        "Well-planned transition",
        [
            "This theme is seeking to ensure that individual young people's needs, risks and vulnerabilities "
            "are well understood by relevant pre-18 and post-18 services so that transfer of support is as "
            "smooth as possible and that the risk of young people either disengaging from support or "
            "'slipping through the net' are reduced.",
        ],
    ),
]


@dataclass(frozen=True)
class IndicatorSpec:
    theme: int
    impact: int  # 1-based position of the impact within its theme
    code: str
    name: str
    unit: str
    polarity: str
    baseline: float
    baseline_period: str
    target: float
    metric_key: str | None = None  # None: entered by the project lead


TARGET_DATE = dt.date(2025, 3, 31)  # the project closes April 2025
INDICATORS: list[IndicatorSpec] = [
    IndicatorSpec(
        1,
        1,
        "post18_pickup_3m",
        "Picked up by an adult service within 3 months of 18 (intensive support before 18)",
        "percent",
        "higher",
        52.0,
        "2022-23",
        70.0,
        "post18_pickup_3m",
    ),
    IndicatorSpec(
        1,
        1,
        "neet_19_21",
        "NEET at 19-21",
        "percent",
        "lower",
        44.0,
        "2022-23",
        35.0,
        "neet_19_21",
    ),
    IndicatorSpec(
        1,
        1,
        "homeless_19_21",
        "Homeless or in emergency accommodation at 19-21",
        "percent",
        "lower",
        12.0,
        "2022-23",
        8.0,
        "homeless_19_21",
    ),
    IndicatorSpec(
        1,
        2,
        "crisis_contacts_19_21",
        "Crisis contacts (A&E, police custody, emergency housing) per young person aged 19-21",
        "rate",
        "lower",
        1.4,
        "2022-23",
        1.0,
        "crisis_contacts_19_21",
    ),
    IndicatorSpec(
        2,
        1,
        "send_post16_dropout",
        "Young people with SEND at risk of exploitation who dropped out of post-16 work and learning",
        "percent",
        "lower",
        28.0,
        "2022-23",
        20.0,
        "send_post16_dropout",
    ),
    IndicatorSpec(
        2,
        1,
        "send_reengaged",
        "Young people with SEND who dropped out and were re-engaged by their next review",
        "percent",
        "higher",
        35.0,
        "2022-23",
        50.0,
        "send_reengaged",
    ),
    IndicatorSpec(
        3,
        1,
        "risk_agreement",
        "Young people assessed by two or more agencies within 90 days whose risk levels agree",
        "percent",
        "higher",
        48.0,
        "2022-23",
        70.0,
        "risk_agreement",
    ),
    IndicatorSpec(
        3,
        1,
        "shared_risk_assessment",
        "Most vulnerable young people with a shared multi-agency risk assessment in place",
        "percent",
        "higher",
        30.0,
        "2022-23",
        80.0,
    ),
    IndicatorSpec(
        3,
        2,
        "risk_info_at_transfer",
        "Transfers between services where risk information was shared at the point of transfer",
        "percent",
        "higher",
        40.0,
        "2022-23",
        85.0,
    ),
    IndicatorSpec(
        4,
        1,
        "plan_by_17_5",
        "Transition plan agreed by 17 years 6 months",
        "percent",
        "higher",
        38.0,
        "2022-23",
        75.0,
        "plan_by_17_5",
    ),
    IndicatorSpec(
        4,
        1,
        "slipped_through",
        "Slipped through the net: intensive support before 18 and no adult service within 6 months",
        "percent",
        "lower",
        30.0,
        "2022-23",
        15.0,
        "slipped_through",
    ),
    IndicatorSpec(
        4,
        1,
        "disengaged_after_transfer",
        "Young people who disengaged within 6 months of transfer to an adult service",
        "percent",
        "lower",
        25.0,
        "2022-23",
        15.0,
    ),
]

# Milestones on the project's timeline: it began about December 2022 (running
# 20 months by August 2024) and closes in April 2025.
MILESTONES: list[tuple[int, str, str, dt.date, str]] = [
    (
        1,
        "Post-18 support arrangements with Adult Social Care agreed",
        "Adult Social Care",
        dt.date(2024, 9, 30),
        "done",
    ),
    (
        1,
        "Housing with support commissioning options informed by the project",
        "Commissioning",
        dt.date(2025, 1, 31),
        "late",
    ),
    (
        2,
        "Joint working group of SEND Services, Social Care and post-16 providers",
        "SEND Services",
        dt.date(2024, 6, 30),
        "done",
    ),
    (
        2,
        "Early re-engagement pathway for young people with SEND agreed",
        "SEND Services",
        dt.date(2025, 3, 31),
        "on_track",
    ),
    (
        3,
        "Case reviews with Police and Social Care completed",
        "Police and Social Care",
        dt.date(2024, 10, 31),
        "done",
    ),
    (
        3,
        "Recommendations for a shared assessment of risk",
        "Project lead",
        dt.date(2025, 2, 28),
        "late",
    ),
    (
        4,
        "Transition planning practice embedded in Children's Social Care",
        "Children's Social Care",
        dt.date(2024, 12, 31),
        "on_track",
    ),
    (
        4,
        "Early Planning for Transitions learning shared with partners",
        "Project lead",
        dt.date(2024, 8, 31),
        "done",
    ),
    (
        4,
        "Project closure and handover",
        "Project lead",
        dt.date(2025, 4, 30),
        "on_track",
    ),
]


def load_reference(session: Session) -> None:
    """Insert the reference data into an empty database; a no-op when present."""
    if session.exec(select(Locality)).first() is not None:
        return
    localities = {code: Locality(code=code, name=name) for code, name in LOCALITIES.items()}
    session.add_all(localities.values())
    roles = {
        code: Role(code=code, name=name, case_holding=ch, in_staffing_structure=orig) for code, name, ch, orig in ROLES
    }
    session.add_all(roles.values())
    session.flush()

    for loc_code, team_name, establishment in TEAMS:
        team = Team(locality_id=localities[loc_code].id, name=team_name, kind="empower")
        session.add(team)
        session.flush()
        for role_code in TEAM_ROLES:
            for _ in range(establishment[role_code]):
                session.add(
                    Post(
                        locality_id=team.locality_id,
                        team_id=team.id,
                        role_id=roles[role_code].id,
                    )
                )
    for loc_code, locality in localities.items():
        for role_code in SHARED_ROLES:
            session.add(
                Post(
                    locality_id=locality.id,
                    team_id=None,
                    role_id=roles[role_code].id,
                    note=SHARED_NOTES.get((loc_code, role_code)),
                )
            )
    for loc_code, team_name in PD_TEAMS:
        session.add(
            Team(
                locality_id=localities[loc_code].id,
                name=team_name,
                kind="prevention_diversion",
            )
        )

    grant = Funding(
        name="Turnaround (Prevention & Diversion), Ministry of Justice",
        amount_pence=TURNAROUND_TOTAL_PENCE,
        funded_until=TURNAROUND_FUNDED_UNTIL,
        note="Total grant, including the ASB hotspot commitment",
    )
    session.add(grant)
    session.flush()
    session.add(
        Funding(
            name="ASB hotspot areas",
            amount_pence=ASB_HOTSPOT_PENCE,
            committed_on=ASB_COMMITTED_ON,
            funded_until=TURNAROUND_FUNDED_UNTIL,
            parent_id=grant.id,
            note="Committed May 2023, included in the total",
        )
    )

    impacts: dict[tuple[int, int], IntendedImpact] = {}
    themes: dict[int, Theme] = {}
    for number, title, short, impact_texts in THEMES:
        theme = Theme(number=number, title=title, short_title=short)
        session.add(theme)
        session.flush()
        themes[number] = theme
        for position, text in enumerate(impact_texts, start=1):
            impact = IntendedImpact(theme_id=theme.id, position=position, text=text)
            session.add(impact)
            impacts[(number, position)] = impact
    session.flush()
    for spec in INDICATORS:
        session.add(
            Indicator(
                impact_id=impacts[(spec.theme, spec.impact)].id,
                code=spec.code,
                name=spec.name,
                unit=spec.unit,
                polarity=spec.polarity,
                baseline=spec.baseline,
                baseline_period=spec.baseline_period,
                target=spec.target,
                target_date=TARGET_DATE,
                source="computed" if spec.metric_key else "entered",
                metric_key=spec.metric_key,
            )
        )
    for theme_number, title, owner, due, status in MILESTONES:
        session.add(
            Milestone(
                theme_id=themes[theme_number].id,
                title=title,
                owner=owner,
                due_on=due,
                status=status,
                completed_on=due if status == "done" else None,
            )
        )
    session.flush()

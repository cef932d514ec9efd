"""Code lists shared by the schema (check constraints), importers and metrics.

Each list is written once here so a check constraint, a validator and a chart
legend can never disagree about what a code means.
"""

from __future__ import annotations

# Roles a user can hold; a manager is always tied to one locality.
USER_ROLES: dict[str, str] = {
    "admin": "Administrator",
    "project_lead": "Project lead",
    "manager": "Locality manager",
    "board": "Area board member",
}

SEX: dict[str, str] = {"F": "Female", "M": "Male", "X": "Other or not stated"}

# DfE major ethnic groups, as used in the children-in-need and SSDA903 returns.
ETHNICITY_GROUPS: dict[str, str] = {
    "white": "White",
    "mixed": "Mixed or multiple",
    "asian": "Asian or Asian British",
    "black": "Black or Black British",
    "other": "Other ethnic group",
    "unknown": "Not known or refused",
}

SEND_STATUS: dict[str, str] = {
    "none": "No SEND",
    "sen_support": "SEN support",
    "ehcp": "EHC plan",
}

# Looked after, then the four care-leaver eligibility categories of the
# Children (Leaving Care) Act; "none" for a young person never in care.
CARE_STATUS: dict[str, str] = {
    "none": "Not looked after",
    "looked_after": "Looked after",
    "eligible": "Eligible care leaver",
    "relevant": "Relevant care leaver",
    "former_relevant": "Former relevant care leaver",
    "qualifying": "Qualifying care leaver",
}

# Ordered from most to least intensive: the cohort page picks the most
# intensive service open at 17 by this order.
CHILDREN_SERVICES: dict[str, str] = {
    "child_protection": "Child protection",
    "looked_after": "Looked after",
    "empower": "EmPower team",
    "child_in_need": "Child in need",
    "youth_justice": "Youth justice",
    "early_help": "Early help",
}
ADULT_SERVICES: dict[str, str] = {
    "adult_social_care": "Adult social care (Care Act)",
    "leaving_care_pa": "Leaving care personal adviser",
    "supported_housing": "Supported housing",
    "adult_mental_health": "Adult mental health",
    "probation": "Probation",
    "substance_misuse": "Substance misuse",
}
SERVICES: dict[str, str] = {**CHILDREN_SERVICES, **ADULT_SERVICES}
# "Intensive support before 18" for the slipped-through-the-net measure.
INTENSIVE_SERVICES: tuple[str, ...] = ("child_protection", "looked_after", "empower")

# Why an episode ended. The 903 REC codes at 18 map onto the first five.
END_REASONS: dict[str, str] = {
    "adult_social_care": "Moved to adult social care (903 E7)",
    "staying_put": "Staying put with former carers (903 E17)",
    "independent_living": "Independent living (903 E5/E6)",
    "custody": "Custody (903 E9)",
    "age_assessed": "Age assessed as 18 or over (903 E15)",
    "transferred": "Transferred to an adult service",
    "turned_18": "Reached 18, no onward service",
    "no_longer_needed": "Support no longer needed",
    "disengaged": "Young person disengaged",
    "moved_away": "Moved out of area",
    "other": "Other",
}

RISK_AGENCIES: dict[str, str] = {
    "social_care": "Social care",
    "police": "Police",
    "health": "Health",
    "education": "Education",
}
RISK_LEVELS: dict[str, str] = {
    "low": "Low",
    "medium": "Medium",
    "high": "High",
    "very_high": "Very high",
}

# SSDA903 OC3 codes (DOMAIN.md). F3/P3 are retired and are not accepted.
IN_TOUCH: dict[str, str] = {
    "YES": "In touch",
    "NO": "Not in touch",
    "DIED": "Died",
    "REFU": "Refuses contact",
    "NREQ": "No longer requires services",
    "RHOM": "Returned home for 6 months or more",
}
ACTIV: dict[str, str] = {
    "F1": "Higher education, full time",
    "P1": "Higher education, part time",
    "F2": "Other education, full time",
    "P2": "Other education, part time",
    "F4": "Apprenticeship, full time",
    "P4": "Apprenticeship, part time",
    "F5": "Training or employment, full time",
    "P5": "Training or employment, part time",
    "G4": "NEET: illness or disability",
    "G5": "NEET: other reasons",
    "G6": "NEET: pregnancy or parenting",
    "0": "Not known",
}
ACTIV_EET: tuple[str, ...] = ("F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5")
ACTIV_NEET: tuple[str, ...] = ("G4", "G5", "G6")

ACCOM_TYPES: dict[str, str] = {
    "B": "With parents or relatives",
    "C": "Community home",
    "D": "Semi-independent, transitional",
    "E": "Supported lodgings",
    "G": "Abroad",
    "H": "Deported",
    "K": "Ordinary lodgings",
    "R": "Residence not known",
    "S": "No fixed abode or homeless",
    "T": "Foyer",
    "U": "Independent living",
    "V": "Emergency accommodation",
    "W": "Bed and breakfast",
    "X": "In custody",
    "Y": "Other accommodation",
    "Z": "With former foster carers",
}
# A letter then 1 (suitable) or 2 (not suitable); homeless and custody are
# never suitable, so S1 and X1 do not exist. "0" is not known.
ACCOM: dict[str, str] = {"0": "Not known"}
for _letter, _label in ACCOM_TYPES.items():
    for _suit, _word in (("1", "suitable"), ("2", "not suitable")):
        if _letter in ("S", "X") and _suit == "1":
            continue
        ACCOM[f"{_letter}{_suit}"] = f"{_label} ({_word})"
ACCOM_HOMELESS: tuple[str, ...] = ("S2", "V1", "V2", "W1", "W2")

EXPLOITATION_FACTORS: dict[str, str] = {
    "cce": "Child criminal exploitation (24A)",
    "cse": "Child sexual exploitation (11A)",
    "gangs": "Gangs (13A)",
    "trafficking": "Trafficking (12A)",
    "missing": "Going missing (10A)",
}

INDICATOR_UNITS: dict[str, str] = {
    "percent": "Percentage",
    "count": "Count",
    "days": "Days",
    "rate": "Rate per young person",
}
POLARITIES: dict[str, str] = {
    "higher": "Higher is better",
    "lower": "Lower is better",
}
MILESTONE_STATUS: dict[str, str] = {
    "done": "Done",
    "on_track": "On track",
    "late": "Late",
}


def sql_in(column: str, codes: dict[str, str] | tuple[str, ...]) -> str:
    """Render a CHECK expression restricting a column to a code list."""
    quoted = ", ".join("'" + code.replace("'", "''") + "'" for code in codes)
    return f"{column} IN ({quoted})"

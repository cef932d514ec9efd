"""The catalogue of measures: every figure the product shows, defined once.

Each measure says in plain words who is counted (its population), what is
counted (numerator), out of what (denominator), its unit and which way is
better, the data it reads and the family of figures it is released with
(partnership/figures.py computes it; partnership/disclosure.py decides what a
viewer may see). Pages, stories, the board pack and exports ask for figures
by these ids; the "How figures are worked out" page is generated from here.

Where two populations are genuinely needed (a period against a quarter, all
young people against those with intensive support) they are two measures
with two names, never one name with two values.
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_6M = (
    "whose 18th birthday fell in the period at least 6 months before the figures' date "
    "(so the 6-month window has closed)"
)
# Every figure about crossing 18 counts one population, whatever its own
# window: a 3-month window for one figure and a 6-month one for another made
# the months between them a difference of published figures.
WINDOW = WINDOW_6M
INTENSIVE = (
    "intensive support before 18 (child protection, looked after or an EmPower team in the year before "
    "their 18th birthday)"
)


@dataclass(frozen=True)
class Measure:
    id: str
    name: str
    population: str
    numerator: str
    denominator: str  # "" for a count
    unit: str  # count, percent, days, rate, fte
    polarity: str  # higher, lower, neutral
    source: str
    family: str  # the release it is published in (disclosure is decided per release)
    grain: str = "period"  # period (a calendar year or the last 12 months), quarter, now, month

    @property
    def anchor(self) -> str:
        return self.id.replace("_", "-")


_COHORT = "young people, service episodes"
MEASURES: tuple[Measure, ...] = (
    # --- open now -------------------------------------------------------------------
    Measure(
        "open_by_age",
        "Open to a service now, by age",
        "Young people with a children's or adult service episode open on the figures' date, aged 14 to 25 "
        "(age from the month of birth)",
        "Young people, by locality and single year of age",
        "",
        "count",
        "neutral",
        _COHORT,
        "open_now",
        "now",
    ),
    Measure(
        "open_16_17",
        "Open to children's services aged 16-17",
        "Young people with a children's service episode open on the figures' date, aged 16 or 17",
        "Young people",
        "",
        "count",
        "neutral",
        _COHORT,
        "open_now",
        "now",
    ),
    Measure(
        "turning_18",
        "Turning 18 soon",
        "Young people open to children's services now whose 18th birthday falls within the next 3, 6 or 12 "
        "months (bands are cumulative)",
        "Young people",
        "",
        "count",
        "neutral",
        _COHORT,
        "open_now",
        "now",
    ),
    Measure(
        "turning_18_no_plan",
        "Turning 18 soon without an agreed plan",
        "Young people turning 18 within the next 6 or 12 months (as above)",
        "Those with no transition plan agreed by the figures' date",
        "",
        "count",
        "lower",
        f"{_COHORT}, transition plans",
        "open_now",
        "now",
    ),
    # --- crossing 18 ------------------------------------------------------------------
    Measure(
        "turned_18",
        "Turned 18 in the period",
        f"Young people {WINDOW}",
        "Young people",
        "",
        "count",
        "neutral",
        _COHORT,
        "transition",
    ),
    Measure(
        "flow",
        "Flow across 18",
        f"Young people {WINDOW}",
        "Young people at each stage: the most intensive children's service in the year before 18; whether a "
        "transition plan was agreed by 17½; the first adult service within 3 months of 18; their latest "
        "activity or accommodation record at 19-21",
        "",
        "count",
        "neutral",
        f"{_COHORT}, transition plans, outcome records",
        "transition",
    ),
    Measure(
        "adult_service_3m",
        "Adult service within 3 months of 18",
        f"Young people {WINDOW}",
        "Those whose first adult service started within 3 months of their 18th birthday",
        "Everyone in the population",
        "percent",
        "higher",
        _COHORT,
        "transition",
    ),
    Measure(
        "no_adult_service_3m",
        "No adult service within 3 months of 18",
        f"Young people {WINDOW}",
        "Those with no adult service starting within 3 months of their 18th birthday",
        "Everyone in the population",
        "percent",
        "lower",
        _COHORT,
        "transition",
    ),
    Measure(
        "gap_days",
        "Gap between children's and adult services",
        f"Young people {WINDOW} with both a children's service that ended and an adult service that "
        "started (from 6 months before 18)",
        "Days from the children's service ending to the adult service starting (0 when they overlap), "
        "in bands, and the median",
        "",
        "days",
        "lower",
        _COHORT,
        "transition",
    ),
    Measure(
        "gap_over_28",
        "Waited more than 28 days",
        "As for the gap",
        "Those with a gap of more than 28 days",
        "Everyone with a gap measured",
        "percent",
        "lower",
        _COHORT,
        "transition",
    ),
    Measure(
        "gap_over_90",
        "Waited more than 90 days",
        "As for the gap",
        "Those with a gap of more than 90 days",
        "Everyone with a gap measured",
        "percent",
        "lower",
        _COHORT,
        "transition",
    ),
    Measure(
        "post18_pickup_3m",
        "Intensive support before 18: adult service within 3 months (Theme 1 indicator)",
        f"Young people with {INTENSIVE}, whose 18th birthday fell in the quarter, once the 6-month window of "
        "everyone in the quarter has closed (the same people as slipped through the net by quarter)",
        "Those whose first adult service started within 3 months of 18",
        "Everyone in the population",
        "percent",
        "higher",
        _COHORT,
        "transition",
        "quarter",
    ),
    Measure(
        "slipped",
        "Slipped through the net",
        f"Young people with {INTENSIVE}, {WINDOW_6M}",
        "Those with no adult service starting within 6 months of their 18th birthday",
        "Everyone in the population",
        "percent",
        "lower",
        _COHORT,
        "slipped",
    ),
    Measure(
        "slipped_through",
        "Slipped through the net, by quarter (Theme 4 indicator)",
        "As for slipped through the net, by the quarter of the 18th birthday",
        "Those with no adult service within 6 months of 18",
        "Everyone in the population",
        "percent",
        "lower",
        _COHORT,
        "slipped",
        "quarter",
    ),
    Measure(
        "representation_slipped",
        "Who slips through the net",
        f"Young people with {INTENSIVE}, {WINDOW_6M}",
        "For each sex, ethnic group, SEND and care status: the share of those who slipped through the net in "
        "that group, against the group's share of everyone with intensive support; the ratio of the two, "
        "with a 95% Wilson interval",
        "",
        "rate",
        "neutral",
        _COHORT,
        "slipped",
    ),
    Measure(
        "plan_by_17_5",
        "Transition plan agreed by 17½ (Theme 4 indicator)",
        "Young people who reached 17½ in the quarter",
        "Those whose transition plan was agreed by the day they reached 17½",
        "Everyone in the population",
        "percent",
        "higher",
        f"{_COHORT}, transition plans",
        "plans",
        "quarter",
    ),
    # --- at 19-21 -------------------------------------------------------------------
    Measure(
        "neet_19_21",
        "NEET at 19-21",
        "Young people aged 19 to 21 with at least one activity record in the period; each counted once, "
        "by their latest record in the period",
        "Those whose latest activity is NEET (SSDA903 G4, G5 or G6)",
        "Everyone in the population",
        "percent",
        "lower",
        "outcome records (SSDA903 OC3 codes)",
        "outcomes",
    ),
    Measure(
        "homeless_19_21",
        "Homeless or in emergency accommodation at 19-21",
        "As for NEET at 19-21",
        "Those whose latest accommodation is no fixed abode, emergency accommodation or bed and breakfast "
        "(SSDA903 S2, V1, V2, W1, W2)",
        "Everyone in the population",
        "percent",
        "lower",
        "outcome records (SSDA903 OC3 codes)",
        "outcomes",
    ),
    Measure(
        "activity_not_known",
        "Activity not known",
        "Young people aged 17-18 or 19-21 with an activity record in the period (latest record)",
        "Those whose latest activity is not known (code 0 or blank)",
        "Everyone in the population",
        "percent",
        "lower",
        "outcome records",
        "outcomes",
    ),
    Measure(
        "neet_17_18",
        "NEET at 17-18",
        "Young people aged 17 or 18 with an activity record in the period (latest record)",
        "Those whose latest activity is NEET",
        "Everyone in the population",
        "percent",
        "lower",
        "outcome records",
        "outcomes",
    ),
    Measure(
        "outcomes_by_route",
        "How young people fare at 19-21, by what happened at 18",
        "As for NEET at 19-21, in groups by whether a plan was agreed by 17½ and whether an adult service "
        "picked them up within 3 months of 18",
        "Per group: young people; NEET and homeless shares; missing episodes and crisis contacts (A&E, police "
        "custody, emergency housing) per young person over their records in the period",
        "",
        "percent",
        "lower",
        "outcome records, transition plans, service episodes",
        "outcomes",
    ),
    Measure(
        "neet_19_21_quarterly",
        "NEET at 19-21, by quarter (Theme 1 indicator)",
        "Young people aged 19 to 21 with an activity record in the quarter (latest record in the quarter)",
        "Those whose latest activity is NEET",
        "Everyone in the population",
        "percent",
        "lower",
        "outcome records",
        "outcomes_quarterly",
        "quarter",
    ),
    Measure(
        "homeless_19_21_quarterly",
        "Homeless at 19-21, by quarter (Theme 1 indicator)",
        "As for NEET at 19-21 by quarter",
        "Those whose latest accommodation is homeless or emergency",
        "Everyone in the population",
        "percent",
        "lower",
        "outcome records",
        "outcomes_quarterly",
        "quarter",
    ),
    Measure(
        "crisis_contacts_19_21",
        "Crisis contacts at 19-21, by quarter (Theme 1 indicator)",
        "As for NEET at 19-21 by quarter",
        "A&E attendances, police custody and emergency housing episodes on their records in the quarter",
        "Young people in the population",
        "rate",
        "lower",
        "outcome records",
        "outcomes_quarterly",
        "quarter",
    ),
    Measure(
        "send_post16_dropout",
        "SEND: dropped out of work or learning (Theme 2 indicator)",
        "Pairs of consecutive activity records at 17-21 of young people with SEND, the earlier record in "
        "education, employment or training; by the quarter of the later record",
        "Pairs whose later record is NEET",
        "Every such pair",
        "percent",
        "lower",
        "outcome records, young people (SEND)",
        "send",
        "quarter",
    ),
    Measure(
        "send_reengaged",
        "SEND: re-engaged after dropping out (Theme 2 indicator)",
        "Pairs of consecutive activity records at 17-21 of young people with SEND, the earlier record NEET",
        "Pairs whose later record is in education, employment or training",
        "Every such pair",
        "percent",
        "higher",
        "outcome records, young people (SEND)",
        "send",
        "quarter",
    ),
    # --- risk -------------------------------------------------------------------------
    Measure(
        "risk_agreement",
        "Partners agree on the level of risk",
        "Young people whose first risk assessment fell in the period and who were assessed by two or more "
        "agencies within 90 days of it",
        "Those given the same level by every agency (each agency's latest level in the 90 days)",
        "Everyone in the population",
        "percent",
        "higher",
        "risk assessments",
        "risk",
    ),
    Measure(
        "risk_agreement_quarterly",
        "Partners agree on the level of risk, by quarter (Theme 3 indicator)",
        "As above, by the quarter of the first assessment",
        "Those given the same level by every agency",
        "Everyone in the population",
        "percent",
        "higher",
        "risk assessments",
        "risk",
        "quarter",
    ),
    Measure(
        "risk_pair_differ",
        "Agencies that disagree",
        "For each pair of agencies: young people in the population above assessed by both",
        "Those given different levels by the two",
        "Everyone assessed by both",
        "percent",
        "lower",
        "risk assessments",
        "risk",
    ),
    Measure(
        "representation_exploited",
        "Who is at risk of exploitation",
        "Every young person in view",
        "For each sex, ethnic group, SEND and care status: the share of young people flagged at risk of "
        "criminal or sexual exploitation in that group, against the group's share of everyone; the ratio, "
        "with a 95% Wilson interval",
        "",
        "rate",
        "neutral",
        "young people (exploitation flags)",
        "cohort_all",
        "now",
    ),
    # --- team capacity ----------------------------------------------------------------
    Measure(
        "posts",
        "Funded posts and FTE",
        "Posts of the EmPower staffing structure in view, in the chosen month",
        "Posts; funded, filled (permanent), vacant and agency FTE",
        "",
        "fte",
        "neutral",
        "staffing snapshots (latest version of each month)",
        "staffing",
        "month",
    ),
    Measure(
        "fill_rate",
        "Fill rate",
        "Posts in view, in the chosen month",
        "Filled (permanent) FTE",
        "Funded FTE",
        "percent",
        "higher",
        "staffing snapshots",
        "staffing",
        "month",
    ),
    Measure(
        "vacancy_rate",
        "Vacancy rate (DfE workforce definition)",
        "Posts in view, in the chosen month",
        "Vacant FTE",
        "Vacant plus filled FTE",
        "percent",
        "lower",
        "staffing snapshots",
        "staffing",
        "month",
    ),
    Measure(
        "agency_rate",
        "Agency rate (DfE workforce definition)",
        "Posts in view, in the chosen month",
        "Agency FTE",
        "Agency plus filled FTE",
        "percent",
        "lower",
        "staffing snapshots",
        "staffing",
        "month",
    ),
    Measure(
        "cases_held",
        "Cases held",
        "Case-holding posts in view, in the chosen month",
        "Open cases held (each a young person)",
        "",
        "count",
        "neutral",
        "staffing snapshots",
        "cases",
        "month",
    ),
    Measure(
        "caseload",
        "Cases per case-holding FTE",
        "Case-holding posts in view, in the chosen month",
        "Cases held",
        "Case-holding FTE (filled plus agency)",
        "rate",
        "lower",
        "staffing snapshots",
        "cases",
        "month",
    ),
    Measure(
        "cases_over_capacity",
        "Cases over capacity",
        "Case-holding posts in view, in the chosen month",
        "Cases held, less case-holding FTE times the caseload threshold",
        "",
        "count",
        "lower",
        "staffing snapshots",
        "cases",
        "month",
    ),
    Measure(
        "case_holders_over",
        "Case holders over the threshold",
        "Case-holding posts with someone in them (filled or agency) in view, in the chosen month. Their number "
        "is always shown, never c: the establishment lists the posts, and case-holding FTE counts them where "
        "posts are full-time, so hiding it would protect nothing. The disclosure check takes it as known and "
        "protects how many of them are over the threshold",
        "Those whose own cases per FTE are over the caseload threshold",
        "",
        "count",
        "lower",
        "staffing snapshots",
        "case_holders",
        "month",
    ),
)
CATALOGUE: dict[str, Measure] = {m.id: m for m in MEASURES}


def measure(key: str) -> Measure:
    """The measure a released figure's key belongs to (keys start with its id)."""
    return CATALOGUE[key.split("|", 1)[0]]

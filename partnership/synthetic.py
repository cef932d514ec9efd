"""Synthetic demo partnership, deterministic for a seed and an as-of month.

Calibrated to the DfE figures in shared/data (care leavers NEET about 30% at
17-18 and 40% at 19-21; social worker caseload about 15 per FTE; vacancy and
agency rates near 14% and 13%), with real differences built in so the pages
have a story: North plans later and loses more young people at 18, young
people with no plan by 17 years 6 months are picked up less and fare worse,
and planning improves year on year as the programme takes hold.

Everything is vectorised with numpy so 100,000 young people take seconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from models import codes

LOCALITY_SHARE = {"east": 0.30, "central": 0.42, "north": 0.28}
PLAN_ON_TIME = {"east": 0.50, "central": 0.56, "north": 0.36}
VACANCY = {"east": 0.12, "central": 0.10, "north": 0.20}
CASELOAD = {"east": 15.0, "central": 14.0, "north": 17.5}
CHILD_SERVICE_P = {
    "child_protection": 0.12,
    "looked_after": 0.22,
    "empower": 0.20,
    "child_in_need": 0.20,
    "youth_justice": 0.10,
    "early_help": 0.16,
}


@dataclass(frozen=True)
class OrgRefs:
    """Ids of the reference rows the generator links to."""

    locality_ids: dict[str, int]  # code -> id
    empower_teams: dict[str, list[int]]  # locality code -> team ids
    posts: pl.DataFrame  # id, locality_code, team_id, case_holding


def _months(base: np.datetime64, n: np.ndarray) -> np.ndarray:
    return (base.astype("datetime64[M]") + n.astype("timedelta64[M]")).astype("datetime64[D]")


def _choice(rng: np.random.Generator, options: list[str], p: list[float], size: int) -> np.ndarray:
    p_arr = np.asarray(p, dtype=float)
    return rng.choice(np.asarray(options, dtype=object), size=size, p=p_arr / p_arr.sum())


def _series(values: object, dtype: pl.DataType | type[pl.DataType]) -> pl.Series:
    # numpy object arrays (strings mixed with None) must go through a list.
    if isinstance(values, np.ndarray):
        values = values.tolist()
    return pl.Series(values=values, dtype=dtype)


def _years_since(day: np.ndarray, as_of: np.datetime64) -> np.ndarray:
    return (day - as_of).astype("timedelta64[D]").astype(float) / 365.25


def generate(n: int, seed: int, as_of: dt.date, refs: OrgRefs, key: bytes) -> dict[str, pl.DataFrame]:
    """Build every cohort and staffing table as polars frames (no database)."""
    from partnership.pseudonymise import pseudonymise

    rng = np.random.default_rng(seed)
    asof = np.datetime64(as_of.replace(day=1), "D")
    idx = np.arange(n)

    loc = _choice(rng, list(LOCALITY_SHARE), list(LOCALITY_SHARE.values()), n)
    age_m = rng.integers(14 * 12, 26 * 12, size=n)
    birth = _months(asof, -age_m)
    b18 = _months(birth, np.full(n, 216))
    sex = _choice(rng, ["M", "F", "X"], [0.60, 0.38, 0.02], n)
    eth = _choice(rng, list(codes.ETHNICITY_GROUPS), [0.70, 0.10, 0.07, 0.09, 0.02, 0.02], n)
    send = _choice(rng, list(codes.SEND_STATUS), [0.60, 0.25, 0.15], n)
    service = _choice(rng, list(CHILD_SERVICE_P), list(CHILD_SERVICE_P.values()), n)

    male, female = sex == "M", sex == "F"
    black_mixed = np.isin(eth, ["black", "mixed"])
    u = rng.random((5, n))
    cce = u[0] < 0.18 + 0.25 * male + 0.12 * black_mixed
    cse = u[1] < 0.06 + 0.34 * female
    gangs = u[2] < 0.06 + 0.12 * male + 0.08 * black_mixed
    trafficking = u[3] < 0.05
    missing = u[4] < 0.35
    # Everyone in this cohort is known for exploitation risk of some kind.
    none_flag = ~(cce | cse | gangs | trafficking | missing)
    missing = missing | none_flag

    turned18 = age_m >= 216
    lac = service == "looked_after"
    care = np.where(
        lac,
        np.where(age_m < 192, "looked_after", np.where(turned18, "former_relevant", "eligible")),
        np.where(rng.random(n) < 0.04, "qualifying", "none"),
    )
    care = np.where(lac & turned18 & (rng.random(n) < 0.1), "relevant", care)

    # --- children's episode: the most intensive service open at 17 ---------------
    latest_start = np.minimum(age_m, 17 * 12 + 6)
    start_age = rng.integers(12 * 12, np.maximum(latest_start, 12 * 12 + 1))
    child_start = _months(birth, start_age) + rng.integers(0, 28, n).astype("timedelta64[D]")
    child_start = np.minimum(child_start, asof)

    # Year of the 18th birthday relative to as-of: planning improves with time.
    t18 = _years_since(b18, asof)
    trend = np.clip(t18 + 3.0, -3.0, 4.0) * 0.05
    loc_plan = np.vectorize(PLAN_ON_TIME.get)(loc).astype(float)
    p_on_time = np.clip(
        loc_plan
        + trend
        + 0.18 * lac
        - 0.15 * (service == "early_help")
        - 0.08 * (service == "youth_justice")
        + 0.06 * (send == "ehcp"),
        0.05,
        0.95,
    )
    r = rng.random(n)
    plan_kind = np.where(r < p_on_time, "on_time", np.where(r < p_on_time + (1 - p_on_time) * 0.45, "late", "none"))
    agreed = np.where(
        plan_kind == "on_time",
        _months(birth, rng.integers(198, 210, n)),
        np.where(plan_kind == "late", _months(birth, rng.integers(211, 222, n)), np.datetime64("NaT")),
    )
    plan_started = _months(birth, rng.integers(192, 204, n))
    agreed = np.where(agreed <= asof, agreed, np.datetime64("NaT"))
    plan_started = np.where(~np.isnat(agreed) & (agreed < plan_started), agreed, plan_started)
    has_plan_row = (plan_started <= asof) & ((plan_kind != "none") | (rng.random(n) < 0.35))

    # --- adult side at 18 -------------------------------------------------------
    p_pick = np.select([plan_kind == "on_time", plan_kind == "late"], [0.84, 0.62], 0.30)
    p_pick = np.clip(p_pick + 0.10 * lac - 0.06 * (loc == "north") - 0.06 * (service == "early_help"), 0.02, 0.98)
    r = rng.random(n)
    pick3 = r < p_pick
    later = (~pick3) & (rng.random(n) < 0.45)
    gap_days = np.where(
        pick3,
        np.where(plan_kind == "on_time", rng.integers(0, 35, n), rng.integers(0, 91, n)),
        rng.integers(91, 400, n),
    )
    child_end = b18 + rng.integers(-40, 5, n).astype("timedelta64[D]")
    adult_start = child_end + gap_days.astype("timedelta64[D]")
    has_adult = turned18 & (pick3 | later) & (adult_start <= asof)

    ys = service == "youth_justice"
    adult_service = np.where(
        lac,
        _choice(rng, list(codes.ADULT_SERVICES), [0.08, 0.70, 0.08, 0.07, 0.02, 0.05], n),
        np.where(
            ys,
            _choice(rng, list(codes.ADULT_SERVICES), [0.08, 0.0, 0.14, 0.1, 0.5, 0.18], n),
            _choice(rng, list(codes.ADULT_SERVICES), [0.32, 0.0, 0.26, 0.2, 0.07, 0.15], n),
        ),
    )

    child_open = ~turned18 & (rng.random(n) < 0.92)
    child_end_final = np.where(
        # Nothing ends after the data's own date (an 18th birthday late in the as-of month).
        turned18,
        np.minimum(child_end, asof),
        np.where(child_open, np.datetime64("NaT"), np.minimum(asof, child_start + 200)),
    )
    child_end_final = np.where(turned18 & (child_end_final < child_start), child_start, child_end_final)
    end_reason = np.where(
        turned18,
        np.where(
            has_adult & (gap_days <= 90),
            np.where(
                lac,
                _choice(rng, ["independent_living", "staying_put", "adult_social_care"], [0.7, 0.2, 0.1], n),
                "transferred",
            ),
            np.where(lac, "independent_living", "turned_18"),
        ),
        np.where(child_open, None, "no_longer_needed"),
    )

    team_ids = np.array(
        [
            refs.empower_teams[code][i % len(refs.empower_teams[code])] if s == "empower" else None
            for i, (code, s) in enumerate(zip(loc, service, strict=True))
        ],
        dtype=object,
    )

    ids = idx + 1
    young_people = pl.DataFrame(
        {
            "id": ids,
            "pseudo_key": [pseudonymise(f"synthetic:{seed}:{i}", key) for i in idx],
            "birth_month": birth.astype("datetime64[D]"),
            "sex": sex.astype(str),
            "ethnicity": eth.astype(str),
            "send": send.astype(str),
            "care_status": care.astype(str),
            "locality_id": np.vectorize(refs.locality_ids.get)(loc),
            "cce": cce,
            "cse": cse,
            "gangs": gangs,
            "trafficking": trafficking,
            "missing": missing,
            "source": ["synthetic"] * n,
        }
    )

    child_eps = pl.DataFrame(
        {
            "young_person_id": ids,
            "service": service.astype(str),
            "team_id": _series(list(team_ids), dtype=pl.Int64),
            "started_on": child_start,
            "ended_on": child_end_final,
            "end_reason": _series(end_reason, dtype=pl.String),
        }
    )
    adult_dur = rng.integers(120, 900, n).astype("timedelta64[D]")
    adult_end = adult_start + adult_dur
    adult_eps = pl.DataFrame(
        {
            "young_person_id": ids[has_adult],
            "service": adult_service[has_adult].astype(str),
            "team_id": _series([None] * int(has_adult.sum()), dtype=pl.Int64),
            "started_on": adult_start[has_adult],
            "ended_on": np.where(adult_end[has_adult] <= asof, adult_end[has_adult], np.datetime64("NaT")),
            "end_reason": _series(
                np.where(
                    adult_end[has_adult] <= asof,
                    _choice(
                        rng, ["no_longer_needed", "disengaged", "moved_away"], [0.6, 0.3, 0.1], int(has_adult.sum())
                    ),
                    None,
                ),
                dtype=pl.String,
            ),
        }
    )
    # An earlier early-help episode for some, as real histories have.
    prior = (start_age > 12 * 12 + 6) & (service != "early_help") & (rng.random(n) < 0.3)
    prior_start = _months(birth, np.full(n, 12 * 12)) + rng.integers(0, 60, n).astype("timedelta64[D]")
    prior_eps = pl.DataFrame(
        {
            "young_person_id": ids[prior],
            "service": ["early_help"] * int(prior.sum()),
            "team_id": _series([None] * int(prior.sum()), dtype=pl.Int64),
            "started_on": prior_start[prior],
            "ended_on": np.maximum(child_start[prior] - 1, prior_start[prior]),
            "end_reason": ["other"] * int(prior.sum()),
        }
    )
    episodes = pl.concat([prior_eps, child_eps, adult_eps]).with_columns(
        pl.col("started_on").cast(pl.Date), pl.col("ended_on").cast(pl.Date)
    )

    plans = pl.DataFrame(
        {
            "young_person_id": ids[has_plan_row],
            "started_on": plan_started[has_plan_row],
            "agreed_on": agreed[has_plan_row],
            "post18_service": _series(
                np.where(~np.isnat(agreed[has_plan_row]), adult_service[has_plan_row], None), dtype=pl.String
            ),
        }
    ).with_columns(pl.col("started_on").cast(pl.Date), pl.col("agreed_on").cast(pl.Date))

    outcomes = _outcomes(
        rng, ids, birth, asof, plan_kind, has_adult & (gap_days <= 90), send, loc, lac, ys, missing, cce, cse, t18
    )
    risks = _risks(rng, ids, child_start, child_end_final, asof, cce | gangs | trafficking, cse, t18)
    snapshots = _snapshots(rng, refs.posts, as_of)
    return {
        "youngperson": young_people.with_columns(pl.col("birth_month").cast(pl.Date)),
        "serviceepisode": episodes,
        "transitionplan": plans,
        "riskassessment": risks,
        "outcomeobservation": outcomes,
        "postsnapshot": snapshots,
    }


def _outcomes(
    rng: np.random.Generator,
    ids: np.ndarray,
    birth: np.ndarray,
    asof: np.datetime64,
    plan_kind: np.ndarray,
    picked: np.ndarray,
    send: np.ndarray,
    loc: np.ndarray,
    lac: np.ndarray,
    ys: np.ndarray,
    missing: np.ndarray,
    cce: np.ndarray,
    cse: np.ndarray,
    t18: np.ndarray,
) -> pl.DataFrame:
    """One observation on each birthday from 17 to 21, as the 903 OC3 return
    records care leavers' activity and accommodation around their birthday."""
    n = len(ids)
    frames = []
    prev_neet = np.zeros(n, dtype=bool)
    eet_codes, eet_p = ["F2", "P2", "F5", "P5", "F4", "P4", "F1", "P1"], [0.30, 0.05, 0.28, 0.14, 0.1, 0.03, 0.07, 0.03]
    improve = np.clip(t18 + 3.0, -3.0, 4.0) * 0.015
    for age in range(17, 22):
        when = _months(birth, np.full(n, age * 12))
        due = when <= asof
        base = 0.36 if age < 19 else 0.33
        p_neet = (
            base
            + 0.10 * (plan_kind == "none")
            - 0.07 * (plan_kind == "on_time")
            + (0.09 * ~picked if age >= 18 else 0)
            + 0.06 * (send == "ehcp")
            + 0.05 * (loc == "north")
            - improve
            + np.where(prev_neet, 0.22, -0.04)
        )
        neet = rng.random(n) < np.clip(p_neet, 0.02, 0.95)
        in_touch = _choice(
            rng, ["YES", "NO", "REFU", "NREQ", "RHOM", "DIED"], [0.86, 0.05, 0.03, 0.03, 0.025, 0.005], n
        )
        known = np.isin(in_touch, ["YES", "NREQ", "RHOM"])
        not_known = rng.random(n) < 0.04
        activity = np.where(
            neet, _choice(rng, ["G4", "G5", "G6"], [0.2, 0.65, 0.15], n), _choice(rng, eet_codes, eet_p, n)
        )
        activity = np.where(not_known, "0", activity)
        p_home = 0.05 + (0.07 * ~picked if age >= 18 else 0.0) + 0.04 * neet
        homeless = rng.random(n) < p_home
        custody = rng.random(n) < 0.01 + 0.04 * ys
        suitable = _choice(
            rng,
            ["U1", "D1", "B1", "E1", "K1", "T1", "Y1", "C1", "U2", "D2", "B2"],
            [0.26, 0.2, 0.2, 0.08, 0.05, 0.05, 0.03, 0.04, 0.04, 0.03, 0.02],
            n,
        )
        suitable = np.where(lac & (rng.random(n) < 0.15), "Z1", suitable)
        accom = np.where(
            custody,
            "X2",
            np.where(homeless, _choice(rng, ["S2", "V1", "V2", "W2"], [0.35, 0.25, 0.2, 0.2], n), suitable),
        )
        lam_missing = 0.3 + 0.6 * missing + (0.4 * ~picked if age >= 18 else 0.0)
        frames.append(
            pl.DataFrame(
                {
                    "young_person_id": ids[due],
                    "observed_on": when[due],
                    "activity": _series(np.where(known, activity, None)[due], dtype=pl.String),
                    "accommodation": _series(np.where(known, accom, None)[due], dtype=pl.String),
                    "in_touch": in_touch[due].astype(str),
                    "missing_episodes": rng.poisson(lam_missing)[due],
                    "ae_attendances": rng.poisson(0.25 + 0.25 * ~picked + 0.2 * cse)[due],
                    "police_custody": rng.poisson(0.1 + 0.25 * cce + 0.15 * ~picked)[due],
                    "emergency_housing": rng.poisson(0.05 + 0.6 * homeless)[due],
                }
            )
        )
        prev_neet = neet
    return pl.concat(frames).with_columns(pl.col("observed_on").cast(pl.Date))


def _risks(
    rng: np.random.Generator,
    ids: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    asof: np.datetime64,
    criminal: np.ndarray,
    cse: np.ndarray,
    t18: np.ndarray,
) -> pl.DataFrame:
    """Assessments by one to four agencies around one point in each young
    person's time with us; agencies agree more often as the programme goes on."""
    n = len(ids)
    stop = np.where(np.isnat(end), asof, end)
    span = np.maximum((stop - start).astype("timedelta64[D]").astype(int), 1)
    anchor = start + (rng.random(n) * span).astype("timedelta64[D]")
    true_level = np.clip(rng.binomial(3, 0.35 + 0.12 * criminal + 0.1 * cse), 0, 3)
    n_agencies = rng.choice([1, 2, 3, 4], size=n, p=[0.25, 0.4, 0.25, 0.1])
    p_agree = np.clip(0.58 + np.clip(t18 + 3.0, -3.0, 4.0) * 0.04, 0.35, 0.9)
    levels = list(codes.RISK_LEVELS)
    frames = []
    # Each young person is assessed by their own random set of agencies;
    # social care and police are the most likely to be involved.
    priority = rng.random((n, 4)) * np.array([0.4, 0.6, 0.8, 1.0])
    rank = priority.argsort(axis=1).argsort(axis=1)
    for k, agency in enumerate(codes.RISK_AGENCIES):
        has = rank[:, k] < n_agencies
        agree = rng.random(n) < p_agree
        shift = np.where(rng.random(n) < 0.5, -1, 1)
        level = np.where(agree, true_level, np.clip(true_level + shift, 0, 3))
        when = np.minimum(anchor + rng.integers(0, 60, n).astype("timedelta64[D]"), asof)
        frames.append(
            pl.DataFrame(
                {
                    "young_person_id": ids[has],
                    "agency": [str(agency)] * int(has.sum()),
                    "assessed_on": when[has],
                    "level": np.asarray(levels, dtype=object)[level[has]].astype(str),
                }
            )
        )
    return pl.concat(frames).with_columns(pl.col("assessed_on").cast(pl.Date))


def _snapshots(rng: np.random.Generator, posts: pl.DataFrame, as_of: dt.date, months: int = 36) -> pl.DataFrame:
    """Thirty-six months of staffing per post: vacancies persist for months,
    agency staff cover about half of vacant social work posts, and each
    team's cases are shared over whoever is working."""
    month0 = np.datetime64(as_of.replace(day=1), "M") - (months - 1)
    month_list = [(month0 + i).astype("datetime64[D]").astype(dt.date) for i in range(months)]
    rows: list[dict[str, object]] = []
    post_rows = posts.sort("id").to_dicts()
    vacant = {p["id"]: rng.random() < VACANCY[p["locality_code"]] for p in post_rows}
    agency = {p["id"]: False for p in post_rows}
    weight: dict[object, float] = {}
    for month in month_list:
        team_working: dict[object, float] = {}
        for p in post_rows:
            v_rate = VACANCY[p["locality_code"]]
            # Monthly Markov chain whose steady state is the locality's rate.
            leave_p = 0.02
            fill_p = leave_p * (1 - v_rate) / v_rate
            if vacant[p["id"]]:
                vacant[p["id"]] = rng.random() >= fill_p
                # Agency cover, once found, usually stays; about half of
                # vacancies are covered at any time.
                agency[p["id"]] = vacant[p["id"]] and rng.random() < (0.92 if agency[p["id"]] else 0.35)
            else:
                vacant[p["id"]] = rng.random() < leave_p
                agency[p["id"]] = vacant[p["id"]] and rng.random() < 0.5
            weight[p["id"]] = rng.uniform(0.7, 1.3)
            if p["case_holding"] and (not vacant[p["id"]] or agency[p["id"]]):
                team_working[p["team_id"]] = team_working.get(p["team_id"], 0.0) + weight[p["id"]]
        team_cases = {
            team: int(rng.poisson(CASELOAD[_team_loc(post_rows, team)] * 4.0))
            for team in {p["team_id"] for p in post_rows if p["case_holding"]}
        }
        for p in post_rows:
            working = p["case_holding"] and (not vacant[p["id"]] or agency[p["id"]])
            # Cases are shared unevenly over whoever is working in the team.
            share = team_cases.get(p["team_id"], 0) * weight[p["id"]] / team_working[p["team_id"]] if working else 0.0
            rows.append(
                {
                    "post_id": p["id"],
                    "month": month,
                    "filled_fte": 0.0 if vacant[p["id"]] else 1.0,
                    "agency_fte": 1.0 if agency[p["id"]] else 0.0,
                    "vacant_fte": 1.0 if vacant[p["id"]] else 0.0,
                    "cases_held": round(share),
                    "version": 1,
                    "recorded_by": "system",
                    # Five weeks after the month began, but never after the data's own date.
                    "recorded_at": min(
                        dt.datetime.combine(month, dt.time(9, tzinfo=dt.UTC)) + dt.timedelta(days=35),
                        dt.datetime.combine(as_of, dt.time(9, tzinfo=dt.UTC)),
                    ),
                }
            )
    return pl.DataFrame(rows)


def _team_loc(post_rows: list[dict[str, object]], team: object) -> str:
    return next(str(p["locality_code"]) for p in post_rows if p["team_id"] == team)


def entered_indicator_values(rng_seed: int, indicators: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Quarterly history for the indicators the lead enters by hand, from the
    first quarter of 2023 to the last full quarter before as-of."""
    rng = np.random.default_rng(rng_seed + 1)
    quarters = []
    year, q = 2023, 1
    # A quarter is keyed by its first day, as parse_period reads "2025-Q3",
    # and only quarters that have ended by as-of get a value.
    while dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) <= as_of.replace(day=1):
        quarters.append(dt.date(year, 3 * q - 2, 1))
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    rows = []
    for ind in indicators.to_dicts():
        # Some indicators improve steadily, one stalls: a mixed picture.
        pace = 0.9 if ind["code"] != "shared_risk_assessment" else 0.35
        gap = ind["target"] - ind["baseline"]
        for i, period in enumerate(quarters):
            progress = min(1.0, pace * (i + 1) / 9)
            value = ind["baseline"] + gap * progress + rng.normal(0, abs(gap) * 0.06)
            rows.append(
                {
                    "indicator_id": ind["id"],
                    "period": period,
                    "value": round(float(value), 1),
                    "note": "Synthetic demo value",
                    "version": 1,
                    "entered_by": "lead",
                    "entered_at": dt.datetime.combine(period, dt.time(9, tzinfo=dt.UTC)) + dt.timedelta(days=45),
                }
            )
    return pl.DataFrame(rows)

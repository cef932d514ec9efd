"""Reference data against the seed documents themselves."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from sqlmodel import Session, select

from models import Funding, IntendedImpact, Locality, Post, Role, Team, Theme
from models.reference import POWER2_OUTCOMES, THEMES, load_reference

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
PROJECT_SEED = SEEDS / "000_0d7b96ea27c5444e.txt"
STAFFING_SEED = SEEDS / "002_b7ae711ea6a34039.txt"


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2019", "'")).strip()


def test_staffing_seed_totals_as_hand_counted() -> None:
    """Count the 'N x Role' lines of the staffing structure in the seed: 7
    teams of which East Team 2 has 2 family support workers -> 50 team posts."""
    text = STAFFING_SEED.read_text()
    block = text[text.index("Staffing structure") : text.index("Multi disciplinary roles")]
    team_posts = sum(
        int(n)
        for n in re.findall(
            r"(\d)\s*x\s*(?:Exploitation Social|Social|Family Support|"
            r"Missing From Home|Targeted Youth) Worker",
            block,
        )
    )
    assert team_posts == 50
    assert len(re.findall(r"(EAST|CENTRAL|NORTH) TEAM \d", block)) == 7
    assert block.count("PACE (Lancaster children only)") == 1


def test_database_establishment_matches_seed(session: Session) -> None:
    teams = {t.id: t for t in session.exec(select(Team))}
    localities = {loc.id: loc.code for loc in session.exec(select(Locality))}
    roles = {r.id: r.code for r in session.exec(select(Role))}
    posts = list(session.exec(select(Post)))
    empower = [t for t in teams.values() if t.kind == "empower"]
    assert len(empower) == 7
    assert Counter(localities[t.locality_id] for t in empower) == {"east": 2, "central": 3, "north": 2}
    team_posts = [p for p in posts if p.team_id is not None]
    shared = [p for p in posts if p.team_id is None]
    assert (len(team_posts), len(shared), len(posts)) == (50, 15, 65)
    assert sum(p.fte for p in posts) == 65.0
    per_team = Counter((teams[p.team_id].name, roles[p.role_id]) for p in team_posts)
    assert per_team[("East Team 2", "family_support")] == 2
    assert per_team[("East Team 1", "family_support")] == 1
    for team in empower:
        assert per_team[(team.name, "social_worker")] == 3
        assert per_team[(team.name, "exploitation_sw")] == 1
    for code in ("east", "central", "north"):
        mine = sorted(roles[p.role_id] for p in shared if localities[p.locality_id] == code)
        assert mine == sorted(["parenting_support", "mentor", "exploitation_nurse", "specialist_nurse", "pace"])
    notes = {(localities[p.locality_id], roles[p.role_id]): p.note for p in shared if p.note}
    assert notes == {("north", "pace"): "Lancaster children only"}
    extra = {r.code for r in session.exec(select(Role).where(Role.in_staffing_structure == False))}  # noqa: E712
    assert extra == {
        "speech_language",
        "substance_misuse",
        "clinical_psychologist",
        "mental_health",
        "child_family_practitioner",
    }


def test_themes_and_impacts_are_the_documents_words(session: Session) -> None:
    seed_text = _words(PROJECT_SEED.read_text())
    themes = {t.number: t for t in session.exec(select(Theme))}
    assert sorted(themes) == [1, 2, 3, 4]
    for number, theme in themes.items():
        assert f"Theme {number} " in seed_text
        assert _words(theme.title) in seed_text, theme.title
        impacts = list(session.exec(select(IntendedImpact).where(IntendedImpact.theme_id == theme.id)))
        assert impacts, f"theme {number} has no intended impact"
        for impact in impacts:
            assert _words(impact.text) in seed_text, impact.text
    assert len(THEMES) == 4


def test_turnaround_grant_figures(session: Session) -> None:
    text = STAFFING_SEED.read_text()
    assert "£1,023,397.83" in text and "£98,579.62" in text and "May 2023" in text and "March 2025" in text
    funding = {f.name: f for f in session.exec(select(Funding))}
    total = next(f for f in funding.values() if f.parent_id is None)
    asb = next(f for f in funding.values() if f.parent_id == total.id)
    assert total.amount_pence == 1_023_397_83
    assert asb.amount_pence == 98_579_62
    assert asb.committed_on.isoformat() == "2023-05-01"
    assert total.funded_until.isoformat() == "2025-03-31"
    pd_teams = sorted(t.name for t in session.exec(select(Team).where(Team.kind == "prevention_diversion")))
    assert pd_teams == ["East P&D team", "North P&D team", "South/Central P&D team"]


def test_power2_outcomes_are_in_the_seed() -> None:
    text = _words(STAFFING_SEED.read_text())
    for outcome in POWER2_OUTCOMES:
        first_word_run = outcome.split(" Health")[0]
        assert _words(first_word_run) in text, outcome
    assert len(POWER2_OUTCOMES) == 10


def test_reference_load_is_idempotent(session: Session) -> None:
    load_reference(session)
    session.commit()
    assert len(list(session.exec(select(Post)))) == 65

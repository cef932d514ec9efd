"""`python cli.py bench`: build (or reuse) a large synthetic database and print
per-page timings of a signed-in project lead, through Streamlit's AppTest.

Prints one line per page:
    bench page=<name> young_people=<N> cold_ms=<..> warm_ms=<..> peak_rss_mb=<..>
cold = first render after sign-in with empty caches; warm = median rerun.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import statistics
import time

from partnership.settings import DATA_DIR, ROOT

PAGES = [
    ("overview", "pages/overview.py"),
    ("cohort", "pages/cohort.py"),
    ("capacity", "pages/capacity.py"),
    ("themes", "pages/themes.py"),
]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build_database(young_people: int, url: str | None) -> str:
    from sqlalchemy import text

    from models.db import get_engine
    from partnership.demo import seed_demo

    if url is None:
        (DATA_DIR / "bench").mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'bench' / f'bench_{young_people}.db'}"
    try:
        with get_engine(url).connect() as conn:
            have = conn.execute(text("SELECT COUNT(*) FROM youngperson")).scalar_one()
    except Exception:  # no schema yet: build it
        have = -1
    if have != young_people:
        started = time.perf_counter()
        seed_demo(url, young_people, seed=7, as_of=dt.date.today())
        print(f"bench build young_people={young_people} seconds={time.perf_counter() - started:.1f}", flush=True)
    return url


def run_bench(young_people: int, url: str | None = None, runs: int = 5) -> None:
    url = build_database(young_people, url)
    os.environ["DATABASE_URL"] = url
    from streamlit.testing.v1 import AppTest

    from partnership.settings import get_settings

    password = get_settings().demo_password
    for name, path in PAGES:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
        at.run()
        at.text_input[0].input("lead")
        at.text_input[1].input(password)
        started = time.perf_counter()
        at.button[0].click().run()
        if path != "pages/overview.py":
            at.switch_page(path).run()
        cold = (time.perf_counter() - started) * 1000
        if at.exception:
            raise RuntimeError(f"page {name} raised: {at.exception[0].value}")
        warm = []
        for _ in range(runs):
            started = time.perf_counter()
            at.run()
            warm.append((time.perf_counter() - started) * 1000)
        print(
            f"bench page={name} young_people={young_people} cold_ms={cold:.0f} "
            f"warm_ms={statistics.median(warm):.0f} peak_rss_mb={_peak_rss_mb():.0f}",
            flush=True,
        )

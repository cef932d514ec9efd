"""`python cli.py bench`: build (or reuse) a large synthetic database and print
per-page timings of a signed-in project lead, through Streamlit's AppTest;
then time an SSDA903 import of a large synthetic return; with `--only load`,
drive many signed-in sessions against a real server (see run_load_bench).

Prints the writer's cost of the columnar copy after a cohort change
(`bench snapshot young_people=<N> build_ms=<..>`), then one line per page:
    bench page=<name> young_people=<N> cold_ms=<..> warm_ms=<..> floor_ms=<..> ratio=<..> peak_rss_mb=<..>
cold = the first view after a data change (a commit that changes the
cohort, as an import does; the page then reruns with every cache missing
and, as on another app process, nothing of the new cohort in memory);
warm = median rerun;
floor = median rerun of a script re-emitting the very same elements with no
computation (partnership/floor.py), measured in the same run; ratio = warm / floor.

then the board's publication, made as `cli.py publish` makes it, in a process of its own
(every board figure worked out, disclosed and audited together, and stored):
    bench publication young_people=<N> ms=<..> figures=<n> hidden=<n> peak_rss_mb=<..>
and each page as a board member first sees it after that publication (cold: nothing of it
read yet in this process) and again (warm), beside the same floor:
    bench page=<name> role=board young_people=<N> cold_ms=<..> warm_ms=<..> floor_ms=<..> ratio=<..>

then the board pack as the lead downloads it (every locality, default period):
    bench boardpack young_people=<N> cold_ms=<..> again_ms=<..> size_kb=<..> peak_rss_mb=<..>
cold = after a data change; again = made again with nothing changed.

and one for the import:
    bench import=episodes rows=<N> ms=<..> peak_rss_mb=<..>
ms = `import-903` of a folder holding header.csv (one row per child, about
N/4 children) and episodes.csv (N rows) into a fresh database at the latest
schema: reading, validating and pseudonymising both files, writing the
children and their episodes, care status, the audit row and the commit, as
the command line does it. Process start-up and creating the schema are not
in it. The import runs in a process of its own, so peak_rss_mb is that
process's high-water mark (interpreter and libraries included, about 150 MB
of it before any file is read), not the page benches'.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from partnership.floor import capture, floor_ms, median_rerun_ms
from partnership.settings import DATA_DIR, ROOT, get_settings

PAGES = [
    ("overview", "pages/overview.py"),
    ("cohort", "pages/cohort.py"),
    ("capacity", "pages/capacity.py"),
    ("themes", "pages/themes.py"),
]


def _peak_rss_mb() -> float:
    # Linux keeps ru_maxrss across fork and exec, so a child started by a big
    # parent would report the parent's peak; VmHWM belongs to this process only.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
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
        at.button[0].click().run()
        if path != "pages/overview.py":
            at.switch_page(path).run()
        build_ms = _change_the_cohort(url)
        started = time.perf_counter()
        at.run()
        cold = (time.perf_counter() - started) * 1000
        if at.exception:
            raise RuntimeError(f"page {name} raised: {at.exception[0].value}")
        if name == PAGES[0][0]:
            print(f"bench snapshot young_people={young_people} build_ms={build_ms:.0f}", flush=True)
        warm_ms = median_rerun_ms(at, runs)
        # The floor, measured in the same run: the same elements re-emitted with no computation.
        floor = floor_ms(capture(at._tree), runs)
        print(
            f"bench page={name} young_people={young_people} cold_ms={cold:.0f} "
            f"warm_ms={warm_ms:.0f} floor_ms={floor:.0f} ratio={warm_ms / max(floor, 1e-9):.1f} "
            f"peak_rss_mb={_peak_rss_mb():.0f}",
            flush=True,
        )
    _bench_publication(url, young_people)
    _bench_board_pages(url, young_people, password, runs)
    _bench_board_pack(url, young_people)


def _bench_publication(url: str, young_people: int) -> None:
    """The publication in a process of its own, as the command line (or the
    server's monthly thread) makes it: its time and its own peak memory."""
    code = (
        "import sys, time; import partnership.cli_start; "
        "from models.db import get_engine; from partnership import publication; "
        "from partnership.bench import _peak_rss_mb; "
        "t = time.perf_counter(); out = publication.build(get_engine(sys.argv[1]), 'cli', 'the bench', force=True); "
        "ms = (time.perf_counter() - t) * 1000; h = out.header; "
        "print(f'bench publication young_people={sys.argv[2]} ms={ms:.0f} figures={h.figures} hidden={h.hidden} "
        "peak_rss_mb={_peak_rss_mb():.0f}', flush=True)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, url, str(young_people)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("bench publication")), None)
    if line is None:
        raise RuntimeError(f"the publication failed: {done.stderr[-2000:]}")
    print(line, flush=True)


def _bench_board_pages(url: str, young_people: int, password: str, runs: int) -> None:
    """Each page as a board member sees it: read from the stored publication."""
    from streamlit.testing.v1 import AppTest

    for name, path in PAGES:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
        at.run()
        at.text_input[0].input("board")
        at.text_input[1].input(password)
        at.button[0].click().run()
        if path != "pages/overview.py":
            at.switch_page(path).run()
        from ui import data as ui_data

        ui_data._published.clear()  # as a process that has read nothing of this publication yet
        started = time.perf_counter()
        at.run()
        cold = (time.perf_counter() - started) * 1000
        if at.exception:
            raise RuntimeError(f"page {name} raised for the board: {at.exception[0].value}")
        warm_ms = median_rerun_ms(at, runs)
        floor = floor_ms(capture(at._tree), runs)
        print(
            f"bench page={name} role=board young_people={young_people} cold_ms={cold:.0f} warm_ms={warm_ms:.0f} "
            f"floor_ms={floor:.0f} ratio={warm_ms / max(floor, 1e-9):.1f}",
            flush=True,
        )


def _bench_board_pack(url: str, young_people: int) -> None:
    """The board pack after a data change (cold: every figure worked out,
    every chart drawn) and made again with nothing changed (charts reused)."""
    from models.db import get_engine
    from partnership.boardpack import build_board_pack

    _change_the_cohort(url)
    times = []
    for _ in range(2):
        started = time.perf_counter()
        pdf = build_board_pack(get_engine(url), generated_by="the bench")
        times.append((time.perf_counter() - started) * 1000)
    print(
        f"bench boardpack young_people={young_people} cold_ms={times[0]:.0f} again_ms={times[1]:.0f} "
        f"size_kb={len(pdf) // 1024} peak_rss_mb={_peak_rss_mb():.0f}",
        flush=True,
    )


def _change_the_cohort(url: str) -> float:
    """Commit a change of the cohort version, as every import does; returns
    how long the writer spent building the columnar copy after its commit."""
    from sqlmodel import Session

    from models.db import get_engine
    from partnership import disclosure, snapshot, store

    with Session(get_engine(url)) as session:
        store.bump_data_version(session)
        started = time.perf_counter()
        session.commit()
        build_ms = (time.perf_counter() - started) * 1000
    snapshot._memo.clear()  # the viewer's process is not the writer's
    disclosure.forget_audits()  # nor has it audited any release yet
    return build_ms


# --- import bench -----------------------------------------------------------------

# Reasons an episode ceased that end care (X1 = a new episode starts the same day).
_LEAVING = ["E11", "E12", "E13", "E14", "E15", "E16", "E17", "E2", "E3", "E41", "E45", "E46", "E47", "E48"]
_LEAVING += ["E4A", "E4B", "E5", "E6", "E7", "E8", "E9"]
_EPISODE_COLUMNS = ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC"]
_EPISODE_COLUMNS += ["REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"]
_ETHNIC = ["WBRI", "WIRI", "WOTH", "MWBC", "MWBA", "MOTH", "AIND", "APKN", "BCRB", "BAFR", "CHNE", "OOTH", "REFU"]


def write_seven_open_seventeen_year_olds(folder: Path, tag: str) -> list[tuple[str, Path]]:
    """Partnership template files (young people, then their service episodes)
    for seven young people born in June 2009, 17 on a demo's figures date
    (1 November 2026 or later, to May 2027), each with a children's service
    open since January 2025: importing them raises 'Open to children's
    services aged 16-17' by 7. Returns (table, file) in import order."""
    ids = [f"SEVEN{tag}{i}" for i in range(7)]
    files = {
        "young_people": "child_id,birth_date,sex,ethnicity,send,care_status,locality,"
        + "cce,cse,gangs,trafficking,missing\n"
        + "".join(f"{i},15/06/2009,F,white,none,none,east,,,,,\n" for i in ids),
        "service_episodes": "child_id,service,start_date,end_date,end_reason\n"
        + "".join(f"{i},child_in_need,10/01/2025,,\n" for i in ids),
    }
    out = []
    for table, content in files.items():
        path = folder / f"{table}_{tag}.csv"
        path.write_text(content)
        out.append((table, path))
    return out


def write_903_folder(folder: Path, episodes: int, seed: int = 7, today: dt.date | None = None) -> int:
    """A synthetic SSDA903 return as a case system exports it: header.csv
    and episodes.csv with the return's other columns too, dd/mm/YYYY dates,
    each child's episodes one after another (X1 between placements, a real
    reason at the end, some still open). Returns the number of children."""
    rnd = random.Random(seed)
    today = today or dt.date.today()
    folder.mkdir(parents=True, exist_ok=True)
    day = "%d/%m/%Y"
    children = 0
    with (
        (folder / "header.csv").open("w", newline="") as header_file,
        (folder / "episodes.csv").open("w", newline="") as episodes_file,
    ):
        header = csv.writer(header_file)
        header.writerow(["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"])
        eps = csv.writer(episodes_file)
        eps.writerow(_EPISODE_COLUMNS)
        written = 0
        while written < episodes:
            children += 1
            child = str(100000 + children * 7)
            dob = today - dt.timedelta(days=rnd.randint(12 * 365, 21 * 365))
            header.writerow([child, rnd.choice("12"), dob.strftime(day), rnd.choice(_ETHNIC), "", "", ""])
            start = dob + dt.timedelta(days=rnd.randint(365, 14 * 365))
            start = min(start, today - dt.timedelta(days=rnd.randint(30, 700)))
            count = min(rnd.randint(1, 7), episodes - written)
            for n in range(count):
                end = start + dt.timedelta(days=rnd.randint(20, 500))
                still_open = end >= today or (n == count - 1 and rnd.random() < 0.3)
                row_end = "" if still_open else end.strftime(day)
                reason = "" if still_open else ("X1" if n < count - 1 else rnd.choice(_LEAVING))
                placement = [rnd.choice("LPBT"), "C2", "N1", rnd.choice(["U1", "U4", "R1"]), "PR1"]
                moved = ["CLOSE" if row_end else "", "AB1 2CD", "EF3 4GH", "1234567"]
                eps.writerow([child, start.strftime(day), *placement, row_end, reason, *moved])
                written += 1
                if still_open:
                    break
                start = end
    return children


def _fresh_database(url: str | None, scratch: Path) -> tuple[str, str | None]:
    """A new database for one import: a SQLite file in `scratch`, or a new
    database on the PostgreSQL server of `url` (returned second, to drop)."""
    if url is None or url.startswith("sqlite"):
        return f"sqlite:///{scratch / 'import_bench.db'}", None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_import_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_driver(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(_driver(url)).set(database=name).render_as_string(hide_password=False), name


def _driver(url: str) -> str:
    return "postgresql+psycopg://" + url.removeprefix("postgresql://") if url.startswith("postgresql://") else url


def _drop_database(url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(_driver(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_import_bench(rows: int, url: str | None = None) -> dict[str, float]:
    """Print the import line; `url` picks the engine (PostgreSQL: a scratch
    database on that server, dropped afterwards; otherwise a SQLite file)."""
    from sqlmodel import Session

    from models.db import get_engine, upgrade
    from models.reference import load_reference

    with tempfile.TemporaryDirectory(prefix="bench903_") as tmp:
        scratch = Path(tmp)
        children = write_903_folder(scratch / "return", rows)
        db_url, created = _fresh_database(url, scratch)
        try:
            upgrade(db_url)
            with Session(get_engine(db_url)) as session:
                load_reference(session)
                session.commit()
            get_engine(db_url).dispose()
            result = _measured_import("ssda903", scratch / "return", db_url)
            print(
                f"bench import=episodes rows={rows} ms={result['ms']:.0f} peak_rss_mb={result['peak_rss_mb']:.0f}",
                flush=True,
            )
            # CLD events for the children the return has just brought in (people aged 18 to 25 at each event).
            with (scratch / "return" / "header.csv").open() as handle:
                people = [line.split(",", 1)[0] for line in list(handle)[1:]]
            write_cld_csv(scratch / "cld.csv", rows, people)
            cld = _measured_import("cld", scratch / "cld.csv", db_url)
            print(
                f"bench import=cld rows={rows} ms={cld['ms']:.0f} peak_rss_mb={cld['peak_rss_mb']:.0f}",
                flush=True,
            )
            # A census of as many children: about 60 MB of XML, over the 50 MB an upload may be, so
            # this command-line import is given room (DASHBOARD_MAX_FILE_MB) and says so.
            size = write_cin_xml(scratch / "census.xml", rows)
            room = max(get_settings().max_file_mb, size // (1 << 20) + 1)
            cin = _measured_import(
                "cin", scratch / "census.xml", db_url, {**os.environ, "DASHBOARD_MAX_FILE_MB": str(room)}
            )
            print(
                f"bench import=cin children={rows} size_mb={size / (1 << 20):.0f} ms={cin['ms']:.0f} "
                f"peak_rss_mb={cin['peak_rss_mb']:.0f}",
                flush=True,
            )
        finally:
            if created is not None:
                assert url is not None
                _drop_database(url, created)
    return {**result, "children": children}


def _import_child(kind: str, source: str, url: str) -> None:
    """The measured import, alone in this process."""
    from models.db import get_engine
    from partnership.importers.batches import run_import
    from partnership.importers.cin import import_cin
    from partnership.importers.cld import import_cld
    from partnership.importers.ssda903 import import_903

    work = {
        "ssda903": lambda s: import_903(s, Path(source), "north"),
        "cin": lambda s: import_cin(s, Path(source), "east"),
        "cld": lambda s: import_cld(s, Path(source)),
    }[kind]
    engine = get_engine(url)
    with engine.connect():
        pass  # the first connection is set-up, not import
    started = time.perf_counter()
    message = run_import(engine, kind, "bench", work)
    ms = (time.perf_counter() - started) * 1000
    print(json.dumps({"ms": ms, "peak_rss_mb": _peak_rss_mb(), "message": message}))


def _measured_import(kind: str, source: Path, db_url: str, env: dict[str, str] | None = None) -> dict:
    child = subprocess.run(
        [sys.executable, "-m", "partnership.bench", "--import-child", kind, str(source), db_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if child.returncode != 0:
        raise RuntimeError(f"{kind} import bench failed: {child.stderr[-3000:]}")
    return dict(json.loads(child.stdout.strip().splitlines()[-1]))


def write_cin_xml(path: Path, children: int, seed: int = 11, today: dt.date | None = None) -> int:
    """A children in need census of `children` children, written as a case
    system writes it (one CINdetails each, an assessment with its factors,
    some child protection plans); returns its size in bytes."""
    rnd = random.Random(seed)
    today = today or dt.date.today()
    factors = ["1A", "2A", "3B", "4B", "10A", "11A", "12A", "13A", "14A", "16A", "21", "24A"]
    parts = [
        "<?xml version='1.0' encoding='utf-8'?><Message><Header><CollectionDetails><Collection>CIN</Collection>"
        f"<Year>{today.year}</Year></CollectionDetails></Header><Children>"
    ]
    for i in range(children):
        born = today - dt.timedelta(days=rnd.randint(365, 18 * 365))
        referral = born + dt.timedelta(days=rnd.randint(30, (today - born).days - 1))
        closed = referral + dt.timedelta(days=rnd.randint(20, 400))
        closure = (
            f"<CINclosureDate>{closed}</CINclosureDate><ReasonForClosure>RC{rnd.choice('6789')}</ReasonForClosure>"
            if closed < today
            else ""
        )
        chosen = "".join(f"<AssessmentFactors>{f}</AssessmentFactors>" for f in rnd.sample(factors, rnd.randint(1, 3)))
        plan = (
            f"<ChildProtectionPlans><CPPstartDate>{referral + dt.timedelta(days=10)}</CPPstartDate>"
            "</ChildProtectionPlans>"
            if rnd.random() < 0.2 and referral + dt.timedelta(days=10) < today
            else ""
        )
        parts.append(
            f"<Child><ChildIdentifiers><LAchildID>CIN{i:07d}</LAchildID><PersonBirthDate>{born}</PersonBirthDate>"
            f"<Sex>{rnd.choice('12')}</Sex></ChildIdentifiers><ChildCharacteristics><Ethnicity>"
            f"{rnd.choice(['WBRI', 'MWBC', 'AIND', 'BCRB', 'CHNE'])}</Ethnicity></ChildCharacteristics>"
            f"<CINdetails><CINreferralDate>{referral}</CINreferralDate>{closure}<Assessments>"
            f"<AssessmentActualStartDate>{referral}</AssessmentActualStartDate><FactorsIdentifiedAtAssessment>"
            f"{chosen}</FactorsIdentifiedAtAssessment></Assessments>{plan}</CINdetails></Child>"
        )
    parts.append("</Children></Message>")
    path.write_text("".join(parts))
    return path.stat().st_size


def write_cld_csv(path: Path, rows: int, people: list[str], seed: int = 13, today: dt.date | None = None) -> None:
    """A CLD file (Release 2 columns) of `rows` events for these council
    person ids, aged 18 to 25 at each event: mostly services, some
    requests, assessments and reviews."""
    from partnership.importers.cld import SERVICE_TYPES, SUPPORT_REASONS

    rnd = random.Random(seed)
    today = today or dt.date.today()
    lines = [
        "LA_Code,LA_Person_Unique_Identifier,NHS_Number,Date_of_Birth,Gender,Ethnicity,Client_Type,"
        "Primary_Support_Reason,Event_Type,Event_Reference,Event_Start_Date,Event_End_Date,Service_Type"
    ]
    for i in range(rows):
        person = rnd.choice(people)
        start = today - dt.timedelta(days=rnd.randint(1, 5 * 365))
        born = start - dt.timedelta(days=rnd.randint(18 * 366, 25 * 365))
        event = rnd.choices(["Service", "Request", "Assessment", "Review"], [6, 2, 1, 1])[0]
        end = start + dt.timedelta(days=rnd.randint(7, 300))
        lines.append(
            f"888,{person},,{born},Female,White: English,Service User,{rnd.choice(SUPPORT_REASONS)},{event},"
            f"EV{i},{start},{end if end < today and rnd.random() < 0.5 else ''},"
            f"{rnd.choice(SERVICE_TYPES) if event == 'Service' else ''}"
        )
    path.write_text("\n".join(lines) + "\n")


# --- load bench ---------------------------------------------------------------------


def run_load_bench(
    sessions: int,
    seconds: float,
    url: str | None = None,
    import_rows: int = 20_000,
    think: float = 0.0,
    processes: int = 1,
) -> str:
    """Start `streamlit run` on a demo database (a fresh 2,000-young-person
    SQLite file unless `url` is given), drive `sessions` signed-in sessions
    for `seconds` while an administrator imports an SSDA903 return through
    the command line, then stop the server with SIGTERM. With `processes` > 1,
    the sessions go through nginx to that many app processes (partnership/serve.py,
    as a partnership runs it). Prints the load line and the shutdown line:
        bench shutdown sigterm_ms=<..> exit_code=<..>
    """
    import signal
    import socket

    from partnership.demo import seed_demo
    from partnership.load import run_load
    from partnership.serve import Deployment
    from partnership.settings import get_settings
    from partnership.wsclient import healthy

    password = get_settings().demo_password
    with tempfile.TemporaryDirectory(prefix="benchload_") as tmp:
        scratch = Path(tmp)
        if url is None:
            url = f"sqlite:///{scratch / 'load.db'}"
            seed_demo(url, 2000, seed=2024, as_of=dt.date.today(), password=password)
        write_903_folder(scratch / "return", import_rows)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        env = {**os.environ, "DATABASE_URL": url}
        log = (scratch / "server.log").open("wb")
        deployment: Deployment | None = None
        server: subprocess.Popen[bytes] | None
        if processes > 1:
            deployment = Deployment(processes, port, port + 1, "127.0.0.1", scratch / "serve", False, url)
            deployment.start()
            server = None
            pids = [app.proc.pid for app in deployment.apps if app.proc is not None]
        else:
            server = subprocess.Popen(
                [
                    *(sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py")),
                    *("--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"),
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            pids = [server.pid]
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while not healthy(base, timeout=2):
                if time.monotonic() > deadline or (server is not None and server.poll() is not None):
                    raise RuntimeError("the server did not start")
                time.sleep(0.3)

            def import_903() -> str:
                done = subprocess.run(
                    [sys.executable, "cli.py", "import-903", str(scratch / "return"), "--locality", "north"],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=seconds + 300,
                )
                return "ok" if done.returncode == 0 else f"failed ({done.stderr.strip()[-200:]})"

            result = run_load(
                base, password, sessions, seconds, pids, import_903, think=think, side_after=min(20.0, seconds / 4)
            )
            line = result.line()
            print(line, flush=True)
            print(result.phases(), flush=True)
            for error in result.errors[:5]:
                print(f"  error: {error}", flush=True)
            if server is not None:
                started = time.perf_counter()
                server.send_signal(signal.SIGTERM)
                try:
                    code = server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    code = None
                waited = (time.perf_counter() - started) * 1000
                print(f"bench shutdown sigterm_ms={waited:.0f} exit_code={code}", flush=True)
            return line
        finally:
            if deployment is not None:
                deployment.stop()
            if server is not None and server.poll() is None:
                server.kill()
                server.wait()
            log.close()


OPEN = "Open to children's services aged 16-17"


def run_seen_bench(url: str | None = None, processes: int = 2) -> str:
    """How soon a change made through one door is seen through the others:
    `processes` app processes behind nginx on one database, a board member
    signed in on each process directly; the command line imports seven young
    people; each process's next run (at once, all together) is timed from
    the end of the import to the new figure drawn. Prints
        bench seen processes=<N> seen_ms=<a>,<b> before=<n> after=<n>
    """
    import socket
    import threading

    from partnership.demo import seed_demo
    from partnership.serve import Deployment
    from partnership.settings import get_settings
    from partnership.wsclient import AppSession

    password = get_settings().demo_password

    def figure(run_texts: list[str]) -> int:
        (text,) = [t for t in run_texts if t.startswith(OPEN + ": ")]
        return int(text.split(": ")[1].replace(",", ""))

    with tempfile.TemporaryDirectory(prefix="benchseen_") as tmp:
        scratch = Path(tmp)
        if url is None:
            url = f"sqlite:///{scratch / 'seen.db'}"
            seed_demo(url, 2000, seed=2024, as_of=dt.date(2026, 11, 1), password=password)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        deployment = Deployment(processes, port, port + 1, "127.0.0.1", scratch / "serve", False, url)
        deployment.start()
        try:
            tabs = [AppSession(app.url) for app in deployment.apps]
            for tab in tabs:
                tab.sign_in("board", password)
            before = [figure(tab.run().texts) for tab in tabs]
            env = {**os.environ, "DATABASE_URL": url}
            for table, path in write_seven_open_seventeen_year_olds(scratch, "seen"):
                done = subprocess.run(
                    [sys.executable, str(ROOT / "cli.py"), "import", table, str(path)],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    raise RuntimeError(done.stderr[-500:])
            committed = time.perf_counter()
            seen: list[float] = [0.0] * len(tabs)
            after: list[int] = [0] * len(tabs)

            def next_run(i: int) -> None:
                after[i] = figure(tabs[i].run().texts)
                seen[i] = (time.perf_counter() - committed) * 1000

            threads = [threading.Thread(target=next_run, args=(i,)) for i in range(len(tabs))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for tab in tabs:
                tab.close()
        finally:
            deployment.stop()
    line = (
        f"bench seen processes={processes} seen_ms={','.join(f'{ms:.0f}' for ms in seen)} "
        f"before={','.join(map(str, before))} after={','.join(map(str, after))}"
    )
    print(line, flush=True)
    return line


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--import-child":
        _import_child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: python -m partnership.bench --import-child KIND SOURCE DATABASE_URL (use cli.py bench)")

"""Command line: init, seed-demo, users, bench.

    python cli.py init                          upgrade the database to the latest schema
    python cli.py seed-demo [--young-people N] [--seed S] [--as-of YYYY-MM]
    python cli.py users list
    python cli.py users add USERNAME --role ROLE [--locality CODE] [--name NAME] [--email E]
    python cli.py users disable|enable USERNAME
    python cli.py users reset-password USERNAME   (ends the account's open sessions too)
    python cli.py users end-sessions [USERNAME]    end one account's sessions, or everyone's
    python cli.py import-benchmark FILE [--dataset NAME] [--dry-run]   DfE tidy CSV (care leavers, workforce, ...)
    python cli.py import-neighbours FILE [--dry-run]       DfE statistical neighbour groupings
    python cli.py import-903 DIR|FILE.xml --locality L [--year Y] [--dry-run]   SSDA903 CSVs or XML export
    python cli.py import-cin FILE --locality L [--dry-run]   children in need census XML
    python cli.py import-cld FILE [--link person-id|nhs-number] [--dry-run]   adult social care CLD (CSV)
    python cli.py template TABLE [--excel] [--out FILE]    blank template with a column guide
    python cli.py import TABLE FILE [--dry-run]            partnership CSV or Excel file (see template)
    python cli.py bench [--young-people N] [--only pages|import|load|seen] [--import-rows N] [--database-url URL]
                       [--sessions N] [--seconds S] [--think S] [--processes N]
    python cli.py publish                           publish the board's figures now (checked together, stored)
    python cli.py board-pack --out FILE.pdf [--locality L] [--period P]   PDF for the area board
    python cli.py backup --out FILE                 whole database (SQLite online backup, or pg_dump)
    python cli.py restore FILE                      replace the whole database with a backup

The database is DATABASE_URL (default: data/dashboard.db). Passwords are read
from the terminal, or from DASHBOARD_NEW_PASSWORD for scripted use.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

import partnership.cli_start  # noqa: F401  (first: Streamlit's warnings about running outside a page)
from models.db import get_engine, upgrade
from models.reference import load_reference
from partnership import accounts, sessions
from partnership.backup import BackupError
from partnership.importers.common import ImportRejected
from partnership.settings import get_settings
from partnership.wording import plural


def _password(prompt: str) -> str:
    from_env = os.environ.get("DASHBOARD_NEW_PASSWORD")
    if from_env:
        return from_env
    first = getpass.getpass(prompt)
    if first != getpass.getpass("Again: "):
        raise accounts.AccountError("the two passwords differ")
    return first


def _month(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {text!r}") from exc


def cmd_init(url: str, _args: argparse.Namespace) -> None:
    from partnership.demo import load_comparators

    upgrade(url)
    with Session(get_engine(url)) as session:
        load_reference(session)
        for message in load_comparators(session):
            print(message)
        session.commit()
    print("Database at the latest schema, reference data in place.")
    from partnership import publication

    engine = get_engine(url)
    if publication.made_by_other_code(engine):
        # The board's figures, made again by this version: board pages wait for nothing after an update.
        outcome = publication.build(engine, "upgrade", "cli.py init")
        print(f"Board publication made again after the update: {outcome.words}")


def _run_import(url: str, kind: str, work: Callable[[Session], str], dry_run: bool = False) -> None:
    """Upgrade, then import in one transaction; a refusal is logged for the
    data-quality page and leaves every data table as it was."""
    from partnership.importers.batches import run_import

    upgrade(url)
    try:
        print(run_import(get_engine(url), kind, "cli", work, dry_run=dry_run))
    except ValueError as exc:  # an unknown table or locality named on the command line
        raise accounts.AccountError(str(exc)) from exc


def cmd_import_benchmark(url: str, args: argparse.Namespace) -> None:
    from partnership.importers.benchmark import import_benchmark

    _run_import(
        url,
        "benchmark",
        lambda s: import_benchmark(s, Path(args.file), args.dataset, dry_run=args.dry_run),
        dry_run=args.dry_run,
    )


def cmd_import_903(url: str, args: argparse.Namespace) -> None:
    from partnership.importers.ssda903 import import_903
    from partnership.importers.ssda903_xml import import_903_xml

    source = Path(args.folder)
    importer = import_903_xml if source.suffix.lower() == ".xml" else import_903
    _run_import(
        url,
        "ssda903",
        lambda s: importer(s, source, args.locality, args.year, dry_run=args.dry_run),
        dry_run=args.dry_run,
    )


def cmd_import_cin(url: str, args: argparse.Namespace) -> None:
    from partnership.importers.cin import import_cin

    _run_import(
        url, "cin", lambda s: import_cin(s, Path(args.file), args.locality, dry_run=args.dry_run), dry_run=args.dry_run
    )


def cmd_import_cld(url: str, args: argparse.Namespace) -> None:
    from partnership.importers.cld import import_cld

    _run_import(
        url, "cld", lambda s: import_cld(s, Path(args.file), args.link, dry_run=args.dry_run), dry_run=args.dry_run
    )


def cmd_template(url: str, args: argparse.Namespace) -> None:
    from partnership.importers.templates import TEMPLATES, template_bytes

    if args.table not in TEMPLATES:
        raise accounts.AccountError(f"unknown table '{args.table}' (known: {', '.join(TEMPLATES)})")
    out = Path(args.out or f"{args.table}_template.{'xlsx' if args.excel else 'csv'}")
    out.write_bytes(template_bytes(args.table, args.excel))
    print(f"wrote {out}")


def cmd_import_table(url: str, args: argparse.Namespace) -> None:
    from partnership.importers.templates import import_table

    _run_import(
        url,
        f"template:{args.table}",
        lambda s: import_table(s, args.table, Path(args.file), dry_run=args.dry_run),
        dry_run=args.dry_run,
    )


def cmd_import_neighbours(url: str, args: argparse.Namespace) -> None:
    from partnership.importers.benchmark import import_neighbours

    _run_import(
        url, "neighbours", lambda s: import_neighbours(s, Path(args.file), dry_run=args.dry_run), dry_run=args.dry_run
    )


def cmd_seed_demo(url: str, args: argparse.Namespace) -> None:
    from partnership.demo import seed_demo

    counts = seed_demo(url, args.young_people, args.seed, args.as_of)
    print("Synthetic demo data written: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


def cmd_users(url: str, args: argparse.Namespace) -> None:
    upgrade(url)
    with Session(get_engine(url)) as session:
        load_reference(session)
        if args.action == "list":
            rows = accounts.list_users(session)
            print(f"{'username':<20} {'role':<13} {'locality':<9} {'disabled':<8} failed")
            for r in rows:
                print(
                    f"{r['username']:<20} {r['role']:<13} {r['locality']:<9} {r['disabled']!s:<8} "
                    f"{r['failed_attempts']}"
                )
            return
        if args.action == "add":
            if not args.role:
                raise accounts.AccountError("--role is required (admin, project_lead, manager, board)")
            accounts.add_user(
                session,
                args.username,
                args.name or args.username,
                args.role,
                _password("Password: "),
                args.locality,
                args.email or "",
            )
        elif args.action in ("disable", "enable"):
            accounts.set_disabled(session, args.username, args.action == "disable")
        elif args.action == "reset-password":
            accounts.reset_password(session, args.username, _password("New password: "))
        elif args.action == "end-sessions":
            if args.username:
                accounts.get_user(session, args.username)
                count = accounts.end_sessions_of(session, args.username, "ended_by_admin")
                accounts.audit(session, "cli", "sessions_ended", f"{args.username}: {count}")
            else:
                count = sessions.end_all_sessions(session, "cli")
            session.commit()
            print(f"users end-sessions {args.username or '(everyone)'}: {count} {plural(count, 'session')} ended")
            return
        session.commit()
        print(f"users {args.action} {args.username}: done")


def cmd_bench(url: str, args: argparse.Namespace) -> None:
    from partnership.bench import run_bench, run_import_bench, run_load_bench, run_seen_bench

    if args.only in (None, "pages"):
        run_bench(args.young_people, args.database_url, args.runs)
    if args.only in (None, "import"):
        run_import_bench(args.import_rows, args.database_url)
    if args.only == "load":
        run_load_bench(args.sessions, args.seconds, args.database_url, think=args.think, processes=args.processes)
    if args.only == "seen":
        run_seen_bench(args.database_url, max(2, args.processes))


def cmd_publish(url: str, _args: argparse.Namespace) -> None:
    from partnership import publication

    upgrade(url)
    # Asked for at the terminal: made even if another build looks under way (one whose process was stopped
    # leaves its row for STALE_BUILD; a second build at once is harmless, the newer is published last).
    outcome = publication.build(get_engine(url), "cli", "cli.py publish", force=True)
    if outcome.header is None:
        raise accounts.AccountError(outcome.words)
    print(f"{outcome.header.words()}: {outcome.words} ({outcome.seconds:.1f} s)")


def cmd_board_pack(url: str, args: argparse.Namespace) -> None:
    import time

    from sqlalchemy import inspect

    from partnership.boardpack import BoardPackError, build_board_pack

    started = time.perf_counter()
    engine = get_engine(url)
    if not inspect(engine).has_table("setting"):
        raise accounts.AccountError("the database has no dashboard tables yet: run `python cli.py seed-demo` or `init`")
    try:
        pdf = build_board_pack(engine, args.locality, args.period, generated_by="cli.py board-pack")
    except BoardPackError as exc:
        raise accounts.AccountError(str(exc)) from exc
    out = Path(args.out)
    out.write_bytes(pdf)
    print(f"wrote {out} ({len(pdf) / 1024:.0f} KB) in {time.perf_counter() - started:.1f} s")


def cmd_backup(url: str, args: argparse.Namespace) -> None:
    from partnership.backup import backup

    out = Path(args.out)
    size = backup(url, out)
    with Session(get_engine(url)) as session:
        accounts.audit(session, "cli", "backup", out.name)
        session.commit()
    print(f"backup written to {out} ({size / 1024:,.0f} KB)")


def cmd_restore(url: str, args: argparse.Namespace) -> None:
    from partnership.backup import restore

    done = restore(url, Path(args.file))
    print(
        f"restored {args.file} (schema {done.revision}); {done.sessions_ended} "
        f"{plural(done.sessions_ended, 'session')} ended, everyone signs in again"
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cli.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="upgrade the database to the latest schema and load reference data")
    seed = sub.add_parser("seed-demo", help="replace cohort data with a synthetic partnership")
    seed.add_argument("--young-people", type=int, default=2000)
    seed.add_argument("--seed", type=int, default=2024)
    seed.add_argument("--as-of", type=_month, default=None, help="YYYY-MM (default: this month)")
    users = sub.add_parser("users", help="manage accounts")
    users.add_argument("action", choices=["list", "add", "disable", "enable", "reset-password", "end-sessions"])
    users.add_argument("username", nargs="?")
    users.add_argument("--role")
    users.add_argument("--locality")
    users.add_argument("--name")
    users.add_argument("--email")
    bench_file = sub.add_parser("import-benchmark", help="import a DfE Explore Education Statistics tidy CSV")
    bench_file.add_argument("file")
    bench_file.add_argument("--dataset", default=None, help="name to file it under (default: the file name)")
    bench_file.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    ssda = sub.add_parser(
        "import-903", help="import SSDA903 CSVs (header, episodes, oc3, missing) from a folder, or the XML export"
    )
    ssda.add_argument("folder", help="a folder of CSV files, or an .xml export (<EXPSSDA903>)")
    ssda.add_argument("--locality", required=True, help="locality the children belong to (east, central, north)")
    ssda.add_argument("--year", type=int, default=None, help="collection year ending 31 March, needed for oc3.csv")
    ssda.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    cin = sub.add_parser("import-cin", help="import a children in need census XML file (as submitted to DfE)")
    cin.add_argument("file")
    cin.add_argument("--locality", required=True, help="locality the children belong to (east, central, north)")
    cin.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    cld = sub.add_parser("import-cld", help="import adult social care Client Level Data (CSV, as submitted)")
    cld.add_argument("file")
    cld.add_argument(
        "--link",
        choices=["person-id", "nhs-number"],
        default="person-id",
        help="identifier shared with children's data: LA_Person_Unique_Identifier (default) or NHS_Number",
    )
    cld.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    tmpl = sub.add_parser("template", help="write a blank import template (CSV, or Excel with --excel)")
    tmpl.add_argument("table")
    tmpl.add_argument("--excel", action="store_true")
    tmpl.add_argument("--out", default=None)
    table_import = sub.add_parser("import", help="import the partnership's own CSV or Excel file into a table")
    table_import.add_argument("table")
    table_import.add_argument("file")
    table_import.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    neighbours = sub.add_parser("import-neighbours", help="import DfE statistical neighbour groupings")
    neighbours.add_argument("file")
    neighbours.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    bench = sub.add_parser("bench", help="per-page timings on a large synthetic cohort")
    bench.add_argument("--young-people", type=int, default=100_000)
    bench.add_argument("--runs", type=int, default=5)
    bench.add_argument(
        "--database-url",
        default=None,
        help="pages: database to build or reuse (default: data/bench/bench_<N>.db); import: a postgresql:// URL "
        "runs it in a scratch database on that server, dropped afterwards (default: a temporary SQLite file)",
    )
    bench.add_argument(
        "--only",
        choices=["pages", "import", "load", "seen"],
        default=None,
        help="run one bench (load: concurrent sessions against a real server, not part of the default run)",
    )
    bench.add_argument("--sessions", type=int, default=20, help="load: concurrent signed-in sessions")
    bench.add_argument(
        "--processes", type=int, default=1, help="load: app processes behind nginx (default 1: one streamlit run)"
    )
    bench.add_argument("--seconds", type=float, default=120, help="load: how long to keep them busy")
    bench.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="load: seconds each session waits between clicks (default 0: every session clicks again at once)",
    )
    bench.add_argument(
        "--import-rows", type=int, default=100_000, help="episodes in the synthetic SSDA903 return (default 100000)"
    )
    sub.add_parser("publish", help="publish the board's figures now: every board figure checked together and stored")
    pack = sub.add_parser("board-pack", help="write the board pack (PDF, board-level disclosure control)")
    pack.add_argument("--out", required=True, help="PDF file to write")
    pack.add_argument("--locality", default=None, help="locality code or name (default: all localities)")
    pack.add_argument("--period", default=None, help="12m (default) or a year, as in the filter bar")
    backup = sub.add_parser("backup", help="write a backup of the whole database (safe while the app runs)")
    backup.add_argument("--out", required=True, help="file to write")
    restore = sub.add_parser("restore", help="replace the whole database with a backup made by `backup`")
    restore.add_argument("file", help="a file written by `cli.py backup`")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "users" and args.action not in ("list", "end-sessions") and not args.username:
        print("error: a username is needed", file=sys.stderr)
        return 2
    url = get_settings().database_url
    handlers = {
        "init": cmd_init,
        "seed-demo": cmd_seed_demo,
        "users": cmd_users,
        "bench": cmd_bench,
        "import-benchmark": cmd_import_benchmark,
        "import-neighbours": cmd_import_neighbours,
        "import-903": cmd_import_903,
        "import-cin": cmd_import_cin,
        "import-cld": cmd_import_cld,
        "template": cmd_template,
        "import": cmd_import_table,
        "board-pack": cmd_board_pack,
        "publish": cmd_publish,
        "backup": cmd_backup,
        "restore": cmd_restore,
    }
    try:
        handlers[args.command](url, args)
    except (accounts.AccountError, BackupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ImportRejected as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"error: no such file: {exc.filename}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

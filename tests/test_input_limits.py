"""Input that once took the server to 8 GB, refused with a message and with
memory bounded, on the command line and on the Data page's code path; and
input the importers used to let through.

Each import runs in a process of its own so its peak memory (VmHWM) is its
own: the interpreter, polars and SQLAlchemy take about 150 MB of it before
any file is read. The peaks are printed (pytest -s shows them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from models.db import get_engine
from tests import bombs
from tests.conftest import ROOT, seed_small

# Well above the ~150 MB an importing process needs, far below what the bombs
# took before (4.5 to 8.2 GB): a refusal that unpacked the file would pass it.
PEAK_LIMIT_MB = 450

_PEAK = """
import json, sys
from pathlib import Path

def peak_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""


def _in_own_process(script: str, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PEAK + script],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('limits') / 'limits.db'}"
    seed_small(url, 200, 5)
    get_engine(url).dispose()
    return url


def _counts(url: str) -> dict[str, object]:
    with get_engine(url).connect() as conn:
        out: dict[str, object] = {
            t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
            for t in ("youngperson", "importbatch", "importrejection", "serviceepisode")
        }
        out["data_version"] = conn.execute(text("SELECT value FROM setting WHERE key = 'data_version'")).scalar()
    return out


CLI_IMPORT = """
from cli import main
code = main(["import", sys.argv[1], sys.argv[2]])
print(json.dumps({"code": code, "peak_mb": peak_mb()}))
"""

UPLOAD = """
from models.db import get_engine
from partnership import uploads
import os
name, path = sys.argv[1], sys.argv[2]
request = uploads.Request("template", (uploads.Upload(name, Path(path).read_bytes()),), table="young_people")
(preview,) = uploads.previews(request)
outcome = uploads.run(get_engine(os.environ["DATABASE_URL"]), request, "admin", dry_run=False)
print(json.dumps({
    "preview": preview.problems["Reason"].to_list(), "accepted": outcome.accepted, "message": outcome.message,
    "problems": outcome.problems["Reason"].to_list(), "peak_mb": peak_mb(),
}))
"""


def _run(script: str, url: str, *args: str) -> dict[str, object]:
    return _in_own_process(
        script.replace("sys.argv[1], sys.argv[2]", ", ".join(map(repr, args))), {"DATABASE_URL": url}
    )


@pytest.mark.parametrize(
    ("bomb", "says"),
    [
        (bombs.unpacks_big, "would unpack to 300 MB, more than the limit of 100 MB"),
        (bombs.many_cells, "more than 2,000,000 cells in its worksheets"),
        (bombs.lying_sizes, "not a readable Excel file"),
    ],
    ids=["unpacks-to-300MB", "2.5M-cells", "lying-sizes"],
)
def test_bombs_are_refused_unread_with_memory_bounded(
    seeded: str, tmp_path: Path, bomb: object, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "young_people.xlsx"
    path.write_bytes(bomb())  # type: ignore[operator]
    before = _counts(seeded)

    cli = _run(CLI_IMPORT, seeded, "young_people", str(path))
    upload = _run(UPLOAD, seeded, "young_people.xlsx", str(path))

    with capsys.disabled():
        print(
            f"\n{path.stat().st_size / 1e6:.1f} MB bomb ({says}): peak {cli['peak_mb']:.0f} MB on the command line, "
            f"{upload['peak_mb']:.0f} MB through the Data page's preview and import"
        )
    assert cli["code"] == 1
    assert any(says in reason for reason in upload["preview"]) and not upload["accepted"]  # type: ignore[attr-defined]
    assert any(says in str(p) for p in upload["problems"])  # type: ignore[attr-defined]
    assert float(cli["peak_mb"]) < PEAK_LIMIT_MB  # type: ignore[arg-type]
    assert float(upload["peak_mb"]) < PEAK_LIMIT_MB  # type: ignore[arg-type]
    after = _counts(seeded)
    # Two refusals logged (the command line's and the upload's); nothing else changed.
    assert after == {**before, "importrejection": int(before["importrejection"]) + 2}  # type: ignore[call-overload]


def test_a_30_mb_child_id_is_refused_first_with_memory_bounded(seeded: str, tmp_path: Path) -> None:
    header = "child_id,birth_date,sex,ethnicity,send,care_status,locality,cce,cse,gangs,trafficking,missing"
    path = tmp_path / "people.csv"
    with path.open("w") as f:
        f.write(header + "\n")
        f.write("Z" * 30_000_000 + ",15/03/2008,M,white,none,none,north,Y,N,N,N,Y\n")
        f.write("B7,1800-01-01,Q,white,none,none,north,Y,N,N,N,Y\n")
    before = _counts(seeded)
    done = subprocess.run(
        [sys.executable, "cli.py", "import", "young_people", str(path)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": seeded},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    out = done.stdout + done.stderr
    # Named by line and field, the value cut short; the later rows' problems wait for a file that can be read.
    assert "people.csv:2:child_id: longer than 64 characters (30000000 characters, starting ZZZZZZZZZZZZ)" in out
    assert "1 problem" in out
    peak = _run(CLI_IMPORT, seeded, "young_people", str(path))["peak_mb"]
    print(f"30 MB child_id: peak {peak:.0f} MB")
    assert float(peak) < PEAK_LIMIT_MB  # type: ignore[arg-type]
    assert _counts(seeded) == {**before, "importrejection": int(before["importrejection"]) + 2}  # type: ignore[call-overload]


def test_a_file_over_the_size_limit_is_refused_unread(seeded: str, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b"child_id\n" + b"A1\n" * (1 << 20))  # 3 MB
    done = subprocess.run(
        [sys.executable, "cli.py", "import", "young_people", str(path)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": seeded, "DASHBOARD_MAX_FILE_MB": "2"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "people.csv:file: the file is 3.0 MB, more than the limit of 2.0 MB" in done.stdout + done.stderr


def test_dates_out_of_range_are_all_named_with_the_other_problems(seeded: str, tmp_path: Path) -> None:
    header = "child_id,birth_date,sex,ethnicity,send,care_status,locality,cce,cse,gangs,trafficking,missing"
    path = tmp_path / "people.csv"
    path.write_text(
        header + "\n"
        "C1,15/03/1800,M,white,none,none,north,Y,N,N,N,Y\n"
        "C2,15/03/2008,Q,white,none,none,north,Y,N,N,N,Y\n"
        "C3,01/01/2099,F,white,none,none,north,Y,N,N,N,Y\n"
    )
    before = _counts(seeded)
    done = subprocess.run(
        [sys.executable, "cli.py", "import", "young_people", str(path)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": seeded},
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1
    # The future birth date is named beside the bad code: one refusal lists every problem.
    assert "people.csv:2:birth_date: before 1990: not a date this dashboard holds (15/03/1800)" in out
    assert "people.csv:3:sex: not one of the codes in the template guide (Q)" in out
    assert "people.csv:4:birth_date: in the future (01/01/2099)" in out
    assert "3 problems in 3 rows" in out
    assert _counts(seeded)["youngperson"] == before["youngperson"]


def test_a_header_only_file_imports_nothing_and_changes_no_version(seeded: str, tmp_path: Path) -> None:
    header = "child_id,birth_date,sex,ethnicity,send,care_status,locality,cce,cse,gangs,trafficking,missing"
    path = tmp_path / "people.csv"
    path.write_text(header + "\n")
    folder = tmp_path / "ssda903"
    folder.mkdir()
    (folder / "header.csv").write_text("CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n")
    before = _counts(seeded)
    for args in (["import", "young_people", str(path)], ["import-903", str(folder), "--locality", "north"]):
        done = subprocess.run(
            [sys.executable, "cli.py", *args],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": seeded},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "nothing to import" in done.stdout
    # No batch recorded and the data version as it was: no page recomputes for nothing.
    assert _counts(seeded) == before

"""The benchmark harness (bench/, `make bench-smoke`) runs end to end at its smallest sizes,
and so does the emulator's capacity tool (bench/emulator_capacity.py, docs/emulator.md).

Behaviour only: every scenario produces its figures and every operation succeeds (the
harness exits non-zero otherwise). Timings are the benchmark's business, never a test's.
"""

import os
import re
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

from tests.support.live_server import APP_DIR

REPO_DIR = APP_DIR.parent
SECTIONS = (
    "### Targets",
    "### `$connect` against the bare-INSERT baseline",
    "### Latency against offered load",
    "### Messages",
    "### Broadcast fan-out",
    "### The emulator alone",
    "### Sizing from these figures",
)


def smoke_database_url() -> str:
    """A database of the harness's own beside the tests' (it creates and migrates it)."""
    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"))
    return urlunsplit(parts._replace(path=f"{parts.path}_benchsmoke"))


def test_the_smoke_run_measures_every_scenario_and_writes_no_docs():
    document = REPO_DIR / "docs" / "performance.md"
    before = document.read_text()
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"],
        cwd=REPO_DIR,
        env={**os.environ, "BENCH_DATABASE_URL": smoke_database_url()},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for section in SECTIONS:
        assert section in result.stdout
    assert "| not measured |" not in result.stdout  # every target got its figure
    assert "| met |" in result.stdout or "**missed**" in result.stdout
    assert document.read_text() == before


def test_the_capacity_tool_holds_a_small_load_and_reports_it():
    result = subprocess.run(
        [sys.executable, "-m", "bench.emulator_capacity", "--connections", "50", "--hold", "0"],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [row for row in result.stdout.splitlines() if not row.startswith("==> ")]
    table = dict(re.split(r"\s{2,}", row.strip(), maxsplit=1) for row in rows)
    assert table["connections held"] == "50"
    assert table["Management API posts delivered"] == table["$disconnect calls"] == "50"
    assert table["result"] == "PASS"

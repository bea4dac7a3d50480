"""The capacity tool itself works (docs/emulator.md has the figures of a full run)."""

import re
import subprocess
import sys

from tests.support.live_server import APP_DIR


def test_capacity_tool_holds_a_small_load_and_reports_it():
    result = subprocess.run(
        [sys.executable, "-m", "gateway_emulator.capacity", "--connections", "50", "--hold", "0"],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = result.stdout.splitlines()
    table = dict(re.split(r"\s{2,}", row.strip(), maxsplit=1) for row in rows)
    assert table["connections held"] == "50"
    assert table["Management API posts delivered"] == table["$disconnect calls"] == "50"
    assert table["result"] == "PASS"

"""Every model change has its migration: `makemigrations --check` finds nothing to write (a
missing migration would reach production as a schema the code does not match)."""

import os
import subprocess
import sys

from tests.support.live_server import APP_DIR


def test_makemigrations_finds_nothing_to_write():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=APP_DIR,
        env={**os.environ, "DJANGO_ENV": "development"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        "models changed without a migration: run `python app/manage.py makemigrations`\n"
        + result.stdout
        + result.stderr
    )
    assert "No changes detected" in result.stdout

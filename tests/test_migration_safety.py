"""Migrations must work with the previous release's code (expand, then contract): during a
blue/green or rolling deploy the new release's migrations run while the old release serves,
and after a rollback the old release serves the migrated database.

django-migration-linter (6.x) lints the SQL of each migration (`sqlmigrate`, PostgreSQL) for
backward-incompatible changes: dropping or renaming a column or a table, NOT NULL on a column,
altering a column, adding a unique constraint, and index builds that lock the table. Warnings
count as errors. Deliberate contract migrations are listed, each with its reason, in
tests/migration_contract_allowlist.toml.

Scope: our apps (realtime, broadcasts, notifications). Third-party migrations (Django's own apps,
django_aws_api_gateway_websockets) are out of scope: they come with a package upgrade, whose
release notes must be read as a contract step of their own (docs/blue-green.md).
"""

import shutil
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader

try:
    from django_migration_linter import MigrationLinter
except ImportError as missing:  # fail with the fix, never skip
    raise ImportError(
        "django-migration-linter is not installed: add django-migration-linter==6.0.0 to the "
        "dev extras of pyproject.toml and run `make lock` (or pip install it into .venv)"
    ) from missing

OUR_APPS = ("realtime", "broadcasts", "notifications")
ALLOWLIST = Path(__file__).with_name("migration_contract_allowlist.toml")
BROADCASTS_MIGRATIONS = (
    Path(__file__).resolve().parents[1] / "app" / "realtime" / "broadcasts" / "migrations"
)

pytestmark = pytest.mark.django_db


def contract_migrations() -> list[dict]:
    return tomllib.loads(ALLOWLIST.read_text())["contract"]


def lint(apps=OUR_APPS, allowed=()) -> MigrationLinter:
    linter = MigrationLinter(
        include_apps=list(apps),
        ignore_name=list(allowed),
        all_warnings_as_errors=True,
        no_cache=True,
    )
    linter.lint_all_migrations()
    return linter


def test_every_migration_of_our_apps_is_backward_compatible(capsys):
    linter = lint(allowed=[entry["migration"] for entry in contract_migrations()])
    report = capsys.readouterr().out
    on_disk = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    ours = [key for key in on_disk if key[0] in OUR_APPS]
    assert ours, "no migration of our apps was found"
    assert linter.nb_valid + linter.nb_ignored >= len(ours)
    assert not linter.has_errors, f"backward-incompatible migrations:\n{report}"
    assert linter.nb_warnings == 0, report


def test_every_contract_migration_is_one_of_ours_with_a_reason():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for entry in contract_migrations():
        assert entry["app"] in OUR_APPS, entry
        assert (entry["app"], entry["migration"]) in loader.disk_migrations, entry
        assert len(entry.get("reason", "")) > 30, f"say why it is safe: {entry}"


# --- the check is shown to catch what it is for ---------------------------------------------

BAD_OPERATIONS = {
    "drop_column": 'migrations.RemoveField("broadcast", "gone")',
    "rename_column": 'migrations.RenameField("broadcast", "gone", "vanished")',
    "drop_table": 'migrations.DeleteModel("Broadcast")',
    "rename_table": 'migrations.RenameModel("Broadcast", "Announcement")',
    "not_null": (
        'migrations.AlterField("broadcast", "claimed_at", models.DateTimeField(default=None))'
    ),
}
MESSAGES = {
    "drop_column": "DROPPING columns",
    "rename_column": "RENAMING columns",
    "drop_table": "DROPPING table",
    "rename_table": "RENAMING tables",
    "not_null": "NOT NULL constraint",
}


@pytest.fixture
def broadcasts_with(tmp_path, settings, monkeypatch):
    """Point the broadcasts app at a throwaway copy of its migrations plus one new migration
    (MIGRATION_MODULES), so the linter reads it as if it were in the tree."""
    package = "throwaway_broadcasts_migrations"
    folder = tmp_path / package
    shutil.copytree(BROADCASTS_MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(tmp_path))
    settings.MIGRATION_MODULES = {"broadcasts": package}

    def add(name: str, operation: str) -> str:
        (folder / f"{name}.py").write_text(
            textwrap.dedent(f"""\
                from django.db import migrations, models


                class Migration(migrations.Migration):
                    dependencies = [("broadcasts", "0001_initial")]
                    operations = [{operation}]
            """)
        )
        return name

    yield add
    sys.modules.pop(package, None)


@pytest.mark.parametrize("change", sorted(BAD_OPERATIONS))
def test_a_backward_incompatible_migration_is_flagged(broadcasts_with, change, capsys):
    name = broadcasts_with(f"0002_{change}", BAD_OPERATIONS[change])
    linter = lint(apps=["broadcasts"])
    report = capsys.readouterr().out
    assert linter.has_errors, report
    assert f"(broadcasts, {name})... ERR" in report
    assert MESSAGES[change] in report
    assert "(broadcasts, 0001_initial)... OK" in report


def test_an_additive_migration_passes(broadcasts_with, capsys):
    name = broadcasts_with(
        "0002_add_note", 'migrations.AddField("broadcast", "note", models.TextField(null=True))'
    )
    linter = lint(apps=["broadcasts"])
    report = capsys.readouterr().out
    assert not linter.has_errors and linter.nb_warnings == 0, report
    assert f"(broadcasts, {name})... OK" in report


def test_an_allowlisted_contract_migration_passes(broadcasts_with, capsys):
    name = broadcasts_with("0002_drop_column", BAD_OPERATIONS["drop_column"])
    linter = lint(apps=["broadcasts"], allowed=[name])
    report = capsys.readouterr().out
    assert not linter.has_errors, report
    assert f"(broadcasts, {name})... IGNORE" in report

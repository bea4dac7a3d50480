"""The layering (docs/architecture.md): import-linter's contracts in pyproject.toml, and the
one rule it cannot say: a feature reaches the layer through ``realtime.api`` only."""

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
FEATURES = ("features.chat", "features.notifications")


def test_the_import_contracts_hold():
    checked = subprocess.run(  # noqa: S603 - our own interpreter and the venv's tool
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "app"), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 broken" in checked.stdout


def test_features_use_the_layer_through_its_public_api_only():
    graph = grimp.build_graph("features", "realtime")
    reached = {
        imported
        for feature in FEATURES
        for module in graph.find_descendants(feature) | {feature}
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.startswith("realtime")
    }
    assert reached == {"realtime.api"}

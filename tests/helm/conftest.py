"""Chart tests (tests/helm): they need no database except the Docker agreement test, which
makes its own. The tools come from `make helm-tools`; a missing one fails every test here with
that instruction instead of an ImportError deep in a test."""

import importlib.util

import pytest

from tests.helm import support

TOOLS = {"helm_python": "helm-python-sdk", "kubernetes_validate": "kubernetes-validate"}


@pytest.fixture(scope="session", autouse=True)
def _chart_tools() -> None:
    missing = [name for module, name in TOOLS.items() if importlib.util.find_spec(module) is None]
    if missing:
        pytest.fail(support.install_hint(", ".join(missing)))

"""End-to-end tests against a running stack (`make up`), in Debian's Chromium via Playwright.

They do not start the stack themselves: `make e2e` (and .ci/run) bring it up first. When
it is not reachable they fail with instructions, never skip.
"""

import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def answering_url(variable: str, default: str, probe: str, failure: str) -> str:
    """The URL in ``variable`` (else ``default``) once ``probe`` answers there; otherwise the
    test fails with ``failure`` (formatted with ``url`` and ``error``): never a skip."""
    url = os.environ.get(variable, default).rstrip("/")
    try:
        with urllib.request.urlopen(f"{url}{probe}", timeout=5):  # noqa: S310
            pass
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        pytest.fail(failure.format(url=url, error=error))
    return url


@pytest.fixture(scope="session")
def base_url() -> str:
    return answering_url(
        "E2E_BASE_URL",
        "http://localhost:8000",
        "/health/ready/",
        "No stack answers at {url} ({error}): start it with `make up` first.",
    )


@pytest.fixture(scope="session")
def credentials() -> tuple[str, str]:
    return os.environ.get("E2E_USERNAME", "demo"), os.environ.get(
        "E2E_PASSWORD", "demo-password-change-me"
    )


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No browser at {CHROMIUM}: apt-get install -y chromium (or set E2E_CHROMIUM)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        yield page
        browser.close()

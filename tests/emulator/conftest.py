"""Fixtures for the emulator's tests: emulator processes, a recording stand-in for Django,
and the real Django app under gunicorn wired to an emulator (both ways, as in docker compose:
integration calls to gunicorn, Management API calls back to the emulator)."""

import pytest

from devtools.ports import free_port
from devtools.stand_in import StandIn
from tests.conftest import start_gunicorn
from tests.emulator.harness import (
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    EmulatorProcess,
    ThreadedStandIn,
)
from tests.support import gateway as gw


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test shows the end of the emulator's and gunicorn's logs."""
    report = yield
    fixtures = getattr(item, "funcargs", {})
    if report.failed and "tmp_path" in fixtures:
        logs = sorted(fixtures["tmp_path"].glob("emulator-*.log"))
        if "django_web" in fixtures:
            logs.append(fixtures["django_web"].log_path)
        for log in logs:
            tail = "\n".join(log.read_text().splitlines()[-30:])
            report.sections.append((f"{log.name} (last 30 lines)", tail))
    return report


@pytest.fixture
def start_emulator(tmp_path):
    """Start emulators with the given environment; all are stopped after the test."""
    started: list[EmulatorProcess] = []

    def start(**env: str) -> EmulatorProcess:
        emulator = EmulatorProcess(env, tmp_path / f"emulator-{len(started)}.log")
        started.append(emulator)
        return emulator.start()

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def stand_in():
    """A stand-in for Django that records every integration call and answers 200."""
    server = ThreadedStandIn(StandIn(answer="an answer the client must never see")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def emulator_port() -> int:
    """Fixed for the session: Django's Management API calls are pointed at it."""
    return free_port()


@pytest.fixture(scope="session")
def django_web(django_db_setup, django_db_blocker, emulator_port, tmp_path_factory):
    """The real Django app under gunicorn, sending Management API calls to the emulator."""
    server = start_gunicorn(
        django_db_blocker,
        tmp_path_factory,
        workers=2,
        WS_MANAGEMENT_ENDPOINT_URL=f"http://127.0.0.1:{emulator_port}",
        # The Host the emulator sends: its target's host:port, whatever address it calls.
        WS_INTEGRATION_HOST=gw.INTEGRATION_HOST,
        WS_RATE_LIMIT_MAX_ATTEMPTS="1000",
        # The keys the emulator verifies signatures with, whatever this process's environment.
        AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
    )
    yield server
    server.stop()


@pytest.fixture
def django_emulator(start_emulator, django_web, emulator_port, api_gateway, channels):
    """Start the emulator in front of Django (extra environment as keyword arguments).

    The target URL names the integration host Django expects; EMULATOR_UPSTREAM sends the
    calls to gunicorn's real address, as docker compose does with the "web" service.
    """

    def start(**env: str) -> EmulatorProcess:
        return start_emulator(
            EMULATOR_PORT=str(emulator_port),
            EMULATOR_TARGET_URL=f"http://{gw.INTEGRATION_HOST}/ws/",
            EMULATOR_UPSTREAM=f"127.0.0.1:{django_web.port}",
            EMULATOR_API_ID=gw.API_ID,
            EMULATOR_STAGE=gw.STAGE,
            EMULATOR_GATEWAY_SECRET=gw.GATEWAY_SECRET,
            **env,
        )

    return start

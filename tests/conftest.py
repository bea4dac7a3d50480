import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.contrib.auth.models import Permission
from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    WebSocketToken,
)

from realtime.channels import sync_channel_permissions
from tests.support import gateway as gw
from tests.support.fake_management_api import FakeManagementApi

# boto3 signs every request; the fake Management API and moto accept any credentials.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ.setdefault(_name, _value)


# Tests run many threads in one process (forced races, two cleanup copies at once, fan-out
# threads); the production pool size (DB_POOL_MAX_SIZE, sized for gunicorn's threads) would
# make them wait for connections. Set before the first connection creates the pool.
TEST_POOL_MAX_SIZE = 20


def pytest_configure(config) -> None:
    """Stop at once, with instructions, when PostgreSQL is not there: never skip its tests."""
    from django.db import connections

    connections["default"].settings_dict["OPTIONS"]["pool"]["max_size"] = TEST_POOL_MAX_SIZE
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    # The server's maintenance database: pytest-django creates test_<name> from there.
    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    try:
        psycopg.connect(maintenance, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        pytest.exit(
            f"PostgreSQL is not reachable at DATABASE_URL={url}: {error}\n"
            "`make db` starts the project's own PostgreSQL on 127.0.0.1:5432 (`make test` "
            "does it for you); or point DATABASE_URL at a server you can create databases on.",
            returncode=3,
        )


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "gateway_secret": [gw.GATEWAY_SECRET]}
    settings.WS_MANAGEMENT_ENDPOINT_URL = ""


@pytest.fixture
def log_events(caplog):
    """A function giving the names of the structlog events logged so far in the test."""

    def events() -> list[str]:
        return [r.msg.get("event") for r in caplog.records if isinstance(r.msg, dict)]

    return events


@pytest.fixture
def channels(db) -> None:
    """The data migration's rows; transactional tests flush them, so write them again."""
    sync_channel_permissions()


@pytest.fixture
def api_gateway(db) -> ApiGateway:
    return ApiGateway.objects.create(
        api_name="test-api",
        api_id=gw.API_ID,
        stage_name=gw.STAGE,
        target_base_endpoint=f"https://{gw.INTEGRATION_HOST}/ws/",
    )


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-password-123")


@pytest.fixture
def broadcaster(django_user_model):
    user = django_user_model.objects.create_user("bob", password="bob-password-123")
    user.user_permissions.add(Permission.objects.get(codename="send_broadcast"))
    return django_user_model.objects.get(pk=user.pk)


class Browser:
    """A signed-in browser: its session cookie, and fresh one-time tokens."""

    def __init__(self, client, user) -> None:
        client.force_login(user)
        self.user = user
        self.session_key = client.session.session_key
        self.cookie = f"sessionid={self.session_key}; csrftoken=abc"

    def token(self) -> str:
        return WebSocketToken.generate_token(self.user, self.session_key).token


@pytest.fixture
def browser(client, user) -> Browser:
    return Browser(client, user)


@pytest.fixture
def caller() -> gw.GatewayCaller:
    return gw.GatewayCaller()


@pytest.fixture
def management_api(settings):
    """The fake Management API, with Django's Management API calls redirected to it."""
    fake = FakeManagementApi().start()
    settings.WS_MANAGEMENT_ENDPOINT_URL = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def connected(api_gateway, channels, browser, caller, management_api):
    """Open a connection in a channel the way API Gateway does; returns its id."""

    def open_connection(channel: str = "lobby", who: Browser = browser) -> str:
        connection_id = gw.new_connection_id()
        response = caller.connect(
            connection_id, who.cookie, {"ws_token": who.token(), "channel": channel}
        )
        assert response.status_code == 200, response.content
        management_api.open_connections.add(connection_id)
        return connection_id

    return open_connection


def database_url_for_tests() -> str:
    """The URL of the test database pytest-django created, for processes we start."""
    from django.db import connection

    params = connection.settings_dict
    return (
        f"postgres://{params['USER']}:{params['PASSWORD'] or ''}@{params['HOST'] or '127.0.0.1'}:"
        f"{params['PORT'] or 5432}/{params['NAME']}"
    )


@pytest.fixture(scope="session")
def session_management_api():
    fake = FakeManagementApi().start()
    yield fake
    fake.stop()


def start_gunicorn(django_db_blocker, tmp_path_factory, workers: int = 3, **env: str):
    """gunicorn on the test database with the test gateway secret, plus ``env``."""
    from tests.support.live_server import GunicornServer

    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    return GunicornServer(
        {
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "WS_GATEWAY_SECRET": gw.GATEWAY_SECRET,
            "AWS_GATEWAY_REGION_NAME": "us-east-1",
            **env,
        },
        tmp_path_factory.mktemp("gunicorn") / "gunicorn.log",
        workers=workers,
    ).start()


@pytest.fixture(scope="session")
def gunicorn_server(django_db_setup, django_db_blocker, session_management_api, tmp_path_factory):
    """gunicorn with three workers on the test database; tests using it need transaction=True."""
    server = start_gunicorn(
        django_db_blocker,
        tmp_path_factory,
        WS_RATE_LIMIT_MAX_ATTEMPTS="10",
        WS_MANAGEMENT_ENDPOINT_URL=session_management_api.url,
    )
    yield server
    server.stop()

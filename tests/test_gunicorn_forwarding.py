"""gunicorn trusts no path header from anyone: a client cannot move routing with SCRIPT_NAME.

Run under the widest trust there is (FORWARDED_ALLOW_IPS="*"), as the chart once defaulted:
with gunicorn's default ``forwarder_headers`` a client-sent SCRIPT_NAME rewrote the path
(``/anything/admin/login/`` reached the admin) or raised a 500 (a prefix the path lacks).
"""

import pytest
import requests

from tests.conftest import start_gunicorn

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def trusting_server(django_db_setup, django_db_blocker, tmp_path_factory):
    server = start_gunicorn(django_db_blocker, tmp_path_factory, workers=1, FORWARDED_ALLOW_IPS="*")
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("path", "script_name", "status"),
    [
        ("/anything/health/live/", "/anything", 404),  # not routed to /health/live/
        ("/health/live/", "/zzz", 200),  # not a 500
        ("/health/live/", "/health", 200),
    ],
)
def test_a_client_sent_script_name_changes_nothing(trusting_server, path, script_name, status):
    response = requests.get(
        f"{trusting_server.url}{path}",
        headers={"SCRIPT_NAME": script_name, "Host": "localhost"},
        timeout=10,
    )
    assert response.status_code == status

"""The doctor's checks of Django's settings against the record's hosts and WS_PUBLIC_URL: one
seeded fault per ✗ case, each asserting what an operator reads."""

import pytest

from doctor.findings import Status
from doctor.settings_checks import host_header, origin_fits_host
from tests.doctor.conftest import DOMAIN, REGION


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://app.example.com/ws/", "app.example.com"),
        ("https://app.example.com:443/ws/", "app.example.com"),
        ("http://localhost:8000/ws/", "localhost:8000"),
        ("https://app.example.com:8443/ws/", "app.example.com:8443"),
    ],
)
def test_the_host_header_is_the_url_s_host_with_a_non_default_port(url, host):
    assert host_header(url) == host


@pytest.mark.parametrize(
    ("origin", "host", "fits"),
    [
        ("https://app.example.com", "app.example.com", True),
        ("https://www.app.example.com", "app.example.com", True),
        ("https://app.example.com.attacker.net", "app.example.com", False),
        ("https://app.example.com", "app.example.com:8443", False),
        ("http://localhost:8000", "localhost:8000", True),
        ("ftp://app.example.com", "app.example.com", False),
    ],
)
def test_the_origin_rule_is_the_package_s(origin, host, fits):
    assert origin_fits_host(origin, host) is fits


def test_an_integration_host_missing_from_allowed_hosts_names_ws_integration_host(
    environment, settings
):
    settings.ALLOWED_HOSTS = ["www.example.com"]

    finding = environment.check("integration-host")

    assert finding.status is Status.FAILED
    assert finding.saw == (
        "'app.example.com' is not in ALLOWED_HOSTS ['www.example.com']: every call to it is "
        "refused (ws.connect.rejected, reason host_not_allowed)"
    )
    assert finding.fix.startswith("set WS_INTEGRATION_HOST=app.example.com")


def test_a_plain_http_integration_in_production_is_named(environment, settings):
    settings.PRODUCTION = True
    environment.record.__class__.objects.filter(pk=environment.record.pk).update(
        target_base_endpoint="http://app.example.com/ws/"
    )

    finding = environment.check("integration-host")

    assert finding.status is Status.FAILED
    assert "http://app.example.com/ws/connect is not https" in finding.saw


def test_a_page_on_another_domain_names_the_origin_refusal(environment, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://www.example.org"]

    finding = environment.check("page-origin")

    assert finding.status is Status.FAILED
    assert finding.saw == (
        "page origin https://www.example.org (CSRF_TRUSTED_ORIGINS) against Host "
        "app.example.com: every $connect from it is refused 'Invalid origin' "
        "(ws.connect.rejected, reason origin_mismatch)"
    )


def test_csrf_origins_that_cannot_work_are_named(environment, settings):
    settings.PRODUCTION = True
    settings.CSRF_TRUSTED_ORIGINS = ["http://app.example.com", "www.example.com"]

    finding = environment.check("csrf")

    assert finding.status is Status.FAILED
    assert "http://app.example.com is not https" in finding.saw
    assert "'www.example.com' is not scheme://host" in finding.saw
    assert "ws.token.refused" in finding.saw


def test_a_host_only_session_cookie_names_session_cookie_domain(environment, settings):
    settings.SESSION_COOKIE_DOMAIN = None

    finding = environment.check("cookies")

    assert finding.status is Status.FAILED
    assert (
        f"a session cookie set by app.example.com with SESSION_COOKIE_DOMAIN=None never "
        f"reaches {DOMAIN}"
    ) in finding.saw
    assert "ws.token.invalid, reason no_session" in finding.saw
    assert "SESSION_COOKIE_DOMAIN" in finding.fix


def test_the_stage_url_never_gets_the_session_cookie(environment, settings):
    stage_url = f"wss://{environment.record.api_id}.execute-api.{REGION}.amazonaws.com/production"
    settings.WS_PUBLIC_URL = stage_url

    findings = environment.findings("ws-public-url", "cookies")

    assert findings["ws-public-url"].status is Status.PASSED
    assert findings["cookies"].status is Status.FAILED
    assert "never reaches" in findings["cookies"].saw
    assert "custom domain beside the page" in findings["cookies"].fix


def test_a_secure_cookie_over_plain_ws_is_named(environment, settings):
    settings.WS_PUBLIC_URL = f"ws://{DOMAIN}"

    finding = environment.check("cookies")

    assert finding.status is Status.FAILED
    assert f"the cookie is Secure but WS_PUBLIC_URL is ws://: it is not sent to {DOMAIN}" in (
        finding.saw
    )


def test_a_custom_domain_url_with_the_stage_in_its_path_is_named(environment, settings):
    # The package maps the domain to the stage without a path: browsers open wss://domain.
    settings.WS_PUBLIC_URL = f"wss://{DOMAIN}/production"

    finding = environment.check("ws-public-url")

    assert finding.status is Status.FAILED
    assert finding.saw == f"WS_PUBLIC_URL wss://{DOMAIN}/production"
    assert f"wss://{DOMAIN} (the custom domain)" in finding.expected
    assert finding.fix == f"set WS_PUBLIC_URL (config.wsPublicUrl) to wss://{DOMAIN}"


def test_an_emulator_url_for_another_stage_is_named(environment, settings):
    settings.WS_PUBLIC_URL = "ws://localhost:8001/local"

    finding = environment.check("ws-public-url", emulated=True)

    assert finding.status is Status.FAILED
    assert finding.saw == "WS_PUBLIC_URL ws://localhost:8001/local opens /local"
    assert "EMULATOR_STAGE" in finding.expected

"""The load test's pure parts (loadtest/): its variables and its verdict. The run itself:
tests/emulator/test_loadtest_run.py and `make bench-smoke`."""

from dataclasses import dataclass

import pytest

from devtools.environment import BadVariable
from loadtest.config import Credentials, LoadTestConfig
from loadtest.names import CONNECT, PING, REQUEST_TYPE
from loadtest.report import Row, Verdict, verdict_of

LOCAL = {
    "LOADTEST_SITE_URL": "https://app.example.com/",
    "LOADTEST_WS_URL": "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod",
    "LOADTEST_USERNAME": "loadtest",
    "LOADTEST_PASSWORD": "s3cret-password",
}


@pytest.fixture
def env(monkeypatch):
    for name in (
        "LOADTEST_ORIGIN", "LOADTEST_CREDENTIALS", "LOADTEST_USERS", "LOADTEST_CA_BUNDLE",
        "LOADTEST_VERIFY_TLS", "LOADTEST_PING_INTERVAL", "LOADTEST_CHANNEL",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    for name, value in LOCAL.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_one_user_and_the_defaults(env):
    config = LoadTestConfig.from_env()
    assert config.site_url == "https://app.example.com"
    assert config.origin == "https://app.example.com"
    assert config.credentials == (Credentials("loadtest", "s3cret-password"),)
    assert (config.channel, config.users, config.ping_interval) == ("lobby", 10, 1.0)
    assert config.verify_tls is True


def test_the_password_is_in_no_repr(env):
    config = LoadTestConfig.from_env()
    assert "s3cret-password" not in repr(config)
    assert "s3cret-password" not in repr(config.credentials)


def test_users_from_a_csv(env, tmp_path):
    users = tmp_path / "users.csv"
    users.write_text("username,password\nann,pw-ann\n\nbob,pw-bob\nnobody,\n")
    env.setenv("LOADTEST_CREDENTIALS", str(users))
    env.delenv("LOADTEST_PASSWORD")
    assert LoadTestConfig.from_env().credentials == (
        Credentials("ann", "pw-ann"),
        Credentials("bob", "pw-bob"),
    )


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        (None, "No such file"),
        ("ann,pw-ann\n", "needs a header row 'username,password'"),
        ("username,password\n", "has no user"),
    ],
)
def test_an_unusable_csv_says_what_is_wrong(env, tmp_path, contents, message):
    users = tmp_path / "users.csv"
    if contents is not None:
        users.write_text(contents)
    env.setenv("LOADTEST_CREDENTIALS", str(users))
    with pytest.raises(BadVariable, match=f"LOADTEST_CREDENTIALS=.*{message}"):
        LoadTestConfig.from_env()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOADTEST_SITE_URL", "app.example.com", "must be a URL starting with http:// or https://"),
        ("LOADTEST_WS_URL", "https://x.example.com/prod", "starting with ws:// or wss://"),
        ("LOADTEST_USERS", "users.csv", "whole number .*LOADTEST_CREDENTIALS"),
        ("LOADTEST_USERS", "0", "must be more than 0"),
        ("LOADTEST_PING_INTERVAL", "-1", "must be more than 0"),
        ("LOADTEST_VERIFY_TLS", "maybe", "must be true or false"),
        ("LOADTEST_CA_BUNDLE", "/nonexistent/ca.pem", "is not a file"),
    ],
)
def test_a_bad_variable_is_named(env, name, value, message):
    env.setenv(name, value)
    with pytest.raises(BadVariable, match=f"{name}.*{message}"):
        LoadTestConfig.from_env()


def test_without_a_password_it_says_what_to_set(env):
    env.delenv("LOADTEST_PASSWORD")
    with pytest.raises(BadVariable, match=r"LOADTEST_PASSWORD.*or LOADTEST_CREDENTIALS"):
        LoadTestConfig.from_env()


def test_tls_verification_off_or_a_private_ca(env, tmp_path):
    env.setenv("LOADTEST_VERIFY_TLS", "false")
    assert LoadTestConfig.from_env().verify_tls is False
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    env.setenv("LOADTEST_CA_BUNDLE", str(bundle))
    assert LoadTestConfig.from_env().verify_tls == str(bundle)


def ws(name: str, requests: int, failures: int = 0) -> Row:
    return Row(REQUEST_TYPE, name, requests, failures, 20.0, 90.0)


GOOD = (Row("POST", "sign in", 3, 0, 900, 1200), ws(CONNECT, 3), ws(PING, 40))


def test_a_run_where_everything_answered_passes():
    verdict = Verdict(GOOD)
    assert verdict.problems == []
    assert verdict.lines(3) == [
        "3 users, 46 requests, 0 failures",
        "  connect    3 (failed 0), p50 20 ms, p99 90 ms",
        "  ping→pong  40 (failed 0), p50 20 ms, p99 90 ms",
    ]


@pytest.mark.parametrize(
    ("rows", "errors", "problems"),
    [
        ((), (), ["no ping got its pong"]),
        ((ws(CONNECT, 3, 3),), (), ["no ping got its pong", "3 requests failed (connect 3)"]),
        ((ws(PING, 5, 5),), (), ["no ping got its pong", "5 requests failed (ping→pong 5)"]),
        ((*GOOD[:2], ws(PING, 40, 1)), (), ["1 requests failed (ping→pong 1)"]),
        (GOOD, ((2, "boom"), (1, "bang")), ["3 errors in the users, first: boom"]),
    ],
)
def test_a_run_fails_without_pongs_or_with_any_failure(rows, errors, problems):
    assert Verdict(rows, errors).problems == problems


@dataclass
class Entry:
    """What verdict_of reads of locust's StatsEntry."""

    method: str
    name: str
    num_requests: int
    num_failures: int

    def get_response_time_percentile(self, percent: float) -> int:
        return {0.5: 12, 0.99: 340}[percent]


def test_the_verdict_is_read_from_locusts_statistics():
    verdict = verdict_of(
        [Entry(REQUEST_TYPE, PING, 10, 0), Entry(REQUEST_TYPE, CONNECT, 0, 0)],
        {"key": {"count": 2, "msg": "boom", "traceback": "", "nodes": set()}},
    )
    assert verdict.rows == (
        Row(REQUEST_TYPE, PING, 10, 0, 12, 340),
        Row(REQUEST_TYPE, CONNECT, 0, 0, 0, 0),
    )
    assert verdict.errors == ((2, "boom"),)

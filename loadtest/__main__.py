"""``python -m loadtest [locust options]`` (``make loadtest``, ``make bench-smoke``): checks the
variables and that the site answers, runs locust headless with the gateway user, writes its
CSV and HTML report into a folder and prints the verdict; exits 1 when the run failed
(a request failed, or no ping got its pong), 2 when it could not start."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import requests

from devtools.console import say
from devtools.environment import BadVariable, env_str
from loadtest.config import LOGIN_PATH, LoadTestConfig

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
CSV_PREFIX = "locust"


class SiteDown(Exception):
    """Nothing answers at the site URL."""


def main(extra_locust_args: list[str]) -> int:
    try:
        config = LoadTestConfig.from_env()
        check_site(config)
    except (BadVariable, SiteDown) as error:
        say(f"✗ {error}", sys.stderr)
        return 2
    report_dir = Path(
        env_str("LOADTEST_REPORT_DIR", f"loadtest-reports/{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    )
    report_dir.mkdir(parents=True, exist_ok=True)
    say(
        f"Load test: {config.users} users (spawn {config.spawn_rate:g}/s) for {config.duration}, "
        f"{len(config.credentials)} sign-in(s), channel {config.channel}, a ping every "
        f"{config.ping_interval:g} s; site {config.site_url}, WebSocket {config.ws_url}"
    )
    code = run_locust(config, report_dir, extra_locust_args)
    say(f"Report: {report_dir}/report.html, CSV: {report_dir}/{CSV_PREFIX}_*.csv")
    return code


def check_site(config: LoadTestConfig) -> None:
    url = f"{config.site_url}{LOGIN_PATH}"
    try:
        requests.get(url, timeout=config.timeout, verify=config.verify_tls)
    except requests.exceptions.SSLError as error:
        raise SiteDown(
            f"{url}: TLS verification failed ({error}); LOADTEST_CA_BUNDLE names a private CA"
        ) from None
    except requests.RequestException as error:
        raise SiteDown(
            f"nothing answers at {url} ({type(error).__name__}): for the local stack run "
            "`make up` first (with the same LOCAL_WEB_PORT and LOCAL_WS_PORT); for your "
            "stage check LOADTEST_SITE_URL"
        ) from None


def run_locust(config: LoadTestConfig, report_dir: Path, extra: list[str]) -> int:
    """locust's exit code: the judge's verdict (loadtest/judge.py), or locust's own when
    the run never started."""
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(config.users), "--spawn-rate", f"{config.spawn_rate:g}",
        "--run-time", config.duration, "--host", config.site_url,
        "--csv", str(report_dir / CSV_PREFIX), "--html", str(report_dir / "report.html"),
        *extra,
    ]  # fmt: skip
    # The locustfile imports loadtest and devtools from the repository's root.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(command, env=env, check=False).returncode  # noqa: S603 - our own interpreter


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""``python -m gateway_emulator``: read the environment, set up JSON logs, serve."""

import logging.config
import os
import sys

import structlog
from aiohttp import web

from gateway_emulator.app import SHUTDOWN_GRACE_SECONDS, build_app
from gateway_emulator.config import ConfigError, load_config
from observability.logging_config import configure_logging


def main() -> int:
    try:
        config = load_config(os.environ)
    except ConfigError as error:
        print(f"gateway_emulator: {error}", file=sys.stderr)
        return 2
    logging.config.dictConfig(configure_logging(config.log_format, config.log_level))
    log = structlog.get_logger("gateway_emulator")
    log.info(
        "emulator.starting",
        address=f"{config.host}:{config.port}",
        stage=config.stage,
        api_id=config.api_id,
        target_url=str(config.target_url),
        upstream=",".join(map(str, config.upstreams)) or None,
        upstream_file=config.upstream_file,
        routes=sorted(config.routes),
        idle_timeout_seconds=config.idle_timeout,
        max_duration_seconds=config.max_duration,
        drop_disconnects=config.drop_disconnects,
        integration_timeout_seconds=config.integration_timeout,
        verify_sigv4=config.verify_sigv4,
        throttle_rate=config.throttle_rate,
    )
    try:
        web.run_app(
            build_app(config),
            host=config.host,
            port=config.port,
            # aiohttp's access log would print query strings, and with them the ws_token.
            access_log=None,
            print=None,
            shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
        )
    except OSError as error:
        log.error("emulator.listen.failed", port=config.port, error=str(error))
        return 1
    log.info("emulator.stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

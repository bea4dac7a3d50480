"""gunicorn settings for containers, from the environment (docs/configuration.md).

Kubernetes sends SIGTERM after the preStop sleep and kills the pod after
terminationGracePeriodSeconds; graceful_timeout must stay below that so in-flight
API Gateway callbacks finish.
"""

import os
from pathlib import Path

import environ

from observability import ops_port, prometheus
from observability.logging_config import configure_logging

# The variables are read as Django's settings read theirs (django-environ).
env = environ.Env()

# Web processes answer inside API Gateway's 29 s: bound what one statement, one lock wait
# (the admission's advisory locks) and one idle transaction may take. Set here, before the
# workers load Django's settings, so migrate and the cron commands keep no such limits.
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "20000")
os.environ.setdefault("DB_LOCK_TIMEOUT_MS", "5000")
os.environ.setdefault("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", "30000")
# A callback waits this long for a pooled connection, not the 10 s a cron command may.
os.environ.setdefault("DB_POOL_TIMEOUT", "3")

bind = f"0.0.0.0:{env.int('PORT', default=8000)}"
# Liveness and /metrics, from the master (observability/ops_port.py); the Ingress and the
# HTTPRoute never route to it.
OPS_PORT = env.int("OPS_PORT", default=8081)
worker_class = "gthread"
workers = env.int("GUNICORN_WORKERS", default=2)
threads = env.int("GUNICORN_THREADS", default=4)
# API Gateway gives an integration 29 s; a request still running after that is lost anyway.
timeout = env.int("GUNICORN_TIMEOUT", default=35)
graceful_timeout = env.int("GUNICORN_GRACEFUL_TIMEOUT", default=20)
# Longer than a load balancer's idle timeout (ALB: 60 s), so it never reuses a closed socket.
keepalive = env.int("GUNICORN_KEEPALIVE", default=75)
max_requests = env.int("GUNICORN_MAX_REQUESTS", default=2000)
max_requests_jitter = env.int("GUNICORN_MAX_REQUESTS_JITTER", default=200)
# The worker heartbeat file must live on a writable tmpfs under a read-only root filesystem.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108
# Peers whose X-Forwarded-Proto/-For gunicorn believes (the load balancer's subnets).
forwarded_allow_ips = env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1,::1")
# ...but no path header from anyone, trusted or not: gunicorn's default (SCRIPT_NAME,
# PATH_INFO) let a client's SCRIPT_NAME, passed on by the ALB, move routing or raise a 500.
forwarder_headers = ""
# Headers that cannot be mapped to the WSGI environ unambiguously (underscores) are dropped.
header_map = "drop"
# gunicorn's runtime control socket would be created under $HOME: read-only in the image.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
logger_class = "observability.gunicorn_logger.StructuredAccessLogger"
logconfig_dict = configure_logging(
    env.str("LOG_FORMAT", default="json"), env.str("LOG_LEVEL", default="INFO")
)


def when_ready(_server) -> None:
    """The master is listening: start the ops port (liveness, /metrics) in it, before the
    workers fork."""
    ops_port.start(OPS_PORT)


def on_starting(_server) -> None:
    """Before the workers fork: the directory of Prometheus's multiprocess mode, where each
    worker writes its metrics and the ops port sums them (observability/prometheus.py)."""
    prometheus.prepare_directory()


def post_worker_init(_worker) -> None:
    """The worker has loaded Django: its state gauges start counting (realtime/gauges.py)."""
    from realtime import gauges

    gauges.start()


def child_exit(_server, worker) -> None:
    """A worker is gone: its live gauges (the pool's) leave the sum."""
    prometheus.worker_exited(worker.pid)


def on_exit(_server) -> None:
    prometheus.remove_made_directory()

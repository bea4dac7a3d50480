"""Every setting of the project, read from the environment in this one place.

docs/configuration.md documents each variable. ``DJANGO_ENV=production`` selects the
production profile: DEBUG off, secure cookies, HSTS, and the variables marked "required in
production" must be set, else start-up stops with ImproperlyConfigured naming the variable.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.http.request import split_domain_port

from config.production_checks import unsafe_settings
from observability.error_tracking import init_error_tracking
from observability.logging_config import configure_logging

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}"
    )
PRODUCTION = DJANGO_ENV == "production"


def required_in_production(name: str, development_default: str) -> str:
    """Read ``name``; in production it must be set and non-empty."""
    value = env.str(name, default="")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return development_default


def bounded_int(name: str, default: int, low: int = 1, high: int | None = None) -> int:
    """Read the integer ``name``; outside ``low``..``high`` start-up stops, naming it."""
    value = env.int(name, default=default)
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"{low} or more"
        raise ImproperlyConfigured(f"{name} must be {bounds}")
    return value


def positive_float(name: str, default: float, high: float | None = None) -> float:
    """Read the number ``name``; zero, negative or above ``high``, start-up stops, naming it."""
    value = env.float(name, default=default)
    if value <= 0 or (high is not None and value > high):
        bounds = "above 0" + (f" and at most {high:g}" if high is not None else "")
        raise ImproperlyConfigured(f"{name} must be {bounds}")
    return value


# --- Core -------------------------------------------------------------------------------
SECRET_KEY = required_in_production(
    "SECRET_KEY", "development-only-insecure-key-do-not-use-in-production-0123456789"
)
# Old keys, newest first, still accepted for signatures while sessions roll over.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# Off unless asked for, in every profile (`make dev` asks); production refuses it below.
DEBUG = env.bool("DEBUG", default=False)

# API Gateway calls the integration with the Host of the integration URL, and the package
# compares it with ALLOWED_HOSTS exactly (no wildcard, port included when not default).
WS_INTEGRATION_HOST = required_in_production("WS_INTEGRATION_HOST", "localhost:8000")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production")
# Django checks the host without its port, the package with it: allow both forms.
for _host in (WS_INTEGRATION_HOST, split_domain_port(WS_INTEGRATION_HOST)[0]):
    if _host and _host not in ALLOWED_HOSTS:
        ALLOWED_HOSTS.append(_host)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_aws_api_gateway_websockets",
    "axes",
    "observability",
    "accounts",
    "health",
    # The real-time layer, then the features built on it (docs/architecture.md).
    "realtime",
    "realtime.broadcasts",
    "realtime.cleanup",
    "features.chat",
    "features.notifications",
    "demo",
    "smoketest",
    "doctor",
    "gateway_monitoring",
]

MIDDLEWARE = [
    "observability.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # While the database is unreachable: 503 at once (health/breaker.py).
    "health.breaker.DatabaseBreakerMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "observability.middleware.UserContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "demo:index"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
# psycopg 3 with its connection pool: each process keeps up to DB_POOL_MAX_SIZE
# connections, so the budget is replicas x gunicorn workers x DB_POOL_MAX_SIZE
# (docs/configuration.md). Django's pool requires CONN_MAX_AGE = 0.
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default=required_in_production(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wsgateway"
        ),
    )
}
DATABASES["default"].update(
    {
        "CONN_MAX_AGE": 0,
        # With the pool: check each connection as it is handed out (after a database restart
        # the pooled ones are dead, and the first request on each would fail).
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            **DATABASES["default"].get("OPTIONS", {}),
            "pool": {
                "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
                "max_size": env.int("DB_POOL_MAX_SIZE", default=6),
                "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
                # psycopg_pool retries a failed connect with doubling delays (1, 2, 4, 8,
                # 16 s…) for reconnect_timeout (default 5 minutes): after a 20 s outage its
                # next try came 11 s after the database was back. Giving up after a few
                # seconds lets the next request start a fresh attempt at once.
                "reconnect_timeout": positive_float("DB_POOL_RECONNECT_TIMEOUT", 5.0),
            },
            # A server that does not answer fails fast instead of holding a thread.
            "connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=3),
        },
    }
)
# After a request fails to reach the database, the others answer 503 at once but for one
# trial request every this many seconds (app/health/breaker.py).
DB_BREAKER_RETRY_SECONDS = positive_float("DB_BREAKER_RETRY_SECONDS", 1.0, high=60)
# Server-side limits per connection, in milliseconds (0: none). gunicorn.conf.py sets them for
# web processes, whose work must end inside API Gateway's 29 s; migrations and cron commands
# keep none, since an index build may rightly take minutes.
_server_limits = {
    "statement_timeout": env.int("DB_STATEMENT_TIMEOUT_MS", default=0),
    "lock_timeout": env.int("DB_LOCK_TIMEOUT_MS", default=0),
    "idle_in_transaction_session_timeout": env.int("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", default=0),
}
if any(_server_limits.values()):
    DATABASES["default"]["OPTIONS"]["options"] = " ".join(
        f"-c {name}={value}" for name, value in _server_limits.items() if value
    )
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...)")

# --- Static files (collected at build time, served by whitenoise) -----------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
# Outside production, serve straight from the apps' static folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security ---------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
# The browser must send the session cookie to the WebSocket host too, so in production it
# is usually set for the parent domain (".example.com").
SESSION_COOKIE_DOMAIN = env.str("SESSION_COOKIE_DOMAIN", default=None)
CSRF_COOKIE_DOMAIN = env.str("CSRF_COOKIE_DOMAIN", default=None)
SESSION_COOKIE_SAMESITE = env.str("SESSION_COOKIE_SAMESITE", default="Lax")
CSRF_COOKIE_SAMESITE = env.str("CSRF_COOKIE_SAMESITE", default="Lax")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
# Kubelet probes reach the pod over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Signing in ---------------------------------------------------------------------------
# django-axes refuses a sign-in, before the password is hashed (about 0.3 CPU-s each), once a
# username or a client address has failed LOGIN_FAILURE_LIMIT times; the count lives in
# PostgreSQL, so it holds across replicas, and resets after LOGIN_COOLOFF_MINUTES.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with the per-request user lookup as one plain statement (the $connect
    # path); ModelBackend itself for the sessions signed in before it was added.
    "accounts.backends.UserBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Django's database sessions, read with one plain statement (the $connect path).
SESSION_ENGINE = "accounts.session_store"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
# Each on its own: one username from many addresses, or many usernames from one address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_address"
AXES_RESET_ON_SUCCESS = True
# Less of its own logging: accounts.events logs the named events operators watch.
AXES_VERBOSE = False
# The admin: off, or moved away from the address every scanner tries.
ADMIN_ENABLED = env.bool("ADMIN_ENABLED", default=True)
ADMIN_URL = env.str("ADMIN_URL", default="admin/")
if not ADMIN_URL.endswith("/") or ADMIN_URL.startswith("/"):
    raise ImproperlyConfigured(f"ADMIN_URL must end with '/' and not start with one: {ADMIN_URL!r}")

# --- AWS API Gateway WebSockets ---------------------------------------------------------
# No AWS keys here: boto3's default credential chain serves IRSA and EKS Pod Identity.
AWS_GATEWAY_REGION_NAME = required_in_production("AWS_GATEWAY_REGION_NAME", "us-east-1")
# API Gateway sends the first secret in a header on every call; Django accepts any listed one,
# so a secret can be rotated without downtime.
GATEWAY_SECRETS = env.list("WS_GATEWAY_SECRET", default=[])
if PRODUCTION and not GATEWAY_SECRETS:
    raise ImproperlyConfigured("WS_GATEWAY_SECRET must be set when DJANGO_ENV=production")
WEBSOCKETS = {
    "gateway_secret": GATEWAY_SECRETS,
    "token_expiry_seconds": env.int("WS_TOKEN_EXPIRY_SECONDS", default=60),
    "token_rate_limit_per_minute": env.int("WS_TOKEN_RATE_LIMIT_PER_MINUTE", default=20),
    "rate_limit_max_attempts": env.int("WS_RATE_LIMIT_MAX_ATTEMPTS", default=20),
    "rate_limit_window_minutes": env.int("WS_RATE_LIMIT_WINDOW_MINUTES", default=1),
    "push_changes_to_aws": env.bool("WS_PUSH_CHANGES_TO_AWS", default=True),
    "allowed_integration_hosts": env.list("WS_ALLOWED_INTEGRATION_HOSTS", default=[]),
}
# How many proxies append to X-Forwarded-For between the client and Django: 1 when API
# Gateway calls Django directly, 2 with a load balancer in between.
TRUSTED_PROXY_HOPS = bounded_int("TRUSTED_PROXY_HOPS", 1)
# $connect without Sec-WebSocket-Extensions: refused (as the package does) unless true, for
# native clients that offer no extension (every browser offers permessage-deflate).
WS_ALLOW_CLIENTS_WITHOUT_EXTENSIONS = env.bool("WS_ALLOW_CLIENTS_WITHOUT_EXTENSIONS", default=False)
# API Gateway's connection limits, which clients plan around (the demo page's heartbeat and
# renewal): 10 minutes idle, 2 hours in all, fixed by AWS
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html).
# Set only to match an emulator started with shorter ones (EMULATOR_IDLE_TIMEOUT_SECONDS and
# EMULATOR_MAX_DURATION_SECONDS).
WS_GATEWAY_IDLE_TIMEOUT_SECONDS = positive_float("WS_GATEWAY_IDLE_TIMEOUT_SECONDS", 600.0, high=600)
WS_GATEWAY_MAX_DURATION_SECONDS = positive_float(
    "WS_GATEWAY_MAX_DURATION_SECONDS", 7200.0, high=7200
)
# The connect rate limit keys an IPv6 client by its network of this prefix length: one
# subscriber gets a whole /64 and could rotate addresses inside it. IPv4: the address.
WS_RATE_LIMIT_IPV6_PREFIX = bounded_int("WS_RATE_LIMIT_IPV6_PREFIX", 64, high=128)
# Abuse caps, each held across replicas (counted in PostgreSQL; docs/security.md says why these):
# open connections per user (tabs and devices), messages per connection (a token bucket:
# WS_MESSAGES_PER_SECOND on average, bursts of WS_MESSAGE_BURST), broadcasts per user.
WS_MAX_CONNECTIONS_PER_USER = bounded_int("WS_MAX_CONNECTIONS_PER_USER", 20)
WS_MESSAGES_PER_SECOND = positive_float("WS_MESSAGES_PER_SECOND", 10.0)
WS_MESSAGE_BURST = bounded_int("WS_MESSAGE_BURST", 20)
WS_BROADCASTS_PER_MINUTE = bounded_int("WS_BROADCASTS_PER_MINUTE", 10)
# A handler's reply through the Management API holds a request thread: one attempt, at most
# this long in all (realtime.management_api.reply_policy), as any post made inside a request.
WS_REPLY_TIMEOUT_SECONDS = positive_float("WS_REPLY_TIMEOUT_SECONDS", 2.0, high=20)
# The WebSocket URL browsers connect to (the API Gateway stage, or the local emulator).
WS_PUBLIC_URL = required_in_production("WS_PUBLIC_URL", "ws://localhost:8001/local")
# Local emulator only: send Management API calls here instead of AWS. Unset in production.
WS_MANAGEMENT_ENDPOINT_URL = env.str("WS_MANAGEMENT_ENDPOINT_URL", default="")
if PRODUCTION and WS_MANAGEMENT_ENDPOINT_URL:
    raise ImproperlyConfigured("WS_MANAGEMENT_ENDPOINT_URL must not be set in production")

# The WebSocket protocol version this release speaks (realtime/protocol.py): 2, or 1 to
# speak only what the previous release spoke.
WS_PROTOCOL_VERSION = env.int("WS_PROTOCOL_VERSION", default=2)
if WS_PROTOCOL_VERSION not in {1, 2}:
    raise ImproperlyConfigured("WS_PROTOCOL_VERSION must be 1 or 2")

# --- Broadcast fan-out and cleanup ------------------------------------------------------
BROADCAST_CONCURRENCY = env.int("BROADCAST_CONCURRENCY", default=32)
BROADCAST_BATCH_SIZE = env.int("BROADCAST_BATCH_SIZE", default=1000)
# A fan-out's lease, renewed after every chunk of BROADCAST_CONCURRENCY posts; longer than the
# slowest chunk (3 attempts of 5 s connect + 10 s read, with back-off) so a slow API never
# looks like a dead owner.
BROADCAST_LEASE_SECONDS = bounded_int("BROADCAST_LEASE_SECONDS", 120)
# How long a fan-out keeps trying the posts of a chunk that the Management API throttled, failed
# (5xx) or left unanswered after their 3 attempts, renewing its lease between rounds; after
# that they are counted as failed. Longer than a brownout, short enough to move on.
BROADCAST_RETRY_SECONDS = bounded_int("BROADCAST_RETRY_SECONDS", 60)
# Claims after which a broadcast that never finished is marked failed.
BROADCAST_MAX_ATTEMPTS = bounded_int("BROADCAST_MAX_ATTEMPTS", 5)
# Management API posts per second of all fan-outs of all replicas together (a token bucket
# row in PostgreSQL, realtime.broadcasts.rate). AWS's account quota, 10,000 requests per
# second per region, is shared with every API and callback: docs/broadcasts.md sizes it.
BROADCAST_FRAMES_PER_SECOND = positive_float("BROADCAST_FRAMES_PER_SECOND", 2000.0, high=10000)
# API Gateway closes every connection after 2 hours, with or without a $disconnect call.
STALE_SESSION_MAX_AGE_SECONDS = env.int("STALE_SESSION_MAX_AGE_SECONDS", default=2 * 3600 + 300)
DISCONNECTED_SESSION_RETENTION_SECONDS = env.int(
    "DISCONNECTED_SESSION_RETENTION_SECONDS", default=24 * 3600
)
CLEANUP_BATCH_SIZE = env.int("CLEANUP_BATCH_SIZE", default=1000)

# --- Metrics (docs/operations.md) --------------------------------------------------------
# The state gauges (sessions, broadcasts, pending migrations, the pool) are counted by each
# web worker this often, whatever the scrape interval.
METRICS_REFRESH_SECONDS = positive_float("METRICS_REFRESH_SECONDS", 30.0, high=3600.0)
# wsgateway_build_info's labels: the image's version (the Dockerfile sets it) and the
# blue/green color the chart gives the pod ("" without blue/green).
APP_VERSION = env.str("APP_VERSION", default="dev")
DEPLOYMENT_COLOR = env.str("DEPLOYMENT_COLOR", default="")
if DEPLOYMENT_COLOR not in {"", "blue", "green"}:
    raise ImproperlyConfigured("DEPLOYMENT_COLOR must be blue, green or empty")

# --- Logging ----------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "console")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = configure_logging(LOG_FORMAT, LOG_LEVEL)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Error tracking (optional) -----------------------------------------------------------
# Sentry, off when SENTRY_DSN is empty; events are redacted as the logs are (docs/operations.md).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default=DJANGO_ENV)
ERROR_TRACKING = init_error_tracking(SENTRY_DSN, SENTRY_ENVIRONMENT)

# --- Refuse unsafe production values (last: every setting above is final) ----------------
if PRODUCTION:
    _problems = unsafe_settings(globals())
    if _problems:
        raise ImproperlyConfigured(
            "Refusing to start with DJANGO_ENV=production:\n  - " + "\n  - ".join(_problems)
        )

"""PayFlow settings, read from the environment (12-factor).

With nothing set, PayFlow runs on embedded defaults: SQLite in WAL mode, the in-memory
channel layer, a local-memory cache and DEBUG on. ``PAYFLOW_ENV=production`` is the one
switch to production mode, which refuses to start unless SECRET_KEY, ALLOWED_HOSTS,
DATABASE_URL (PostgreSQL) and REDIS_URL are given.
"""

import os
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from payflow import servers

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int, *, minimum: int | None = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}.")
    return number


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}.") from exc
    if not number >= minimum or number == float("inf"):
        raise ImproperlyConfigured(f"{name} must be a finite number >= {minimum}, got {value!r}.")
    return number


# Every variable PayFlow reads, each read once below. A variable with one of PayFlow's own
# prefixes that is not listed here is a typo or a leftover: start-up stops and names it.
KNOWN_VARIABLES = {
    "PAYFLOW_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "REDIS_PREFIX",
    "SQLITE_PATH", "CSRF_TRUSTED_ORIGINS", "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
    "LOG_LEVEL", "LOG_FORMAT", "TIME_ZONE", "PAYFLOW_DEMO_PASSWORD", "PAYFLOW_DEMO_TRAFFIC_RATE",
    "CHAOS_ENABLED", "CHAOS_TIMEOUT_SECONDS", "PAYMENT_AMOUNT_CEILING_MINOR",
    "IDEMPOTENCY_KEY_TTL_HOURS", "PAYOUT_CALENDAR", "PAYOUT_BANK_TIME_ZONE", "PAYOUT_CUTOFF",
    "STREAM_QUEUE_CAPACITY", "STREAM_REPLAY_MAX_EVENTS", "STREAM_REPLAY_MAX_SECONDS",
    "STREAM_HEARTBEAT_SECONDS", "STREAM_RELAY_ENABLED", "STREAM_SLOW_CLIENT_SECONDS",
    "STREAM_WRITE_BUFFER_BYTES", "STREAM_SOCKET_SNDBUF_BYTES", "STREAM_RELAY_POLL_SECONDS",
    "STREAM_LEASE_SECONDS", "STREAM_BACKLOG_MAX_EVENTS", "RECONCILIATION_AMOUNT_TOLERANCE",
    "RECONCILIATION_VALUE_DATE_WINDOW_DAYS", "RECONCILIATION_SLA_BUSINESS_DAYS",
    "PROCESSOR_WEBHOOK_SECRETS", "PROCESSOR_WEBHOOK_URL", "JANITOR_INTERVAL_SECONDS",
    "PAYMENT_STUCK_AFTER_SECONDS", "LOGIN_FAILURE_LIMIT", "LOGIN_FAILURE_WINDOW_SECONDS",
    "PAYFLOW_TRUSTED_PROXIES", "PAYFLOW_READYZ_TOKEN", "PAYFLOW_METRICS_TOKEN",
    "PAYFLOW_MAX_BODY_BYTES", "PAYFLOW_MAX_UPLOAD_BYTES",
    "PAYFLOW_TEST_FAST_PASSWORD_HASHER",  # the test suite's; ignored in production
    "PAYFLOW_TEST_SERVER",  # the test suite's: which server its server processes run on
}  # fmt: skip
OWN_PREFIXES = ("PAYFLOW_", "STREAM_", "CHAOS_", "PAYOUT_", "PAYMENT_", "IDEMPOTENCY_", "LOGIN_")
_unknown = sorted(
    name for name in os.environ if name.startswith(OWN_PREFIXES) and name not in KNOWN_VARIABLES
)
if _unknown:
    raise ImproperlyConfigured(
        "Unknown configuration variable(s): "
        + ", ".join(_unknown)
        + ". See the configuration table in README.md."
    )


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


PAYFLOW_ENV = os.environ.get("PAYFLOW_ENV", "development").strip().lower()
if PAYFLOW_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"PAYFLOW_ENV must be 'development' or 'production', got {PAYFLOW_ENV!r}."
    )
PRODUCTION = PAYFLOW_ENV == "production"

if PRODUCTION:
    _missing = [
        name
        for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL")
        if not os.environ.get(name, "").strip()
    ]
    if _missing:
        raise ImproperlyConfigured(
            "PayFlow refuses to start in production mode: missing environment variable(s) "
            + ", ".join(_missing)
            + ". See the configuration table in README.md."
        )
    if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured(
            "PayFlow refuses to start in production mode: DATABASE_URL must be a "
            "PostgreSQL URL (postgres://...)."
        )

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = os.environ.get(
    "SECRET_KEY", "django-insecure-payflow-development-only-key-never-use-in-production"
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "payflow.apps.PayFlowAdminConfig",  # django.contrib.admin with the role-gated site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "django_structlog",
    "payflow",
    "payflow.accounts",
    "payflow.idempotency",
    "payments",
    "payouts",
    "transactions",
    "chaos",
    "search",
    "reconciliation",
]

MIDDLEWARE = [
    # Outermost, so an outage met by any layer (sessions, auth, logging) still answers 503.
    "payflow.middleware.ServiceUnavailableMiddleware",
    "payflow.observability.RequestIdMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "payflow.observability.RequestMetricsMiddleware",
    "payflow.middleware.InputGuardMiddleware",
    "chaos.middleware.ChaosMiddleware",
    "payflow.proxies.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "payflow.middleware.StripTrailingSlashMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "payflow.middleware.PermissionsPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "payflow.middleware.PageAccessMiddleware",
    "payflow.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "payflow.urls"
ASGI_APPLICATION = "payflow.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "payflow.accounts.context_processors.role",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "payflow.sqlite3")),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the relay and the request handlers read while one writer writes;
        # IMMEDIATE takes the write lock up front so two writers wait instead of deadlocking.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory, so a server process started by the tests sees the test database.
    # Per process, so two test runs on one machine never share (and clobber) a database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and cache ---------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("REDIS_PREFIX", "payflow")},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("REDIS_PREFIX", "payflow"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth ---------------------------------------------------------------------------------
if env_bool("PAYFLOW_TEST_FAST_PASSWORD_HASHER", False) and not PRODUCTION:
    # Tests create many users; PBKDF2's deliberate slowness would dominate the suite's time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test suite's: the ASGI server its server processes run on unless a test names one.
PAYFLOW_TEST_SERVER = os.environ.get("PAYFLOW_TEST_SERVER") or servers.DEFAULT_SERVER
if PAYFLOW_TEST_SERVER not in servers.SERVERS:
    raise ImproperlyConfigured(
        f"PAYFLOW_TEST_SERVER must be one of {', '.join(servers.SERVERS)}, "
        f"got {PAYFLOW_TEST_SERVER!r}."
    )
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Login throttling (payflow.accounts.throttle): per account and per client address.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60, minimum=1)
# Proxies whose X-Forwarded-Proto / X-Forwarded-For are believed (addresses or CIDR networks).
PAYFLOW_TRUSTED_PROXIES = env_list("PAYFLOW_TRUSTED_PROXIES", [])
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- I18N / time ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files: WhiteNoise serves them in both modes, no separate web server -------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG
if not PRODUCTION:
    # In development WhiteNoise serves from the finders; no collectstatic, so no STATIC_ROOT.
    warnings.filterwarnings("ignore", message="No directory at")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------------------
from django.utils.csp import CSP  # noqa: E402

# Django's built-in CSP: scripts and styles from PayFlow's own origin, anything inline only with
# the per-request nonce (templates use {{ csp_nonce }}; htmx gets it through htmx-config).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],  # includes the same-origin WebSocket in CSP level 3
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
PAYFLOW_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers and orchestrators probe these over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Logging: a request id on every line; JSON lines in production ---------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").strip().upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}."
    )
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "console").strip().lower()
if LOG_FORMAT not in {"json", "console"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'console', got {LOG_FORMAT!r}.")
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
# RequestIdMiddleware has already validated or minted X-Request-ID; structlog binds that one.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
from payflow.observability import configure_logging  # noqa: E402

LOGGING = configure_logging(level=LOG_LEVEL, json_lines=LOG_FORMAT == "json")

# --- PayFlow ---------------------------------------------------------------------------------
PAYFLOW_DEMO_PASSWORD = os.environ.get("PAYFLOW_DEMO_PASSWORD", "")
PAYFLOW_DEMO_TRAFFIC_RATE = env_int("PAYFLOW_DEMO_TRAFFIC_RATE", 5)
CHAOS_ENABLED = env_bool("CHAOS_ENABLED", default=not PRODUCTION)
CHAOS_TIMEOUT_SECONDS = env_int("CHAOS_TIMEOUT_SECONDS", 12, minimum=1)  # a hang, then 504
PAYMENT_AMOUNT_CEILING_MINOR = env_int("PAYMENT_AMOUNT_CEILING_MINOR", 100_000_000_000, minimum=1)
# Keys are kept at least a day, whatever is configured: a retry may come that late.
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24, minimum=24)
# A payment processing longer than this needs a person (the overview, ?stuck=true).
PAYMENT_STUCK_AFTER_SECONDS = env_int("PAYMENT_STUCK_AFTER_SECONDS", 15 * 60, minimum=1)
PAYOUT_CALENDAR = os.environ.get("PAYOUT_CALENDAR", "US")
# "" = the PAYOUT_CALENDAR bank's own zone (America/New_York, Europe/Berlin, Europe/London).
PAYOUT_BANK_TIME_ZONE = os.environ.get("PAYOUT_BANK_TIME_ZONE", "")
PAYOUT_CUTOFF = os.environ.get("PAYOUT_CUTOFF", "17:00")
# Bank reconciliation: amount tolerance (minor units), value-date window and exception SLA
# (business days).
RECONCILIATION_AMOUNT_TOLERANCE = env_int("RECONCILIATION_AMOUNT_TOLERANCE", 0)
RECONCILIATION_VALUE_DATE_WINDOW_DAYS = env_int("RECONCILIATION_VALUE_DATE_WINDOW_DAYS", 2)
RECONCILIATION_SLA_BUSINESS_DAYS = env_int("RECONCILIATION_SLA_BUSINESS_DAYS", 2)
STREAM_QUEUE_CAPACITY = env_int("STREAM_QUEUE_CAPACITY", 500, minimum=1)
STREAM_REPLAY_MAX_EVENTS = env_int("STREAM_REPLAY_MAX_EVENTS", 10_000)
STREAM_REPLAY_MAX_SECONDS = env_int("STREAM_REPLAY_MAX_SECONDS", 15 * 60)
STREAM_HEARTBEAT_SECONDS = env_int("STREAM_HEARTBEAT_SECONDS", 15, minimum=1)
STREAM_RELAY_ENABLED = env_bool("STREAM_RELAY_ENABLED", True)
STREAM_SLOW_CLIENT_SECONDS = env_float("STREAM_SLOW_CLIENT_SECONDS", 30.0, minimum=0.1)
STREAM_WRITE_BUFFER_BYTES = env_int("STREAM_WRITE_BUFFER_BYTES", 64 * 1024, minimum=1024)
STREAM_SOCKET_SNDBUF_BYTES = env_int("STREAM_SOCKET_SNDBUF_BYTES", 64 * 1024, minimum=1024)
# The relay polls the outbox: often on SQLite; PostgreSQL wakes it with LISTEN/NOTIFY first.
STREAM_RELAY_POLL_SECONDS = env_float(
    "STREAM_RELAY_POLL_SECONDS",
    0.05 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 1.0,
    minimum=0.01,
)

# Probes: /readyz shows dependency error texts only with this bearer token (or to an admin);
# /metrics asks for its token when one is set.
PAYFLOW_READYZ_TOKEN = os.environ.get("PAYFLOW_READYZ_TOKEN", "")
PAYFLOW_METRICS_TOKEN = os.environ.get("PAYFLOW_METRICS_TOKEN", "")

# --- Request limits (payflow.middleware) ------------------------------------------------------
# Bodies over the limit answer 413 payload_too_large; multipart uploads are allowed only under
# the upload prefixes, which get the larger upload limit (bank statements are files).
PAYFLOW_MAX_BODY_BYTES = env_int("PAYFLOW_MAX_BODY_BYTES", 1024 * 1024)
PAYFLOW_MAX_UPLOAD_BYTES = env_int("PAYFLOW_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
PAYFLOW_UPLOAD_PATH_PREFIXES = ["/api/v1/bank-statements"]
DATA_UPLOAD_MAX_MEMORY_SIZE = PAYFLOW_MAX_BODY_BYTES

# Live stream resilience (transactions/: relay lease, per-connection backlog). See
# docs/transactions.md.
# A relay holder that has not renewed its lease for this long is replaced by another process.
STREAM_LEASE_SECONDS = env_int("STREAM_LEASE_SECONDS", 5)
# How far (in event ids) a connection may fall behind the live head, its missed events read
# from the table as it drains, before its oldest are dropped and reported.
STREAM_BACKLOG_MAX_EVENTS = env_int("STREAM_BACKLOG_MAX_EVENTS", 10_000)

# The processor's webhooks: every comma-separated secret is accepted (rotation). The default
# is for development only; in production without secrets every delivery is refused (503).
PROCESSOR_WEBHOOK_SECRETS = env_list(
    "PROCESSOR_WEBHOOK_SECRETS", [] if PRODUCTION else ["whsec_payflow_development_only"]
)
if any(len(secret) < 16 for secret in PROCESSOR_WEBHOOK_SECRETS):
    raise ImproperlyConfigured(
        "PROCESSOR_WEBHOOK_SECRETS: each comma-separated secret needs at least 16 characters."
    )
# Where the simulated processor sends its webhooks ("" = this server, as the request reached it).
PROCESSOR_WEBHOOK_URL = os.environ.get("PROCESSOR_WEBHOOK_URL", "").strip()
JANITOR_INTERVAL_SECONDS = env_int("JANITOR_INTERVAL_SECONDS", 60)  # 0 turns the periodic run off

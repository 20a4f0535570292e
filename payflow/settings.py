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

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from exc


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
    "django.contrib.admin",
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
]

MIDDLEWARE = [
    "payflow.observability.RequestIdMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "payflow.observability.RequestMetricsMiddleware",
    "chaos.middleware.ChaosMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
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
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "console")
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
# RequestIdMiddleware has already validated or minted X-Request-ID; structlog binds that one.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
from payflow.observability import configure_logging  # noqa: E402

LOGGING = configure_logging(level=LOG_LEVEL, json_lines=LOG_FORMAT == "json")

# --- PayFlow ---------------------------------------------------------------------------------
PAYFLOW_DEMO_PASSWORD = os.environ.get("PAYFLOW_DEMO_PASSWORD", "")
PAYFLOW_DEMO_TRAFFIC_RATE = env_int("PAYFLOW_DEMO_TRAFFIC_RATE", 5)
CHAOS_ENABLED = env_bool("CHAOS_ENABLED", default=not PRODUCTION)
CHAOS_TIMEOUT_SECONDS = env_int("CHAOS_TIMEOUT_SECONDS", 12)  # an injected hang, then 504
PAYMENT_AMOUNT_CEILING_MINOR = env_int("PAYMENT_AMOUNT_CEILING_MINOR", 100_000_000_000)
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
PAYOUT_CALENDAR = os.environ.get("PAYOUT_CALENDAR", "US")
# "" = the PAYOUT_CALENDAR bank's own zone (America/New_York, Europe/Berlin, Europe/London).
PAYOUT_BANK_TIME_ZONE = os.environ.get("PAYOUT_BANK_TIME_ZONE", "")
PAYOUT_CUTOFF = os.environ.get("PAYOUT_CUTOFF", "17:00")
STREAM_QUEUE_CAPACITY = env_int("STREAM_QUEUE_CAPACITY", 500)
STREAM_REPLAY_MAX_EVENTS = env_int("STREAM_REPLAY_MAX_EVENTS", 10_000)
STREAM_REPLAY_MAX_SECONDS = env_int("STREAM_REPLAY_MAX_SECONDS", 15 * 60)
STREAM_HEARTBEAT_SECONDS = env_int("STREAM_HEARTBEAT_SECONDS", 15)
STREAM_RELAY_ENABLED = env_bool("STREAM_RELAY_ENABLED", True)
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
PAYMENT_STUCK_AFTER_SECONDS = env_int("PAYMENT_STUCK_AFTER_SECONDS", 900)
JANITOR_INTERVAL_SECONDS = env_int("JANITOR_INTERVAL_SECONDS", 60)  # 0 turns the periodic run off

"""Settings for minsheng, read from the environment (see .env.example).

With nothing set, the embedded default runs: SQLite in ./var, the background worker in the
web process, Chinese UI. Production sets DATABASE_URL, REDIS_URL, SECRET_KEY and
MINSHENG_DEBUG=false.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from .env import ConfigError, env_bool, env_float, env_int, env_list, env_secret, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("MINSHENG_DATA_DIR", str(Path.cwd() / "var"))).resolve()
MINSHENG_DATA_DIR = DATA_DIR

DEBUG = env_bool("MINSHENG_DEBUG", False)
TESTING = env_bool("MINSHENG_TESTING", False)

_secret = env_secret("SECRET_KEY")
if not _secret:
    if not (DEBUG or TESTING or env_bool("MINSHENG_EMBEDDED", True)):
        raise ConfigError("SECRET_KEY must be set in production")
    # The embedded demo keeps a generated key in its data folder so sessions survive restarts.
    _key_file = DATA_DIR / "secret_key"
    if _key_file.exists():
        _secret = _key_file.read_text().strip()
    else:
        import secrets

        _secret = secrets.token_urlsafe(50)
        try:
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            _key_file.write_text(_secret)
            _key_file.chmod(0o600)
        except OSError:
            pass
SECRET_KEY = _secret
SECRET_KEY_GENERATED = not env_secret("SECRET_KEY")

# Residents' personal data is encrypted with its own keys (core/crypto.py), never derived from
# SECRET_KEY. The embedded demo generates them into its data folder; production sets both.
MINSHENG_DATA_KEYS = env_secret("MINSHENG_DATA_KEYS") or ""
MINSHENG_INDEX_KEY = env_secret("MINSHENG_INDEX_KEY") or ""
MINSHENG_DATA_KEYS_GENERATED = not (MINSHENG_DATA_KEYS and MINSHENG_INDEX_KEY)
if MINSHENG_DATA_KEYS_GENERATED:
    if MINSHENG_DATA_KEYS or MINSHENG_INDEX_KEY:
        raise ConfigError("Set both MINSHENG_DATA_KEYS and MINSHENG_INDEX_KEY, or neither (embedded demo only)")
    if not (DEBUG or TESTING or env_bool("MINSHENG_EMBEDDED", True)):
        raise ConfigError("MINSHENG_DATA_KEYS and MINSHENG_INDEX_KEY must be set in production")
    from minsheng.core.crypto import generated_key_file

    MINSHENG_DATA_KEYS, MINSHENG_INDEX_KEY = generated_key_file(DATA_DIR)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "minsheng.core",
    "minsheng.cases",
    "minsheng.dispatch",
    "minsheng.intake",
    "minsheng.channels",
    "minsheng.desk",
    "minsheng.analytics",
    "minsheng.demo",
    "minsheng.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "minsheng.core.twofactor.TwoFactorMiddleware",
    "minsheng.config.routers.ReplicaReadsMiddleware",
    "minsheng.core.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "minsheng.config.urls"
WSGI_APPLICATION = "minsheng.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "minsheng.core.context_processors.site",
            ],
        },
    }
]

_default_sqlite = f"sqlite:///{DATA_DIR / 'minsheng.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _default_sqlite), conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True
    )
}
# Read replicas for dashboards and reports (docs/deploy.md): DATABASE_REPLICA_URL, one URL or
# several separated by commas; the router sends the analytics app's reads there.
_replicas = env_list("DATABASE_REPLICA_URL", [])
for _n, _url in enumerate(_replicas, start=1):
    DATABASES[f"replica{_n}" if len(_replicas) > 1 else "replica"] = dj_database_url.parse(
        _url, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True
    )
    DATABASES[f"replica{_n}" if len(_replicas) > 1 else "replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["minsheng.config.routers.ReplicaRouter"] if _replicas else []
MINSHENG_REPLICA_PATHS = env_list("MINSHENG_REPLICA_PATHS", ["/analytics/", "/dashboard/", "/desk/dispatch/quality/", "/api/v1/stats/"])
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process worker write while pages read; the timeout rides out short locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk:home"
LOGOUT_REDIRECT_URL = "login"

# Roles that must use two-factor login (e.g. "admin,dispatcher"); for the others it is optional.
MINSHENG_2FA_REQUIRED_ROLES = env_list("MINSHENG_2FA_REQUIRED_ROLES", [])
AXES_FAILURE_LIMIT = env_int("MINSHENG_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_float("MINSHENG_LOGIN_COOLOFF_HOURS", 0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
# Uploaded files are only ever answered by permission-checked views (core/protected_media.py).
# Behind nginx, set this to an `internal` location (e.g. "/protected-media/") and the view
# hands the sending to nginx with X-Accel-Redirect; empty: Django streams the file itself.
MINSHENG_MEDIA_ACCEL_PREFIX = env_str("MINSHENG_MEDIA_ACCEL_PREFIX", "")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    # Fails open (core/cache.py): with Redis down, residents can still submit.
    CACHES = {"default": {"BACKEND": "minsheng.core.cache.FailOpenRedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    RATELIMIT_FAIL_OPEN = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "minsheng"}}

# Behind a TLS-terminating proxy (nginx, docs/deploy.md): the proxy says the request came
# over HTTPS, and then cookies are Secure, browsers are told to stay on HTTPS (HSTS), and a
# plain-HTTP request is redirected. Each can still be set on its own.
BEHIND_TLS_PROXY = env_bool("MINSHENG_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("MINSHENG_SECURE_COOKIES", BEHIND_TLS_PROXY)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("MINSHENG_SESSION_HOURS", 12) * 3600
SECURE_HSTS_SECONDS = env_int("MINSHENG_HSTS_SECONDS", 31536000 if BEHIND_TLS_PROXY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("MINSHENG_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("MINSHENG_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("MINSHENG_SSL_REDIRECT", BEHIND_TLS_PROXY)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's probe speaks plain HTTP on the inside
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = []
if not SECURE_HSTS_PRELOAD:
    # Browser preload lists are for public internet domains; a district intranet host is not
    # one. `minsheng check` would otherwise fail on this one advisory warning.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Celery: production runs workers and beat against Redis; the embedded default runs the same
# task functions from a thread in the web process (minsheng.core.worker).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # a killed worker's task goes back to the queue
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web process only nudges the workers (the outbox row is the real record): fail fast when
# Redis is down instead of holding a resident's request.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
CELERY_TIMEZONE = TIME_ZONE
# Wake a worker when a transaction commits outbox messages (production with Redis).
MINSHENG_OUTBOX_NUDGE = env_bool("MINSHENG_OUTBOX_NUDGE", bool(REDIS_URL) and not TESTING)
# Intelligent dispatch of a resident's online appeal runs in a worker (an outbox handler) when
# workers are woken for the outbox; otherwise (embedded mode, tests) right after the filing,
# in the request, as the resident waits.
MINSHENG_ROUTE_IN_REQUEST = env_bool("MINSHENG_ROUTE_IN_REQUEST", not MINSHENG_OUTBOX_NUDGE)
# How often beat sweeps the outbox, whatever the nudges did (seconds).
MINSHENG_OUTBOX_SWEEP_SECONDS = env_float("MINSHENG_OUTBOX_SWEEP_SECONDS", 5.0)

# Domain settings a district sets.
MINSHENG_DISTRICT_NAME = env_str("MINSHENG_DISTRICT_NAME", "中原区")
MINSHENG_WORKING_HOURS = env_str("MINSHENG_WORKING_HOURS", "08:30-12:00,13:30-18:00")
MINSHENG_FEEDBACK_DAYS = env_int("MINSHENG_FEEDBACK_DAYS", 7)
MINSHENG_NEAR_DUE_FRACTION = env_float("MINSHENG_NEAR_DUE_FRACTION", 0.2)
MINSHENG_AUTO_DISPATCH_THRESHOLD = env_float("MINSHENG_AUTO_DISPATCH_THRESHOLD", 0.9)
MINSHENG_RETRAIN_DAYS = env_int("MINSHENG_RETRAIN_DAYS", 7)
MINSHENG_RETRAIN_MIN_NEW = env_int("MINSHENG_RETRAIN_MIN_NEW", 50)
MINSHENG_EMBEDDED_WORKER = env_bool("MINSHENG_EMBEDDED_WORKER", False)
MINSHENG_MAX_PHOTOS = 3
MINSHENG_MAX_UPLOAD_BYTES = env_int("MINSHENG_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
# Measuring (docs/metrics.md): composite score weights as JSON, the weight of "basically
# satisfied" in the satisfaction rate, the minimum monthly volume to be ranked, and the length
# of the red and black lists.
if env_str("MINSHENG_SCORE_WEIGHTS"):
    import json as _json

    MINSHENG_SCORE_WEIGHTS = _json.loads(env_str("MINSHENG_SCORE_WEIGHTS"))
MINSHENG_BASIC_SATISFACTION_WEIGHT = env_float("MINSHENG_BASIC_SATISFACTION_WEIGHT", 1.0)
MINSHENG_RANKING_MIN_VOLUME = env_int("MINSHENG_RANKING_MIN_VOLUME", 10)
MINSHENG_RANKING_LIST_SIZE = env_int("MINSHENG_RANKING_LIST_SIZE", 3)
# Ended months of the dashboard trend are kept this long in the cache (0: not kept).
MINSHENG_DASHBOARD_CACHE_SECONDS = env_int("MINSHENG_DASHBOARD_CACHE_SECONDS", 600)
# Open interfaces.
MINSHENG_WEBHOOK_TIMEOUT = env_float("MINSHENG_WEBHOOK_TIMEOUT", 5.0)
MINSHENG_OPEN311_JURISDICTION = env_str("MINSHENG_OPEN311_JURISDICTION", "")
MINSHENG_OPEN311_CONTACT = env_str("MINSHENG_OPEN311_CONTACT", "")
MINSHENG_OPEN311_KEY_SERVICE = env_str("MINSHENG_OPEN311_KEY_SERVICE", "")
# Public endpoints' rate limits (django-ratelimit; counters live in the cache, so production
# needs REDIS_URL for limits shared by every web process).
MINSHENG_SUBMIT_RATE = env_str("MINSHENG_SUBMIT_RATE", "10/h")
MINSHENG_TRACK_RATE = env_str("MINSHENG_TRACK_RATE", "20/h")
MINSHENG_RATE_RATE = env_str("MINSHENG_RATE_RATE", "10/h")
MINSHENG_PLACES_RATE = env_str("MINSHENG_PLACES_RATE", "120/m")
# Behind a reverse proxy every request comes from the proxy's address: name the header that
# carries the client's (e.g. HTTP_X_REAL_IP) so limits apply per resident.
if env_str("RATELIMIT_IP_META_KEY"):
    RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY")
# Personal data of finished cases is erased this many days after closing (`minsheng purge`,
# also run nightly by beat). 0 turns the purge off.
MINSHENG_RETENTION_DAYS = env_int("MINSHENG_RETENTION_DAYS", 3 * 365)
# Deadline policy overrides, e.g. '{"normal": {"resolve_within": "5 days working"}}'.
MINSHENG_DEADLINE_OVERRIDES = env_str("MINSHENG_DEADLINE_OVERRIDES", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

"""Settings for the Joint Action Plan Portal, every value read from the environment.

The README's configuration table lists each variable, its default and its meaning.
With no environment at all the portal runs self-contained: SQLite and a filesystem
Celery broker under ``var/``.
"""

import datetime
import email.utils
import ipaddress
import logging
import os
import re
import warnings
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue
from whitenoise.compress import Compressor

from portal import logs, queues
from portal.rates import Rate
from sso import config as sso_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def _fail(variable: str, problem: str):
    # SystemExit prints one line and stops, where an exception would bury the
    # variable's name under a traceback.
    raise SystemExit(f"Configuration error: {variable} {problem}")


def _read(reader, variable, **kwargs):
    try:
        with warnings.catch_warnings():
            # django-environ warns before failing; the message below says it once.
            warnings.simplefilter("ignore")
            return reader(variable, **kwargs)
    except (ImproperlyConfigured, ValueError, KeyError) as error:
        _fail(variable, f"is not valid ({error})")


_TRUE_WORDS = {"true", "1", "yes", "on"}
_FALSE_WORDS = {"false", "0", "no", "off"}


def _bool(variable: str, *, default: bool) -> bool:
    # django-environ reads any word it does not know ("maybe", "ture") as false, silently.
    value = env.str(variable, default="").strip().lower()
    if not value:
        return default
    if value not in _TRUE_WORDS | _FALSE_WORDS:
        _fail(variable, f"is {value!r}; expected true or false (also 1/0, yes/no, on/off)")
    return value in _TRUE_WORDS


def _web_address(variable: str, *, default: str) -> str:
    value = env.str(variable, default=default)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        _fail(variable, f"is {value!r}; expected an http:// or https:// address, e.g. https://portal.example.org")
    return value


def _read_at_least_one(variable: str, *, default: int) -> int:
    value = _read(env.int, variable, default=default)
    if value < 1:
        _fail(variable, "must be at least 1")
    return value


DEBUG = _bool("DEBUG", default=False)

_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_S3_REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# The S3 store's other variables, each meaningless without the bucket.
_S3_VARIABLES = (
    "AWS_S3_ENDPOINT_URL",
    "AWS_S3_REGION_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_S3_ADDRESSING_STYLE",
)


def _file_storage() -> dict:
    """Where uploaded and generated files go: the local disk, or an S3 bucket once AWS_STORAGE_BUCKET_NAME is set."""
    bucket = env.str("AWS_STORAGE_BUCKET_NAME", default="").strip()
    given = {name: env.str(name, default="").strip() for name in _S3_VARIABLES}
    if not bucket:
        for name, value in given.items():
            if value:
                _fail("AWS_STORAGE_BUCKET_NAME", f"must be set when {name} is (files go to S3 only into a bucket)")
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if not _S3_BUCKET.match(bucket) or ".." in bucket:
        _fail(
            "AWS_STORAGE_BUCKET_NAME",
            f"is {bucket!r}; expected an S3 bucket name: 3-63 lowercase letters, digits, dots, hyphens",
        )
    key, secret = given["AWS_ACCESS_KEY_ID"], given["AWS_SECRET_ACCESS_KEY"]
    if bool(key) != bool(secret):
        missing = "AWS_SECRET_ACCESS_KEY" if key else "AWS_ACCESS_KEY_ID"
        _fail(missing, "must be set with the other key (both, or neither to use the machine's role)")
    endpoint = given["AWS_S3_ENDPOINT_URL"]
    if endpoint:
        _web_address("AWS_S3_ENDPOINT_URL", default=endpoint)
    region = given["AWS_S3_REGION_NAME"]
    if region and not _S3_REGION.match(region):
        _fail("AWS_S3_REGION_NAME", f"is {region!r}; expected a region name such as eu-west-3 or us-east-1")
    style = given["AWS_S3_ADDRESSING_STYLE"] or "auto"
    if style not in ("auto", "path", "virtual"):
        _fail("AWS_S3_ADDRESSING_STYLE", f"is {style!r}; expected auto, path or virtual")
    from botocore.config import Config

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint or None,
            "region_name": region or None,
            "access_key": key or None,
            "secret_key": secret or None,
            "addressing_style": None if style == "auto" else style,
            # Private objects: no ACL sent (the bucket's own, private by default), no public address handed out.
            "default_acl": None,
            "querystring_auth": True,
            # A name taken gets a free one beside it, as on the local disk (two imports of one office and period).
            "file_overwrite": False,
            # A download is read into memory up to 2 MiB, into a temporary file beyond.
            "max_memory_size": 2 * 1024 * 1024,
            # A store that is down answers within seconds (a 503 for downloads), not after minutes of retries.
            "client_config": Config(
                connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}
            ),
        },
    }


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        _fail("SECRET_KEY", "must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-development-key-only-used-while-debug-is-on"  # noqa: S105 -- DEBUG only
elif not DEBUG and len(SECRET_KEY) < 50:
    # Sessions, password reset links and the meetings' figure tokens are signed with it.
    _fail("SECRET_KEY", f"is {len(SECRET_KEY)} characters long; production needs at least 50 (random)")

ALLOWED_HOSTS = _read(env.list, "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = _read(env.list, "CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_bootstrap5",
    "simple_history",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "django_celery_beat",
    "django_structlog",
    "axes",
    "csp",
    "portal",
    "actionplan",
    "steering",
    "audit",
    "outbox",
    "webhooks",
    # Single sign-on through each organisation's OpenID Connect provider: django-allauth's social login
    # only (its own sign-up, password and e-mail pages are not routed); the sso app's provider and rules.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "sso",
]

MIDDLEWARE = [
    # First: a request id bound to every line logged while the request is served, refusals included (portal.logs).
    "django_structlog.middlewares.RequestMiddleware",
    # Around all the rest: each request's time and queries, by the view that answered (portal.metrics).
    "portal.metrics.requests.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # The signed-in user's own choice of language, over the cookie and the browser's.
    "portal.languages.UserLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The request for the access log's writers that are not handed it (a password change's revocations).
    "audit.middleware.CurrentRequestMiddleware",
    # After the user is known, around everything that answers on its behalf (guards, lockouts, views).
    "portal.headers.PrivateResponseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.guards.RequestGuardMiddleware",
    # A download while the file store is down: 503 with a message (portal.storage).
    "portal.storage.StorageUnavailableMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "portal.sessions.InactivityExpiryMiddleware",
    # django-allauth asks for it (its request context, for the single sign-on callback).
    "allauth.account.middleware.AccountMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.user_roles",
            ],
        },
    },
]

# Database ------------------------------------------------------------------

DATABASES = {"default": _read(env.db_url, "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
if not DATABASES["default"].get("ENGINE", "").startswith("django.db.backends."):
    _fail("DATABASE_URL", "is not a database URL (expected postgres://user@host:5432/name or sqlite:///path)")
if not DATABASES["default"].get("NAME"):
    _fail("DATABASE_URL", "names no database")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = _read(env.int, "CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # JIT compilation cost ~150 ms on each of the dashboard's aggregates at scale L and
    # saved less: those queries are big enough to trigger it but too short to repay it.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: Celery broker, result backend and cache -------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    _fail("REDIS_URL", "must start with redis://, rediss:// or unix://")

CELERY_BROKER_FOLDER = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A late-acknowledged task whose worker died is delivered again after this long;
    # it must exceed the longest task, or a slow task would be run twice.
    CELERY_VISIBILITY_TIMEOUT = _read(env.int, "CELERY_VISIBILITY_TIMEOUT", default=3600)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # Look for such tasks every 10 s (kombu's default is every 100 s).
        "unacked_restore_interval": min(10, CELERY_VISIBILITY_TIMEOUT),
        "unacked_restore_throttle": 1,
        # A Redis that stops answering without closing the connection must not hold a request
        # publishing a job forever: give up after a few seconds (the outbox sends it later).
        "socket_timeout": 2,
        "socket_connect_timeout": 2,
    }
    CACHES = {
        "default": {
            # Reads miss and writes are dropped while Redis is unreachable (portal.cache).
            "BACKEND": "portal.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            # Databases sharing a Redis database must not read each other's entries (whose
            # keys hold row ids); a Redis that stops answering must not hang the pages.
            "KEY_PREFIX": _read(env.str, "CACHE_KEY_PREFIX", default=DATABASES["default"]["NAME"]),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Embedded default: a real worker with no Redis. The filesystem transport needs
    # the in and out folders to be one folder so that the worker reads what the web
    # process writes.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    CELERY_RESULT_BACKEND = "django-db"
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_RESULT_EXTENDED = True
# Each kind of job waits in a queue of its own (portal.queues): reports, email, webhooks, housekeeping,
# each named with this prefix; workers take theirs with -Q.
CELERY_QUEUE_PREFIX = env.str("CELERY_QUEUE_PREFIX", default="")
if not re.fullmatch(r"[A-Za-z0-9_.-]*", CELERY_QUEUE_PREFIX):
    _fail("CELERY_QUEUE_PREFIX", "may hold only letters, digits, dots, dashes and underscores")
CELERY_TASK_ROUTES = ("portal.queues.route",)
# A worker started without -Q takes them all; /readyz asks that each have a worker.
CELERY_TASK_QUEUES = [Queue(queues.queue_name(kind, CELERY_QUEUE_PREFIX)) for kind in queues.KINDS]
# The request id follows the request into the tasks it starts (portal.logs); the client's address is the
# portal's own reading of it (portal.addresses), not django-ipware's.
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
# /readyz: how long the workers may take to answer (every queue must have one), and how long ago beat may have run.
READY_WORKER_SECONDS = _read_at_least_one("READY_WORKER_SECONDS", default=2)
READY_BEAT_SECONDS = _read_at_least_one("READY_BEAT_SECONDS", default=180)
CELERY_TASK_DEFAULT_QUEUE = queues.queue_name(queues.HOUSEKEEPING, CELERY_QUEUE_PREFIX)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = _read(env.int, "CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat writes each job's last run as soon as it sends it (not every 3 minutes): /readyz reads it.
CELERY_BEAT_SYNC_EVERY = 1
# Jobs asked for while the broker was down wait in the outbox table until a drain sends them;
# the sent ones are kept this many days for the admin to see, then deleted.
OUTBOX_KEEP_DAYS = _read(env.int, "OUTBOX_KEEP_DAYS", default=7)
# Webhooks (``webhooks.services``): the time-out of one request to a partner; the first wait after a
# failed attempt, doubled each time up to a cap; how long after the change a delivery is tried; how
# many failed attempts in a row switch a webhook off. Private, link-local, multicast and reserved
# addresses are refused, as URLs and as what a URL's name resolves to at each send; loopback ones too
# unless WEBHOOK_ALLOW_LOOPBACK (tests run their receiver on 127.0.0.1); the portal's own address always is.
WEBHOOK_TIMEOUT_SECONDS = _read(env.int, "WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_BACKOFF_SECONDS = _read(env.int, "WEBHOOK_BACKOFF_SECONDS", default=30)
WEBHOOK_BACKOFF_MAX_SECONDS = _read(env.int, "WEBHOOK_BACKOFF_MAX_SECONDS", default=3600)
WEBHOOK_RETRY_HOURS = _read(env.int, "WEBHOOK_RETRY_HOURS", default=24)
WEBHOOK_MAX_FAILURES = _read(env.int, "WEBHOOK_MAX_FAILURES", default=20)
WEBHOOK_ALLOW_LOOPBACK = _bool("WEBHOOK_ALLOW_LOOPBACK", default=False)
# Deliveries that succeeded or failed are kept this many days on the officer's page, then deleted by
# purge_old_deliveries (run daily by beat); pending ones are never deleted.
WEBHOOK_KEEP_DAYS = _read_at_least_one("WEBHOOK_KEEP_DAYS", default=30)
CELERY_TIMEZONE = "UTC"

# Authentication ---------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 first: memory-hard and cheap enough to keep a login fast; older hashes are upgraded at login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# django-axes checks the lockout before any password is hashed.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Failed logins of one username from one address lock it out from there for a while (an office behind
# one address is not locked out by one of its users); administrators unlock in the admin or with
# `manage.py axes_reset_username USERNAME`.
AXES_FAILURE_LIMIT = _read_at_least_one("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=_read_at_least_one("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.auth_views.locked_out"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "portal.addresses.client_address"
# A row per failed sign-in (kept up to 1,000 per username), which /metrics counts: AccessAttempt rows are
# removed by a successful sign-in.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Signed in sessions end after this long without a request.
SESSION_COOKIE_AGE = _read_at_least_one("SESSION_IDLE_HOURS", default=8) * 3600
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on (sso app): the organisations whose people sign in through their own OpenID Connect
# provider, OIDC_ORGANISATIONS=UNODC,INTERPOL, then for each code OIDC_<CODE>_ISSUER, _CLIENT_ID,
# _CLIENT_SECRET and _EMAIL_DOMAINS (sso.config; the README's "Single sign-on"). None listed: the login
# page shows no button and only local passwords sign in.
try:
    SSO_ORGANISATIONS = sso_config.read(os.environ, allow_http_loopback=DEBUG)
except sso_config.ConfigurationError as error:
    _fail(error.variable, error.problem)
# django-allauth does the OpenID Connect exchange; the apps come from SSO_ORGANISATIONS (sso.adapter), and
# every sign-in ends in the sso app's rules: no account is ever created or linked by it.
SOCIALACCOUNT_ADAPTER = "sso.adapter.SocialAccountAdapter"
ACCOUNT_ADAPTER = "sso.adapter.AccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_STORE_TOKENS = False
# Each call to a provider (discovery, token, keys, user info) gives up after this many seconds.
SOCIALACCOUNT_REQUESTS_TIMEOUT = 5

# Internationalisation -----------------------------------------------------------

LANGUAGE_CODE = "en"
# The six official languages of the United Nations, each named in itself (the switcher shows them so).
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("ar", "العربية"),
    ("ru", "Русский"),
    ("zh-hans", "中文（简体）"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    _fail("TIME_ZONE", f"is {TIME_ZONE!r}; expected an IANA time zone such as UTC, Europe/Vienna or Europe/Paris")
USE_I18N = True
# The switcher's cookie lasts a year; for a signed-in user the profile's choice wins anyway.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
USE_TZ = True

# Files ------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Third-party browser assets come from npm (package.json, installed by `make setup`).
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "portal.staticfinders.VendorFinder",
]
# Source maps are for developers' tools, which ask for them uncompressed: compressing them (28 MB of
# the API docs' bundles among them) tripled collectstatic's time for nothing.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
# WhiteNoise's own default, read from DEBUG as configured: the test runner turns DEBUG off after the settings
# are read, and WhiteNoise would then list every collected file each time a test client starts (90 ms each).
WHITENOISE_AUTOREFRESH = DEBUG

# collectstatic compresses each file (gzip and Brotli) for the browsers that accept it: nine tenths of its
# half minute. The benchmark's server turns it off (its clients accept neither, so it is served the same).
STATIC_COMPRESS = _bool("STATIC_COMPRESS", default=True)
if DEBUG:
    _STATIC_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"
elif STATIC_COMPRESS:
    _STATIC_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
else:
    _STATIC_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Stored files (evidence, imported templates, reports) go through Django's storage API (portal.storage):
# the local disk under MEDIA_ROOT, or a private bucket of an S3-compatible store once AWS_STORAGE_BUCKET_NAME
# is set, shared by every web node and worker. Never served from the store: downloads go through the portal.
STORAGES = {
    "default": _file_storage(),
    "staticfiles": {"BACKEND": _STATIC_STORAGE},
}

# E-mail -------------------------------------------------------------------------

globals().update(_read(env.email_url, "EMAIL_URL", default="consolemail://"))
# The portal's address as users reach it, for links in e-mail.
PORTAL_URL = _web_address("PORTAL_URL", default="http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Joint Action Plan Portal <portal@localhost>")
if "@" not in email.utils.parseaddr(DEFAULT_FROM_EMAIL)[1]:
    _fail("DEFAULT_FROM_EMAIL", f"is {DEFAULT_FROM_EMAIL!r}; expected an address, e.g. Portal <portal@example.org>")

# Security -------------------------------------------------------------------------

SESSION_COOKIE_SECURE = _bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = _read(env.int, "SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
# Load balancers probe, and Prometheus scrapes, over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
# How many reverse proxies of ours stand in front of gunicorn, each appending to X-Forwarded-For: the
# client's address (for limits, lockouts and the logs) is the one the outermost of them saw.
TRUSTED_PROXY_COUNT = _read(env.int, "TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    _fail("TRUSTED_PROXY_COUNT", "must be 0 (no proxy) or more")
# Prometheus metrics at /metrics (portal.metrics) answer a scraper that sends METRICS_TOKEN as a bearer token, or
# one whose address (read as above) is in one of the networks of METRICS_ALLOWED_ADDRESSES; others are refused
# (403), and with neither set /metrics is not there at all (404). The counts read from the database (reports,
# e-mails, sign-ins) are those of the last METRICS_WINDOW_MINUTES.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and not re.fullmatch(r"[A-Za-z0-9._~+/=-]{32,}", METRICS_TOKEN):
    _fail("METRICS_TOKEN", "must be at least 32 characters of letters, digits and ._~+/=- (e.g. openssl rand -hex 32)")
METRICS_ALLOWED_ADDRESSES = []
for _network in _read(env.list, "METRICS_ALLOWED_ADDRESSES", default=[]):
    try:
        METRICS_ALLOWED_ADDRESSES.append(ipaddress.ip_network(_network.strip()))
    except ValueError as error:
        _fail("METRICS_ALLOWED_ADDRESSES", f"holds {_network!r}, not a network ({error}); e.g. 10.0.0.0/8,192.0.2.7")
METRICS_WINDOW_MINUTES = _read_at_least_one("METRICS_WINDOW_MINUTES", default=60)
if _bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# Where to report a vulnerability (a mailto: or https: address), published in /.well-known/security.txt.
SECURITY_CONTACT = env.str("SECURITY_CONTACT", default="")
if SECURITY_CONTACT and not SECURITY_CONTACT.startswith(("mailto:", "https://")):
    _fail("SECURITY_CONTACT", "must start with mailto: or https://")
# The portal's page (JSON under /api/) rather than Django's, which styles itself inline against the policy below.
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
# Scripts, styles, images, fonts and requests come from the portal itself, and only from files: no
# inline <script>, <style> or style="" anywhere (data for scripts goes through json_script). Bootstrap's
# stylesheet draws its icons from data: URIs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features the portal never uses, refused to it and to anything it might be made to embed.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=(), xr-spatial-tracking=()"
)

# Rate limits: "count/period" (s, min, hour, day; "20/10min"), counted per user across its tokens and
# sessions, per address for the anonymous; over a limit, 429 with Retry-After (a page in the browser).
_RATE_VARIABLES = {
    "api": ("API_THROTTLE_RATE", "600/min"),
    "api_anonymous": ("API_ANONYMOUS_RATE", "120/min"),
    "export": ("EXPORT_RATE", "30/10min"),
    "public_file": ("PUBLIC_FILE_RATE", "60/10min"),
    "report": ("REPORT_REQUEST_RATE", "20/hour"),
    "password_reset": ("PASSWORD_RESET_RATE", "5/hour"),
    "token": ("TOKEN_CREATION_RATE", "10/hour"),
    "login": ("LOGIN_RATE", "30/min"),
}
RATE_LIMITS = {}
for _scope, (_variable, _default) in _RATE_VARIABLES.items():
    RATE_LIMITS[_scope] = _read(env.str, _variable, default=_default)
    try:
        Rate.parse(RATE_LIMITS[_scope])
    except ValueError as error:
        _fail(_variable, f"is not valid ({error})")

# REST API ---------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a request without credentials is answered 401 with WWW-Authenticate: Token.
        "portal.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "portal.api.parsers.LimitedJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # django-filter's, refusing a filter given empty (?state=) rather than reading it as no filter.
    "DEFAULT_FILTER_BACKENDS": ["portal.api.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.Pagination",
    "DEFAULT_THROTTLE_CLASSES": ["portal.api.throttling.UserRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
}
# Largest JSON body the API reads; a bigger one is refused with 413.
API_MAX_BODY_BYTES = _read(env.int, "API_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(API_MAX_BODY_BYTES, 2_621_440)
# Largest evidence file; a bigger one is refused with 413.
EVIDENCE_MAX_BYTES = _read(env.int, "EVIDENCE_MAX_MB", default=20) * 1024 * 1024
# An update template of more rows is checked and imported by a Celery worker, with a progress bar.
IMPORT_INLINE_ROWS = _read(env.int, "IMPORT_INLINE_ROWS", default=500)
# A queued or running import with no sign of life for this long (no worker took it, or its worker died) is
# failed by the housekeeping task, its page saying which rows were imported. A worker shows life at least
# every few seconds.
IMPORT_STALE_MINUTES = _read_at_least_one("IMPORT_STALE_MINUTES", default=30)
# The age bands indicator values can be broken down by (codes, youngest first).
AGE_BANDS = _read(env.list, "AGE_BANDS", default=["0-17", "18-24", "25-59", "60+"])
if len(set(AGE_BANDS)) != len(AGE_BANDS) or not all(0 < len(band) <= 16 for band in AGE_BANDS):
    _fail("AGE_BANDS", "must list distinct age bands of 1 to 16 characters, separated by commas")
# Idempotency keys are kept at least this long, then purged.
IDEMPOTENCY_KEY_HOURS = 48

# Open data: the IATI 2.03 activity export (actionplan.iati) -----------------------------------

# The reporting organisation's IATI organisation identifier (registration agency, then its number:
# XM-DAC-…, GB-COH-…), which prefixes every activity's iati-identifier; unset, every export is refused,
# naming this variable, rather than published under a made-up identifier.
IATI_ORGANISATION_ID = env.str("IATI_ORGANISATION_ID", default="")
if IATI_ORGANISATION_ID and not re.fullmatch(r"[A-Z]{2}-[A-Z0-9]+-[A-Za-z0-9._-]+", IATI_ORGANISATION_ID):
    _fail("IATI_ORGANISATION_ID", "must be an IATI organisation identifier: a registration agency, then a number")
# The portal's organisation (its code) that reports, named in every language the catalogue translates its
# name into, and its IATI organisation type (40: multilateral).
IATI_REPORTING_ORGANISATION = env.str("IATI_REPORTING_ORGANISATION", default="UNODC")
IATI_ORGANISATION_TYPE = env.str("IATI_ORGANISATION_TYPE", default="40")
if not re.fullmatch(r"[0-9]{2}", IATI_ORGANISATION_TYPE):
    _fail("IATI_ORGANISATION_TYPE", "must be a two-digit IATI organisation type code, e.g. 40")
# Each focus area's OECD DAC 5-digit purpose codes, which share its activities equally:
# "TER=15220,15130;TOC=16063" (areas separated by semicolons, codes by commas).
IATI_SECTORS = _read(
    env.dict,
    "IATI_SECTORS",
    cast={"value": [str]},
    default={
        "TER": ["15220", "15130"],
        "TOC": ["16063", "15130"],
        "CYB": ["15130"],
        "MBS": ["15210"],
        "FCJ": ["15130"],
        "INS": ["15110"],
    },
)
if not all(codes and all(re.fullmatch(r"[0-9]{5}", code) for code in codes) for codes in IATI_SECTORS.values()):
    _fail("IATI_SECTORS", "must give each focus area code 5-digit DAC codes, e.g. TER=15220,15130;CYB=15130")

# Who approves a change request to an endorsed plan, per kind of change (issue 16): "other_officer" (a
# programme officer of the other organisation than the proposer's) or "co_chairs" (the co-chair of each
# organisation). "indicator=other_officer;focus_area=co_chairs"; kinds left out keep their default.
PLAN_CHANGE_APPROVAL = {
    "focus_area": "co_chairs",
    "objective": "other_officer",
    "activity": "other_officer",
    "indicator": "other_officer",
    **_read(env.dict, "PLAN_CHANGE_APPROVAL", default={}),
}
if set(PLAN_CHANGE_APPROVAL) - {"focus_area", "objective", "activity", "indicator"} or not set(
    PLAN_CHANGE_APPROVAL.values()
) <= {"other_officer", "co_chairs"}:
    _fail("PLAN_CHANGE_APPROVAL", "must give kinds among focus_area, objective, activity, indicator each "
          "other_officer or co_chairs, e.g. indicator=other_officer;focus_area=co_chairs")  # fmt: skip

# Knox's own migrations create its default token table even when another model replaces
# it; left unmigrated, the replaced table is never created.
MIGRATION_MODULES = {"knox": None}
KNOX_TOKEN_MODEL = "portal.ApiToken"  # noqa: S105 -- a model name, not a secret
# Every API token expires after at most this many days (the default of a new one).
API_TOKEN_DAYS = _read_at_least_one("API_TOKEN_DAYS", default=90)
REST_KNOX = {
    # The expiry is each token's own, chosen when it is issued (portal.tokens); knox's default is 10 hours.
    "TOKEN_TTL": None,
    "AUTH_HEADER_PREFIX": "Token",
}

# The benchmark's floor views (portal.bench.floors) under /benchmark-floors/: only the server that
# `manage.py benchmark` starts turns them on; a deployment leaves this off.
BENCHMARK_FLOORS = _bool("BENCHMARK_FLOORS", default=False)
if BENCHMARK_FLOORS and ALLOWED_HOSTS != ["127.0.0.1"]:
    # Unauthenticated, unthrottled views: never on a server anyone but the benchmark reaches.
    _fail("BENCHMARK_FLOORS", "is only for the benchmark's own server (ALLOWED_HOSTS=127.0.0.1); leave it off")

# The access log (audit app) keeps this many days; purge_access_log, run daily by beat, removes older events.
ACCESS_LOG_DAYS = _read_at_least_one("ACCESS_LOG_DAYS", default=365)

# The change feed (GET /api/v1/deleted/) remembers deletions this many days; purge_tombstones, run daily by
# beat, forgets older ones, and a partner asking from before then is told to synchronise in full (410).
TOMBSTONE_DAYS = _read_at_least_one("TOMBSTONE_DAYS", default=90)

SPECTACULAR_SETTINGS = {
    "TITLE": "Joint Action Plan Portal API",
    "DESCRIPTION": "Field-office reporting on the UNODC–INTERPOL joint action plan.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ActivityKindEnum": "actionplan.models.Activity.Kind",
        "OfficeKindEnum": "portal.models.Office.Kind",
        # A report's state, and its files' state in each language (the same states).
        "ReportStateEnum": "steering.models.ProgressReport.State",
        # The language of a report, and the one an update or activity was written in.
        "LanguageEnum": "portal.settings.LANGUAGES",
        "ImportRunStateEnum": "actionplan.models.ImportRun.State",
        # The party a co-chair signed for, and the parties still awaited.
        "PartyEnum": "steering.models.Party",
    },
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in logging.getLevelNamesMapping() or LOG_LEVEL == "NOTSET":
    _fail("LOG_LEVEL", f"is {LOG_LEVEL!r}; expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
# One line of JSON per event in production, plain lines while developing (portal.logs).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json").lower()
if LOG_FORMAT not in logs.FORMATS:
    _fail("LOG_FORMAT", f"is {LOG_FORMAT!r}; expected json or plain")
logs.configure_structlog()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {LOG_FORMAT: logs.formatter(LOG_FORMAT)},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler (while DEBUG is on) would print each of its lines a second time
        # beside the root's: configured here, it keeps none and hands its lines to the root.
        "django": {"level": LOG_LEVEL},
        # runserver's access lines too, in the same format as every other line (configuring "django" above
        # took away their own handler).
        "django.server": {"level": LOG_LEVEL},
        # WeasyPrint logs every step of every PDF at INFO, and fontTools every font it subsets.
        **{name: {"level": "WARNING"} for name in ("weasyprint", "fontTools")},
        # A failing readiness check is told in /readyz's answer; its traceback on every probe is noise.
        "health_check": {"level": "ERROR"},
    },
}

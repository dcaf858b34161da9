"""Naumur settings: every value comes from the environment, with development defaults.

Production sets at least DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS and
DATABASE_URL (see README.md, « Mise en production »).
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import environ
import xstatic.pkg.bootstrap as xstatic_bootstrap
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from core.dial import DEFAULT_TEMPLATE, checked_template

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Off unless asked for: `make run` turns it on for the local demo, the test suite through
# pyproject.toml (pytest-env); a server started without it gets production settings.
DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (DEBUG=true for a local run, as `make run`)."
        )
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials.apps.SimpleAppConfig",
    "django_tables2",
    "django_filters",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "auditlog",
    "core",
    "companies",
    "calls",
    "exports",
    "quality",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The language a user chose in the menu, from any machine (after LocaleMiddleware's guess).
    "core.language.UserLanguageMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Who made each change kept in the audit trail (django-auditlog), after authentication.
    "core.audit.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
            # django-template-partials by hand (SimpleAppConfig): on Django 6 delete these
            # two entries and use the built-in {% partialdef %}.
            "builtins": ["template_partials.templatetags.partials"],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
        },
    },
]

# Database: SQLite by default (WAL, busy timeout, IMMEDIATE write transactions so two
# writers queue instead of failing), PostgreSQL in production through DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database host that does not answer fails the request after this many seconds, with the
    # French 503 page of core/unavailable.py, instead of holding a worker (and the operator's
    # lease) until the operating system gives up on the connection.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
# Tests on SQLite use a file, not shared-cache memory: the live server's threads (browser
# tests) then get WAL and the busy timeout instead of "database table is locked".
if test_name := env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": test_name}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"naumur-test-{os.getpid()}.sqlite3")
    }

# The default cache (the dashboard keeps the counts of closed days there) lives in each
# process. With several gunicorn workers or app servers, share one through CACHE_URL:
# redis://host:6379/0 (django-redis; docs/deploy.md), dbcache://naumur_cache (a table
# `make serve-prod` creates) or filecache:///var/cache/naumur.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    # A cache is an optimisation: when Redis is down or slow, every cache read is a miss and
    # every write is dropped (the dashboard recounts from the database), logged, never an error.
    # Short socket timeouts so that an unreachable Redis host costs little per request.
    _redis_options = CACHES["default"].setdefault("OPTIONS", {})
    _redis_options.setdefault("IGNORE_EXCEPTIONS", True)
    _redis_options.setdefault(
        "SOCKET_CONNECT_TIMEOUT", env.float("CACHE_CONNECT_TIMEOUT", default=0.5)
    )
    _redis_options.setdefault("SOCKET_TIMEOUT", env.float("CACHE_TIMEOUT", default=0.5))
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Sessions are kept in the database, the one store every worker and app server shares: a logout
# on one worker holds on the others. With a shared cache (Redis or memcached), each request reads
# its session from the cache instead (about 0.1 ms of CPU against 0.7 ms for the database query)
# and falls back to the database on a miss, Redis down included (core/sessions.py). Not with the
# default cache, which lives in each process: a logout on one worker would leave the session in
# the others' caches. Nor with a file cache (one per host) or the database cache (no gain).
SHARED_CACHE_BACKENDS = {
    "django_redis.cache.RedisCache",
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
}
if CACHES["default"]["BACKEND"] in SHARED_CACHE_BACKENDS:
    SESSION_ENGINE = "core.sessions"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The audit trail (django-auditlog): every change saved to these models (campaigns, companies,
# calls, quotas, the do-not-call list, reviews) is kept with who, when, before and after
# (core/audit.py; shown on the company page, never editable). Registering one more model is one
# line here. Lock and lease columns are not audited: a lease is renewed every
# 30 s and says nothing about the data; `updated_at` only repeats the entry's own time.
LEASE_FIELDS = ["status_before_claim", "locked_by", "locked_at", "lock_expires_at", "lock_token"]
AUDITLOG_INCLUDE_TRACKING_MODELS = [
    {"model": "companies.Campaign"},
    {"model": "companies.Company", "exclude_fields": [*LEASE_FIELDS, "updated_at"]},
    # A call's entries also keep the whole call as it stood (serialized_data): the submission's
    # entry holds every answer, even those first saved in the draft.
    {
        "model": "calls.CallRecord",
        "exclude_fields": ["updated_at"],
        "serialize_data": True,
        "serialize_auditlog_fields_only": True,
    },
    # Quota cells (their counts too: lifecycle.count_in_quotas and quotas.recount write their
    # entries, an UPDATE sends no signal) and the do-not-call list (entries added in bulk or
    # taken off by an UPDATE: companies/donotcall.py writes theirs).
    {"model": "companies.QuotaCell"},
    {"model": "companies.DoNotCallEntry"},
    {"model": "quality.ReviewItem"},
    {"model": "quality.ReviewPolicy"},
    {"model": "quality.Criterion"},
]
# The address of who made a change: the project's trusted client address (core/audit.py), never
# a header the client may set.
AUDITLOG_DISABLE_REMOTE_ADDR = False
AUDITLOG_CID_HEADER = None  # no correlation id taken from a client's header
AUDITLOG_DISABLE_ON_RAW_SAVE = True  # a restore (loaddata) writes no entries of its own

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Django's ModelBackend, reading the user and their permissions with two plain statements per
# request instead of three ORM queries (core/permissions.py): nothing cached, so a permission
# removed takes effect at the next request.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "core.permissions.PermissionBackend",
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ],
)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "calls:home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock a username from one address after AXES_FAILURE_LIMIT failures, and from
# every address after AXES_USERNAME_FAILURE_LIMIT failures from all of them (core/throttling.py),
# both for AXES_COOLOFF_MINUTES. The client's address is REMOTE_ADDR unless told otherwise:
# behind nginx, AXES_IPWARE_META_PRECEDENCE_ORDER=HTTP_X_REAL_IP,REMOTE_ADDR (never a header
# the client can set itself when no proxy overwrites it).
AXES_HANDLER = "core.throttling.LoginThrottle"
AXES_CLIENT_IP_CALLABLE = "core.throttling.client_address"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_USERNAME_FAILURE_LIMIT = env.int("AXES_USERNAME_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_IPWARE_META_PRECEDENCE_ORDER = env.list(
    "AXES_IPWARE_META_PRECEDENCE_ORDER", default=["REMOTE_ADDR"]
)

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("Anglais"))]
# The catalogues: locale/en/LC_MESSAGES/django.po (pages, Python) and djangojs.po (static/js
# through the JavaScript catalogue), French being the source language. `make run` and
# `make test` compile them (`make messages`); docs/ARCHITECTURE.md says how to add a string.
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates, times and numbers per language: core/formats/<language>/formats.py.
FORMAT_MODULE_PATH = ["core.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Africa/Douala")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", xstatic_bootstrap.BASE_DIR)]

MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# Recordings go through Django's storage API only: "default" is the local media folder
# unless STORAGE_BACKEND=s3 selects S3-compatible object storage (django-storages).
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="filesystem")
if STORAGE_BACKEND == "s3":
    from botocore.config import Config as BotoConfig

    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "location": env.str("AWS_LOCATION", default=""),
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "access_key": env.str("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=None),
            # A client config replaces django-storages' own addressing_style and
            # signature_version options, so both are set here. Self-hosted servers (MinIO,
            # Ceph, Garage) have no per-bucket DNS names: path-style addressing when an endpoint
            # is given. boto3 >= 1.36 sends CRC checksums that several S3-compatible servers
            # reject: only when the operation requires one, unless told otherwise.
            "client_config": BotoConfig(
                signature_version="s3v4",
                s3={
                    "addressing_style": env.str(
                        "AWS_S3_ADDRESSING_STYLE",
                        default="path" if AWS_S3_ENDPOINT_URL else "auto",
                    )
                },
                request_checksum_calculation=env.str(
                    "AWS_REQUEST_CHECKSUM_CALCULATION", default="when_required"
                ),
                response_checksum_validation=env.str(
                    "AWS_RESPONSE_CHECKSUM_VALIDATION", default="when_required"
                ),
            ),
            "default_acl": None,  # private objects: recordings are served after a permission check
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
            "file_overwrite": False,
            # Reading an object spools it into a temporary file past this size instead of
            # holding a whole recording in memory (0 would mean: always in memory).
            "max_memory_size": env.int("AWS_S3_MAX_MEMORY_SIZE", default=5 * 1024 * 1024),
        },
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
# How the playback view hands a recording to the web server after its permission check:
# "" (Django streams it), "x-accel-redirect" (nginx) or "x-sendfile" (Apache).
RECORDINGS_SENDFILE = env.str("RECORDINGS_SENDFILE", default="")
RECORDINGS_SENDFILE_PREFIX = env.str("RECORDINGS_SENDFILE_PREFIX", default="/protected-media/")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "naumur_table.html"
# Every table but the two whose Meta.attrs adds an id (they repeat the class).
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-sm table-hover align-middle bg-body"}

MESSAGE_TAGS = {40: "danger"}  # messages.ERROR -> Bootstrap's alert-danger

# Domain settings (docs/ARCHITECTURE.md; documented for users in the README).
PHONE_REGION = env.str("PHONE_REGION", default="CM")
# The link of each number in the call form: tel: by default, or a softphone's (core/dial.py).
DIAL_LINK_TEMPLATE = checked_template(env.str("DIAL_LINK_TEMPLATE", default=DEFAULT_TEMPLATE))
CALL_LOCK_SECONDS = env.int("CALL_LOCK_SECONDS", default=120)
CALLBACK_GRACE = timedelta(minutes=env.int("CALLBACK_GRACE_MINUTES", default=15))
# A million companies make a file of about 100 MB; from IMPORT_BACKGROUND_BYTES on, a file is
# analysed and applied outside the request while the page shows the progress.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
IMPORT_BACKGROUND_BYTES = env.int("IMPORT_BACKGROUND_BYTES", default=2 * 1024 * 1024)
# Recordings (calls/recordings.py): caps per recording, per call, per operator and day (the
# browser's Opus takes about 50 MB an hour), and per upload request.
RECORDING_MAX_BYTES = env.int("RECORDING_MAX_BYTES", default=200 * 1024 * 1024)
RECORDINGS_PER_CALL_MAX = env.int("RECORDINGS_PER_CALL_MAX", default=20)
RECORDING_CALL_MAX_BYTES = env.int("RECORDING_CALL_MAX_BYTES", default=400 * 1024 * 1024)
RECORDING_OPERATOR_DAY_MAX_BYTES = env.int(
    "RECORDING_OPERATOR_DAY_MAX_BYTES", default=2 * 1024 * 1024 * 1024
)
RECORDING_CHUNK_MAX_BYTES = env.int("RECORDING_CHUNK_MAX_BYTES", default=5 * 1024 * 1024)
# How long the recorder waits after an upload before sending the chunks it kept meanwhile (the
# browser holds them, so nothing is lost in between). Uploads are most of a recording operator's
# requests: every 10 s rather than 5 halves them, for a supervisor hearing a call in progress up
# to 10 s late (docs/PERFORMANCE.md).
RECORDING_UPLOAD_SECONDS = env.int("RECORDING_UPLOAD_SECONDS", default=10)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(RECORDING_CHUNK_MAX_BYTES + 1024 * 1024, 2621440)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Security: strict in production, relaxed only by DEBUG for local runs.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_HTTPS_PROXY", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

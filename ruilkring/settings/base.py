"""Settings shared by every environment.

Everything that differs per installation comes from the environment. Variables
are prefixed with ``DJANGO_``, except the conventional ``DATABASE_URL`` and
``CELERY_BROKER_URL``. Every variable is listed in the README. The defaults are
safe for a developer's machine: an SQLite file under ``var/`` and background
jobs on an embedded broker, so nothing needs installing.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "jobs",
    "accounts",
    "ledger",
    "listings",
    "reciprocity",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "ruilkring.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "ruilkring.urls"
WSGI_APPLICATION = "ruilkring.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ruilkring.context_processors.site",
            ],
        },
    },
]

FORM_RENDERER = "ruilkring.form_rendering.FormRenderer"

# The embedded default is an SQLite file under var/, enough for a small circle.
# Production and the test suite use PostgreSQL, which enforces the ledger's
# invariants itself.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ruilkring.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)


def postgres_options(database: dict) -> None:
    """The ledger posts each payment with one prepared statement (Django's own
    queries are never prepared). Behind a pooler in transaction mode that cannot
    keep prepared statements, set DJANGO_DB_PREPARED_STATEMENTS=false."""
    if database["ENGINE"] == "django.db.backends.postgresql":
        prepared = env.bool("DJANGO_DB_PREPARED_STATEMENTS", default=True)
        database.setdefault("OPTIONS", {})["prepare_threshold"] = 0 if prepared else None


postgres_options(DATABASES["default"])
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the job worker read while the other writes;
    # IMMEDIATE transactions take the write lock up front instead of failing
    # halfway with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # SQLite has no unique constraints that treat NULLs as equal (one area
    # snapshot for "no area", one open flag without a second member). The
    # services look such rows up before writing them, which is enough on one
    # machine; PostgreSQL also enforces them.
    SILENCED_SYSTEM_CHECKS = ["models.W047"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: people sign in with their email address, which they verify.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_EMAIL_SUBJECT_PREFIX = env("DJANGO_EMAIL_SUBJECT_PREFIX", default="[Ruilkring] ")
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:my_communities"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"

# Two-factor authentication (django-allauth's mfa): an authenticator app (TOTP)
# with recovery codes. Coordinators, municipality observers and site
# administrators must set it up before they can use those roles
# (accounts.selectors.user_has_two_factor).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Also accept the code of the 30 seconds before and after: a phone's clock that
# runs a little off, or a code typed as it changes, still signs in.
MFA_TOTP_TOLERANCE = 1
# The name the authenticator app shows next to the code: the site's name.
MFA_TOTP_ISSUER = env("DJANGO_SITE_NAME", default="Ruilkring")
RUILKRING_TWO_FACTOR_REQUIRED = True

EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="Ruilkring <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("DJANGO_TIME_ZONE", default="Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"
# The largest photo a member may upload with a listing, in bytes. It is stored
# re-encoded and much smaller (listings.photos).
RUILKRING_PHOTO_MAX_BYTES = env.int("DJANGO_PHOTO_MAX_BYTES", default=5 * 1024 * 1024)

# Cache and rate limits: Redis when configured, local memory otherwise. The
# Redis cache fails soft (ruilkring.cache): while Redis is away every read is a
# miss, every write is skipped and django-allauth's rate limits are open, so the
# site keeps working. Short socket timeouts keep a hanging Redis from holding up
# a request.
REDIS_URL = env("DJANGO_REDIS_URL", default="")


def redis_caches(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "ruilkring.cache.FailSoftRedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


if REDIS_URL:
    CACHES = redis_caches(REDIS_URL)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in the database, never in the cache: a Redis outage must not
# sign everyone out.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Background jobs. With CELERY_BROKER_URL set, a real broker (Redis) carries
# the jobs to `celery worker` and `celery beat`. Without it, an embedded
# file-system broker under var/ carries them, so `make run` still runs a real
# worker and scheduler with nothing to install.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_BROKER_IS_EMBEDDED = not CELERY_BROKER_URL
# A Redis broker that is away or hangs must not hold up a page that queues a
# job: connecting and every socket read give up within seconds, and a publish
# is retried once. A job that still cannot be sent waits in the database until
# the broker is back (jobs.services). The socket timeout stays above the
# worker's one-second BRPOP.
REDIS_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 1,
}
CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
if CELERY_BROKER_IS_EMBEDDED:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("DJANGO_CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "payment-requests-auto-accept": {
        "task": "ledger.tasks.payment_requests_auto_accept",
        "schedule": env.int("DJANGO_AUTO_ACCEPT_INTERVAL_SECONDS", default=15 * 60),
    },
    "listings-expire": {
        "task": "listings.tasks.listings_expire",
        "schedule": 60 * 60,
    },
    "exchange-payments-sync": {
        "task": "listings.tasks.exchange_payments_sync",
        "schedule": 5 * 60,
    },
    "notifications-digest": {
        "task": "accounts.tasks.notifications_digest",
        "schedule": crontab(day_of_week="monday", hour=8, minute=0),
    },
    # Jobs that could not reach the broker when they were queued (jobs.services).
    "jobs-pending-flush": {
        "task": "jobs.tasks.pending_jobs_flush",
        "schedule": 60,
    },
    # One job per community, spread over the workers; before anyone is up.
    "reciprocity-nightly": {
        "task": "reciprocity.tasks.reciprocity_nightly",
        "schedule": crontab(hour=3, minute=15),
    },
    # Retention: expired data exports, old notifications, application notes, and
    # people who left long ago (privacy.services.retention_apply).
    "privacy-retention": {
        "task": "privacy.tasks.privacy_retention",
        "schedule": crontab(hour=4, minute=30),
    },
}

REST_FRAMEWORK = {
    # The token scheme comes first: DRF answers an unauthenticated request with
    # the first scheme's challenge, so a missing, unknown or revoked token gets
    # a 401 with "WWW-Authenticate: Bearer" (the session has no challenge and
    # would turn it into a 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Request bodies are JSON, whose integers stay integers; only the listing
    # endpoints also take a multipart form, for a photo (listings.api).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "ruilkring.api_errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "ruilkring.api_schema.AutoSchema",
}

# The OpenAPI description at /api/schema/ and its documentation at /api/docs/.
# The documentation page's scripts are served from our own static files (the
# sidecar), because many municipal networks cannot reach a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Ruilkring API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "The API of a Ruilkring instance: memberships, accounts, payments, listings "
        "and exchanges. Amounts are integers in the community's minor unit (minutes "
        "or hundredths). Sign in with the browser session or send a personal access "
        "token as `Authorization: Bearer rk_...` (create one at /account/tokens/). "
        "Errors are `application/problem+json` with a stable `code`."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# The parts of `manage.py seed_demo`, in the order the apps depend on each other.
# Where matching suggestions learn whom to leave out (listings.selectors):
# dotted paths to functions f(community=) returning membership ids.
RUILKRING_MATCHING_EXCLUDE: list[str] = [
    # Members under an unresolved overload signal get some rest from suggestions.
    "reciprocity.flags.overloaded_memberships",
]

RUILKRING_DEMO_SEEDERS = [
    "accounts.demo.demo_seed",
    "ledger.demo.demo_seed",
    "listings.demo.demo_seed",
    "reciprocity.demo.demo_seed",
]

# The accessibility statement (toegankelijkheidsverklaring) that every site a
# Dutch government body hosts must publish. The page at /accessibility/ builds it
# from the settings below (accounts.accessibility); they are read, and checked,
# when the page is shown.
#
# Where the footer links to for the statement. Keep the default to show the page
# built here, or point it to the host's own statement, for example its entry in
# the official register; the page built here then links to that one too.
RUILKRING_ACCESSIBILITY_STATEMENT_URL = env(
    "DJANGO_ACCESSIBILITY_STATEMENT_URL", default="/accessibility/"
)
# Who makes the statement, for example "gemeente Utrecht". Defaults to the site
# name when the instance sets one; without either, the page says "the
# organisation that hosts this site" (not the product's name, Ruilkring, which
# hosts nothing).
RUILKRING_ACCESSIBILITY_ORGANISATION = env(
    "DJANGO_ACCESSIBILITY_ORGANISATION", default=env("DJANGO_SITE_NAME", default="")
)
# Where people report an accessibility problem: an e-mail address or an http(s)
# address (a contact form). Empty: the page tells them to ask their coordinator.
RUILKRING_ACCESSIBILITY_CONTACT = env("DJANGO_ACCESSIBILITY_CONTACT", default="")
# The date of the statement, or of the last check it rests on: YYYY-MM-DD.
# Empty: the page shows no date (the law asks for one, so set it in production).
RUILKRING_ACCESSIBILITY_STATEMENT_DATE = env("DJANGO_ACCESSIBILITY_STATEMENT_DATE", default="")
# How far the site complies with WCAG 2.1 level AA: "fully", "partially" or
# "not_yet" (accounts.accessibility.ComplianceStatus). "partially" is the honest
# default until a person has reviewed what the automated checks cannot see.
RUILKRING_ACCESSIBILITY_COMPLIANCE = env("DJANGO_ACCESSIBILITY_COMPLIANCE", default="partially")
# Known limitations, as plain text (optional). A blank line starts a new
# paragraph; in a one-line variable, write \n for a line break.
RUILKRING_ACCESSIBILITY_LIMITATIONS = env.str(
    "DJANGO_ACCESSIBILITY_LIMITATIONS", default="", multiline=True
)
# The host's own statement text per language (optional), as plain text like the
# limitations. When set for the visitor's language it replaces the default text,
# which explains the status and lists what the automated checks cover.
RUILKRING_ACCESSIBILITY_STATEMENT_TEXT = {
    "nl": env.str("DJANGO_ACCESSIBILITY_STATEMENT_TEXT_NL", default="", multiline=True),
    "en": env.str("DJANGO_ACCESSIBILITY_STATEMENT_TEXT_EN", default="", multiline=True),
}
# Privacy (AVG/GDPR). The privacy statement at /privacy/ names who is responsible
# for the personal data on this site (the controller) and how to reach them
# (privacy.statement), and shows the retention periods below, which the daily
# job "privacy-retention" applies (privacy.services.retention_apply).
#
# The controller, for example "gemeente Utrecht". Defaults to the site name when
# the instance sets one; without either, the page says "the organisation that
# hosts this site".
RUILKRING_PRIVACY_ORGANISATION = env(
    "DJANGO_PRIVACY_ORGANISATION", default=env("DJANGO_SITE_NAME", default="")
)
# Where people send questions and requests about their data: an e-mail address
# or an http(s) address (a form). Empty: the page tells them to ask their coordinator.
RUILKRING_PRIVACY_CONTACT = env("DJANGO_PRIVACY_CONTACT", default="")
# Days a member's data export can be downloaded; then its file is deleted.
RUILKRING_RETENTION_EXPORT_DAYS = env.int("DJANGO_RETENTION_EXPORT_DAYS", default=7)
# Days a notification stays in a person's inbox on the site.
RUILKRING_RETENTION_NOTIFICATIONS_DAYS = env.int("DJANGO_RETENTION_NOTIFICATIONS_DAYS", default=365)
# Days after an application was declined, or a membership ended, before the note
# sent with the application is emptied.
RUILKRING_RETENTION_APPLICATION_DAYS = env.int("DJANGO_RETENTION_APPLICATION_DAYS", default=180)
# Days after which someone who left every circle, and has not signed in since,
# is erased like a member who asks for it: the profile is pseudonymised and
# what they wrote is scrubbed. The ledger keeps every transfer.
RUILKRING_RETENTION_LEFT_MEMBER_DAYS = env.int("DJANGO_RETENTION_LEFT_MEMBER_DAYS", default=730)
# The name the instance shows in the header, for example the municipality's.
RUILKRING_SITE_NAME = env("DJANGO_SITE_NAME", default="Ruilkring")
# The site's address, for links in mail (for example https://ruilkring.example.nl).
RUILKRING_SITE_URL = env("DJANGO_SITE_URL", default="").rstrip("/")
# An extra stylesheet with the instance's own NL Design System theme tokens.
RUILKRING_THEME_CSS_URL = env("DJANGO_THEME_CSS_URL", default="")

# Security headers, here and in production (which adds HTTPS: HSTS, secure
# cookies, the redirect). The Content-Security-Policy (django-csp) lets a page
# load only this site's own files: the pages have no JavaScript of their own and
# keep every style in stylesheets, so no inline script or style is allowed
# anywhere, and the charts are plain SVG styled by class. It is enforced locally
# as well, so a developer sees a violation in the browser console at once, and
# the browser tests fail on any. Listing photos come from a view on this site
# (listings.views.listing_photo), never from another media origin; "data:" is
# the empty favicon. The API documentation page adds one hash (ruilkring.urls).
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True


def url_origin(url: str) -> str:
    """The scheme and host of an address on another site ("" for one on this site),
    as a Content-Security-Policy source."""
    parts = urlsplit(url)
    if not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme else parts.netloc


# A theme stylesheet on another site may load its typeface from there too.
_theme_origin = url_origin(RUILKRING_THEME_CSS_URL)
_theme_origins = [_theme_origin] if _theme_origin else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, *_theme_origins],
        "font-src": [SELF, *_theme_origins],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Logs go to standard error, in one of two formats: "text" to read in a
# terminal, or "json", one object per line (time in ISO 8601 UTC, level,
# logger, message, any extra fields and the traceback) for journald or a log
# collector. Production defaults to json (settings.production).
LOG_FORMATS = ("text", "json")


def log_format(default: str) -> str:
    value = env("DJANGO_LOG_FORMAT", default=default)
    if value not in LOG_FORMATS:
        raise ImproperlyConfigured(
            f"DJANGO_LOG_FORMAT is {value!r}; it must be one of: {', '.join(LOG_FORMATS)}."
        )
    return value


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": log_format("text"),
        }
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}

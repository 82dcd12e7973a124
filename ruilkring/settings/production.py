"""Settings for a real installation: PostgreSQL, Redis, HTTPS behind a proxy.

``DJANGO_SECRET_KEY``, ``DATABASE_URL``, ``CELERY_BROKER_URL``,
``DJANGO_REDIS_URL`` and ``DJANGO_ALLOWED_HOSTS`` must be set; starting without
them fails loudly instead of running with a development default.
"""

from ruilkring.settings.base import *  # noqa: F403
from ruilkring.settings.base import LOGGING as _base_logging
from ruilkring.settings.base import (
    REDIS_BROKER_TRANSPORT_OPTIONS,
    env,
    log_format,
    postgres_options,
    redis_caches,
)

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
postgres_options(DATABASES["default"])
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_BROKER_IS_EMBEDDED = False
CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS
REDIS_URL = env("DJANGO_REDIS_URL")
# Fails soft while Redis is away (ruilkring.cache); sessions stay in the database.
CACHES = redis_caches(REDIS_URL)
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
# Structured logs: one JSON object per line (settings.base explains the formats).
# A copy with its own console handler: base's dict stays as it is.
_console = {**_base_logging["handlers"]["console"], "formatter": log_format("json")}
LOGGING = {**_base_logging, "handlers": {"console": _console}}

# HTTPS. The reverse proxy terminates TLS and says so in a header, by default
# X-Forwarded-Proto (named as Django's request.META names it). Set the variable
# empty when no proxy sits in front: a client could then forge the header.
_proxy_ssl_header = env("DJANGO_SECURE_PROXY_SSL_HEADER", default="HTTP_X_FORWARDED_PROTO")
SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https") if _proxy_ssl_header else None
# How many proxies in front of gunicorn append to X-Forwarded-For (nginx: one).
# django-allauth takes the visitor's address from there for its rate limits on
# login, sign-up and password reset; with 0 every visitor would look like the
# proxy, and one person's failed logins would lock out everyone.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=1)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# "preload" only allows submitting the domain to browsers' preload list; it submits nothing.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
# The referrer policy, nosniff and X-Frame-Options are in base, with the CSP.
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(STATIC_ROOT))  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

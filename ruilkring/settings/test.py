"""Settings for the test suite.

The test harness (``tests/harness.py``) starts a private PostgreSQL and Redis
and passes their addresses in ``DATABASE_URL`` and ``DJANGO_REDIS_URL``.
Jobs run eagerly inside the test, so a test sees their effects at once; the
tests that exercise a real worker opt out of that explicitly.
"""

from ruilkring.settings.base import *  # noqa: F403
from ruilkring.settings.base import env

SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
RUILKRING_REQUIRE_POSTGRES = env.bool("RUILKRING_REQUIRE_POSTGRES", default=False)
# Serve static files from the app folders; the tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Coordinators, observers and administrators need two-factor authentication
# everywhere else. Most tests exercise what those roles may do, not how they
# signed in, so the requirement is off here; the tests of the requirement, the
# authorization matrix and the browser journeys switch it on.
RUILKRING_TWO_FACTOR_REQUIRED = False

"""The Celery application: background jobs for analytics, mail, exports, imports.

Configuration comes from Django's settings (the ``CELERY_`` names). Tasks are
thin: they load an object, call a service, and are queued with
``transaction.on_commit`` so a job never runs on data that was rolled back.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruilkring.settings.base")

app = Celery("ruilkring")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

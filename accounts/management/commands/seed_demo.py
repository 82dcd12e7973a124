import logging

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from accounts.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from ruilkring.celery import app as celery_app


class Command(BaseCommand):
    help = "Create the demo circles, members and logins. Running it again changes nothing."

    def handle(self, *args, **options) -> None:
        # The demo people have made-up addresses: nobody should get their mail,
        # and no job should wait in the queue for them.
        settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
        celery_app.conf.task_always_eager = True
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        logins = {}
        # Each app adds its part of the demo, in dependency order (settings).
        for seeder in settings.RUILKRING_DEMO_SEEDERS:
            logins.update(import_string(seeder)())
        self.stdout.write(
            self.style.SUCCESS(f"Demo data is ready. Logins (password: {DEMO_PASSWORD}):")
        )
        for role, email in logins.items():
            self.stdout.write(f"  {role:<24} {email}")
        self.stdout.write(
            "Coordinators, the observer and the administrator also need a two-factor code:\n"
            f"  add the key {DEMO_TOTP_SECRET} to an authenticator app, or run\n"
            "  .venv/bin/python manage.py demo_code"
        )

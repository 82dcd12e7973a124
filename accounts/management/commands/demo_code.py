from django.core.management.base import BaseCommand

from accounts.demo import DEMO_TOTP_SECRET, demo_totp_code


class Command(BaseCommand):
    help = (
        "Print the demo's current two-factor code, for signing in as a demo coordinator, "
        "observer or administrator."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(demo_totp_code())
        self.stdout.write(
            f"(authenticator key {DEMO_TOTP_SECRET}; the code changes every 30 seconds)",
            self.style.HTTP_INFO,
        )

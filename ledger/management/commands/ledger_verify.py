from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import community_get_by_slug
from ledger.selectors import ledger_verify
from ruilkring.errors import NotFound


class Command(BaseCommand):
    help = (
        "Recompute every balance and version chain from the entries, check that each "
        "transfer and each community sums to zero, and exit 1 on any difference."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--community", metavar="SLUG", help="check only this community")

    def handle(self, *args, community: str | None = None, **options) -> None:
        scope = None
        if community:
            try:
                scope = community_get_by_slug(slug=community)
            except NotFound as error:
                raise CommandError(f"No community with slug {community!r}.") from error
        report = ledger_verify(community=scope)
        self.stdout.write(
            f"Checked {report.communities} communities, {report.accounts} accounts, "
            f"{report.transfers} transfers, {report.entries} entries."
        )
        if report.clean:
            self.stdout.write(self.style.SUCCESS("The books are consistent."))
            return
        for difference in report.differences:
            self.stderr.write(difference)
        raise CommandError(f"{len(report.differences)} differences found.", returncode=1)

"""The demo circles analysed, so that `make run` shows snapshots and flags.

Runs the same backfill as the nightly job, synchronously. Seeding again
leaves the finished months as they are and computes the current one again.
"""

from __future__ import annotations

from accounts.models import Community
from reciprocity.models import AnalysisRun
from reciprocity.services import analysis_perform


def demo_seed() -> dict[str, str]:
    """Analyse the last year of every demo circle. Returns no extra logins."""
    for community in Community.objects.filter(slug__in=("niksen", "sterrenstelsel")).order_by(
        "slug"
    ):
        # Recorded as a run, as the nightly job's are, so the analysis page
        # shows when the figures were made.
        analysis_perform(community=community, run=AnalysisRun.objects.create(community=community))
    return {}

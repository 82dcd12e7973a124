"""Background jobs of the reciprocity analysis. Thin: each calls one service.

Each community is analysed as its own job, so the nightly work spreads over
every worker.
"""

from celery import shared_task

from accounts.models import Community
from reciprocity import services
from reciprocity.models import AnalysisRun


@shared_task
def reciprocity_nightly() -> int:
    """Queue one analysis job per community (scheduled by celery beat)."""
    runs = services.analysis_runs_nightly()
    for run in runs:
        reciprocity_analyse_community.delay(run.community_id, run.pk)
    return len(runs)


@shared_task
def reciprocity_analyse_community(community_id: int, run_id: int | None = None) -> None:
    """Analyse one community's months and evaluate its flags."""
    community = Community.objects.get(pk=community_id)
    run = AnalysisRun.objects.get(pk=run_id, community=community) if run_id else None
    services.analysis_perform(community=community, run=run)

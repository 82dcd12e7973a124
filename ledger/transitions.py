"""The payment-request workflow as data: which steps exist and who may take them.

``payment_request_decide`` in ``ledger.services`` is the only function that
changes a request's status. It looks the step up here, checks the actor and
records an event row.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ledger.models import RequestStatus


class Party(models.TextChoices):
    PAYER = "payer", _("the member who pays")
    PAYEE = "payee", _("the member who asked")
    COORDINATOR = "coordinator", _("a coordinator")
    SYSTEM = "system", _("the system")


R = RequestStatus
REQUEST_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # Paying: by the payer, by a coordinator on the payer's behalf (for members
    # who are not online), or by the system under an auto-accept policy.
    (R.PENDING, R.ACCEPTED): frozenset({Party.PAYER, Party.COORDINATOR, Party.SYSTEM}),
    (R.PENDING, R.REJECTED): frozenset({Party.PAYER, Party.COORDINATOR}),
    (R.PENDING, R.CANCELLED): frozenset({Party.PAYEE, Party.COORDINATOR}),
}

"""However a coordinator ends a dispute, it takes a reason, and both members hear
it in their own language with what it means for their accounts.

Anna (who reads Dutch) helped Bram (who reads English) in the garden; Bram says
something is not right, and Mieke, a coordinator, decides.
"""

import pytest

from accounts.models import Notification
from ledger.models import Account, Transfer
from listings import services
from listings.models import Exchange, ExchangeStatus
from ruilkring.errors import InvalidInput

pytestmark = pytest.mark.django_db
S = ExchangeStatus


def step(actor, exchange, to_status, **extra):
    return services.exchange_step(actor=actor, exchange=exchange, to_status=to_status, **extra)


def balance(member):
    account = Account.objects.filter(membership=member).first()
    return account.balance if account else 0


def disputed(*, anna, bram, place, paid: bool, amount: int | None):
    exchange = services.exchange_propose(actor=bram.user, listing=place(), description="De heg")
    step(anna.user, exchange, S.ACCEPTED)
    if amount is not None:
        step(anna.user, exchange, S.DONE, amount=amount)
    if paid:
        step(bram.user, exchange, S.PAID)
    return step(bram.user, exchange, S.DISPUTED, note="Niet goed gegaan.")


# outcome: (how the dispute came about, the coordinator's step, what both
# members then read, Anna's and Bram's balances after)
OUTCOMES = {
    "cancel, nothing paid": (
        {"paid": False, "amount": None},
        {"to_status": S.CANCELLED},
        (
            "Voor deze ruil is niets betaald, en dat gebeurt ook niet meer.",
            "Nothing was paid for this exchange, and nothing will be.",
        ),
        (0, 0),
    ),
    "pay in full": (
        {"paid": False, "amount": 90},
        {"to_status": S.PAID, "amount": 90},
        (
            "Bram geeft Anna 1,5\u00a0uren, zoals de coördinator heeft besloten.",
            "Bram gives Anna 1.5\u00a0hours, as the coordinator decided.",
        ),
        (90, -90),
    ),
    "pay in part": (
        {"paid": False, "amount": 90},
        {"to_status": S.PAID, "amount": 60},
        (
            "Bram geeft Anna 1\u00a0uur, zoals de coördinator heeft besloten.",
            "Bram gives Anna 1\u00a0hour, as the coordinator decided.",
        ),
        (60, -60),
    ),
    "reverse the payment": (
        {"paid": True, "amount": 90},
        {"to_status": S.CANCELLED},
        (
            "De betaling van 1,5\u00a0uren is teruggedraaid: hij gaat terug van Anna naar Bram.",
            "The payment of 1.5\u00a0hours is reversed: it goes back from Anna to Bram.",
        ),
        (0, 0),
    ),
    "the payment stays": (
        {"paid": True, "amount": 90},
        {"to_status": S.PAID},
        (
            "De betaling van 1,5\u00a0uren blijft zoals hij was.",
            "The payment of 1.5\u00a0hours stays as it was.",
        ),
        (90, -90),
    ),
}


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_every_outcome_needs_a_reason_and_nothing_changes_without_one(
    anna, bram, coordinator, place, outcome
):
    how, decision, _told, _balances = OUTCOMES[outcome]
    exchange = disputed(anna=anna, bram=bram, place=place, **how)
    before = (balance(anna), balance(bram), Transfer.objects.count(), Notification.objects.count())
    for note in ("", "  \n "):
        with pytest.raises(InvalidInput, match="Give a reason"):
            step(coordinator, exchange, note=note, **decision)
    assert Exchange.objects.get(pk=exchange.pk).status == S.DISPUTED
    after = (balance(anna), balance(bram), Transfer.objects.count(), Notification.objects.count())
    assert after == before


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_every_outcome_tells_both_members_in_their_own_language(
    anna, bram, coordinator, place, outcome
):
    anna.user.language = "nl"
    anna.user.save()
    how, decision, (anna_reads, bram_reads), balances = OUTCOMES[outcome]
    exchange = disputed(anna=anna, bram=bram, place=place, **how)
    seen = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
    decided = step(coordinator, exchange, note="Samen besproken op de koffie.", **decision)
    assert decided.status == decision["to_status"]
    assert (balance(anna), balance(bram)) == balances
    for member, reads, reason, status in (
        (anna, anna_reads, "Reden: Samen besproken op de koffie.", "Ruil: "),
        (bram, bram_reads, "Reason: Samen besproken op de koffie.", "Exchange: "),
    ):
        told = Notification.objects.filter(user=member.user, kind="exchange_step", pk__gt=seen)
        assert told.count() == 1, f"{member} hears of the decision once"
        told = told.get()
        assert told.subject.startswith(status)
        assert reads in told.body and reason in told.body
        assert told.link.endswith(f"/exchanges/{exchange.pk}/")
    assert not Notification.objects.filter(user=coordinator, pk__gt=seen).exists()

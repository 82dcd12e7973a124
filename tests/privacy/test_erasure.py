"""Anna leaves and has her data erased; the circle's books stay whole.

Her balance of +60 minutes goes to the community pot with one ordinary
transfer, her membership ends, her profile becomes "Erased member #N", and what
she wrote is removed, also from the descriptions of her payments. Amounts,
accounts and dates stay, so ``ledger_verify`` finds nothing wrong.
"""

import io

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from accounts.models import (
    ApiToken,
    Membership,
    MembershipEvent,
    Notification,
    NotificationPreference,
    Role,
    Status,
    User,
)
from accounts.services import api_token_create
from ledger import services as ledger
from ledger.models import Account, AccountKind, Entry, Transfer, TransferKind
from listings.models import (
    Exchange,
    ExchangeMessage,
    Listing,
    ListingStatus,
    ThankYou,
)
from privacy import services
from privacy.models import Erasure, ErasureReason, PrivacySettings, SettleInto
from ruilkring.errors import NotAllowed, PaymentRefused, TransitionNotAllowed
from tests.privacy.conftest import PASSWORD, balance, make_member, next_key

pytestmark = pytest.mark.django_db

REMOVED = "(removed)"


def books() -> dict[str, list[tuple]]:
    """Every transfer and entry as the books hold them, except the descriptions."""
    return {
        "transfers": list(
            Transfer.objects.order_by("pk").values_list(
                "pk", "kind", "reason", "created_at", "idempotency_key", "created_by"
            )
        ),
        "entries": list(
            Entry.objects.order_by("pk").values_list(
                "pk", "transfer", "account", "amount", "balance_after", "version"
            )
        ),
    }


def ledger_is_consistent() -> str:
    out = io.StringIO()
    call_command("ledger_verify", stdout=out)
    return out.getvalue()


def pot(circle) -> Account:
    return ledger.system_account_open(community=circle, kind=AccountKind.POT)


def snapshot(user: User) -> dict:
    """What a failed erasure must leave exactly as it was."""
    user.refresh_from_db()
    return {
        "user": (user.display_name, user.email, user.password, user.is_active),
        "memberships": list(
            Membership.objects.filter(user=user).values_list("status", "application_note")
        ),
        "emails": EmailAddress.objects.filter(user=user).count(),
        "books": books(),
        "memos": list(Transfer.objects.order_by("pk").values_list("memo", flat=True)),
        "messages": list(ExchangeMessage.objects.order_by("pk").values_list("body", flat=True)),
        "erasures": Erasure.objects.count(),
    }


@pytest.fixture
def bram_pays_carla(circle, bram, carla):
    """A transfer between two others: Anna's erasure must leave it alone."""
    return ledger.transfer_create(
        actor=bram.user,
        community=circle,
        kind="payment",
        payer=ledger.account_open(membership=bram),
        payee=ledger.account_open(membership=carla),
        amount=15,
        memo="Soep voor Bram",
        idempotency_key=next_key(),
    )


def test_annas_balance_goes_to_the_pot_by_a_transfer_with_the_reason(circle, story, anna):
    before = books()
    services.member_erase(actor=anna.user, user=anna.user)
    settle = Transfer.objects.get(idempotency_key=f"erasure:{anna.pk}")
    assert (settle.kind, settle.reason) == (TransferKind.POT_DONATION, "Balance settled on leaving")
    assert settle.created_by_id == anna.user_id
    assert sorted(settle.entries.values_list("account__kind", "amount")) == [
        (AccountKind.MEMBER, -60),
        (AccountKind.POT, 60),
    ]
    assert (balance(anna), pot(circle).balance) == (0, 60)
    after = books()
    assert after["transfers"] == [*before["transfers"], after["transfers"][-1]]
    assert after["entries"][: len(before["entries"])] == before["entries"]
    assert len(after["entries"]) == len(before["entries"]) + 2, "one transfer added, none changed"
    assert "The books are consistent." in ledger_is_consistent()


def test_her_membership_ends_as_a_step_of_the_system(story, anna):
    services.member_erase(actor=anna.user, user=anna.user)
    anna.refresh_from_db()
    assert anna.status == Status.LEFT and anna.left_at is not None
    event = MembershipEvent.objects.filter(membership=anna).first()
    assert (event.from_value, event.to_value, event.actor) == (Status.ACTIVE, Status.LEFT, None)


def test_her_profile_becomes_a_placeholder_and_she_cannot_sign_in(client, story, anna):
    user = anna.user
    api_token_create(user=user, name="Spreadsheet")
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    NotificationPreference.objects.create(user=user, kind="exchange_message", channel="none")
    signed_in = client.__class__()
    signed_in.force_login(user)

    erasure = services.member_erase(actor=user, user=user)

    user.refresh_from_db()
    assert erasure.reason == ErasureReason.REQUEST
    assert user.display_name == f"Erased member #{erasure.number}"
    assert user.email == f"erased-{erasure.number}@invalid"
    assert not user.has_usable_password() and not user.is_active
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not Authenticator.objects.filter(user=user).exists()
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert not Notification.objects.filter(user=user).exists()
    assert not NotificationPreference.objects.filter(user=user).exists()
    assert not client.login(email="anna@example.org", password=PASSWORD)
    response = client.post(
        reverse("account_login"), {"login": "anna@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200, "the sign-in form is shown again"
    response = signed_in.get(reverse("privacy:my_data"))
    assert response.status_code == 302 and "/login/" in response["Location"], (
        "a session from before the erasure no longer works"
    )


def test_what_she_wrote_is_scrubbed_and_what_others_wrote_stays(
    circle, story, anna, bram, bram_pays_carla, django_capture_on_commit_callbacks
):
    photo = story.listing.photo.name
    assert default_storage.exists(photo)
    with django_capture_on_commit_callbacks(execute=True):
        services.member_erase(actor=anna.user, user=anna.user)

    listing = Listing.objects.get(pk=story.listing.pk)
    assert (listing.title, listing.description, listing.photo.name) == (REMOVED, REMOVED, "")
    assert listing.status == ListingStatus.REMOVED
    assert not default_storage.exists(photo)
    assert dict(ExchangeMessage.objects.values_list("author", "body")) == {
        anna.user_id: REMOVED,
        bram.user_id: "Fijn, tot dan.",
    }
    # Bram wrote the proposal and the thank-you note: they are his, and stay.
    assert Exchange.objects.get().description == "Zaterdag mijn heg knippen?"
    assert ThankYou.objects.get().body == "Dank je wel, Anna!"
    assert Membership.objects.get(pk=anna.pk).application_note == ""
    memos = dict(Transfer.objects.values_list("pk", "memo"))
    assert memos[story.hedge.pk] == "" and memos[story.shopping.pk] == ""
    assert memos[bram_pays_carla.pk] == "Soep voor Bram"
    hedge_entries = sorted(Entry.objects.filter(transfer=story.hedge).values_list("amount"))
    assert hedge_entries == [(-90,), (90,)], "amounts stay"
    assert "The books are consistent." in ledger_is_consistent()


def test_bram_sees_the_placeholder_on_his_statement(client, story, anna, bram):
    erasure = services.member_erase(actor=anna.user, user=anna.user)
    client.force_login(bram.user)
    page = client.get(reverse("ledger:account", args=["sterrenstelsel"])).content.decode()
    assert f"Erased member #{erasure.number}" in page
    assert "Hulp in de tuin" not in page


def test_a_balance_below_zero_is_settled_from_the_pot_when_it_holds_enough(
    circle, story, bram, mieke
):
    ledger.account_limits_set(
        actor=mieke.user, account=pot(circle), floor=-120, ceiling=None, reason="Voor vertrek"
    )
    services.member_erase(actor=bram.user, user=bram.user)
    settle = Transfer.objects.get(idempotency_key=f"erasure:{bram.pk}")
    assert settle.kind == TransferKind.POT_GRANT
    assert (balance(bram), pot(circle).balance) == (0, -90)
    assert "The books are consistent." in ledger_is_consistent()


def test_the_circle_can_settle_into_the_community_account(circle, story, anna):
    PrivacySettings.objects.create(community=circle, settle_into=SettleInto.COMMUNITY)
    services.member_erase(actor=anna.user, user=anna.user)
    settle = Transfer.objects.get(idempotency_key=f"erasure:{anna.pk}")
    assert settle.kind == TransferKind.COMMUNITY_ENTRY
    community_account = Account.objects.get(community=circle, kind=AccountKind.COMMUNITY)
    assert community_account.balance == 60 and balance(anna) == 0


def test_an_applicant_with_no_account_just_leaves(circle):
    applicant = make_member(circle, "Dirk", status=Status.APPLIED)
    services.member_erase(actor=applicant.user, user=applicant.user)
    applicant.refresh_from_db()
    assert applicant.status == Status.LEFT
    assert not Transfer.objects.exists()


def test_the_last_coordinator_is_refused_and_nothing_changes(circle, story, mieke, bram):
    ledger.transfer_create(
        actor=bram.user,
        community=circle,
        kind="payment",
        payer=ledger.account_open(membership=bram),
        payee=ledger.account_open(membership=mieke),
        amount=20,
        memo="Koffie",
        idempotency_key=next_key(),
    )
    before = snapshot(mieke.user)
    with pytest.raises(TransitionNotAllowed, match="only coordinator of Sterrenstelsel"):
        services.member_erase(actor=mieke.user, user=mieke.user)
    assert snapshot(mieke.user) == before
    mieke.refresh_from_db()
    assert (mieke.role, mieke.status) == (Role.COORDINATOR, Status.ACTIVE)


def test_a_pot_with_too_little_refuses_and_nothing_changes(story, bram):
    before = snapshot(bram.user)
    with pytest.raises(PaymentRefused) as refusal:
        services.member_erase(actor=bram.user, user=bram.user)
    message = str(refusal.value)
    assert "Your balance in Sterrenstelsel cannot be settled now" in message
    assert "The community pot holds 0\xa0hours, not enough for this gift of 1.5\xa0hours" in message
    assert snapshot(bram.user) == before
    assert balance(bram) == -90


def test_only_the_person_themself_may_erase_and_only_once(story, anna, bram):
    with pytest.raises(NotAllowed):
        services.member_erase(actor=bram.user, user=anna.user)
    services.member_erase(actor=anna.user, user=anna.user)
    with pytest.raises(TransitionNotAllowed, match="already been erased"):
        services.member_erase(actor=None, user=User.objects.get(pk=anna.user_id))


def test_the_page_erases_signs_out_and_confirms(client, story, anna):
    client.force_login(anna.user)
    page = client.get(reverse("privacy:erase")).content.decode()
    assert "You give what you have left to the community pot." in page
    response = client.post(reverse("privacy:erase"), {"confirm": "on"}, follow=True)
    assert response.redirect_chain == [(reverse("privacy:erased"), 302)]
    assert "Your data has been erased" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert Erasure.objects.filter(user=anna.user).exists()


def test_the_page_asks_for_the_tick_and_changes_nothing_without_it(client, story, anna):
    client.force_login(anna.user)
    before = snapshot(anna.user)
    response = client.post(reverse("privacy:erase"), {})
    assert response.status_code == 400
    assert "Tick the box to confirm that you want this." in response.content.decode()
    assert snapshot(anna.user) == before


def test_the_page_shows_a_refusal_and_keeps_the_coordinator_signed_in(client, story, mieke):
    client.force_login(mieke.user)
    page = client.get(reverse("privacy:erase")).content.decode()
    assert "You are the only coordinator of this circle." in page
    before = snapshot(mieke.user)
    response = client.post(reverse("privacy:erase"), {"confirm": "on"})
    assert response.status_code == 400
    assert "is the only coordinator of Sterrenstelsel" in response.content.decode()
    assert snapshot(mieke.user) == before
    assert client.get(reverse("privacy:my_data")).status_code == 200


def test_an_export_under_way_ends_with_the_erasure(story, anna):
    export = services.data_export_request(user=anna.user)
    services.member_erase(actor=anna.user, user=anna.user)
    export.refresh_from_db()
    assert export.status == "failed" and export.message == "The person's data was erased."

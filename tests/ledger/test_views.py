"""The ledger pages, as members and coordinators use them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Status
from ledger import services
from ledger.models import Account, AccountKind, PaymentRequest, RequestStatus, Transfer
from tests.factories import CommunityFactory, MembershipFactory
from tests.ledger.conftest import next_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_anna(client, anna):
    client.force_login(anna.membership.user)
    return client


@pytest.fixture
def as_coordinator(client, coordinator):
    client.force_login(coordinator)
    return client


def url(name, circle, *args):
    return reverse(f"ledger:{name}", args=[circle.slug, *args])


def test_anna_pays_bram_on_the_page_and_sees_it_on_her_statement(as_anna, anna, bram, circle):
    form_page = as_anna.get(url("pay", circle))
    key = form_page.context["form"].initial["idempotency_key"]
    data = {"other": bram.membership.pk, "amount": "1,5", "memo": "Fiets", "idempotency_key": key}
    response = as_anna.post(url("pay", circle), data)
    assert response.status_code == 302
    assert as_anna.post(url("pay", circle), data).status_code == 302, "a resent form is fine"
    assert Transfer.objects.count() == 1
    assert Account.objects.get(pk=anna.pk).balance == -90
    page = as_anna.get(url("account", circle)).content.decode()
    assert "Fiets" in page and "Bram" in page and "\u22121.5\u00a0hours" in page


def test_a_refused_payment_shows_why_on_the_form_and_changes_nothing(as_anna, anna, bram, circle):
    response = as_anna.post(
        url("pay", circle),
        {"other": bram.membership.pk, "amount": "25", "memo": "Te veel", "idempotency_key": "k1"},
    )
    assert response.status_code == 400
    assert "past your credit limit" in response.content.decode()
    assert not Transfer.objects.exists()


@pytest.mark.parametrize("amount", ["", "abc", "0", "-3", "1,001"])
def test_a_bad_amount_is_explained_on_the_form(as_anna, bram, circle, amount):
    response = as_anna.post(
        url("pay", circle),
        {"other": bram.membership.pk, "amount": amount, "memo": "x", "idempotency_key": "k2"},
    )
    assert response.status_code == 400
    assert not Transfer.objects.exists()


def test_anna_cannot_pick_a_member_of_another_circle(as_anna, circle):
    stranger = MembershipFactory(community=CommunityFactory())
    response = as_anna.post(
        url("pay", circle),
        {"other": stranger.pk, "amount": "1", "memo": "x", "idempotency_key": "k3"},
    )
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content


def test_anna_asks_bram_and_bram_pays_from_his_page(client, anna, bram, circle):
    client.force_login(anna.membership.user)
    client.post(
        url("ask", circle),
        {"other": bram.membership.pk, "amount": "2", "memo": "Tuin", "idempotency_key": "a1"},
    )
    request = PaymentRequest.objects.get()
    client.force_login(bram.membership.user)
    page = client.get(url("account", circle)).content.decode()
    assert "Tuin" in page
    response = client.post(url("request_decide", circle, request.pk), {"decision": "accepted"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.ACCEPTED
    assert Account.objects.get(pk=anna.pk).balance == 120


def test_a_stranger_cannot_answer_someone_elses_request(client, anna, bram, carla, circle):
    request = services.payment_request_create(
        actor=anna.membership.user,
        community=circle,
        payer=bram,
        payee=anna,
        amount=60,
        memo="x",
        idempotency_key=next_key(),
    )
    client.force_login(carla.membership.user)
    client.post(url("request_decide", circle, request.pk), {"decision": "accepted"})
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_anna_gives_to_the_pot(as_anna, anna, bram, circle):
    services.transfer_create(
        actor=bram.membership.user,
        community=circle,
        kind="payment",
        payer=bram,
        payee=anna,
        amount=120,
        memo="x",
        idempotency_key=next_key(),
    )
    response = as_anna.post(
        url("pot_give", circle), {"amount": "1", "memo": "", "idempotency_key": "p1"}
    )
    assert response.status_code == 302
    pot = Account.objects.get(community=circle, kind=AccountKind.POT)
    assert pot.balance == 60


def test_the_statement_is_paged_newest_first(as_anna, anna, bram, circle):
    for number in range(30):
        services.transfer_create(
            actor=bram.membership.user,
            community=circle,
            kind="payment",
            payer=bram,
            payee=anna,
            amount=1,
            memo=f"regel {number}",
            idempotency_key=next_key(),
        )
    first = as_anna.get(url("account", circle)).context["statement"]
    assert [line.entry.version for line in first.lines][:2] == [30, 29]
    assert len(first.lines) == 25 and first.older_than == 6
    second = as_anna.get(url("account", circle) + "?before=6").context["statement"]
    assert [line.entry.version for line in second.lines] == [5, 4, 3, 2, 1]
    assert second.older_than is None


def test_the_statement_downloads_as_csv(as_anna, anna, bram, circle):
    services.transfer_create(
        actor=bram.membership.user,
        community=circle,
        kind="payment",
        payer=bram,
        payee=anna,
        amount=90,
        memo="Tuin",
        idempotency_key=next_key(),
    )
    response = as_anna.get(url("statement_csv", circle))
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("Date,Description")
    assert lines[1].endswith(",Tuin,Payment,1.5,1.5")


def test_a_member_cannot_open_the_coordinator_ledger_pages(as_anna, anna, circle):
    for name, args in (
        ("accounts_list", []),
        ("entry_new", []),
        ("batch_new", []),
        ("account_detail", [anna.pk]),
    ):
        assert as_anna.get(url(name, circle, *args)).status_code == 403, name


def test_another_circles_account_is_not_found(as_coordinator, circle):
    elsewhere = services.account_open(membership=MembershipFactory(community=CommunityFactory()))
    assert as_coordinator.get(url("account_detail", circle, elsewhere.pk)).status_code == 404


def test_the_coordinator_sets_a_limit_with_a_reason(as_coordinator, anna, circle):
    response = as_coordinator.post(
        url("account_detail", circle, anna.pk),
        {"receive_limit": "30", "give_limit": "40", "reason": "Veel zorg nodig"},
    )
    assert response.status_code == 302
    anna.refresh_from_db()
    assert (anna.floor, anna.ceiling) == (-1800, 2400)
    response = as_coordinator.post(
        url("account_detail", circle, anna.pk),
        {"receive_limit": "10", "give_limit": "40", "reason": ""},
    )
    assert response.status_code == 400
    anna.refresh_from_db()
    assert anna.floor == -1800


def test_the_coordinator_records_a_cheque_and_reverses_it(as_coordinator, anna, bram, circle):
    response = as_coordinator.post(
        url("entry_new", circle),
        {
            "payer": bram.pk,
            "payee": anna.pk,
            "amount": "2",
            "memo": "Cheque",
            "idempotency_key": "e1",
        },
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get()
    response = as_coordinator.post(
        url("transfer_detail", circle, transfer.pk),
        {"reason": "Dubbel ingevoerd", "idempotency_key": "r1"},
    )
    assert response.status_code == 302
    assert [Account.objects.get(pk=a.pk).balance for a in (anna, bram)] == [0, 0]
    again = as_coordinator.post(
        url("transfer_detail", circle, transfer.pk), {"reason": "Nog eens", "idempotency_key": "r2"}
    )
    assert again.status_code == 400 and b"already been reversed" in again.content


def test_a_cheque_batch_with_a_wrong_total_is_refused_on_the_page(
    as_coordinator, anna, bram, carla, circle
):
    data = {
        "rows": "8",
        "idempotency_key": "b1",
        "payer_1": bram.pk,
        "payee_1": anna.pk,
        "amount_1": "1",
        "memo_1": "Tuin",
        "payer_2": carla.pk,
        "payee_2": bram.pk,
        "amount_2": "0,5",
        "memo_2": "Koffie",
        "declared_total": "2",
    }
    response = as_coordinator.post(url("batch_new", circle), data)
    assert response.status_code == 400
    assert "add up to 1.5\u00a0hours" in response.content.decode()
    assert not Transfer.objects.exists()
    data["declared_total"] = "1,5"
    assert as_coordinator.post(url("batch_new", circle), data).status_code == 302
    assert Transfer.objects.count() == 2


def test_the_batch_form_grows_without_javascript(as_coordinator, circle):
    response = as_coordinator.post(url("batch_new", circle), {"rows": "8", "more_rows": "1"})
    assert response.status_code == 200
    assert response.context["rows"] == 16


def test_a_suspended_member_sees_a_clear_refusal(client, circle, member_factory, bram):
    paused = member_factory("Dirk", Status.SUSPENDED)
    client.force_login(paused.membership.user)
    response = client.post(
        url("pay", circle),
        {"other": bram.membership.pk, "amount": "1", "memo": "x", "idempotency_key": "s1"},
    )
    assert response.status_code == 400
    assert "paused" in response.content.decode()


def test_bram_lets_requests_from_anna_be_paid_at_once(client, anna, bram, circle):
    client.force_login(bram.membership.user)
    response = client.post(
        url("request_policy", circle),
        {"auto_accept": "trusted", "days": "14", "trusted": [anna.pk]},
    )
    assert response.status_code == 302
    request = services.payment_request_create(
        actor=anna.membership.user,
        community=circle,
        payer=bram,
        payee=anna,
        amount=60,
        memo="Tuin",
        idempotency_key=next_key(),
    )
    assert request.status == RequestStatus.ACCEPTED


def test_the_coordinator_chooses_how_unanswered_requests_are_paid(as_coordinator, circle):
    from ledger.models import LedgerSettings

    response = as_coordinator.post(
        url("ledger_settings", circle), {"auto_accept": "never", "days": "7"}
    )
    assert response.status_code == 302
    assert LedgerSettings.objects.get(community=circle).auto_accept == "never"
    response = as_coordinator.post(
        url("ledger_settings", circle), {"auto_accept": "never", "days": "0"}
    )
    assert response.status_code == 400


def test_a_cheque_keeps_the_date_written_on_it(as_coordinator, anna, bram, circle):
    data = {
        "rows": "8",
        "idempotency_key": "b-dated",
        "payer_1": bram.pk,
        "payee_1": anna.pk,
        "amount_1": "1",
        "memo_1": "Tuin",
        "date_1": (timezone.localdate() - timedelta(days=58)).isoformat(),
        "payer_2": anna.pk,
        "payee_2": bram.pk,
        "amount_2": "0,5",
        "memo_2": "Koffie",
        "declared_total": "1,5",
    }
    assert as_coordinator.post(url("batch_new", circle), data).status_code == 302
    dated, undated = Transfer.objects.order_by("pk")
    assert dated.occurred_on == timezone.localdate() - timedelta(days=58)
    assert undated.occurred_on is None
    page = as_coordinator.get(url("transfer_detail", circle, dated.pk)).content.decode()
    assert "Date of the exchange" in page
    assert date_format(dated.occurred_on, "j F Y") in page
    # A date alone is a row someone started: it asks for the rest.
    data |= {"idempotency_key": "b-date-only", "date_3": data["date_1"]}
    response = as_coordinator.post(url("batch_new", circle), data)
    assert response.status_code == 400
    assert Transfer.objects.count() == 2

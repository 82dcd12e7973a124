"""The ledger API: what an app or a script sees."""

import pytest
from django.urls import reverse

from ledger.models import Account, PaymentRequest, Transfer

pytestmark = pytest.mark.django_db


def api(name, circle, *args):
    return reverse(f"ledger_api:{name}", args=[circle.slug, *args])


@pytest.fixture
def anna_client(client, anna):
    client.force_login(anna.membership.user)
    return client


def post(client, url, body, key="k-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, body, content_type="application/json", **headers)


def test_a_payment_with_a_key_is_made_once_however_often_it_is_sent(
    anna_client, anna, bram, circle
):
    body = {"payee": bram.membership.pk, "amount": 90, "memo": "Tuin"}
    first = post(anna_client, api("payments", circle), body)
    assert first.status_code == 201
    again = post(anna_client, api("payments", circle), body)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Transfer.objects.count() == 1
    balance = anna_client.get(api("my_account", circle)).json()
    assert (balance["balance"], balance["version"], balance["floor"]) == (-90, 1, -1200)


def test_the_same_key_with_another_body_is_refused(anna_client, bram, circle):
    post(anna_client, api("payments", circle), {"payee": bram.membership.pk, "amount": 90})
    response = post(
        anna_client, api("payments", circle), {"payee": bram.membership.pk, "amount": 91}
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idempotency_key_reused"
    assert Transfer.objects.count() == 1


def test_a_post_without_a_key_is_refused(anna_client, bram, circle):
    response = post(
        anna_client, api("payments", circle), {"payee": bram.membership.pk, "amount": 9}, key=None
    )
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    assert not Transfer.objects.exists()


@pytest.mark.parametrize("amount", [1.5, "60", True, 0, -5, 10**11])
def test_amounts_must_be_positive_whole_numbers(anna_client, bram, circle, amount):
    response = post(
        anna_client, api("payments", circle), {"payee": bram.membership.pk, "amount": amount}
    )
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid", "amount_invalid")
    assert not Transfer.objects.exists()


def test_a_payment_over_the_limit_is_refused_with_a_reason(anna_client, bram, circle):
    response = post(
        anna_client, api("payments", circle), {"payee": bram.membership.pk, "amount": 21 * 60}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "limit_exceeded"
    assert "past your credit limit" in body["detail"]
    assert not Transfer.objects.exists()


def test_paying_a_member_of_another_circle_is_not_found(anna_client, circle):
    from tests.factories import MembershipFactory

    stranger = MembershipFactory()
    response = post(anna_client, api("payments", circle), {"payee": stranger.pk, "amount": 5})
    assert response.status_code == 404


def test_request_and_pay_through_the_api(client, anna, bram, circle):
    client.force_login(anna.membership.user)
    created = post(
        client,
        api("payment_requests", circle),
        {"payer": bram.membership.pk, "amount": 60, "memo": "Tuin"},
    )
    assert created.status_code == 201
    request_id = created.json()["id"]
    client.force_login(bram.membership.user)
    decided = client.post(
        api("payment_request_decision", circle, request_id),
        {"decision": "accepted"},
        content_type="application/json",
    )
    assert decided.status_code == 200
    assert decided.json()["status"] == "accepted"
    assert PaymentRequest.objects.get().transfer is not None


def test_the_statement_pages_by_version(anna_client, anna, bram, circle):
    for number in range(3):
        post(
            anna_client,
            api("payments", circle),
            {"payee": bram.membership.pk, "amount": 10},
            key=f"s{number}",
        )
    body = anna_client.get(api("my_statement", circle)).json()
    assert [row["version"] for row in body["results"]] == [3, 2, 1]
    assert body["results"][0]["counterparties"] == ["Bram"]


def test_members_cannot_use_the_coordinator_endpoints(anna_client, anna, bram, circle):
    response = post(
        anna_client,
        api("entries", circle),
        {"payer_account": bram.pk, "payee_account": anna.pk, "amount": 60, "memo": "x"},
    )
    assert response.status_code == 403
    assert anna_client.get(api("accounts", circle)).status_code == 403
    assert not Transfer.objects.exists()


def test_the_coordinator_enters_a_batch_and_reverses_through_the_api(
    client, coordinator, anna, bram, circle
):
    client.force_login(coordinator)
    batch = post(
        client,
        api("cheque_batches", circle),
        {
            "lines": [
                {"payer_account": bram.pk, "payee_account": anna.pk, "amount": 60, "memo": "Tuin"},
                {"payer_account": anna.pk, "payee_account": bram.pk, "amount": 30, "memo": "Soep"},
            ],
            "declared_total": 90,
        },
        key="batch-1",
    )
    assert batch.status_code == 201
    first_transfer = batch.json()["transfers"][0]
    reversal = post(
        client, api("reversal", circle, first_transfer), {"reason": "Fout"}, key="rev-1"
    )
    assert reversal.status_code == 201
    assert reversal.json()["reverses"] == first_transfer
    limits = client.put(
        api("account_limits", circle, anna.pk),
        {"floor": -600, "ceiling": None, "reason": "Afspraak"},
        content_type="application/json",
    )
    assert limits.status_code == 200
    assert Account.objects.get(pk=anna.pk).floor == -600
    accounts = client.get(api("accounts", circle)).json()["results"]
    assert {a["id"] for a in accounts} >= {anna.pk, bram.pk}


def test_a_batch_with_a_wrong_total_is_refused_through_the_api(
    client, coordinator, anna, bram, circle
):
    client.force_login(coordinator)
    response = post(
        client,
        api("cheque_batches", circle),
        {
            "lines": [{"payer_account": bram.pk, "payee_account": anna.pk, "amount": 60}],
            "declared_total": 61,
        },
    )
    assert response.status_code == 400
    assert response.json()["field"] == "declared_total"
    assert not Transfer.objects.exists()

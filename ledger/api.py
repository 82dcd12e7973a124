"""The ledger's API under ``/api/v1/communities/<slug>/``.

Thin views: an input serializer, a selector or service, an output serializer.
Amounts are integers in the community's minor unit (minutes, or hundredths).
Every POST that creates something needs an ``Idempotency-Key`` header; sending
the same request again with the same key returns the original (200 instead of
201), and the same key with a different request is refused (422). Time-ordered
keys (a UUID version 7) keep the key index compact; see ``ledger.keys``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts.models import Membership, Status
from ledger import selectors, services
from ledger.models import (
    MAX_AMOUNT,
    AccountKind,
    PaymentRequest,
    RequestStatus,
    Transfer,
    TransferKind,
)
from ruilkring.api_schema import IDEMPOTENCY_KEY, SLUG, QuerySerializer, path_id, problems
from ruilkring.errors import InvalidInput, NotFound


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer and nothing else: no 1.5, no "60", no true."""

    default_error_messages = {
        "invalid": _("A whole number is required: the amount in minutes or hundredths.")
    }

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictCharField(serializers.CharField):
    """JSON text and nothing else: no 60, no true."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class AmountField(StrictIntegerField):
    """An amount to move, in minor units: more than zero. The schema says so,
    and the ledger's services check it again for every caller."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_AMOUNT, **kwargs)


def _key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise InvalidInput(
            _("Send an Idempotency-Key header with a unique value for this request."),
            code="idempotency_key_required",
            field="Idempotency-Key",
        )
    return key


def _member(request: Request, slug: str):
    community, membership = account_selectors.community_for_member_get(user=request.user, slug=slug)
    if membership is None:
        raise PermissionDenied(_("You have no account in this circle."))
    return community, services.account_open(membership=membership)


def _coordinator(request: Request, slug: str):
    return account_selectors.community_for_coordinator_get(user=request.user, slug=slug)


def _fellow_account(community, membership_id: int):
    membership = Membership.objects.filter(
        community=community, pk=membership_id, status__in=(Status.ACTIVE, Status.LEAVING)
    ).first()
    if membership is None:
        raise NotFound(_("This member does not exist in this community."))
    return services.account_open(membership=membership)


class TransferOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    memo = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    # The date on a paper cheque entered later; null for payments made here.
    occurred_on = serializers.DateField(allow_null=True)
    reverses = serializers.IntegerField(source="reverses_id", allow_null=True)
    entries = serializers.SerializerMethodField()

    def get_entries(self, transfer: Transfer) -> list[dict]:
        return [
            {"account": e.account_id, "amount": e.amount, "balance_after": e.balance_after}
            for e in transfer.entries.all()
        ]


REPLAYED = _("The same request was sent before with this Idempotency-Key: the original.")
CREATED_TRANSFER = {
    201: TransferOutput,
    200: OpenApiResponse(TransferOutput, description=REPLAYED),
}


def _created(transfer_or_request, existed: bool, serializer) -> Response:
    return Response(
        serializer(transfer_or_request).data,
        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
    )


class MyAccountApi(APIView):
    """My balance and limits in this community."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        balance = serializers.IntegerField()
        version = serializers.IntegerField()
        floor = serializers.IntegerField(source="effective_floor")
        ceiling = serializers.IntegerField(source="effective_ceiling")
        unit_scale = serializers.IntegerField(source="community.unit_scale")

    @extend_schema(parameters=[SLUG], responses={200: OutputSerializer, **problems(403, 404)})
    def get(self, request: Request, slug: str) -> Response:
        _community, account = _member(request, slug)
        return Response(self.OutputSerializer(account).data)


class MyStatementApi(APIView):
    """A page of my statement, newest first; pass ``before`` from ``older_than``."""

    class OutputSerializer(serializers.Serializer):
        version = serializers.IntegerField(source="entry.version")
        transfer = serializers.IntegerField(source="transfer.id")
        kind = serializers.CharField(source="transfer.kind")
        memo = serializers.CharField(source="transfer.memo")
        created_at = serializers.DateTimeField(source="transfer.created_at")
        occurred_on = serializers.DateField(source="transfer.occurred_on", allow_null=True)
        amount = serializers.IntegerField(source="entry.amount")
        balance_after = serializers.IntegerField(source="entry.balance_after")
        counterparties = serializers.ListField(child=serializers.CharField())
        reversed = serializers.BooleanField()

    class FilterSerializer(QuerySerializer):
        before = serializers.IntegerField(
            required=False,
            help_text=_("Lines older than this account version: `older_than` of the page before."),
        )

    @extend_schema(
        parameters=[SLUG, FilterSerializer],
        responses={
            200: inline_serializer(
                "MyStatementPage",
                {
                    "results": OutputSerializer(many=True),
                    "older_than": serializers.IntegerField(allow_null=True),
                },
            ),
            **problems(400, 403, 404),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        _community, account = _member(request, slug)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = selectors.account_statement(
            account=account, before=filters.validated_data.get("before")
        )
        return Response(
            {
                "results": self.OutputSerializer(page.lines, many=True).data,
                "older_than": page.older_than,
            }
        )


class _OwnTransferApi(APIView):
    """A transfer from the signed-in member's own account; subclasses name the payee."""

    kind: str

    class InputSerializer(serializers.Serializer):
        amount = AmountField()
        memo = StrictCharField(max_length=500, allow_blank=True, default="")

    def payee(self, community, data: dict):
        raise NotImplementedError

    @extend_schema(
        parameters=[SLUG, IDEMPOTENCY_KEY],
        responses={**CREATED_TRANSFER, **problems(400, 403, 404, 422)},
    )
    def post(self, request: Request, slug: str) -> Response:
        community, account = _member(request, slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = _key(request)
        existed = Transfer.objects.filter(community=community, idempotency_key=key).exists()
        transfer = services.transfer_create(
            actor=request.user,
            community=community,
            kind=self.kind,
            payer=account,
            payee=self.payee(community, data.validated_data),
            amount=data.validated_data["amount"],
            memo=data.validated_data["memo"],
            idempotency_key=key,
        )
        return _created(transfer, existed, TransferOutput)


class PaymentCreateApi(_OwnTransferApi):
    """Pay another member (``payee`` is their membership id)."""

    kind = TransferKind.PAYMENT

    class InputSerializer(_OwnTransferApi.InputSerializer):
        payee = StrictIntegerField()

    def payee(self, community, data: dict):
        return _fellow_account(community, data["payee"])


class PotGiftApi(_OwnTransferApi):
    """Give to the community pot."""

    kind = TransferKind.POT_DONATION

    def payee(self, community, data: dict):
        return services.system_account_open(community=community, kind=AccountKind.POT)


class PaymentRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    payer = serializers.IntegerField(source="payer.membership_id")
    payee = serializers.IntegerField(source="payee.membership_id")
    amount = serializers.IntegerField()
    memo = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    auto_accept_at = serializers.DateTimeField(allow_null=True)
    transfer = serializers.IntegerField(source="transfer_id", allow_null=True)


class PaymentRequestCreateApi(APIView):
    """Ask another member (``payer``, their membership id) to pay for help given."""

    class InputSerializer(serializers.Serializer):
        payer = StrictIntegerField()
        amount = AmountField()
        memo = StrictCharField(max_length=500)

    @extend_schema(
        parameters=[SLUG, IDEMPOTENCY_KEY],
        responses={
            201: PaymentRequestOutput,
            200: OpenApiResponse(PaymentRequestOutput, description=REPLAYED),
            **problems(400, 403, 404, 422),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        community, account = _member(request, slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = _key(request)
        existed = PaymentRequest.objects.filter(community=community, idempotency_key=key).exists()
        payment_request = services.payment_request_create(
            actor=request.user,
            community=community,
            payer=_fellow_account(community, data.validated_data["payer"]),
            payee=account,
            amount=data.validated_data["amount"],
            memo=data.validated_data["memo"],
            idempotency_key=key,
        )
        return _created(payment_request, existed, PaymentRequestOutput)


class PaymentRequestDecisionApi(APIView):
    """Pay (``accepted``), decline (``rejected``) or withdraw (``cancelled``) a request."""

    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(
            choices=[RequestStatus.ACCEPTED, RequestStatus.REJECTED, RequestStatus.CANCELLED]
        )

    @extend_schema(
        parameters=[SLUG, path_id("request_id", _("The payment request's id."))],
        responses={200: PaymentRequestOutput, **problems(400, 403, 404, 409, 422)},
    )
    def post(self, request: Request, slug: str, request_id: int) -> Response:
        community, _membership = account_selectors.community_for_member_get(
            user=request.user, slug=slug
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment_request = selectors.payment_request_of_community_get(
            community=community, request_id=request_id
        )
        decided = services.payment_request_decide(
            actor=request.user,
            request=payment_request,
            to_status=data.validated_data["decision"],
        )
        return Response(PaymentRequestOutput(decided).data)


class CoordinatorEntryApi(APIView):
    """A coordinator records a transfer between two accounts (ids of ledger accounts)."""

    class InputSerializer(serializers.Serializer):
        payer_account = StrictIntegerField()
        payee_account = StrictIntegerField()
        amount = AmountField()
        memo = StrictCharField(max_length=500)

    @extend_schema(
        parameters=[SLUG, IDEMPOTENCY_KEY],
        responses={**CREATED_TRANSFER, **problems(400, 403, 404, 422)},
    )
    def post(self, request: Request, slug: str) -> Response:
        community = _coordinator(request, slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = _key(request)
        payer = selectors.account_of_community_get(
            community=community, account_id=data.validated_data["payer_account"]
        )
        payee = selectors.account_of_community_get(
            community=community, account_id=data.validated_data["payee_account"]
        )
        existed = Transfer.objects.filter(community=community, idempotency_key=key).exists()
        transfer = services.transfer_create(
            actor=request.user,
            community=community,
            kind=services.transfer_kind_for_accounts(payer=payer, payee=payee),
            payer=payer,
            payee=payee,
            amount=data.validated_data["amount"],
            memo=data.validated_data["memo"],
            idempotency_key=key,
        )
        return _created(transfer, existed, TransferOutput)


class ChequeBatchApi(APIView):
    """A coordinator enters a stack of cheques: all or nothing; the total must match."""

    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            payer_account = StrictIntegerField()
            payee_account = StrictIntegerField()
            amount = AmountField()
            memo = StrictCharField(max_length=500, allow_blank=True, default="")
            occurred_on = serializers.DateField(required=False, allow_null=True, default=None)

        lines = LineSerializer(many=True, allow_empty=False)
        declared_total = StrictIntegerField()
        note = StrictCharField(max_length=500, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        declared_total = serializers.IntegerField()
        transfers = serializers.SerializerMethodField()

        def get_transfers(self, batch) -> list[int]:
            return list(batch.transfers.order_by("pk").values_list("pk", flat=True))

    @extend_schema(
        parameters=[SLUG, IDEMPOTENCY_KEY],
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description=REPLAYED),
            **problems(400, 403, 404, 422),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        community = _coordinator(request, slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = _key(request)

        def account(account_id):
            return selectors.account_of_community_get(community=community, account_id=account_id)

        existed = Transfer.objects.filter(community=community, idempotency_key=f"{key}:1").exists()
        batch = services.transfer_batch_create(
            actor=request.user,
            community=community,
            lines=[
                services.ChequeLine(
                    payer=account(line["payer_account"]),
                    payee=account(line["payee_account"]),
                    amount=line["amount"],
                    memo=line["memo"],
                    occurred_on=line["occurred_on"],
                )
                for line in data.validated_data["lines"]
            ],
            declared_total=data.validated_data["declared_total"],
            idempotency_key=key,
            note=data.validated_data["note"],
        )
        return _created(batch, existed, self.OutputSerializer)


class ReversalApi(APIView):
    """A coordinator reverses a transfer, with a reason."""

    class InputSerializer(serializers.Serializer):
        reason = StrictCharField(max_length=2000)

    @extend_schema(
        parameters=[
            SLUG,
            IDEMPOTENCY_KEY,
            path_id("transfer_id", _("The id of the transfer to reverse.")),
        ],
        responses={**CREATED_TRANSFER, **problems(400, 403, 404, 409, 422)},
    )
    def post(self, request: Request, slug: str, transfer_id: int) -> Response:
        community = _coordinator(request, slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = _key(request)
        transfer = selectors.transfer_of_community_get(community=community, transfer_id=transfer_id)
        existed = Transfer.objects.filter(community=community, idempotency_key=key).exists()
        reversal = services.transfer_reverse(
            actor=request.user,
            transfer=transfer,
            reason=data.validated_data["reason"],
            idempotency_key=key,
        )
        return _created(reversal, existed, TransferOutput)


class AccountLimitsApi(APIView):
    """A coordinator sets an account's limits (null: the community's default)."""

    class InputSerializer(serializers.Serializer):
        floor = StrictIntegerField(allow_null=True)
        ceiling = StrictIntegerField(allow_null=True)
        reason = StrictCharField(max_length=2000)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        floor = serializers.IntegerField(allow_null=True)
        ceiling = serializers.IntegerField(allow_null=True)
        effective_floor = serializers.IntegerField()
        effective_ceiling = serializers.IntegerField()

    @extend_schema(
        parameters=[SLUG, path_id("account_id", _("The ledger account's id."))],
        responses={200: OutputSerializer, **problems(400, 403, 404)},
    )
    def put(self, request: Request, slug: str, account_id: int) -> Response:
        community = _coordinator(request, slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = selectors.account_of_community_get(community=community, account_id=account_id)
        updated = services.account_limits_set(
            actor=request.user,
            account=account,
            floor=data.validated_data["floor"],
            ceiling=data.validated_data["ceiling"],
            reason=data.validated_data["reason"],
        )
        return Response(self.OutputSerializer(updated).data)


class AccountsApi(APIView):
    """Every account of the community with its balance (coordinators only)."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = serializers.CharField()
        membership = serializers.IntegerField(source="membership_id", allow_null=True)
        balance = serializers.IntegerField()
        floor = serializers.IntegerField(source="effective_floor")
        ceiling = serializers.IntegerField(source="effective_ceiling")

    @extend_schema(
        parameters=[SLUG],
        responses={
            200: inline_serializer("AccountsList", {"results": OutputSerializer(many=True)}),
            **problems(403, 404),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        community = _coordinator(request, slug)
        accounts = selectors.accounts_of_community(community=community)
        return Response({"results": self.OutputSerializer(accounts, many=True).data})

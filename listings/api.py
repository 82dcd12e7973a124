"""The listings' API under ``/api/v1/communities/<slug>/``: the same operations
as the pages. Thin views: an input serializer, a selector or service, an
output serializer. Amounts are integers in the community's minor unit."""

from __future__ import annotations

import re

from django.core.paginator import Paginator
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils import html
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts.models import Area, Membership
from ledger.api import AmountField, StrictCharField, StrictIntegerField
from ledger.models import MAX_AMOUNT
from listings import selectors, services
from listings.models import (
    DESCRIPTION_MAX,
    MESSAGE_MAX,
    REASON_MAX,
    TITLE_MAX,
    Category,
    ExchangeStatus,
    HelpType,
    ListingKind,
    ListingStatus,
)
from listings.photos import photo_url
from ruilkring.api_schema import SLUG, QuerySerializer, path_id, problems
from ruilkring.errors import InvalidInput, NotFound

PAGE_SIZE = 20
LISTING_ID = path_id("listing_id", _("The listing's id."))
EXCHANGE_ID = path_id("exchange_id", _("The exchange's id."))
CREATED_ID = inline_serializer("CreatedId", {"id": serializers.IntegerField()})


def _member(request: Request, slug: str):
    community, membership = account_selectors.community_for_member_get(user=request.user, slug=slug)
    if membership is None:
        raise PermissionDenied(_("You have no account in this circle."))
    return community, membership


def _member_choosing(request: Request, slug: str):
    """Like ``_member``, for the calls that show or choose categories: a circle
    gets its default categories the first time it needs them."""
    community, membership = _member(request, slug)
    services.categories_ensure(community=community)
    return community, membership


def _listing(request: Request, slug: str, listing_id: int):
    community, _membership = _member(request, slug)
    listing = selectors.listing_of_community_get(
        community=community, listing_id=listing_id, viewer=request.user
    )
    return community, listing


def _exchange(request: Request, slug: str, exchange_id: int):
    community, _membership = _member(request, slug)
    exchange = selectors.exchange_of_community_get(
        community=community, exchange_id=exchange_id, viewer=request.user
    )
    return community, exchange


def _category(community, category_id: int) -> Category:
    category = selectors.categories_of(community=community).filter(pk=category_id).first()
    if category is None:
        raise InvalidInput(_("Choose one of this circle's categories."), field="category")
    return category


def _area(community, area_id: int | None) -> Area | None:
    if area_id is None:
        return None
    area = Area.objects.filter(community=community, pk=area_id).first()
    if area is None:
        raise InvalidInput(_("Choose one of this circle's areas."), field="area")
    return area


class CategoryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, category: Category) -> str:
        return category.name(translation.get_language())


class ListingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    category = serializers.IntegerField(source="category_id")
    help_type = serializers.CharField()
    area = serializers.IntegerField(source="area_id", allow_null=True)
    availability = serializers.CharField()
    indicative_amount = serializers.IntegerField(allow_null=True)
    indicative_per = serializers.CharField()
    not_for_neighbours = serializers.BooleanField()
    status = serializers.CharField()
    expires_on = serializers.DateField()
    owner = serializers.IntegerField(source="owner_id")
    owner_name = serializers.CharField(source="owner.user.display_name")
    created_at = serializers.DateTimeField()
    photo_url = serializers.SerializerMethodField()

    def get_photo_url(self, listing) -> str | None:
        return photo_url(listing=listing)


class FormIntegerField(StrictIntegerField):
    """A JSON integer; in a multipart form, where every value is text, the
    digits of one. A listing with a photo is sent as a form."""

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        if html.is_html_input(dictionary) and isinstance(value, str):
            value = value.strip()
            return int(value) if re.fullmatch(r"-?[0-9]{1,18}", value) else value
        return value


class FormBooleanField(serializers.BooleanField):
    """A JSON true or false; in a multipart form, the text true or false."""

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        if html.is_html_input(dictionary) and value in ("true", "false"):
            return value == "true"
        return value

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class ListingInput(serializers.Serializer):
    title = StrictCharField(max_length=TITLE_MAX)
    description = StrictCharField(max_length=DESCRIPTION_MAX)
    category = FormIntegerField()
    help_type = serializers.ChoiceField(choices=HelpType.choices)
    area = FormIntegerField(required=False, allow_null=True, default=None)
    availability = StrictCharField(max_length=200, required=False, default="", allow_blank=True)
    indicative_amount = FormIntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_AMOUNT
    )
    indicative_per = StrictCharField(max_length=60, required=False, default="", allow_blank=True)
    not_for_neighbours = FormBooleanField(required=False, default=False)
    photo = serializers.FileField(required=False, allow_null=True, default=None)


# JSON, or a multipart form when a photo comes along.
LISTING_PARSERS = [JSONParser, MultiPartParser]


def _listing_values(community, data: dict) -> dict:
    return {
        **{key: data[key] for key in ("title", "description", "help_type", "availability")},
        "category": _category(community, data["category"]),
        "area": _area(community, data["area"]),
        "indicative_amount": data["indicative_amount"],
        "indicative_per": data["indicative_per"],
        "not_for_neighbours": data["not_for_neighbours"],
        "photo": data["photo"],
    }


class CategoryListApi(APIView):
    """The community's categories, named in the reader's language."""

    @extend_schema(
        parameters=[SLUG], responses={200: CategoryOutput(many=True), **problems(403, 404)}
    )
    def get(self, request: Request, slug: str) -> Response:
        community, _membership = _member_choosing(request, slug)
        return Response(
            CategoryOutput(selectors.categories_of(community=community), many=True).data
        )


class ListingListApi(APIView):
    """Search the active listings (``q``, ``kind``, ``category``, ``help_type``,
    ``area``, ``page``), newest first; or place one (POST, with a ``photo``
    as a multipart form)."""

    parser_classes = LISTING_PARSERS

    class CreateInput(ListingInput):
        kind = serializers.ChoiceField(choices=ListingKind.choices)

    class FilterSerializer(QuerySerializer):
        q = serializers.CharField(
            required=False, allow_blank=True, default="", help_text=_("Words to search for.")
        )
        kind = serializers.ChoiceField(
            choices=ListingKind.choices,
            required=False,
            allow_blank=True,
            default="",
            help_text=_("Offers or requests."),
        )
        category = serializers.IntegerField(required=False, help_text=_("A category id."))
        help_type = serializers.ChoiceField(
            choices=HelpType.choices, required=False, allow_blank=True, default=""
        )
        area = serializers.IntegerField(required=False, help_text=_("An area id."))
        page = serializers.IntegerField(
            required=False, min_value=1, default=1, help_text=_("The page, from 1.")
        )

    @extend_schema(
        parameters=[SLUG, FilterSerializer],
        responses={
            200: inline_serializer(
                "ListingPage",
                {
                    "count": serializers.IntegerField(),
                    "page": serializers.IntegerField(),
                    "pages": serializers.IntegerField(),
                    "results": ListingOutput(many=True),
                },
            ),
            **problems(400, 403, 404),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        community, _membership = _member_choosing(request, slug)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        search = selectors.ListingFilter(
            text=values["q"][:200],
            kind=values["kind"],
            category=_category(community, values["category"]) if "category" in values else None,
            help_type=values["help_type"],
            area=_area(community, values.get("area")),
        )
        page = Paginator(
            selectors.listing_search(community=community, search=search), PAGE_SIZE
        ).get_page(values["page"])
        return Response(
            {
                "count": page.paginator.count,
                "page": page.number,
                "pages": page.paginator.num_pages,
                "results": ListingOutput(page.object_list, many=True).data,
            }
        )

    @extend_schema(
        parameters=[SLUG],
        request=CreateInput,
        responses={201: ListingOutput, **problems(400, 403, 404)},
    )
    def post(self, request: Request, slug: str) -> Response:
        community, membership = _member_choosing(request, slug)
        data = self.CreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        listing = services.listing_create(
            actor=request.user,
            owner=membership,
            kind=data.validated_data["kind"],
            **_listing_values(community, data.validated_data),
        )
        return Response(ListingOutput(listing).data, status=status.HTTP_201_CREATED)


class ListingDetailApi(APIView):
    """One listing; PUT changes what it says (its owner, or a coordinator): a
    new ``photo`` (multipart) replaces the old one, ``photo_remove`` removes it."""

    parser_classes = LISTING_PARSERS

    class UpdateInput(ListingInput):
        photo_remove = FormBooleanField(required=False, default=False)

    @extend_schema(
        parameters=[SLUG, LISTING_ID], responses={200: ListingOutput, **problems(403, 404)}
    )
    def get(self, request: Request, slug: str, listing_id: int) -> Response:
        _community, listing = _listing(request, slug, listing_id)
        return Response(ListingOutput(listing).data)

    @extend_schema(
        parameters=[SLUG, LISTING_ID],
        request=UpdateInput,
        responses={200: ListingOutput, **problems(400, 403, 404, 409)},
    )
    def put(self, request: Request, slug: str, listing_id: int) -> Response:
        community, listing = _listing(request, slug, listing_id)
        data = self.UpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        changed = services.listing_update(
            actor=request.user,
            listing=listing,
            photo_remove=data.validated_data["photo_remove"],
            **_listing_values(community, data.validated_data),
        )
        return Response(ListingOutput(changed).data)


class ListingStatusApi(APIView):
    """Pause, show again, remove, restore (``status``, with ``note`` where a
    coordinator needs a reason) or ``renew`` a listing."""

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[*ListingStatus.values, "renew"])
        note = StrictCharField(max_length=REASON_MAX, required=False, default="", allow_blank=True)

    @extend_schema(
        parameters=[SLUG, LISTING_ID],
        responses={200: ListingOutput, **problems(400, 403, 404, 409)},
    )
    def post(self, request: Request, slug: str, listing_id: int) -> Response:
        _community, listing = _listing(request, slug, listing_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["status"] == "renew":
            changed = services.listing_renew(actor=request.user, listing=listing)
        else:
            changed = services.listing_status_change(
                actor=request.user,
                listing=listing,
                to_status=data.validated_data["status"],
                note=data.validated_data["note"],
            )
        return Response(ListingOutput(changed).data)


class ListingReportApi(APIView):
    """Tell the coordinators a listing does not belong here."""

    class InputSerializer(serializers.Serializer):
        reason = StrictCharField(max_length=REASON_MAX)

    @extend_schema(
        parameters=[SLUG, LISTING_ID],
        responses={201: CREATED_ID, **problems(400, 403, 404)},
    )
    def post(self, request: Request, slug: str, listing_id: int) -> Response:
        _community, listing = _listing(request, slug, listing_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.listing_report(
            actor=request.user, listing=listing, reason=data.validated_data["reason"]
        )
        return Response({"id": report.pk}, status=status.HTTP_201_CREATED)


class ExchangeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    listing = serializers.IntegerField(source="listing_id", allow_null=True)
    provider = serializers.IntegerField(source="provider_id")
    receiver = serializers.IntegerField(source="receiver_id")
    description = serializers.CharField()
    amount = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    payment_request = serializers.IntegerField(source="payment_request_id", allow_null=True)
    transfer = serializers.IntegerField(source="transfer_id", allow_null=True)
    created_at = serializers.DateTimeField()


class ListingRespondApi(APIView):
    """Respond to a listing: this proposes an exchange to its owner."""

    class InputSerializer(serializers.Serializer):
        description = StrictCharField(max_length=MESSAGE_MAX)

    @extend_schema(
        parameters=[SLUG, LISTING_ID],
        responses={201: ExchangeOutput, **problems(400, 403, 404, 409)},
    )
    def post(self, request: Request, slug: str, listing_id: int) -> Response:
        _community, listing = _listing(request, slug, listing_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        exchange = services.exchange_propose(
            actor=request.user, listing=listing, description=data.validated_data["description"]
        )
        return Response(ExchangeOutput(exchange).data, status=status.HTTP_201_CREATED)


def _member_of(community, membership_id: int, *, field: str) -> Membership:
    """One of the community's members, for a coordinator's choice; any other id
    is a bad choice on that field."""
    try:
        return account_selectors.membership_get(community=community, membership_id=membership_id)
    except NotFound as exc:
        raise InvalidInput(_("Choose a member of this circle."), field=field) from exc


class ExchangeListApi(APIView):
    """My exchanges in this community, newest first; or (POST, a coordinator)
    match two members by hand: the helper is asked to agree."""

    class MatchInput(serializers.Serializer):
        provider = StrictIntegerField()
        receiver = StrictIntegerField()
        description = StrictCharField(max_length=MESSAGE_MAX)
        listing = StrictIntegerField(required=False, allow_null=True, default=None)

    @extend_schema(
        parameters=[SLUG], responses={200: ExchangeOutput(many=True), **problems(403, 404)}
    )
    def get(self, request: Request, slug: str) -> Response:
        _community, membership = _member(request, slug)
        return Response(
            ExchangeOutput(selectors.exchanges_of_member(member=membership), many=True).data
        )

    @extend_schema(
        parameters=[SLUG],
        request=MatchInput,
        responses={201: ExchangeOutput, **problems(400, 403, 404)},
    )
    def post(self, request: Request, slug: str) -> Response:
        community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
        data = self.MatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        listing = None
        if values["listing"] is not None:
            listing = (
                selectors.listing_search(community=community, search=selectors.ListingFilter())
                .filter(pk=values["listing"])
                .first()
            )
            if listing is None:
                raise InvalidInput(_("Choose one of this circle's listings."), field="listing")
        exchange = services.exchange_match(
            actor=request.user,
            provider=_member_of(community, values["provider"], field="provider"),
            receiver=_member_of(community, values["receiver"], field="receiver"),
            description=values["description"],
            listing=listing,
        )
        return Response(ExchangeOutput(exchange).data, status=status.HTTP_201_CREATED)


class ExchangeSettingsApi(APIView):
    """Which payments a coordinator approves before the receiver is asked
    (coordinators): ``approval_above`` in minor units (null: no amount) and
    ``approval_first``, a member's first exchanges (0: none)."""

    class InputSerializer(serializers.Serializer):
        approval_above = StrictIntegerField(allow_null=True, min_value=0, max_value=MAX_AMOUNT)
        approval_first = StrictIntegerField(min_value=0, max_value=services.APPROVAL_FIRST_MAX)

    class OutputSerializer(serializers.Serializer):
        approval_above = serializers.IntegerField(allow_null=True)
        approval_first = serializers.IntegerField()

    @extend_schema(parameters=[SLUG], responses={200: OutputSerializer, **problems(403, 404)})
    def get(self, request: Request, slug: str) -> Response:
        community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
        return Response(
            self.OutputSerializer(selectors.exchange_settings_of(community=community)).data
        )

    @extend_schema(parameters=[SLUG], responses={200: OutputSerializer, **problems(400, 403, 404)})
    def put(self, request: Request, slug: str) -> Response:
        community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rules = services.exchange_settings_set(
            actor=request.user,
            community=community,
            approval_above=data.validated_data["approval_above"],
            approval_first=data.validated_data["approval_first"],
        )
        return Response(self.OutputSerializer(rules).data)


class ExchangeDetailApi(APIView):
    """One exchange with its messages and thank-you note (its members and coordinators)."""

    class OutputSerializer(ExchangeOutput):
        messages = serializers.SerializerMethodField()
        thank_you = serializers.SerializerMethodField()

        def get_messages(self, exchange) -> list[dict]:
            return [
                {"author": m.author.display_name, "body": m.body, "created_at": m.created_at}
                for m in exchange.messages.select_related("author")
            ]

        def get_thank_you(self, exchange) -> str | None:
            thank_you = selectors.exchange_thank_you(exchange=exchange)
            return thank_you.body if thank_you else None

    @extend_schema(
        parameters=[SLUG, EXCHANGE_ID], responses={200: OutputSerializer, **problems(403, 404)}
    )
    def get(self, request: Request, slug: str, exchange_id: int) -> Response:
        _community, exchange = _exchange(request, slug, exchange_id)
        return Response(self.OutputSerializer(exchange).data)


class ExchangeStepApi(APIView):
    """Take a step: ``status``, with ``amount`` (minor units) when reporting it
    done or settling a dispute, and ``note`` where a reason is needed. A
    coordinator approves a payment that waits for approval with ``done`` and
    turns it down with ``cancelled`` and a ``note``."""

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ExchangeStatus.values)
        amount = AmountField(required=False, allow_null=True, default=None)
        note = StrictCharField(max_length=REASON_MAX, required=False, default="", allow_blank=True)

    @extend_schema(
        parameters=[SLUG, EXCHANGE_ID],
        responses={200: ExchangeOutput, **problems(400, 403, 404, 409, 422)},
    )
    def post(self, request: Request, slug: str, exchange_id: int) -> Response:
        _community, exchange = _exchange(request, slug, exchange_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changed = services.exchange_step(
            actor=request.user,
            exchange=exchange,
            to_status=data.validated_data["status"],
            amount=data.validated_data["amount"],
            note=data.validated_data["note"],
        )
        return Response(ExchangeOutput(changed).data)


class ExchangeMessageApi(APIView):
    class InputSerializer(serializers.Serializer):
        body = StrictCharField(max_length=MESSAGE_MAX)

    @extend_schema(
        parameters=[SLUG, EXCHANGE_ID],
        responses={201: CREATED_ID, **problems(400, 403, 404, 409)},
    )
    def post(self, request: Request, slug: str, exchange_id: int) -> Response:
        _community, exchange = _exchange(request, slug, exchange_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.exchange_message_post(
            actor=request.user, exchange=exchange, body=data.validated_data["body"]
        )
        return Response({"id": message.pk}, status=status.HTTP_201_CREATED)


class ExchangeThankApi(APIView):
    class InputSerializer(serializers.Serializer):
        body = StrictCharField(max_length=MESSAGE_MAX)

    @extend_schema(
        parameters=[SLUG, EXCHANGE_ID],
        responses={
            201: inline_serializer("ThankYou", {"thank_you": serializers.CharField()}),
            **problems(400, 403, 404, 409),
        },
    )
    def post(self, request: Request, slug: str, exchange_id: int) -> Response:
        _community, exchange = _exchange(request, slug, exchange_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.exchange_thank(
            actor=request.user, exchange=exchange, body=data.validated_data["body"]
        )
        return Response({"thank_you": data.validated_data["body"]}, status=status.HTTP_201_CREATED)

"""API views for people, memberships and the audit log. Thin: a selector, an
output serializer."""

from django.core.paginator import Paginator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.models import AuditAction, AuditRole
from ruilkring.api_schema import SLUG, QuerySerializer, problems


class MyMembershipsApi(APIView):
    """The signed-in person's memberships, in every community they belong to."""

    class OutputSerializer(serializers.Serializer):
        community = serializers.SlugField(source="community.slug")
        community_name = serializers.CharField(source="community.name")
        role = serializers.CharField()
        status = serializers.CharField()
        area = serializers.CharField(source="area.name", default=None, allow_null=True)
        unit_singular = serializers.SerializerMethodField()
        unit_plural = serializers.SerializerMethodField()
        unit_scale = serializers.IntegerField(source="community.unit_scale")
        applied_at = serializers.DateTimeField()
        joined_at = serializers.DateTimeField()

        def _language(self) -> str:
            request = self.context["request"]
            return (
                "en" if (getattr(request, "LANGUAGE_CODE", "nl") or "nl").startswith("en") else "nl"
            )

        def get_unit_singular(self, membership) -> str:
            return getattr(membership.community, f"unit_singular_{self._language()}")

        def get_unit_plural(self, membership) -> str:
            return getattr(membership.community, f"unit_plural_{self._language()}")

    @extend_schema(
        responses={
            200: inline_serializer("MyMembershipsList", {"results": OutputSerializer(many=True)}),
            **problems(),
        }
    )
    def get(self, request: Request) -> Response:
        memberships = selectors.memberships_of_user(user=request.user)
        data = self.OutputSerializer(memberships, many=True, context={"request": request}).data
        return Response({"results": data})


class AuditLogApi(APIView):
    """The community's audit log, newest first, 50 a page (coordinators only):
    what coordinators and site administrators did with their extra rights.
    Members are referenced by membership id; ``summary`` names them as they are
    called now. Amounts in ``details`` are integers in the community's minor unit."""

    class FilterSerializer(QuerySerializer):
        action = serializers.ChoiceField(
            choices=AuditAction.choices,
            required=False,
            allow_blank=True,
            default="",
            help_text=_("Only this kind of action."),
        )
        actor = serializers.IntegerField(
            required=False, min_value=1, help_text=_("Only what this person (a user id) did.")
        )
        page = serializers.IntegerField(
            required=False, min_value=1, default=1, help_text=_("The page, from 1.")
        )

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="entry.id")
        created_at = serializers.DateTimeField(source="entry.created_at")
        actor = serializers.IntegerField(source="entry.actor_id")
        actor_name = serializers.CharField()
        actor_role = serializers.ChoiceField(choices=AuditRole.choices, source="entry.actor_role")
        action = serializers.ChoiceField(choices=AuditAction.choices, source="entry.action")
        member = serializers.IntegerField(
            source="entry.membership_id",
            allow_null=True,
            help_text=_("The membership id of the member it concerns, if one."),
        )
        subject_type = serializers.CharField(
            source="entry.subject_type", help_text=_("What was acted on, as app.model.")
        )
        subject_id = serializers.IntegerField(source="entry.subject_id", allow_null=True)
        details = serializers.DictField(
            source="entry.details",
            child=serializers.JSONField(),
            help_text=_("Codes, ids and whole amounts: from and to values, members' ids."),
        )
        reason = serializers.CharField(source="entry.reason")
        summary = serializers.CharField(
            source="sentence", help_text=_("The entry as a sentence, in the request's language.")
        )

    @extend_schema(
        parameters=[SLUG, FilterSerializer],
        responses={
            200: inline_serializer(
                "AuditLogPage",
                {
                    "count": serializers.IntegerField(),
                    "page": serializers.IntegerField(),
                    "pages": serializers.IntegerField(),
                    "results": OutputSerializer(many=True),
                },
            ),
            **problems(400, 403, 404),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        community = selectors.community_for_coordinator_get(user=request.user, slug=slug)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        entries = selectors.audit_entries(
            community=community, action=values["action"] or None, actor=values.get("actor")
        )
        page = Paginator(entries, selectors.AUDIT_PAGE_SIZE).get_page(values["page"])
        lines = selectors.audit_lines(community=community, entries=page.object_list)
        return Response(
            {
                "count": page.paginator.count,
                "page": page.number,
                "pages": page.paginator.num_pages,
                "results": self.OutputSerializer(lines, many=True).data,
            }
        )

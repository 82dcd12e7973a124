"""API views for people and memberships. Thin: a selector, an output serializer."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from ruilkring.api_schema import problems


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

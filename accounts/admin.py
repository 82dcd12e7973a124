"""The Django admin, for the site's administrators. Read-mostly: memberships and
their events change only through the services, which check the workflow and
record who did what."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import Area, Community, Membership, MembershipEvent, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "display_name", "language", "is_municipality_observer", "is_staff"]
    search_fields = ["email", "display_name"]
    list_filter = ["is_municipality_observer", "is_staff", "is_superuser", "is_active"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["display_name", "language"]}),
        (
            _("Roles"),
            {"fields": ["is_active", "is_municipality_observer", "is_staff", "is_superuser"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "display_name", "password1", "password2"]})
    ]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "place", "unit_plural_nl", "unit_kind", "requires_approval"]
    search_fields = ["name", "slug", "place"]
    readonly_fields = ["unit_kind", "created_at"]

    def has_add_permission(self, request) -> bool:
        # New communities are made on the "new community" page, which also
        # appoints the first coordinator.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "community"]
    list_filter = ["community"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "community", "role", "status", "area", "joined_at"]
    list_filter = ["community", "role", "status"]
    search_fields = ["user__email", "user__display_name"]


@admin.register(MembershipEvent)
class MembershipEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "community",
        "membership",
        "kind",
        "from_value",
        "to_value",
        "actor",
    ]
    list_filter = ["community", "kind"]

"""The Django admin, for the site's administrators. Read-mostly: memberships and
their events change only through the services, which check the workflow and
record who did what. Whatever an administrator does change here is written to
the audit log (``AuditedAdmin``), which the admin itself only shows."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    Area,
    AuditAction,
    AuditEntry,
    Community,
    Membership,
    MembershipEvent,
    User,
)
from accounts.services import audit_record


class AuditedAdmin:
    """A ModelAdmin mixin: every addition, change and deletion in the admin is
    also an ``AuditEntry`` (admin.add, admin.change, admin.delete), with the
    object's community when it has one.

    Django calls these hooks inside the transaction of the change (its add,
    change and delete pages are atomic; its bulk actions are made so below), so
    a change that fails leaves no entry. Only the names of changed fields are
    kept, never their values or the object's text: that can be personal data.
    """

    def audit_community(self, obj) -> Community | None:
        """The community ``obj`` belongs to; override for a model that reaches it
        through another object."""
        if isinstance(obj, Community):
            return obj
        if getattr(obj, "community_id", None) is not None:
            return obj.community
        return None

    def log_addition(self, request, obj, message):
        self._audit(request, obj, AuditAction.ADMIN_ADD, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, obj, AuditAction.ADMIN_CHANGE, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, obj, AuditAction.ADMIN_DELETE, None)
        return super().log_deletions(request, queryset)

    def response_action(self, request, queryset):
        # An action such as "delete selected" logs first and then changes: one
        # transaction, so the log never names a deletion that did not happen.
        with transaction.atomic():
            return super().response_action(request, queryset)

    def _audit(self, request, obj, action: str, message) -> None:
        changed_fields = [
            str(field)
            for part in (message if isinstance(message, list) else [])
            if isinstance(part, dict)
            for field in part.get("changed", {}).get("fields", [])
        ]
        audit_record(
            actor=request.user,
            community=self.audit_community(obj),
            action=action,
            subject=obj,
            # A membership on its way out must not be referenced (memberships
            # are never deleted in any case: see MembershipAdmin).
            member=(
                obj if isinstance(obj, Membership) and action != AuditAction.ADMIN_DELETE else None
            ),
            details={"fields": changed_fields} if changed_fields else {},
        )


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
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

    def user_change_password(self, request, id, form_url=""):
        # Django's page saves the password and then logs it: one transaction.
        with transaction.atomic():
            return super().user_change_password(request, id, form_url)


@admin.register(Community)
class CommunityAdmin(AuditedAdmin, admin.ModelAdmin):
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
class AreaAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "community"]
    list_filter = ["community"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(AuditedAdmin, admin.ModelAdmin):
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


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit log: to look at, never to change, not even for a superuser (the
    database refuses it too)."""

    list_display = [
        "created_at",
        "community",
        "actor",
        "actor_role",
        "action",
        "membership",
        "subject_type",
        "subject_id",
    ]
    list_filter = ["community", "actor_role", "action"]
    list_select_related = ["community", "actor", "membership__user", "membership__community"]

from django.contrib import admin

from accounts.admin import AuditedAdmin
from listings.models import Category, Listing, ListingEvent, ListingReport


@admin.register(Category)
class CategoryAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ("name_nl", "name_en", "community", "position", "is_active")
    list_filter = ("community", "is_active")


class ListingEventInline(admin.TabularInline):
    model = ListingEvent
    extra = 0
    can_delete = False
    readonly_fields = ("actor", "from_status", "to_status", "note", "created_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Listing)
class ListingAdmin(AuditedAdmin, admin.ModelAdmin):
    """Read-only: listings change through the site, where every step is an event."""

    list_display = ("title", "kind", "status", "community", "owner", "expires_on")
    list_filter = ("community", "kind", "status", "help_type")
    search_fields = ("title",)
    # Photos are served to the community's members only (listings:photo); the
    # admin would link to the media path, which is never served.
    exclude = ("photo",)
    inlines = [ListingEventInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ListingReport)
class ListingReportAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ("listing", "reporter", "created_at", "handled_at")

    def audit_community(self, obj):
        return obj.listing.community

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

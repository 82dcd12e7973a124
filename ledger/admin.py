"""The ledger in the Django admin: read-only. Every change goes through the
services, which check the rules and record who did what; the database refuses
edits to the books in any case."""

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from ledger.models import Account, Entry, LimitChange, Transfer, TransferBatch


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ["account", "amount", "balance_after", "version"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "community", "kind", "balance", "version", "floor", "ceiling"]
    list_filter = ["community", "kind"]
    list_select_related = ["community", "membership__user"]


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["pk", "created_at", "community", "kind", "memo", "created_by"]
    list_filter = ["community", "kind"]
    inlines = [EntryInline]


@admin.register(TransferBatch)
class TransferBatchAdmin(ReadOnlyAdmin):
    list_display = ["pk", "created_at", "community", "declared_total", "created_by"]


@admin.register(LimitChange)
class LimitChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "old_floor", "new_floor", "old_ceiling", "new_ceiling"]

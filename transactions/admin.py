"""Read-only admin: transactions and the outbox are history; nothing here may be edited."""

from django.contrib import admin

from payflow.admin_access import RoleGatedReadOnlyAdmin
from transactions.models import StreamEvent, StreamRelayState, Transaction


@admin.register(Transaction)
class TransactionAdmin(RoleGatedReadOnlyAdmin):
    list_display = ["public_id", "kind", "amount", "currency", "status", "merchant", "created_at"]
    list_filter = ["kind", "status", "currency"]
    search_fields = ["public_id", "merchant", "payment_ref", "payout_ref"]
    date_hierarchy = "created_at"


@admin.register(StreamEvent)
class StreamEventAdmin(RoleGatedReadOnlyAdmin):
    list_display = ["id", "kind", "amount", "currency", "status", "merchant", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["=id", "merchant"]
    raw_id_fields = ["transaction"]


@admin.register(StreamRelayState)
class StreamRelayStateAdmin(RoleGatedReadOnlyAdmin):
    list_display = ["last_published_id", "holder", "updated_at"]

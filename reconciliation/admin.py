"""Read-only admin for statements, lines, matches and the exceptions queue (changes go through
reconciliation.services)."""

from django.contrib import admin

from payflow.admin_access import RoleGatedReadOnlyAdmin, RoleGatedReadOnlyInline
from payflow.models import HISTORY_ORDER
from reconciliation.models import (
    Approval,
    BankStatement,
    ExceptionEvent,
    Match,
    MatchedItem,
    ReconciliationException,
    Resolution,
    StatementLine,
)


class LineInline(RoleGatedReadOnlyInline):
    model = StatementLine
    fields = (
        "public_id",
        "index",
        "direction",
        "amount",
        "value_date",
        "end_to_end_id",
        "return_reason",
    )
    readonly_fields = fields
    show_change_link = True
    max_num = 0


@admin.register(BankStatement)
class BankStatementAdmin(RoleGatedReadOnlyAdmin):
    list_display = (
        "public_id",
        "format",
        "account",
        "currency",
        "statement_id",
        "line_count",
        "matched_count",
        "exception_count",
        "created_at",
    )
    list_filter = ("format", "currency")
    search_fields = ("public_id", "account", "statement_id", "sha256")
    inlines = [LineInline]


@admin.register(StatementLine)
class StatementLineAdmin(RoleGatedReadOnlyAdmin):
    list_display = (
        "public_id",
        "statement",
        "index",
        "direction",
        "amount",
        "currency",
        "value_date",
        "end_to_end_id",
    )
    search_fields = ("public_id", "end_to_end_id", "customer_reference", "bank_reference")
    list_select_related = ("statement",)


class MatchedItemInline(RoleGatedReadOnlyInline):
    model = MatchedItem
    fields = ("item_id", "outcome", "amount")
    readonly_fields = fields


@admin.register(Match)
class MatchAdmin(RoleGatedReadOnlyAdmin):
    list_display = ("line", "outcome", "reason_code", "source", "actor_name", "created_at")
    list_filter = ("outcome", "source")
    inlines = [MatchedItemInline]


class EventInline(RoleGatedReadOnlyInline):
    model = ExceptionEvent
    fields = ("kind", "detail", "actor_name", "request_id", "created_at")
    readonly_fields = fields
    ordering = HISTORY_ORDER


class ResolutionInline(RoleGatedReadOnlyInline):
    model = Resolution
    fields = ("public_id", "action", "items", "note", "maker_name", "needs_approval", "created_at")
    readonly_fields = fields


@admin.register(ReconciliationException)
class ReconciliationExceptionAdmin(RoleGatedReadOnlyAdmin):
    list_display = (
        "public_id",
        "reason",
        "status",
        "currency",
        "amount",
        "owner",
        "sla_deadline",
        "created_at",
    )
    list_filter = ("status", "reason", "currency")
    search_fields = ("public_id", "item_id", "line__public_id")
    list_select_related = ("owner",)
    inlines = [ResolutionInline, EventInline]


@admin.register(Approval)
class ApprovalAdmin(RoleGatedReadOnlyAdmin):
    list_display = ("public_id", "resolution", "approver_name", "created_at")

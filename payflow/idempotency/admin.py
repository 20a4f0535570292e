from django.contrib import admin

from payflow.admin_access import RoleGatedReadOnlyAdmin
from payflow.idempotency.models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(RoleGatedReadOnlyAdmin):
    list_display = ["key", "user", "scope", "state", "response_status", "resource_id", "created_at"]
    list_filter = ["scope", "state", "created_at"]
    search_fields = ["key", "user__username", "resource_id"]
    # Deleting is purge_idempotency_keys' job, which keeps keys at least 24 h.
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]

"""Chaos in the admin: the settings in force and the change log, read-only.

Changes go through the panel (or the API) so each one is validated, logged and published to
every process; an admin form editing the row directly would skip all three.
"""

from django.contrib import admin

from chaos.models import ChaosChange, ChaosState
from payflow.admin_access import RoleGatedReadOnlyAdmin


@admin.register(ChaosState)
class ChaosStateAdmin(RoleGatedReadOnlyAdmin):
    list_display = ["version", "preset", "updated_at", "updated_by"]
    readonly_fields = ["version", "settings", "updated_at", "updated_by"]

    @admin.display(description="preset")
    def preset(self, obj):
        return obj.settings.get("preset", "off")


@admin.register(ChaosChange)
class ChaosChangeAdmin(RoleGatedReadOnlyAdmin):
    list_display = ["version", "created_at", "actor_username", "preset", "summary"]
    list_filter = ["preset"]
    search_fields = ["actor_username", "summary"]
    readonly_fields = [
        "version",
        "created_at",
        "actor",
        "actor_username",
        "preset",
        "summary",
        "settings",
        "request_id",
    ]

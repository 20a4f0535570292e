"""Admin access for PayFlow's money records: PayFlow's roles decide who sees them (not Django's
per-model permissions), and the admin never adds, edits or deletes them; changes go through
each app's services."""

from django.contrib import admin

from payflow.accounts.roles import Action, can


class RoleGatedReadOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return can(request.user, Action.USE_ADMIN)

    def has_view_permission(self, request, obj=None):
        return can(request.user, Action.USE_ADMIN)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RoleGatedReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return can(request.user, Action.USE_ADMIN)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

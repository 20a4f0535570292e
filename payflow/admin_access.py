"""Admin access for PayFlow's money records: PayFlow's roles decide who sees them (not Django's
per-model permissions), and the admin never adds, edits or deletes them; changes go through
each app's services."""

from functools import wraps

from django.contrib import admin

from payflow.accounts.decorators import forbidden_page
from payflow.accounts.roles import Action, can
from payflow.accounts.throttle import throttled_login


class PayFlowAdminSite(admin.AdminSite):
    """The Django admin for PayFlow's admin role only (staff alone is not enough).

    Anonymous users go to the admin login; a logged-in user without the role gets the 403 page
    naming the role, not a login form they cannot use.
    """

    site_header = "PayFlow administration"
    site_title = "PayFlow admin"

    def has_permission(self, request):
        return can(request.user, Action.USE_ADMIN)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def gated(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                return forbidden_page(request, Action.USE_ADMIN)
            return inner(request, *args, **kwargs)

        return gated

    def login(self, request, extra_context=None):
        if request.user.is_authenticated and not self.has_permission(request):
            return forbidden_page(request, Action.USE_ADMIN)
        return throttled_login(super().login)(request, extra_context)


class RoleGatedAdminMixin:
    """PayFlow's admin role may view and change these records (users, groups, tokens);
    Django's per-model permissions are not used anywhere in PayFlow."""

    def has_module_permission(self, request):
        return can(request.user, Action.USE_ADMIN)

    def has_view_permission(self, request, obj=None):
        return can(request.user, Action.USE_ADMIN)

    def has_add_permission(self, request, *args):
        return can(request.user, Action.USE_ADMIN)

    def has_change_permission(self, request, obj=None):
        return can(request.user, Action.USE_ADMIN)

    def has_delete_permission(self, request, obj=None):
        return can(request.user, Action.USE_ADMIN)


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

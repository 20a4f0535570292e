from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from payflow.accounts.models import ApiToken
from payflow.accounts.services import api_token_revoke
from payflow.admin_access import RoleGatedAdminMixin

User = get_user_model()

# Users and their roles (groups) are managed by PayFlow's admin role, not Django permissions.
for model in (User, Group):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(User)
class PayFlowUserAdmin(RoleGatedAdminMixin, UserAdmin):
    pass


@admin.register(Group)
class PayFlowGroupAdmin(RoleGatedAdminMixin, GroupAdmin):
    pass


@admin.register(ApiToken)
class ApiTokenAdmin(RoleGatedAdminMixin, admin.ModelAdmin):
    list_display = ["display_prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "name", "display_prefix"]
    readonly_fields = ["user", "display_prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        # Tokens are minted by `manage.py create_api_token`, which shows the secret once.
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).", messages.SUCCESS)

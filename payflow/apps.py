from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PayflowConfig(AppConfig):
    default = True
    name = "payflow"
    verbose_name = "PayFlow"

    def ready(self):
        from payflow import (
            checks,  # noqa: F401 - registers the system checks
            text_guard,
        )

        text_guard.connect()


class PayFlowAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin whose default site admits PayFlow's admin role only."""

    default = False
    default_site = "payflow.admin_access.PayFlowAdminSite"

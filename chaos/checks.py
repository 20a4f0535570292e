"""A deploy check: chaos must never be switched on in production."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def chaos_off_in_production(app_configs, **kwargs):
    if settings.PRODUCTION and settings.CHAOS_ENABLED:
        return [
            Error(
                "CHAOS_ENABLED is on in production: anyone with the admin role could inject "
                "failures into real traffic.",
                hint="Unset CHAOS_ENABLED (production defaults it off) or set it to false.",
                id="payflow.chaos.E001",
            )
        ]
    return []

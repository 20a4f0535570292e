"""The chaos banner on every page, and whether the chaos controls exist here at all."""

from django import template

from chaos.config import chaos_enabled as _chaos_enabled
from chaos.selectors import chaos_status

register = template.Library()


@register.simple_tag
def chaos_enabled() -> bool:
    return _chaos_enabled()


@register.inclusion_tag("chaos/banner.html", takes_context=True)
def chaos_banner(context):
    enabled = _chaos_enabled()
    return {
        "enabled": enabled,
        "status": chaos_status() if enabled else None,
        "can_chaos": context.get("can_chaos", False),
    }

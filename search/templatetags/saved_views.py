"""``{% saved_views "payments" %}``: the list's default and saved views, and "Save this view"."""

from django import template
from django.template.loader import render_to_string

from payflow.accounts.selectors import display_prefs
from search import selectors
from search.services import clean_query

register = template.Library()


@register.simple_tag(takes_context=True)
def saved_views(context, page):
    request = context["request"]
    zone = display_prefs(request).time_zone
    current = clean_query(request.GET.urlencode())
    here = request.path + (f"?{current}" if current else "")
    return render_to_string(
        "search/_views.html",
        {
            "page": page,
            "defaults": selectors.default_views(page=page, today_in_zone=zone),
            "saved": selectors.views_for(user=request.user, page=page),
            "current_query": current,
            "here": here,
        },
        request=request,
    )

"""List pages: sortable column headers and the Export link, from the request's query string.

``{% sort_header "amount" "Amount" default="-created_at" %}`` renders a header link that sorts by
the column (and, clicked again, the other way), drops the cursor (a cursor belongs to one
sort) and says the current order to screen readers with ``aria-sort`` on the <th>.
"""

from django import template
from django.utils.html import format_html

register = template.Library()


def _current(request, default: str) -> str:
    return (request.GET.get("sort") or "").strip() or default


@register.simple_tag(takes_context=True)
def sort_header(context, name, label, default="-created_at", css=""):
    request = context["request"]
    current = _current(request, default)
    active = current.lstrip("-") == name
    descending = current.startswith("-")
    if active:
        target = name if descending else f"-{name}"
        aria = "descending" if descending else "ascending"
        arrow = " ↓" if descending else " ↑"
    else:
        target = f"-{name}" if name in ("created_at", "amount", "submitted_at") else name
        aria, arrow = "none", ""
    query = request.GET.copy()
    for key in ("cursor", "partial", "sort"):
        query.pop(key, None)
    query["sort"] = target
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}"><a class="sort-link" href="?{}"'
        ' data-sort="{}">{}<span aria-hidden="true">{}</span></a></th>',
        css,
        aria,
        query.urlencode(),
        target,
        label,
        arrow,
    )


@register.simple_tag(takes_context=True)
def export_link(context, url, label="Export CSV"):
    """A link to ``url`` with the page's filters and sort (not its cursor: every row)."""
    request = context["request"]
    query = request.GET.copy()
    for key in ("cursor", "partial", "limit"):
        query.pop(key, None)
    href = f"{url}?{query.urlencode()}" if query else url
    return format_html(
        '<a class="button export-link" href="{}" download data-testid="export-csv">{}</a>',
        href,
        label,
    )

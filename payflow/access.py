"""Which layer owns access to each kind of route (see docs/access.md).

- Pages: the view's declaration (``@requires`` / ``@public`` in payflow.accounts.decorators),
  enforced by ``PageAccessMiddleware``; undeclared pages are refused.
- The JSON API (URL namespace ``api``): each operation's ``auth=needs(Action.X)``; the API's
  default refuses everyone (payflow.api).
- The Django admin (namespace ``admin``): ``PayFlowAdminSite`` (payflow.admin_access) admits
  only the admin role; model admins subclass ``RoleGatedReadOnlyAdmin``.
- Streams check a bearer token, ``?token=`` or the session in their own access function,
  declared here so the page layer knows the route is governed.
"""

from django.urls import URLPattern, URLResolver, get_resolver

from payflow.accounts.decorators import access_of
from payflow.accounts.roles import Action

SELF_GOVERNED_NAMESPACES = {"api", "admin"}

# Views that check access themselves, with the least action they admit.
ACCESS_CHECKED_IN_VIEW: dict[str, Action] = {
    "transactions:stream": Action.VIEW,  # transactions.access.stream_access
}


def route_access(view_name: str, callback) -> Action | str | None:
    declared = access_of(callback)
    if declared is not None:
        return declared
    return ACCESS_CHECKED_IN_VIEW.get(view_name)


def page_routes(resolver=None, prefix: str = "", namespace: str = ""):
    """Every page route as (route, view name, callback); the api and admin trees excluded."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in SELF_GOVERNED_NAMESPACES and not namespace:
                continue
            child_ns = ":".join(part for part in (namespace, ns) if part)
            yield from page_routes(entry, prefix + str(entry.pattern), child_ns)
        elif isinstance(entry, URLPattern):
            name = ":".join(part for part in (namespace, entry.name or "") if part)
            yield prefix + str(entry.pattern), name, entry.callback


def undeclared_page_routes() -> list[str]:
    return [
        f"{route} ({name or callback.__qualname__})"
        for route, name, callback in page_routes()
        if route_access(name, callback) is None
    ]

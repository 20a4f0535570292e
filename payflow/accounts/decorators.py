"""Page access: every page view declares what it needs, and nothing else decides.

- ``@requires(Action.X)``: login required (anonymous users go to the login page), then the role
  ``X`` needs (the wrong role gets a 403 page naming it).
- ``@public``: no login (the login page, probes, metrics); say why where you use it.

Both mark the view with ``payflow_access``; ``payflow.middleware.PageAccessMiddleware`` refuses
any page view without the mark, and a system check and the access-matrix test fail on one.
"""

from functools import wraps

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from payflow.accounts.roles import Action, can, denial_message, required_role

PUBLIC = "public"


def forbidden_page(request, action: Action):
    context = {"message": denial_message(action), "role_needed": required_role(action).label}
    return render(request, "errors/403.html", context, status=403)


def _mark(view, access):
    view.payflow_access = access
    return view


def public(view):
    """Declare a page open to everyone, logged in or not."""
    return _mark(view, PUBLIC)


def access_of(view) -> Action | str | None:
    """What a view declared: an Action, ``PUBLIC``, or None (undeclared, so refused)."""
    return getattr(view, "payflow_access", None)


def requires(action: Action):
    """Decorate a page view: login required, then the role that ``action`` needs."""
    action = Action(action)

    def decorate(view):
        # Marked on the inner view too, so decorators that wrap it (functools.wraps) keep it.
        _mark(view, action)
        if iscoroutinefunction(view):

            @wraps(view)
            async def async_wrapped(request, *args, **kwargs):
                user = await request.auser()
                if not user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                if not await sync_to_async(can)(user, action):
                    return await sync_to_async(forbidden_page)(request, action)
                return await view(request, *args, **kwargs)

            return _mark(async_wrapped, action)

        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, action):
                return forbidden_page(request, action)
            return view(request, *args, **kwargs)

        return _mark(wrapped, action)

    return decorate

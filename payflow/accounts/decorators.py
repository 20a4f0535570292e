"""Page access: anonymous users go to the login page, the wrong role gets a 403 page naming it."""

from functools import wraps

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from payflow.accounts.roles import Action, can, denial_message, required_role


def forbidden_page(request, action: Action):
    context = {"message": denial_message(action), "role_needed": required_role(action).label}
    return render(request, "errors/403.html", context, status=403)


def requires(action: Action):
    """Decorate a page view: login required, then the role that ``action`` needs."""

    def decorate(view):
        if iscoroutinefunction(view):

            @wraps(view)
            async def async_wrapped(request, *args, **kwargs):
                user = await request.auser()
                if not user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                if not await sync_to_async(can)(user, action):
                    return await sync_to_async(forbidden_page)(request, action)
                return await view(request, *args, **kwargs)

            return async_wrapped

        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, action):
                return forbidden_page(request, action)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def public(view):
    """Mark a view as deliberately open to anonymous callers (it proves itself another way,
    such as a webhook signature), so the deny-by-default access check lets it through."""
    view.payflow_public = True
    return view

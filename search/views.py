"""The search results page (and the shell's dropdown, its htmx partial); saved views."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from payflow.accounts.decorators import requires
from payflow.accounts.roles import Action
from payflow.exceptions import Forbidden, InvalidInput, NotFound
from search import selectors, services
from search.engine import MAX_QUERY_LENGTH, search_everything
from search.models import PAGES


@requires(Action.VIEW)
def search_page(request):
    q = (request.GET.get("q") or "")[:MAX_QUERY_LENGTH]
    results = search_everything(q)
    if request.GET.get("go") and results.best:  # Enter in the box without JS: the best match
        return redirect(results.best.url)
    template = "search/results.html"
    if request.GET.get("partial") == "dropdown":
        template += "#dropdown"
    return render(request, template, {"results": results, "q": q})


@requires(Action.VIEW)
@require_POST
def saved_view_create(request):
    page = request.POST.get("page", "")
    try:
        view = services.saved_view_create(
            owner=request.user,
            name=request.POST.get("name", ""),
            page=page,
            query=request.POST.get("query", ""),
        )
    except InvalidInput as exc:
        for errors in exc.fields.values():
            for error in errors:
                messages.error(request, f"View not saved: {error}")
        back = PAGES.get(page, "/")
        query = services.clean_query(request.POST.get("query", ""))
        return redirect(back + (f"?{query}" if query else ""))
    messages.success(request, f"Saved the view “{view.name}”. Its link can be shared.")
    return redirect(view.url)


@requires(Action.VIEW)
def saved_view_open(request, view_id: int):
    """A saved view's shareable address: anyone who may view PayFlow gets its filters."""
    view = selectors.saved_view_get(view_id=view_id)
    if view is None:
        raise Http404("No such saved view.")
    return redirect(view.url)


@requires(Action.VIEW)
@require_POST
def saved_view_delete(request, view_id: int):
    try:
        services.saved_view_delete(owner=request.user, view_id=view_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Saved view deleted.")
    return redirect(PAGES.get(request.POST.get("page", ""), "/"))

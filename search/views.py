"""The search results page (and the shell's dropdown, its htmx partial)."""

from django.shortcuts import redirect, render

from payflow.accounts.decorators import requires
from payflow.accounts.roles import Action
from search.engine import MAX_QUERY_LENGTH, search_everything


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

"""Shell pages that belong to no app: the overview at /."""

from django.shortcuts import render

from payflow.accounts.decorators import requires
from payflow.accounts.roles import Action


@requires(Action.VIEW)
def home(request):
    return render(request, "home.html")

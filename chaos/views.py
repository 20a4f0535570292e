"""The chaos panel (a page, and the Ctrl+Shift+D dialog's content) and the chaos banner."""

from functools import wraps

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from chaos.config import chaos_enabled
from chaos.forms import ChaosPanelForm
from chaos.presets import PRESETS
from chaos.selectors import chaos_panel_state, chaos_status
from chaos.services import (
    ChaosInvalid,
    chaos_preset_apply,
    chaos_publish_if_lost,
    chaos_settings_update,
)
from payflow.accounts.decorators import requires
from payflow.accounts.roles import Action

PANEL = "chaos/panel.html"


def chaos_page(action: Action):
    """404 while CHAOS_ENABLED is off (nothing to see, nothing to turn on), then the role check."""

    def decorate(view):
        guarded = requires(action)(view)

        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not chaos_enabled():
                raise Http404("Chaos is disabled on this deployment.")
            return guarded(request, *args, **kwargs)

        return wrapped

    return decorate


def _render_panel(request, *, form=None, saved=None, status=200):
    state = chaos_panel_state()
    context = {
        "state": state,
        "form": form or ChaosPanelForm(chaos=state.chaos),
        "presets": PRESETS.values(),
        "saved": saved,
    }
    template = f"{PANEL}#panel_body" if request.htmx else PANEL
    response = render(request, template, context, status=status)
    if saved is not None:
        trigger_client_event(response, "chaos:changed", {"version": saved.version})
    return response


@require_GET
@chaos_page(Action.USE_CHAOS)
def panel(request):
    chaos_publish_if_lost()
    if request.htmx and request.GET.get("partial") == "processes":
        return render(request, f"{PANEL}#processes", {"state": chaos_panel_state()})
    return _render_panel(request)


@require_POST
@chaos_page(Action.USE_CHAOS)
def panel_save(request):
    form = ChaosPanelForm(request.POST)
    if form.is_valid():
        try:
            saved = chaos_settings_update(actor=request.user, chaos=form.to_settings())
        except ChaosInvalid as exc:
            form.add_service_errors(exc.fields)
        else:
            return _render_panel(request, saved=saved) if request.htmx else redirect("chaos:panel")
    return _render_panel(request, form=form, status=422)


@require_POST
@chaos_page(Action.USE_CHAOS)
def panel_preset(request, name: str):
    if name not in PRESETS:
        raise Http404(f"No chaos preset {name!r}.")
    saved = chaos_preset_apply(actor=request.user, name=name)
    return _render_panel(request, saved=saved) if request.htmx else redirect("chaos:panel")


@require_GET
@chaos_page(Action.VIEW)
def banner(request):
    """The banner every user sees while chaos is on; pages poll it so it appears and goes."""
    return render(request, "chaos/banner.html", {"enabled": True, "status": chaos_status()})

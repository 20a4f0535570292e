"""The display preferences page: a person's time zone and number format."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from payflow import formatting
from payflow.accounts.decorators import requires
from payflow.accounts.roles import Action
from payflow.accounts.selectors import display_prefs
from payflow.accounts.services import display_preference_set
from payflow.exceptions import InvalidInput


@requires(Action.VIEW)
def preferences_page(request):
    prefs = display_prefs(request)
    errors: dict = {}
    values = {"time_zone": prefs.chosen_time_zone, "locale": prefs.chosen_locale}
    status = 200
    if request.method == "POST":
        values = {
            "time_zone": request.POST.get("time_zone", "").strip(),
            "locale": request.POST.get("locale", "").strip(),
        }
        try:
            display_preference_set(user=request.user, **values)
        except InvalidInput as exc:
            errors, status = exc.fields, 422
        else:
            messages.success(request, "Display preferences saved.")
            return redirect("preferences")
    context = {
        "values": values,
        "errors": errors,
        "zones": formatting.time_zone_choices(),
        "locales": formatting.LOCALE_CHOICES,
        "browser_zone": request.COOKIES.get("pf_tz", ""),
        "effective": prefs,
        "now_moment": timezone.now(),
    }
    return render(request, "accounts/preferences.html", context, status=status)

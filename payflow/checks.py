"""System checks: start-up refuses a page route that declares no access."""

from django.core.checks import Error, Tags, register


@register(Tags.security, Tags.urls)
def every_page_declares_its_access(app_configs=None, **kwargs):
    from payflow.access import undeclared_page_routes

    return [
        Error(
            f"The page route {route} declares no access.",
            hint="Decorate the view with @requires(Action.X) or @public "
            "(payflow.accounts.decorators).",
            id="payflow.E001",
        )
        for route in undeclared_page_routes()
    ]

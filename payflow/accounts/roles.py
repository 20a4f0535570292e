"""The one place that decides "may this user do X".

Roles are Django groups: viewer < operator < admin. Each action names the least role that may
take it; pages, the API, sockets, the admin and commands all ask ``can`` / ``required_role``.
"""

from enum import IntEnum, StrEnum

from django.contrib.auth.models import Group


class Role(IntEnum):
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def group_name(self) -> str:
        return self.name.lower()

    @property
    def label(self) -> str:
        return self.name.capitalize()


class Action(StrEnum):
    VIEW = "view"
    CREATE_PAYMENT = "create_payment"
    TRANSITION_PAYMENT = "transition_payment"
    SIMULATE = "simulate"
    REFUND_PAYMENT = "refund_payment"
    VIEW_WEBHOOKS = "view_webhooks"
    RECONCILE_PAYOUT = "reconcile_payout"
    CREATE_PAYOUT = "create_payout"
    USE_CHAOS = "use_chaos"
    USE_ADMIN = "use_admin"


REQUIRED_ROLE: dict[Action, Role] = {
    Action.VIEW: Role.VIEWER,
    Action.CREATE_PAYMENT: Role.OPERATOR,
    Action.TRANSITION_PAYMENT: Role.OPERATOR,
    Action.SIMULATE: Role.OPERATOR,
    Action.REFUND_PAYMENT: Role.OPERATOR,
    Action.VIEW_WEBHOOKS: Role.OPERATOR,
    Action.RECONCILE_PAYOUT: Role.OPERATOR,
    Action.CREATE_PAYOUT: Role.OPERATOR,
    Action.USE_CHAOS: Role.ADMIN,
    Action.USE_ADMIN: Role.ADMIN,
}

_ACTION_PHRASES: dict[Action, str] = {
    Action.VIEW: "view PayFlow",
    Action.CREATE_PAYMENT: "create payments",
    Action.TRANSITION_PAYMENT: "change a payment's status",
    Action.SIMULATE: "run simulations",
    Action.REFUND_PAYMENT: "refund payments",
    Action.VIEW_WEBHOOKS: "read the processor's webhook log",
    Action.RECONCILE_PAYOUT: "reconcile payouts",
    Action.CREATE_PAYOUT: "create payout batches",
    Action.USE_CHAOS: "use the chaos controls",
    Action.USE_ADMIN: "use the Django admin",
}


def role_of(user) -> Role | None:
    """The highest role the user holds, or None (anonymous, inactive, or no group)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    names = getattr(user, "_payflow_group_names", None)
    if names is None:
        names = set(user.groups.values_list("name", flat=True))
        user._payflow_group_names = names
    held = [role for role in Role if role.group_name in names]
    if user.is_staff and Role.ADMIN in held:
        return Role.ADMIN
    held = [role for role in held if role is not Role.ADMIN]
    return max(held, default=None)


def required_role(action: Action) -> Role:
    return REQUIRED_ROLE[Action(action)]


def can(user, action: Action) -> bool:
    role = role_of(user)
    return role is not None and role >= required_role(action)


def denial_message(action: Action) -> str:
    """The sentence shown with a 403: which role is needed for what."""
    role = required_role(action)
    return (
        f"You need the {role.label} role (or higher) to {_ACTION_PHRASES[Action(action)]}. "
        "Ask an administrator to grant it."
    )


def ensure_groups() -> dict[Role, Group]:
    """Create the role groups if missing (the migration does; flushed test databases need it)."""
    return {role: Group.objects.get_or_create(name=role.group_name)[0] for role in Role}


def assign_role(user, role: Role) -> None:
    """Give the user exactly this role; admin also makes them staff so the Django admin opens."""
    groups = ensure_groups()
    user.groups.set([groups[role]])
    user.is_staff = role is Role.ADMIN
    user.save(update_fields=["is_staff"])
    user.__dict__.pop("_payflow_group_names", None)

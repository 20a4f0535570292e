from payflow.accounts.roles import Action, can, role_of


def role(request):
    user = getattr(request, "user", None)
    current = role_of(user)
    return {
        "current_role": current,
        "can_operate": can(user, Action.TRANSITION_PAYMENT),
        "can_admin": can(user, Action.USE_ADMIN),
        "can_chaos": can(user, Action.USE_CHAOS),
    }

"""Who may open a live stream: a logged-in user or a bearer token, with the viewer role."""

from dataclasses import dataclass

from payflow.accounts.roles import Action, can, denial_message
from payflow.accounts.selectors import bearer_token_from_header, user_for_bearer_token


@dataclass(frozen=True)
class StreamAccess:
    user: object | None
    status: int = 200
    code: str = ""
    message: str = ""

    @property
    def allowed(self) -> bool:
        return self.status == 200

    def as_message(self) -> dict:
        return {"type": "error", "code": self.code, "message": self.message, "fields": {}}

    def as_body(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": {}}


def stream_access(*, session_user, authorization: str | None, token: str | None) -> StreamAccess:
    """Judge a stream request. A request that offers a token is judged on the token alone."""
    if authorization is not None or token:
        raw = bearer_token_from_header(authorization) if authorization is not None else token
        user = user_for_bearer_token(raw) if raw else None
        if user is None:
            return StreamAccess(
                None, 401, "invalid_token", "The bearer token is malformed, unknown or revoked."
            )
    else:
        user = session_user
    if user is None or not user.is_authenticated:
        return StreamAccess(
            None,
            401,
            "not_authenticated",
            "Log in, or send 'Authorization: Bearer <token>' (WebSocket: also ?token=).",
        )
    if not can(user, Action.VIEW):
        return StreamAccess(user, 403, "forbidden", denial_message(Action.VIEW))
    return StreamAccess(user)

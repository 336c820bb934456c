"""Bearer-token authentication for every API endpoint except the OpenAPI document."""

from __future__ import annotations

from flask import g, request

from app.api import bp
from app.api.errors import ApiError
from app.auth.tokens import user_for_token
from app.models import User

PUBLIC = {"api.openapi"}
REALM = 'Bearer realm="Loopback API"'


def current_api_user() -> User:
    return g.api_user


@bp.before_request
def authenticate() -> None:
    if request.endpoint in PUBLIC:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.strip().partition(" ")
    if not header:
        raise ApiError(
            401,
            "Send an API token: 'Authorization: Bearer <token>'. Create one "
            "on your profile page or with 'flask users token EMAIL'.",
            {"WWW-Authenticate": REALM},
        )
    if scheme.lower() != "bearer" or not raw.strip():
        raise ApiError(
            401,
            "Malformed Authorization header; expected 'Bearer <token>'.",
            {"WWW-Authenticate": f'{REALM}, error="invalid_request"'},
        )
    user = user_for_token(raw.strip())
    if user is None:
        raise ApiError(
            401,
            "Invalid or revoked API token.",
            {"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    g.api_user = user

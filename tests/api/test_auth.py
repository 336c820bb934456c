"""Bearer tokens: required everywhere but the OpenAPI document; cookies never count."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.tokens import hash_token, revoke_token
from app.models import ApiToken, User, db
from tests.api.helpers import Api, count_submissions, make_token, make_user
from tests.helpers import AuthActions


def assert_401(response, error: str | None = None) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if error:
        assert f'error="{error}"' in response.headers["WWW-Authenticate"]
    assert response.is_json and response.get_json()["error"]
    assert "Set-Cookie" not in response.headers


def test_missing_header_is_401_with_www_authenticate(app, client):
    for path in ("/questions", "/questions/tcp-echo", "/submissions", "/submissions/1"):
        response = client.get(f"/api/v1{path}")
        assert_401(response)
        assert "Authorization: Bearer" in response.get_json()["error"]
    response = client.post(
        "/api/v1/submissions", json={"question": "tcp-echo", "files": {"client": "print(1)"}}
    )
    assert_401(response)
    assert count_submissions(app) == 0


def test_malformed_and_unknown_tokens_are_401(app, client):
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "lb_abc", "Token lb_abc"):
        assert_401(
            client.get("/api/v1/questions", headers={"Authorization": header}), "invalid_request"
        )
    for token in ("lb_not-a-real-token", "x" * 5000):
        assert_401(Api(client, token).get("/questions"), "invalid_token")


def test_a_valid_token_works_and_records_its_last_use(app, api):
    with app.app_context():
        [token] = db.session.scalars(sa.select(ApiToken)).all()
        assert token.last_used_at is None
    response = api.get("/questions")
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalars(sa.select(ApiToken)).one().last_used_at is not None
    # the scheme is case-insensitive (RFC 7235)
    lower = api.client.get("/api/v1/questions", headers={"Authorization": f"bearer {api.token}"})
    assert lower.status_code == 200


def test_a_revoked_token_is_401(app, api):
    assert api.get("/questions").status_code == 200
    with app.app_context():
        token = db.session.scalar(
            sa.select(ApiToken).where(ApiToken.token_hash == hash_token(api.token))
        )
        user = db.session.get(User, token.user_id)
        assert revoke_token(user, token.id) is not None
    assert_401(api.get("/questions"), "invalid_token")
    assert_401(api.submit("tcp-echo", {"client": "print(1)"}), "invalid_token")
    assert count_submissions(app) == 0


def test_tokens_are_per_user_and_only_hashes_are_stored(app, api):
    second = make_token(app, "learner@example.com", name="second")
    assert second != api.token and second.startswith("lb_") and len(second) > 40
    with app.app_context():
        hashes = set(db.session.scalars(sa.select(ApiToken.token_hash)))
    assert hashes == {hash_token(api.token), hash_token(second)}
    assert Api(api.client, second).get("/questions").status_code == 200


def test_a_browser_session_is_not_enough_and_csrf_is_not_needed(app, client):
    make_user(app, "web@example.com")
    AuthActions(client).login("web@example.com")
    assert client.get("/").status_code == 200
    assert_401(client.get("/api/v1/questions"))
    token = make_token(app, "web@example.com")
    # a token request needs no CSRF token (the blueprint is exempt)
    response = Api(client, token).submit("tcp-echo", {"client": "print(1)"})
    assert response.status_code == 202


def test_openapi_document_needs_no_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.get_json()["openapi"].startswith("3.1")

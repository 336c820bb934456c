"""API tokens: the profile page shows a new token once, stores only its hash, revokes it."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from app.auth.tokens import (
    MAX_ACTIVE_TOKENS,
    TokenError,
    hash_token,
    issue_token,
    revoke_token,
    user_for_token,
)
from app.models import ApiToken, User, db, utcnow
from tests.helpers import AuthActions, csrf_token

EN = {"Accept-Language": "en"}
TOKEN_RE = re.compile(r'<code class="token-value">(lb_[A-Za-z0-9_-]+)</code>')


def tokens(app) -> list[ApiToken]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)))
        db.session.expunge_all()
        return found


def create_on_page(client, name: str = "laptop"):
    page = client.get("/auth/profile", headers=EN)
    return client.post(
        "/auth/profile/tokens", headers=EN, data={"csrf_token": csrf_token(page.text), "name": name}
    )


def test_profile_needs_a_login_and_is_linked_from_the_header(client, auth):
    response = client.get("/auth/profile")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    auth.register()
    html = client.get("/", headers=EN).text
    assert 'href="/auth/profile"' in html and "Profile" in html
    page = client.get("/auth/profile", headers=EN)
    assert page.status_code == 200
    assert "learner@example.com" in page.text and "You have no API tokens yet." in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_a_created_token_is_shown_once_and_only_its_hash_is_stored(app, client, auth):
    auth.register()
    response = create_on_page(client, "  CI   grader ")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert "it will not be shown again" in response.text
    [raw] = TOKEN_RE.findall(response.text)
    [stored] = tokens(app)
    assert stored.name == "CI grader"
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest() != raw
    assert stored.revoked_at is None and stored.last_used_at is None
    with app.app_context():  # the raw token is nowhere in the database
        dump = "\n".join(db.session.connection().connection.driver_connection.iterdump())
    assert raw not in dump
    again = client.get("/auth/profile", headers=EN).text
    assert raw not in again and "CI grader" in again and "never" in again
    assert (
        client.get("/api/v1/questions", headers={"Authorization": f"Bearer {raw}"}).status_code
        == 200
    )
    assert "never" not in client.get("/auth/profile", headers=EN).text.split("<tbody>")[1]


def test_token_name_is_required_and_bounded(app, client, auth):
    auth.register()
    response = create_on_page(client, "   ")
    assert response.status_code == 422 and "Give the token a name" in response.text
    response = create_on_page(client, "x" * 101)
    assert response.status_code == 422 and "at most 100 characters" in response.text
    assert tokens(app) == []


def test_creating_without_csrf_is_refused(app, client, auth):
    auth.register()
    response = client.post("/auth/profile/tokens", data={"name": "sneaky"})
    assert response.status_code == 400
    assert tokens(app) == []


def test_revoke_button_revokes_with_csrf(app, client, auth):
    auth.register()
    raw = TOKEN_RE.findall(create_on_page(client).text)[0]
    [token] = tokens(app)
    page = client.get("/auth/profile", headers=EN).text
    assert f'action="/auth/profile/tokens/{token.id}/revoke"' in page
    # without the CSRF token nothing happens
    assert client.post(f"/auth/profile/tokens/{token.id}/revoke").status_code == 400
    assert tokens(app)[0].revoked_at is None
    response = client.post(
        f"/auth/profile/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(page)}, headers=EN
    )
    assert response.status_code == 303 and response.headers["Location"] == "/auth/profile"
    assert tokens(app)[0].revoked_at is not None
    page = client.get("/auth/profile", headers=EN).text
    assert "Token “laptop” revoked." in page and "Revoked" in page
    response = client.get("/api/v1/questions", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401


def test_nobody_revokes_somebody_elses_token(app, client, auth):
    auth.register("owner@example.com")
    create_on_page(client, "owner's script")
    [token] = tokens(app)
    other = app.test_client()
    AuthActions(other).register("other@example.com")
    page = other.get("/auth/profile").text
    assert "owner" not in page
    response = other.post(
        f"/auth/profile/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 404
    assert tokens(app)[0].revoked_at is None


def test_profile_page_in_chinese(client, auth):
    auth.register()
    client.get("/lang/zh")
    html = client.get("/auth/profile").text
    assert "个人资料" in html and "创建令牌" in html


def test_issue_and_look_up_tokens(app):
    with app.app_context():
        user = User(email="unit@example.com")
        user.set_password("correct horse")
        db.session.add(user)
        db.session.commit()
        raw = issue_token(user, "unit")
        assert raw.startswith("lb_") and len(raw) == 46
        assert user_for_token(raw).id == user.id
        for wrong in (None, "", raw[:-1], raw + "x", hash_token(raw), "lb_" + "a" * 300):
            assert user_for_token(wrong) is None
        token = db.session.scalar(sa.select(ApiToken))
        first_use = token.last_used_at
        assert first_use is not None
        user_for_token(raw)  # used again within a minute: not rewritten
        assert db.session.scalar(sa.select(ApiToken)).last_used_at == first_use
        token.last_used_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        user_for_token(raw)
        last_used = db.session.scalar(sa.select(ApiToken)).last_used_at.replace(tzinfo=None)
        assert last_used > utcnow().replace(tzinfo=None) - timedelta(minutes=1)
        assert revoke_token(user, token.id) is not None
        assert user_for_token(raw) is None
        revoked_at = db.session.scalar(sa.select(ApiToken)).revoked_at
        assert revoke_token(user, token.id).revoked_at == revoked_at  # idempotent


def test_issue_token_refuses_bad_names_and_too_many_tokens(app):
    import pytest

    with app.app_context():
        user = User(email="many@example.com")
        user.set_password("correct horse")
        db.session.add(user)
        db.session.commit()
        for name in ("", "  ", "x" * 101):
            with pytest.raises(TokenError):
                issue_token(user, name)
        for number in range(MAX_ACTIVE_TOKENS):
            issue_token(user, f"t{number}")
        with pytest.raises(TokenError, match="revoke one first"):
            issue_token(user, "one more")
        first = db.session.scalar(sa.select(ApiToken).order_by(ApiToken.id))
        revoke_token(user, first.id)
        assert issue_token(user, "one more").startswith("lb_")

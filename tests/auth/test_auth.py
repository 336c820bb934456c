"""Register, sign in, sign out; CSRF; password storage."""

from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user

from app.models import Role, User, db
from tests.helpers import csrf_token

EN = {"Accept-Language": "en"}


def users(app) -> list[User]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(User)))
        db.session.expunge_all()
        return found


def signed_in_email(client) -> str | None:
    with client.session_transaction() as session:
        user_id = session.get("_user_id")
    return user_id


def test_register_login_logout_flow(client, auth, app):
    assert client.get("/auth/register").status_code == 200
    response = auth.register("Learner@Example.COM ", "correct horse")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    [user] = users(app)
    assert user.email == "learner@example.com"  # normalised
    assert user.role == Role.LEARNER.value

    html = client.get("/", headers=EN).text
    assert "learner@example.com" in html and "Sign out" in html
    assert signed_in_email(client) == str(user.id)

    response = auth.logout()
    assert response.status_code == 302
    assert signed_in_email(client) is None
    html = client.get("/", headers=EN).text
    assert "learner@example.com" not in html and "Sign in" in html

    response = auth.login("LEARNER@example.com", "correct horse")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in_email(client) == str(user.id)
    with client:
        client.get("/")
        assert current_user.email == "learner@example.com"


def test_register_shows_welcome_flash(auth):
    response = auth.register(follow_redirects=True)
    assert "Welcome! Your account is ready." in response.text


def test_duplicate_email_is_rejected(client, auth, app):
    auth.register("dup@example.com", "password-one")
    auth.logout()
    response = auth.register("DUP@example.com", "password-two")
    assert response.status_code == 422
    assert "An account with this email already exists" in response.text
    assert len(users(app)) == 1


def test_register_validates_input(auth, app):
    response = auth.register("not-an-email", "correct horse")
    assert response.status_code == 422
    assert "Enter a valid email address" in response.text
    response = auth.register("short@example.com", "short")
    assert "Use between 8 and 256 characters." in response.text
    response = auth.register("mismatch@example.com", "correct horse", confirm="battery staple")
    assert "The two passwords do not match." in response.text
    assert users(app) == []


def test_register_errors_are_translated(client, app):
    page = client.get("/auth/register", headers={"Accept-Language": "zh-CN"})
    assert "注册账号" in page.text
    response = client.post(
        "/auth/register",
        data={"csrf_token": csrf_token(page.text), "email": "x", "password": "a", "confirm": "b"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert "请输入有效的邮箱地址" in response.text
    assert 'aria-invalid="true"' in response.text


def test_wrong_password_is_rejected(client, auth):
    auth.register("learner@example.com", "correct horse")
    auth.logout()
    response = auth.login("learner@example.com", "wrong horse!")
    assert response.status_code == 422
    assert "Incorrect email or password." in response.text
    assert signed_in_email(client) is None
    response = auth.login("nobody@example.com", "correct horse")
    assert "Incorrect email or password." in response.text
    assert signed_in_email(client) is None


def test_login_follows_safe_next_only(client, auth):
    auth.register("learner@example.com", "correct horse")
    auth.logout()
    response = auth.login(next_url="/questions/tcp-echo")
    assert response.headers["Location"] == "/questions/tcp-echo"
    auth.logout()
    response = auth.login(next_url="https://evil.example/steal")
    assert response.headers["Location"] == "/"
    auth.logout()
    response = auth.login(next_url="//evil.example")
    assert response.headers["Location"] == "/"


def test_login_without_csrf_token_is_rejected(client, auth, app):
    auth.register("learner@example.com", "correct horse")
    auth.logout()
    response = client.post(
        "/auth/login",
        data={"email": "learner@example.com", "password": "correct horse"},
        headers=EN,
    )
    assert response.status_code == 400
    assert "The form expired or is missing its security token" in response.text
    assert signed_in_email(client) is None


def test_login_with_a_forged_csrf_token_is_rejected(client, auth):
    auth.register("learner@example.com", "correct horse")
    auth.logout()
    client.get("/auth/login")
    response = client.post(
        "/auth/login",
        data={"csrf_token": "forged", "email": "learner@example.com", "password": "correct horse"},
    )
    assert response.status_code == 400
    assert signed_in_email(client) is None


def test_register_without_csrf_token_creates_no_user(client, app):
    client.get("/auth/register")
    response = client.post(
        "/auth/register",
        data={"email": "csrf@example.com", "password": "correct horse", "confirm": "correct horse"},
    )
    assert response.status_code == 400
    assert users(app) == []


def test_logout_needs_post_with_csrf(client, auth):
    auth.register()
    response = client.post("/auth/logout")  # no token
    assert response.status_code == 400
    assert signed_in_email(client) is not None
    page = client.get("/auth/logout", headers=EN)  # GET only asks for confirmation
    assert page.status_code == 200 and "Sign out" in page.text
    assert signed_in_email(client) is not None
    client.post("/auth/logout", data={"csrf_token": csrf_token(page.text)})
    assert signed_in_email(client) is None


def test_passwords_are_hashed(auth, app):
    auth.register("learner@example.com", "correct horse")
    [user] = users(app)
    assert "correct horse" not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert user.check_password("correct horse")
    assert not user.check_password("correct horse ")


def test_signed_in_user_is_redirected_away_from_forms(client, auth):
    auth.register()
    assert client.get("/auth/login").status_code == 302
    assert client.get("/auth/register").status_code == 302


def test_csrf_error_page_is_translated(client):
    response = client.post("/auth/login", data={}, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 400
    assert "表单已过期或缺少安全令牌" in response.text

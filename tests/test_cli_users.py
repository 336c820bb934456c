"""`flask users create|token|role`: accounts and API tokens for scripts."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.tokens import hash_token, user_for_token
from app.models import ApiToken, User, db


def user(app, email: str) -> User | None:
    with app.app_context():
        found = db.session.scalar(sa.select(User).where(User.email == email))
        if found is not None:
            db.session.expunge(found)
        return found


def test_create_a_learner_and_an_admin(app, runner):
    result = runner.invoke(
        args=["users", "create", "Ana@Example.com ", "--password", "correct horse"]
    )
    assert result.exit_code == 0, result.output
    assert "created learner ana@example.com" in result.output
    created = user(app, "ana@example.com")
    assert created.role == "learner" and created.check_password("correct horse")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "boss@example.com",
            "--password",
            "correct horse",
            "--role",
            "admin",
        ]
    )
    assert result.exit_code == 0 and user(app, "boss@example.com").role == "admin"


def test_create_refuses_duplicates_weak_passwords_bad_emails_and_roles(app, runner):
    runner.invoke(args=["users", "create", "ana@example.com", "--password", "correct horse"])
    cases = [
        (["ana@example.com", "--password", "another one"], "already exists"),
        (["ANA@example.com", "--password", "another one"], "already exists"),
        (["new@example.com", "--password", "short"], "too weak"),
        (["new@example.com", "--password", "x" * 257], "too weak"),
        (["not-an-email", "--password", "correct horse"], "not a valid email"),
        (["new@example.com", "--password", "correct horse", "--role", "god"], "god"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    assert user(app, "new@example.com") is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_create_asks_for_the_password_when_omitted(app, runner):
    result = runner.invoke(
        args=["users", "create", "ana@example.com"], input="correct horse\ncorrect horse\n"
    )
    assert result.exit_code == 0, result.output
    assert user(app, "ana@example.com").check_password("correct horse")


def test_token_prints_only_the_token(app, runner):
    runner.invoke(args=["users", "create", "ana@example.com", "--password", "correct horse"])
    result = runner.invoke(args=["users", "token", "ana@example.com", "--name", "ci"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip()
    assert result.output == raw + "\n" and raw.startswith("lb_") and " " not in raw
    with app.app_context():
        [stored] = db.session.scalars(sa.select(ApiToken)).all()
        assert stored.name == "ci" and stored.token_hash == hash_token(raw)
        assert user_for_token(raw).email == "ana@example.com"
    client = app.test_client()
    response = client.get("/api/v1/questions", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    default = runner.invoke(args=["users", "token", "ana@example.com"])
    assert default.exit_code == 0 and default.output.strip() != raw


def test_token_and_role_for_an_unknown_email_fail(runner):
    for args in (["token", "ghost@example.com"], ["role", "ghost@example.com", "admin"]):
        result = runner.invoke(args=["users", *args])
        assert result.exit_code == 1 and "no account with the email ghost@example.com" in (
            result.output
        )


def test_role_changes_the_role(app, runner):
    runner.invoke(args=["users", "create", "ana@example.com", "--password", "correct horse"])
    result = runner.invoke(args=["users", "role", "ANA@example.com", "instructor"])
    assert result.exit_code == 0 and "learner -> instructor" in result.output
    assert user(app, "ana@example.com").is_instructor
    result = runner.invoke(args=["users", "role", "ana@example.com", "emperor"])
    assert result.exit_code == 2 and user(app, "ana@example.com").role == "instructor"

"""Admins manage roles; nobody can lock themselves out."""

from __future__ import annotations

from app.models import User, db
from tests.instructor.conftest import make_user, text_of


def role_of(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).role


def test_admin_changes_a_role(app, admin):
    someone = make_user(app, "ana@example.com")
    page = admin.get("/instructor/users")
    assert page.status_code == 200 and "ana@example.com" in text_of(page)
    response = admin.post(
        f"/instructor/users/{someone}/role", data={"role": "instructor"}, follow_redirects=True
    )
    assert "ana@example.com is now: Instructor." in text_of(response)
    assert role_of(app, someone) == "instructor"
    assert (
        admin.post(f"/instructor/users/{someone}/role", data={"role": "superuser"}).status_code
        == 303
    )
    assert role_of(app, someone) == "instructor"  # an unknown role changes nothing
    assert admin.get("/instructor/users?q=ANA").get_data(as_text=True).count("ana@example.com")
    assert "ana@" not in text_of(admin.get("/instructor/users?q=nobody"))


def test_an_admin_cannot_demote_themselves(app, admin):
    response = admin.post(
        f"/instructor/users/{admin.user_id}/role", data={"role": "learner"}, follow_redirects=True
    )
    assert "You cannot remove your own administrator role" in text_of(response)
    assert role_of(app, admin.user_id) == "admin"


def test_instructors_cannot_manage_users(app, instructor):
    someone = make_user(app, "ana@example.com")
    assert instructor.get("/instructor/users").status_code == 403
    assert (
        instructor.post(f"/instructor/users/{someone}/role", data={"role": "admin"}).status_code
        == 403
    )
    assert (
        instructor.post(
            f"/instructor/users/{instructor.user_id}/role", data={"role": "admin"}
        ).status_code
        == 403
    )
    assert role_of(app, someone) == "learner" and role_of(app, instructor.user_id) == "instructor"
    assert "/instructor/users" not in instructor.get("/instructor/").get_data(as_text=True)

"""Helpers for the API tests: users and tokens made directly, a client that sends the token."""

from __future__ import annotations

import time

import sqlalchemy as sa

from app.auth.tokens import issue_token
from app.models import User, db
from tests.helpers import count_submissions, reference_files

__all__ = ["Api", "count_submissions", "make_token", "make_user", "reference"]


def make_user(app, email: str, role: str = "learner", password: str = "correct horse") -> int:
    with app.app_context():
        user = User(email=email, role=role)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user.id


def make_token(app, email: str, name: str = "tests") -> str:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        return issue_token(user, name)


reference = reference_files


class Api:
    """The Flask test client with ``Authorization: Bearer <token>`` on every request."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        sent.update(headers or {})
        return sent

    def get(self, path: str, headers: dict | None = None, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self._headers(headers), **kwargs)

    def post(self, path: str, headers: dict | None = None, **kwargs):
        return self.client.post(f"/api/v1{path}", headers=self._headers(headers), **kwargs)

    def submit(self, slug: str, files, **kwargs):
        return self.post("/submissions", json={"question": slug, "files": files}, **kwargs)

    def wait(self, submission_id: int, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        data: dict = {}
        while time.monotonic() < deadline:
            data = self.get(f"/submissions/{submission_id}").get_json()
            if data["status"] in ("done", "error"):
                return data
            time.sleep(0.1)
        raise AssertionError(f"submission {submission_id} not graded in {timeout} s: {data}")

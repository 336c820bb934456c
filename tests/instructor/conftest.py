"""Fixtures of the studio tests: signed-in clients per role, posting with CSRF tokens."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from app.models import Question, User, db
from tests.helpers import AuthActions, csrf_token

PASSWORD = "correct horse"


def make_user(app, email: str, role: str = "learner") -> int:
    with app.app_context():
        user = User(email=email, role=role)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        return user.id


def question(slug: str) -> Question | None:
    return db.session.scalar(sa.select(Question).where(Question.slug == slug))


class Studio:
    """A signed-in client; ``post`` adds the CSRF token of the session."""

    def __init__(self, app, email: str, role: str):
        self.app = app
        self.client = app.test_client()
        self.user_id = make_user(app, email, role)
        response = AuthActions(self.client).login(email=email, password=PASSWORD)
        assert response.status_code == 302, "could not sign in"
        self.token = csrf_token(self.client.get("/auth/profile").get_data(as_text=True))

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        return self.client.post(url, data=data, **kwargs)


def wait_for_validation(studio: Studio, slug: str, timeout: float = 90) -> dict:
    """Follow the page's JSON until the validation is no longer running."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = studio.get(f"/instructor/questions/{slug}/validation.json").get_json()
        if body["finished"]:
            return body
        time.sleep(0.2)
    raise AssertionError(f"the validation of {slug} did not finish in {timeout} s: {body}")


@pytest.fixture
def instructor(app) -> Studio:
    return Studio(app, "teacher@example.com", "instructor")


@pytest.fixture
def admin(app) -> Studio:
    return Studio(app, "admin@example.com", "admin")


@pytest.fixture
def learner(app) -> Studio:
    return Studio(app, "learner@example.com", "learner")


# -- reading pages ------------------------------------------------------------------------


def text_of(response) -> str:
    """The page's text with tags removed and entities decoded, whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


class _FormReader(HTMLParser):
    """The values a browser would submit for the form with a given id."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.values = form_id, False, {}
        self.textareas: set[str] = set()
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.values[name] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.textareas.add(name)
            self.values[name] = ""
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self.values[self._select] = value
            if "selected" in attrs:
                self.values[self._select] = value

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def form_values(response, form_id: str) -> dict[str, str]:
    """Like a browser: the leading newline of a textarea is dropped, CRLF line ends sent."""
    reader = _FormReader(form_id)
    reader.feed(response.get_data(as_text=True))
    assert reader.values, f"no form #{form_id} in the page"
    values = {}
    for name, value in reader.values.items():
        if name in reader.textareas:
            value = value.removeprefix("\r").removeprefix("\n").replace("\r\n", "\n")
            value = value.replace("\n", "\r\n")
        values[name] = value
    return values

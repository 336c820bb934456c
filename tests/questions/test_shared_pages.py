"""Whole question pages answered before Flask (app/page_cache.py) to visitors without a
session: only to them, with fresh security headers, never stale."""

from __future__ import annotations

import re

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from app.models import Question, db
from tests.helpers import AuthActions
from tests.test_security_headers import assert_hardened

PAGE = "/questions/tcp-echo"


def _cache(app):
    return app.extensions["page_cache"]


def test_a_second_sessionless_visit_is_answered_from_memory(app, client, queries_of):
    first = client.get(PAGE)
    hits = _cache(app).hits
    statements = queries_of(client, PAGE)
    assert _cache(app).hits == hits + 1
    assert len(statements) == 1 and "content_stamp" in statements[0]
    again = client.get(PAGE)
    assert again.get_data() == first.get_data()
    assert_hardened(again)
    nonce = re.compile(r"'nonce-([^']+)'")
    nonces = {nonce.search(r.headers["Content-Security-Policy"]).group(1) for r in (first, again)}
    assert len(nonces) == 2  # each answer its own
    assert again.headers["Vary"] == "Accept-Language, Cookie"
    assert "Set-Cookie" not in again.headers and "csrf" not in again.get_data(as_text=True)


def test_each_language_and_address_has_its_own_answer(app, client):
    english = client.get(PAGE).get_data(as_text=True)
    chinese = client.get(PAGE, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'lang="en"' in english and 'lang="zh-Hans"' in chinese
    client.set_cookie("lang", "zh")  # the switch's cookie wins over the browser's wish
    chosen = client.get(PAGE, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="zh-Hans"' in chosen
    client.delete_cookie("lang")
    revealed = client.get(PAGE + "?reveal=1").get_data(as_text=True)
    assert '<details class="answer" id="answer" open>' in revealed
    assert client.get(PAGE).get_data(as_text=True) == english
    hits = _cache(app).hits
    client.get(PAGE + "?from=1")  # another address: through Flask, never kept
    client.head(PAGE)
    assert _cache(app).hits == hits


def test_a_session_or_a_remember_cookie_always_goes_through_flask(app, client):
    client.get(PAGE)
    client.get(PAGE)
    hits = _cache(app).hits
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Only for this visitor")]
    assert "Only for this visitor" in client.get(PAGE).get_data(as_text=True)
    AuthActions(client).register()
    page = client.get(PAGE).get_data(as_text=True)
    assert 'id="editor-form"' in page and "learner@example.com" in page
    remembered = app.test_client()
    remembered.set_cookie("remember_token", "1|forged")
    assert remembered.get(PAGE).status_code == 200
    assert _cache(app).hits == hits
    assert "learner@example.com" not in app.test_client().get(PAGE).get_data(as_text=True)


def test_an_edit_or_unpublishing_shows_at_once(app, client):
    client.get(PAGE)
    with app.app_context():
        found = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        found.title_en = "Echo, edited in place"
        db.session.commit()
    assert "Echo, edited in place" in client.get(PAGE).get_data(as_text=True)
    with app.app_context():
        db.session.execute(sa.update(Question).where(Question.slug == "tcp-echo").values(
            published=False))  # fmt: skip
        db.session.commit()
    assert client.get(PAGE).status_code == 404


def test_answers_from_memory_are_counted_in_the_metrics(app, client):
    for _ in range(3):
        client.get(PAGE)
    assert _cache(app).hits == 2
    text = client.get("/metrics").get_data(as_text=True)
    counted = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "loopback_http_requests_total"
        and sample.labels == {"method": "GET", "endpoint": "questions.question", "status": "200"}
    ]
    assert counted == [3]


def test_without_the_stamp_flask_answers_with_its_error_page(app, client):
    """A database the middleware cannot read (down, or before `flask db upgrade`): the
    request goes to Flask, which answers with its own error page and logs it."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        db.session.execute(sa.text("DROP TABLE content_stamp"))
        db.session.commit()
    answer = client.get(PAGE)
    assert answer.status_code == 500
    assert "Something went wrong" in answer.get_data(as_text=True)
    assert_hardened(answer)

"""The question page renders its Markdown once per version and language, and never serves
a stale or someone else's page from its cache."""

from __future__ import annotations

import re
import sqlite3

import sqlalchemy as sa

from app import markdown
from app.models import Question, db


def test_second_visit_is_one_query_and_no_rendering(app, client, queries_of):
    first = client.get("/questions/tcp-echo").get_data(as_text=True)
    renders = markdown.cache_info()["render_block"].misses
    statements = queries_of(client, "/questions/tcp-echo")
    assert len(statements) == 1  # where the page stands in reading order, nothing else
    assert markdown.cache_info()["render_block"].misses == renders
    again = client.get("/questions/tcp-echo").get_data(as_text=True)
    assert _without_nonce(again) == _without_nonce(first)
    assert "csrf" not in again.lower()  # nothing of one visitor's session in a shared page
    assert "Set-Cookie" not in client.get("/questions/tcp-echo").headers
    zh = client.get("/questions/tcp-echo", headers={"Accept-Language": "zh-CN"})
    assert 'lang="zh-Hans"' in zh.get_data(as_text=True) and "TCP 回显" in zh.get_data(as_text=True)


def test_an_edit_shows_at_once(app, client):
    assert "Freshly edited" not in client.get("/questions/tcp-echo").get_data(as_text=True)
    with app.app_context():
        found = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-echo"))
        found.prompt_en = "**Freshly edited** prompt."  # in place: no new version
        db.session.commit()
    page = client.get("/questions/tcp-echo").get_data(as_text=True)
    assert "<strong>Freshly edited</strong> prompt." in page
    with app.app_context():
        db.session.execute(sa.update(Question).values(published=False))
        db.session.commit()
    assert client.get("/questions/tcp-echo").status_code == 404


def test_signed_in_visitors_and_messages_are_not_served_the_shared_page(app, client, auth):
    client.get("/questions/tcp-echo")  # cached for anonymous visitors
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "A message for this visitor")]
    assert "A message for this visitor" in client.get("/questions/tcp-echo").get_data(as_text=True)
    assert "A message" not in client.get("/questions/tcp-echo").get_data(as_text=True)
    auth.register()
    page = client.get("/questions/tcp-echo").get_data(as_text=True)
    assert 'id="editor-form"' in page and "learner@example.com" in page
    assert "Sign in to submit" not in page
    assert "Freshly" not in page


def test_the_hints_invite_visitors_to_sign_in_and_only_them(app, client, auth):
    """The visitors' page is shared (kept whole, answered before Flask): its invitation to
    sign in and unlock the hints never reaches a learner, nor a learner's count of hints
    left a visitor."""
    url = "/questions/socket-timeout"
    invite = "Sign in to submit code and unlock this question's"
    left = "one more unlocks after each failed attempt"
    shared = app.extensions["page_cache"]

    def visitors_page(visitor) -> str:
        html = visitor.get(url).get_data(as_text=True)
        assert invite in html and left not in html
        return html

    hits = shared.hits
    visitors_page(client)
    visitors_page(client)  # from memory
    assert shared.hits == hits + 1
    auth.register()
    for _ in range(2):
        html = client.get(url).get_data(as_text=True)
        assert left in html and invite not in html
    visitors_page(app.test_client())  # another visitor, after the learner
    auth.logout()
    visitors_page(client)


def _without_nonce(html: str) -> str:
    import re

    return re.sub(r'nonce="[^"]*"', "", html)


def test_a_write_by_any_writer_shows_at_once(app, client, queries_of):
    """The cached page checks one number, the content stamp, which triggers bump on every
    write to the question and topic tables: SQL from another connection counts too."""
    client.get("/questions/tcp-echo")
    assert len(queries_of(client, "/questions/tcp-echo")) == 1
    with sqlite3.connect(_database_file(app)) as other:  # a writer outside this app
        other.execute("UPDATE topic SET title_en = 'Renamed sockets' WHERE slug = 'sockets'")
    statements = queries_of(client, "/questions/tcp-echo")
    assert "content_stamp" in statements[0] and len(statements) > 1  # read again
    assert "Renamed sockets" in client.get("/questions/tcp-echo").get_data(as_text=True)
    assert len(queries_of(client, "/questions/tcp-echo")) == 1
    with sqlite3.connect(_database_file(app)) as other:
        other.execute("UPDATE question SET published = 0 WHERE slug = 'tcp-echo'")
    assert client.get("/questions/tcp-echo").status_code == 404


def test_a_learners_page_reads_hints_quiz_and_key_points_once_per_version(
    app, client, auth, queries_of
):
    auth.register()
    before = _hints_left(client.get("/questions/socket-timeout").get_data(as_text=True))
    read = " ".join(queries_of(client, "/questions/socket-timeout"))
    assert not any(column in read for column in ("hints_en", "spec", "quiz", "key_points"))
    with app.app_context():
        found = db.session.scalar(sa.select(Question).where(Question.slug == "socket-timeout"))
        found.hints_en = ["A fresh hint.", *found.hints_en]  # in place: no new version
        found.key_points_en = ["A fresh key point.", *found.key_points_en]
        db.session.commit()
    page = client.get("/questions/socket-timeout").get_data(as_text=True)
    assert "A fresh key point." in page and _hints_left(page) == before + 1


def test_an_edit_by_hand_that_leaves_updated_at_alone_shows_at_once(app, client, auth):
    """SQL by hand: the page's fragments and a learner's key points are kept per content
    stamp too, not only per version and updated_at."""
    page = "/questions/socket-timeout"

    def by_hand(column: str, value: str) -> None:
        with sqlite3.connect(_database_file(app)) as other:  # a writer outside this app
            other.execute(f"UPDATE question SET {column} = {value} WHERE slug = 'socket-timeout'")

    client.get(page)
    by_hand("prompt_en", "'A prompt edited by hand.'")
    assert "A prompt edited by hand." in client.get(page).get_data(as_text=True)
    auth.register()
    client.get(page)
    by_hand("key_points_en", "json('[\"A key point by hand.\"]')")
    assert "A key point by hand." in client.get(page).get_data(as_text=True)


def _hints_left(page: str) -> int:
    found = re.search(r"(\d+) hints? left", page)
    assert found, "no hints on the page"
    return int(found.group(1))


def _database_file(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")

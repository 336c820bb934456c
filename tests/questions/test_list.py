"""The question list: grouping, languages and filters."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.models import Question, db

ALL_SLUGS = {
    "tcp-echo", "tcp-handshake", "tcp-teardown", "udp-echo", "udp-vs-tcp", "tcp-realtime",
    "tcp-ordering-stalls", "head-of-line-blocking", "hol-scenarios", "socket-timeout",
    "why-timeouts", "threaded-client",
}  # fmt: skip
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def listed(response) -> list[str]:
    """Slugs of the questions linked from a list page, in page order, without repeats."""
    slugs = re.findall(r'href="/questions/([a-z0-9-]+)"', response.get_data(as_text=True))
    return list(dict.fromkeys(slugs))


def questions(app) -> list[Question]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(Question)))
        db.session.expunge_all()
        return found


def test_lists_all_twelve_in_english(client, app):
    response = client.get("/", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert set(listed(response)) == ALL_SLUGS
    assert "12 questions" in html
    tcp_echo = next(q for q in questions(app) if q.slug == "tcp-echo")
    assert tcp_echo.title_en in html
    assert 'href="/topics/sockets"' in html  # the topic heading links to its overview


def test_lists_all_twelve_in_chinese(client, app):
    response = client.get("/", headers=ZH)
    html = response.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html
    assert set(listed(response)) == ALL_SLUGS
    tcp_echo = next(q for q in questions(app) if q.slug == "tcp-echo")
    assert tcp_echo.title_zh in html
    assert "面试题" in html and "显示全部" not in html  # translated heading, no empty state
    assert "筛选" in html  # the filter button
    assert "Apply filters" not in html


def test_list_is_in_chapter_order(client, app):
    expected = [q.slug for q in sorted(questions(app), key=lambda q: (q.order, q.id))]
    assert listed(client.get("/")) == expected


def test_badges_show_kind_and_difficulty(client):
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert 'class="badge badge-code"' in html
    assert 'class="badge badge-concept"' in html
    assert re.search(r"difficulty-(easy|medium|hard)", html)


def test_filter_by_kind(client, app):
    code = listed(client.get("/?kind=code"))
    concept = listed(client.get("/?kind=concept"))
    assert {"tcp-echo", "udp-echo", "socket-timeout", "threaded-client"} <= set(code)
    assert {"udp-vs-tcp", "why-timeouts", "head-of-line-blocking"}.isdisjoint(code)
    assert {"udp-vs-tcp", "why-timeouts", "head-of-line-blocking"} <= set(concept)
    assert "tcp-echo" not in concept
    by_kind = {q.slug: q.kind for q in questions(app)}
    assert set(code) == {s for s, k in by_kind.items() if k == "code"}
    assert set(code) | set(concept) == ALL_SLUGS


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_filter_by_difficulty(client, app, difficulty):
    expected = {q.slug for q in questions(app) if q.difficulty == difficulty}
    assert set(listed(client.get(f"/?difficulty={difficulty}"))) == expected


def test_unknown_filter_values_are_ignored(client):
    assert set(listed(client.get("/?kind=nonsense&difficulty=extreme"))) == ALL_SLUGS


def test_filter_by_tag(client, app):
    everything = questions(app)
    tag = next(q for q in everything if q.slug == "tcp-echo").tags[0]
    expected = {q.slug for q in everything if tag in q.tags}
    found = set(listed(client.get("/", query_string={"tag": tag})))
    assert "tcp-echo" in found
    assert found == expected
    # A tag matches whole tags only, not part of a longer one.
    part = tag[:-1]
    if len(part) > 1 and not any(part in q.tags for q in everything):
        assert listed(client.get("/", query_string={"tag": part})) == []


def test_tag_links_filter_the_list(client):
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'class="tag" href="/\?tag=[^"]+"', html)


def _matches(question: Question, needle: str) -> bool:
    fields = (question.title_en, question.title_zh, question.prompt_en, question.prompt_zh)
    return any(needle.lower() in (field or "").lower() for field in fields)


@pytest.mark.parametrize("needle", ["ECHO", "echo", "timeout", "%", "_"])
def test_search_is_case_insensitive_and_literal(client, app, needle):
    expected = {q.slug for q in questions(app) if _matches(q, needle)}
    assert set(listed(client.get("/", query_string={"q": needle}))) == expected


def test_search_finds_echo_questions(client):
    found = listed(client.get("/?q=ECHO"))
    assert "tcp-echo" in found and "udp-echo" in found


def test_search_in_chinese_title(client, app):
    tcp_echo = next(q for q in questions(app) if q.slug == "tcp-echo")
    needle = tcp_echo.title_zh[:4]
    assert "tcp-echo" in listed(client.get("/", query_string={"q": needle}, headers=EN))


def test_filters_combine(client, app):
    expected = {q.slug for q in questions(app) if q.kind == "concept" and _matches(q, "tcp")}
    assert set(listed(client.get("/?kind=concept&q=tcp"))) == expected
    assert "tcp-echo" not in expected


def test_empty_result_is_friendly(client):
    response = client.get("/?q=zzzz-no-such-question-zzzz", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert listed(response) == []
    assert "No questions match these filters" in html
    assert "0 questions" in html


def test_unpublished_questions_are_not_listed(client, app):
    with app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == "udp-echo"))
        question.published = False
        db.session.commit()
    found = set(listed(client.get("/")))
    assert "udp-echo" not in found
    assert found == ALL_SLUGS - {"udp-echo"}

"""Topic overview and question pages."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.models import Question, Topic, db

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def load(app, slug: str) -> Question:
    with app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == slug))
        db.session.expunge(question)
        return question


def test_topic_page(client, app):
    response = client.get("/topics/sockets", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with app.app_context():
        topic = db.session.scalar(sa.select(Topic).where(Topic.slug == "sockets"))
        title = topic.title_en
    assert f"<h1>{title}</h1>" in html
    assert len(set(re.findall(r'href="/questions/([a-z0-9-]+)"', html))) == 12
    assert '<section class="card prose"' in html or "No questions" not in html


def test_topic_page_in_chinese(client, app):
    html = client.get("/topics/sockets", headers=ZH).get_data(as_text=True)
    with app.app_context():
        title = db.session.scalar(sa.select(Topic.title_zh).where(Topic.slug == "sockets"))
    assert title in html
    assert "本主题的题目" in html


def test_unknown_topic_is_404(client):
    response = client.get("/topics/no-such-topic", headers=EN)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_question_page_shows_prompt_and_hides_answer_and_key_points(client, app):
    question = load(app, "udp-vs-tcp")
    response = client.get("/questions/udp-vs-tcp", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert question.title_en in html
    assert 'id="prompt-heading"' in html
    details = re.search(r'<details class="answer" id="answer"( open)?>(.*?)</details>', html, re.S)
    assert details, "the answer must sit inside <details>"
    assert details.group(1) is None  # closed until the learner opens it
    assert "<summary>" in details.group(2) and "Reveal answer" in details.group(2)
    assert "Model answer" in details.group(2) or "Explanation" in details.group(2)
    # Everything after the summary (answer and explanation) is inside the <details> element.
    before_details = html.split('<details class="answer"')[0]
    assert "Model answer" not in before_details and "Explanation" not in before_details
    # The key points give the answer away: they wait inside (for a visitor as a list; a
    # learner ticks them, tests/practice/test_pages.py).
    assert "key-points" not in before_details
    listed = details.group(2).split('<ul class="key-points">')[1].split("</ul>")[0]
    assert len(re.findall(r"<li>", listed)) == len(question.key_points("en"))


def test_reveal_query_opens_the_answer(client):
    html = client.get("/questions/udp-vs-tcp?reveal=1", headers=EN).get_data(as_text=True)
    assert '<details class="answer" id="answer" open>' in html


def test_question_page_in_chinese(client, app):
    question = load(app, "tcp-echo")
    html = client.get("/questions/tcp-echo", headers=ZH).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html
    assert question.title_zh in html
    assert "显示答案" in html and "Reveal answer" not in html
    task = html.split('id="task-heading"')[1].split("</p>")[0]
    assert "。" in task and not re.search(r"。\s+\S", task)  # sentences meet with no space
    english = client.get("/questions/tcp-echo", headers=EN).get_data(as_text=True)
    assert re.search(r"below\. The grader", english)


def test_code_question_shows_roles_and_highlighted_starter(client, app):
    question = load(app, "tcp-echo")
    assert question.kind == "code"
    assert set(question.roles) == {"server", "client"}
    html = client.get("/questions/tcp-echo", headers=EN).get_data(as_text=True)
    task = html.split('id="task-heading"')[1].split("</section>")[0]
    assert "Your task" in html
    assert '<li class="role">Server</li>' in task and '<li class="role">Client</li>' in task
    for role in question.roles:
        if question.starter_files.get(role):
            assert f'id="starter-{role}"' in task
    if question.starter_files:
        assert '<pre class="highlight"><code>' in task
        assert re.search(r'<span class="(k|kn)">(import|def|from)</span>', task)


def test_concept_question_has_no_task(client):
    html = client.get("/questions/why-timeouts", headers=EN).get_data(as_text=True)
    assert "Your task" not in html


def test_previous_and_next_links(client):
    first = client.get("/questions/tcp-echo").get_data(as_text=True)
    assert 'rel="prev"' not in first
    assert 'rel="next" href="/questions/tcp-handshake"' in first
    middle = client.get("/questions/tcp-handshake").get_data(as_text=True)
    assert 'rel="prev" href="/questions/tcp-echo"' in middle
    assert 'rel="next" href="/questions/tcp-teardown"' in middle
    last = client.get("/questions/threaded-client").get_data(as_text=True)
    assert 'rel="next"' not in last


def test_unknown_question_is_404(client):
    response = client.get("/questions/no-such-question", headers=EN)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and '<html lang="en">' in html


def test_404_page_is_translated(client):
    response = client.get("/questions/no-such-question", headers=ZH)
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_unpublished_question_is_404(client, app):
    assert client.get("/questions/tcp-teardown").status_code == 200
    with app.app_context():
        question = db.session.scalar(sa.select(Question).where(Question.slug == "tcp-teardown"))
        question.published = False
        db.session.commit()
    assert client.get("/questions/tcp-teardown").status_code == 404
    # Its neighbours now link past it.
    html = client.get("/questions/tcp-handshake").get_data(as_text=True)
    assert "/questions/tcp-teardown" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?q=zzz-nothing",
        "/topics/sockets",
        "/questions/tcp-echo?reveal=1",
        "/questions/why-timeouts",
        "/auth/login",
        "/auth/register",
        "/questions/nope",
    ],
)
def test_page_structure_is_accessible(client, url):
    html = client.get(url, headers=EN).get_data(as_text=True)
    assert 'class="skip-link" href="#main"' in html and '<main id="main"' in html
    assert "<header" in html and "<footer" in html and 'aria-label="Main"' in html
    assert html.count("<h1") == 1
    levels = [int(level) for level in re.findall(r"<h([1-6])", html)]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels
    # Every form control has a label.
    for control in re.findall(r"<(?:input|select|textarea)[^>]*>", html):
        if 'type="hidden"' in control or 'type="submit"' in control:
            continue
        control_id = re.search(r'\bid="([^"]+)"', control)
        assert control_id and f'for="{control_id.group(1)}"' in html, control


def test_server_error_page(app):
    def boom():
        raise RuntimeError("boom")

    app.add_url_rule("/boom-for-test", view_func=boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom-for-test", headers=ZH)
    assert response.status_code == 500
    assert "出错了" in response.text and "RuntimeError" not in response.text


def test_api_paths_get_json_errors(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json and response.json["error"]


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response.location)
    assert icon.status_code == 200 and b"<svg" in icon.data

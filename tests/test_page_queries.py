"""A page's SQL does not grow with its rows: the lists (questions, history, regrades, the
studio's questions and users, statistics) are counted with few rows and with many, and
must run the same number of statements, none reading a submission's result or files."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from app.instructor.views import validation_state
from app.models import Question, Submission, Topic, User, db, utcnow
from tests.instructor.conftest import Studio, question, text_of

BIG = ("submission.result", "submission.files", "reference_files", "prompt_en", "answer_en")


def result(verdict: str, failing: str = "server-replies") -> dict:
    status = "passed" if verdict == "passed" else "failed"
    return {
        "verdict": verdict,
        "score": 1.0 if verdict == "passed" else 0.0,
        "checks": [{"id": failing, "required": True, "status": status, "log": "x" * 2000}],
    }


def add_learners(app, count: int, start: int = 0) -> list[int]:
    with app.app_context():
        users = [
            User(email=f"many{start + i}@example.com", password_hash="x") for i in range(count)
        ]
        db.session.add_all(users)
        db.session.commit()
        return [u.id for u in users]


def add_submissions(app, user_ids: list[int], slugs: list[str], count: int) -> list[int]:
    """``count`` graded submissions, round-robin over users and questions."""
    with app.app_context():
        questions = [question(slug) for slug in slugs]
        start = utcnow() - timedelta(hours=2)
        rows = [
            Submission(
                user_id=user_ids[i % len(user_ids)],
                question_id=questions[i % len(questions)].id,
                question_version=1,
                files={"server": "print(1)"},
                status="done",
                verdict="passed" if i % 3 == 0 else "failed",
                result=result("passed" if i % 3 == 0 else "failed"),
                created_at=start + timedelta(minutes=i),
            )
            for i in range(count)
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [r.id for r in rows]


def assert_light(statements: list[str]) -> None:
    for statement in statements:
        for column in BIG:
            assert column not in statement, f"{column} read by: {statement}"


def test_question_list_and_topic_page(app, client, queries_of):
    few = len(queries_of(client, "/"))
    topic_page = len(queries_of(client, "/topics/sockets"))
    with app.app_context():
        for t in range(3):
            topic = Topic(slug=f"more-{t}", order=50 + t, title_zh="更多", title_en="More")
            db.session.add(topic)
            db.session.flush()
            db.session.add_all(
                Question(
                    slug=f"more-{t}-{i}",
                    topic_id=topic.id,
                    order=i,
                    title_zh=f"题 {i}",
                    title_en=f"Q {i}",
                    published=True,
                )
                for i in range(4)
            )
        db.session.commit()
    statements = queries_of(client, "/")
    assert len(statements) == few
    assert_light(statements)
    assert "More" in text_of(client.get("/"))
    assert len(queries_of(client, "/topics/more-1")) == topic_page


def test_history_is_paginated_and_light(app, auth, client, queries_of):
    auth.register()
    with app.app_context():
        me = db.session.scalar(sa.select(User.id).where(User.email == "learner@example.com"))
    add_submissions(app, [me], ["tcp-echo", "udp-echo"], 3)
    few = queries_of(client, "/history")
    add_submissions(app, [me], ["tcp-echo", "udp-echo", "tcp-handshake", "socket-timeout"], 57)
    many = queries_of(client, "/history")
    assert len(many) == len(few)
    assert_light(many)

    page = client.get("/history").get_data(as_text=True)
    assert page.count('class="submission-row"') == 50
    assert "Page 1 of 2" in page and 'aria-current="page"' in page
    assert 'rel="next" href="/history?page=2"' in page
    second = client.get("/history?page=2")
    assert second.get_data(as_text=True).count('class="submission-row"') == 10
    assert "60 submissions" in text_of(second)  # the total, not the page's rows
    filtered = client.get("/history?question=tcp-echo").get_data(as_text=True)
    assert filtered.count('class="submission-row"') == 17
    assert client.get("/history?page=3").status_code == 404
    assert client.get("/history?page=x").status_code == 404
    client.get("/lang/zh")
    assert "第 1 页，共 2 页" in client.get("/history").get_data(as_text=True)


def test_regrade_page(app, queries_of):
    teacher = Studio(app, "teacher@example.com", "instructor")
    learners = add_learners(app, 20)

    def regrade_page(count: int) -> tuple[str, list[str]]:
        with app.app_context():
            db.session.execute(sa.delete(Submission))
            db.session.commit()
        add_submissions(app, learners, ["udp-echo"], count)
        location = teacher.post("/instructor/questions/udp-echo/regrade").headers["Location"]
        return location, queries_of(teacher.client, location)

    _, few = regrade_page(2)
    location, many = regrade_page(60)
    assert len(many) == len(few)
    assert_light(many)
    page = teacher.get(location)
    text = text_of(page)
    assert "0 of 60 graded…" in text and "Page 1 of 2" in text
    assert page.get_data(as_text=True).count("many") == 50  # learners' emails, one a row
    ids = re.search(r"ids=([0-9,]+)", location).group(1)
    second = teacher.get(f"/instructor/questions/udp-echo/regrade?ids={ids}&page=2")
    assert second.get_data(as_text=True).count("many") == 10


def test_studio_lists(app, queries_of):
    admin = Studio(app, "admin@example.com", "admin")
    dashboard = len(queries_of(admin.client, "/instructor/"))
    users = len(queries_of(admin.client, "/instructor/users"))
    with app.app_context():
        sockets = db.session.scalar(sa.select(Topic).where(Topic.slug == "sockets"))
        db.session.add_all(
            Question(slug=f"draft-{i}", topic_id=sockets.id, title_zh="草", title_en="Draft")
            for i in range(15)
        )
        db.session.add_all(
            Topic(slug=f"topic-{i:02}", order=100 + i, title_zh="题组", title_en=f"Topic {i}")
            for i in range(25)
        )
        # Validation reports in each state (validation_state): the counts read them in SQL.
        code = db.session.scalars(sa.select(Question).where(Question.kind == "code")).all()
        reports = [
            {"state": "done", "version": 1, "publishable": True},  # passing
            {"state": "done", "version": 1, "publishable": False},  # failing
            {"state": "running", "version": 1, "publishable": True},  # running
            {"state": "done", "version": 0, "publishable": True},  # stale
        ]
        for question_, report in zip(code, reports, strict=False):
            question_.validation = report
        db.session.commit()
        questions = db.session.scalars(sa.select(Question)).all()
        expected = (
            f"{len(questions)} questions · {sum(not q.published for q in questions)} drafts · "
            f"{sum(q.is_code and validation_state(q) != 'passing' for q in questions)} code "
            "questions not validated"
        )
    add_learners(app, 70)
    many = queries_of(admin.client, "/instructor/")
    assert len(many) == dashboard
    assert_light(many)
    first = text_of(admin.get("/instructor/"))
    assert expected in first and "12 questions" not in first
    assert first.count("Draft") >= 15 and "Page 1 of 2" in first
    assert "Validation passing" in first and "Validated v0, now v1" in first
    second = text_of(admin.get("/instructor/?page=2"))
    assert "Topic 24" in second and "Topic 0 " not in second and expected in second
    listed = queries_of(admin.client, "/instructor/users")
    assert len(listed) == users
    page = admin.get("/instructor/users").get_data(as_text=True)
    assert page.count('data-label="Email"') == 50 and "Page 1 of 2" in page
    second = admin.get("/instructor/users?page=2&q=many").get_data(as_text=True)
    assert second.count('class="role-form"') == 20
    action = re.search(r'action="(/instructor/users/\d+/role\?[^"]+)"', second).group(1)
    assert action.endswith("q=many&amp;page=2")  # a change of role comes back to this page
    back = admin.post(action.replace("&amp;", "&"), data={"role": "instructor"})
    assert back.headers["Location"] == "/instructor/users?q=many&page=2"


def test_stats_from_the_database(app, queries_of):
    teacher = Studio(app, "teacher@example.com", "instructor")
    add_submissions(app, add_learners(app, 2), ["udp-echo", "tcp-echo"], 6)
    few = queries_of(teacher.client, "/instructor/topics/sockets/stats")
    add_submissions(app, add_learners(app, 30, start=10), ["udp-echo", "tcp-echo"], 240)
    many = queries_of(teacher.client, "/instructor/topics/sockets/stats")
    assert len(many) == len(few)
    assert_light(many)
    text = text_of(teacher.get("/instructor/topics/sockets/stats"))
    # udp-echo has the even submissions: 3 + 120, by 1 + 15 learners; those with i % 3 == 0
    # passed (1 + 40), each of the others failed its one required check.
    assert "udp-echo 123 16 33% (41/123) server-replies ×82 0.0" in text


def test_api_submission_list(app):
    from tests.api.helpers import make_token, make_user
    from tests.helpers import counting_queries

    me = make_user(app, "api@example.com")
    token = make_token(app, "api@example.com")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def listed() -> list[str]:
        with counting_queries(app) as statements:
            response = client.get("/api/v1/submissions?limit=100", headers=headers)
        assert response.status_code == 200
        return statements

    add_submissions(app, [me], ["tcp-echo"], 2)
    listed()  # the token's first use writes its last_used_at
    few = listed()
    add_submissions(app, [me], ["udp-echo", "tcp-handshake", "socket-timeout"], 40)
    many = listed()
    assert len(many) == len(few)
    assert_light(many)
    body = client.get("/api/v1/submissions?limit=100", headers=headers).get_json()
    assert len(body["submissions"]) == 42
    assert {s["question"] for s in body["submissions"]} >= {"tcp-echo", "socket-timeout"}

"""The practice pages through the real forms: answer first then reveal and rate, the quiz
form, the queue on the home page and statuses in the list, mock interview, progress,
hints that unlock after failed attempts."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from app.models import PracticeReview, Question, QuizAttempt, Submission, User, db
from tests.helpers import csrf_token

EN = {"Accept-Language": "en"}


def _signed_in(client, auth) -> str:
    auth.register()
    return csrf_token(client.get("/", headers=EN).get_data(as_text=True))


def test_home_shows_the_queue_and_the_list_a_status(client, auth):
    _signed_in(client, auth)
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert "0 questions due now" in html and 'id="practise"' in html
    assert html.count("status-new") == 12
    first = client.get("/practice/")
    assert first.status_code == 302 and first.location.endswith("/questions/tcp-echo?practice=1")


def test_concept_answer_reveal_checklist_and_rating(client, auth, app):
    token = _signed_in(client, auth)
    html = client.get("/questions/udp-vs-tcp?practice=1", headers=EN).get_data(as_text=True)
    before, after = html.split('<details class="answer"')
    assert 'id="your-answer"' in before and "Which of these did you cover?" not in before
    assert "Which of these did you cover?" in after and 'value="again"' in after
    response = client.post(
        "/practice/questions/udp-vs-tcp/rate",
        data={"csrf_token": token, "rating": "easy", "practice": "1"},
    )
    assert response.status_code == 303 and response.location.endswith("/practice/")
    assert (
        client.post(
            "/practice/questions/udp-vs-tcp/rate", data={"csrf_token": token, "rating": "meh"}
        ).status_code
        == 400
    )
    with app.app_context():
        assert db.session.scalars(sa.select(PracticeReview.rating)).all() == ["easy"]
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert re.search(r"status-passed\">\s*<span[^>]*>Status:</span>\s*Passed", html)


def test_the_quiz_form_grades_every_type_and_explains(client, auth, app):
    token = _signed_in(client, auth)
    with app.app_context():
        items = db.session.scalar(sa.select(Question).where(Question.slug == "hol-scenarios")).quiz
    data = {"csrf_token": token}
    for item in items:
        key = f"item-{item['id']}"
        if item["type"] == "ordering":
            for position, choice in enumerate(item["answer"], start=1):
                data[f"{key}-{choice}"] = str(position)
        else:
            data[key] = item["answer"]
    response = client.post("/practice/questions/hol-scenarios/quiz", data=data)
    assert response.status_code == 303
    html = client.get(response.location, headers=EN).get_data(as_text=True)
    assert "Your last score: 3 of 3 correct." in html and html.count("quiz-right") == 3
    ordering = next(i for i in items if i["type"] == "ordering")
    same = {f"item-{ordering['id']}-{c['id']}": "1" for c in ordering["choices"]}
    client.post("/practice/questions/hol-scenarios/quiz", data={"csrf_token": token, **same})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(QuizAttempt.id))) == 1


class _QuizForm(HTMLParser):
    """What the quiz form of a page holds: the ticked boxes, each text field's value, each
    select's selected option (by id), and each item's announced result."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.checked: set[str] = set()
        self.text: dict[str, str] = {}
        self.selected: dict[str, str] = {}
        self._select: str | None = None
        self.feed(html.split('id="quiz"')[1].split("</section>")[0])

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") in ("radio", "checkbox"):
            if "checked" in found:
                self.checked.add(found["id"])
        elif tag == "input" and found.get("type") == "text":
            self.text[found["id"]] = found.get("value") or ""
        elif tag == "select":
            self._select = found["id"]
        elif tag == "option" and "selected" in found and self._select:
            self.selected[self._select] = found["value"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def test_the_quiz_result_shows_the_learners_own_answers(client, auth, app):
    """After "Check my answers" the page (POST, then redirect, then GET) marks each item and
    keeps what the learner answered, right or wrong: from the stored attempt, not the URL."""
    token = _signed_in(client, auth)
    page = client.get("/questions/udp-vs-tcp", headers=EN).get_data(as_text=True)
    blank = _QuizForm(page)
    assert blank.checked == set() and blank.text == {"fill-udp-header-size": ""}
    typed = 'twenty <b>"bytes"</b>'
    response = client.post(
        "/practice/questions/udp-vs-tcp/quiz",
        data={
            "csrf_token": token,
            "item-udp-header-size": typed,
            "item-udp-guarantees": ["delivery", "boundaries"],
            "item-choose-for-live-video": "udp",
        },
    )
    assert response.status_code == 303
    assert urlsplit(response.location).query == ""
    html = client.get(response.location, headers=EN).get_data(as_text=True)
    assert "Your last score: 1 of 3 correct." in html
    assert html.count("<p><strong>Not quite</strong></p>") == 2
    assert html.count("<p><strong>Correct</strong></p>") == 1
    shown = _QuizForm(html)
    assert shown.checked == {
        "item-udp-guarantees-delivery",
        "item-udp-guarantees-boundaries",
        "item-choose-for-live-video-udp",
    }
    assert shown.text == {"fill-udp-header-size": typed}
    again = _QuizForm(client.get("/questions/udp-vs-tcp", headers=EN).get_data(as_text=True))
    assert again.checked == shown.checked and again.text == shown.text  # a later visit too
    fresh = _QuizForm(
        client.get("/questions/udp-vs-tcp?practice=new", headers=EN).get_data(as_text=True)
    )
    assert fresh.checked == set() and fresh.text == {"fill-udp-header-size": ""}

    # An ordering keeps its positions; an item left blank stays blank.
    response = client.post(
        "/practice/questions/tcp-ordering-stalls/quiz",
        data={
            "csrf_token": token,
            "item-ordering-stall-sequence-buffer": "2",
            "item-ordering-stall-sequence-retransmit": "3",
            "item-ordering-stall-sequence-burst": "1",
            "item-ordering-term": "队头阻塞",
        },
    )
    html = client.get(response.location, headers=EN).get_data(as_text=True)
    assert "Your last score: 1 of 3 correct." in html
    shown = _QuizForm(html)
    assert shown.selected == {
        "item-ordering-stall-sequence-buffer": "2",
        "item-ordering-stall-sequence-retransmit": "3",
        "item-ordering-stall-sequence-burst": "1",
    }
    assert shown.checked == set() and shown.text == {"fill-ordering-term": "队头阻塞"}


def test_a_refused_quiz_form_keeps_what_was_sent_and_says_what_to_fix(client, auth, app):
    """Two steps of an ordering in one position: 422, nothing stored, and the question page
    again with the error by the quiz and the form as sent (not the last stored attempt);
    its language links lead back to the question page, and the walk-through mode stays."""
    token = _signed_in(client, auth)
    client.post(
        "/practice/questions/tcp-ordering-stalls/quiz",
        data={"csrf_token": token, "item-ordering-term": "first try"},
    )
    sent = {
        "csrf_token": token,
        "practice": "1",
        "item-ordering-stall-sequence-buffer": "1",
        "item-ordering-stall-sequence-retransmit": "1",
        "item-ordering-stall-sequence-burst": "3",
        "item-ordering-term": "head-of-line <blocking>",
    }
    response = client.post("/practice/questions/tcp-ordering-stalls/quiz", data=sent, headers=EN)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(
        r'<p class="form-errors" role="alert" id="quiz-error">\s*'
        r"Give each step of the order a different position.\s*</p>",
        html,
    )
    shown = _QuizForm(html)
    assert shown.selected == {
        "item-ordering-stall-sequence-buffer": "1",
        "item-ordering-stall-sequence-retransmit": "1",
        "item-ordering-stall-sequence-burst": "3",
    }
    assert shown.text == {"fill-ordering-term": "head-of-line <blocking>"}
    assert "Your last score" not in html and "quiz-wrong" not in html
    assert '<input type="hidden" name="practice" value="1">' in html
    assert "/lang/zh?next=/questions/tcp-ordering-stalls" in html
    assert 'action="/practice/questions/tcp-ordering-stalls/quiz#quiz"' in html
    with app.app_context():
        assert db.session.scalars(sa.select(QuizAttempt.answers)).all() == [
            {"ordering-term": "first try"}
        ]
    page = client.get("/questions/tcp-ordering-stalls", headers=EN).get_data(as_text=True)
    assert _QuizForm(page).text == {"fill-ordering-term": "first try"}  # the stored one


def test_mock_interview_pages_and_progress(client, auth, app):
    token = _signed_in(client, auth)
    assert "Mock interview" in client.get("/practice/mock", headers=EN).get_data(as_text=True)
    bad = client.post(
        "/practice/mock",
        data={"csrf_token": token, "topic": "sockets", "count": "0", "minutes": "30"},
    )
    assert bad.status_code == 422
    started = client.post(
        "/practice/mock",
        data={"csrf_token": token, "topic": "sockets", "count": "2", "minutes": "30"},
    )
    assert started.status_code == 303
    page = client.get(started.location, headers=EN).get_data(as_text=True)
    assert 'class="countdown"' in page and "data-ends-at" in page
    link = re.search(r'href="(/questions/[^"]+mock=\d+)"', page).group(1).replace("&amp;", "&")
    question = client.get(link, headers=EN).get_data(as_text=True)
    assert (
        "no model answers until the end" in question and '<details class="answer"' not in question
    )
    reloaded = client.get(started.location, headers=EN).get_data(as_text=True)
    same = re.compile(r'data-ends-at="[^"]+"|href="/questions/[^"]+"')
    assert same.findall(reloaded) == same.findall(page)  # a reload: same questions and end
    client.post(started.location + "/finish", data={"csrf_token": token})
    summary = client.get(started.location, headers=EN).get_data(as_text=True)
    assert "Summary" in summary and summary.count("Yes: first in your queue") == 2
    progress = client.get("/practice/progress", headers=EN).get_data(as_text=True)
    assert "<svg" in progress and "Streak: 1 day of practice in a row." in progress
    assert progress.count('class="bar-reviews"') == 30


def test_hints_unlock_one_at_a_time_after_failed_attempts(client, auth, app):
    _signed_in(client, auth)
    html = client.get("/questions/socket-timeout", headers=EN).get_data(as_text=True)
    assert 'class="hint-list"' not in html and "one more unlocks after each failed attempt" in html
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        question = db.session.scalar(sa.select(Question).where(Question.slug == "socket-timeout"))
        for _ in range(2):
            db.session.add(
                Submission(user_id=user.id, question_id=question.id, question_version=1,
                           files={}, status="done", verdict="failed", score=0.0)
            )  # fmt: skip
        db.session.commit()
    html = client.get("/questions/socket-timeout", headers=EN).get_data(as_text=True)
    listed = html.split('class="hint-list"')[1].split("</ol>")[0]
    assert listed.count("<li>") == 2


def test_after_a_pass_the_hints_no_longer_promise_one_more_per_failure(
    client, auth, app, queries_of
):
    """A learner who has passed the question is not told that more hints unlock after
    failed attempts, in either language; the page reads no more for it."""
    _signed_in(client, auth)
    page = "/questions/socket-timeout"
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        question = db.session.scalar(sa.select(Question).where(Question.slug == "socket-timeout"))

    def add(verdict: str, regrade_of: int | None = None) -> int:
        with app.app_context():
            row = Submission(
                user_id=user.id,
                question_id=question.id,
                question_version=1,
                files={},
                status="done",
                verdict=verdict,
                score=1.0 if verdict == "passed" else 0.0,
                regrade_of=regrade_of,
            )
            db.session.add(row)
            db.session.commit()
            return row.id

    def hints(lang: str = "en") -> str:
        html = client.get(page, headers={"Accept-Language": lang}).get_data(as_text=True)
        return html.split('id="hints-heading"')[1].split("</section>")[0]

    failed = add("failed")
    total = int(re.search(r"(\d+) hints left: one more unlocks", hints())[1]) + 1
    before = len(queries_of(client, page))  # the editor holds a submission's files already
    add("passed", regrade_of=failed)  # an instructor's regrade is not the learner's pass
    assert "one more unlocks after each failed attempt" in hints()
    add("passed")
    after = hints()
    assert "failed attempt" not in after and after.count("<li>") == 1
    assert f"You passed this question with {total - 1} hints still locked." in after
    chinese = hints("zh")
    assert "每次未通过的提交后解锁一条" not in chinese
    assert f"你已通过本题，还有 {total - 1} 条提示没有解锁。" in chinese
    statements = queries_of(client, page)
    assert len(statements) == before
    # of the submissions: the hints' one count (failed, passed), the editor's last few
    # and the files of the last one; no statement of its own to know about the pass
    assert sum("FROM submission" in statement for statement in statements) == 3, statements


def test_a_visitor_is_invited_to_sign_in_to_submit_and_unlock_the_hints(client, auth):
    """Hints unlock after the learner's failed attempts: a visitor, who cannot make one,
    is told to sign in instead, by a link that leads back to the question."""
    html = client.get("/questions/socket-timeout", headers=EN).get_data(as_text=True)
    hints = html.split('id="hints-heading"')[1].split("</section>")[0]
    assert "failed attempt" not in hints and 'class="hint-list"' not in hints
    link = re.search(r'<p class="hints-sign-in"><a href="([^"]+)">([^<]+)</a></p>', hints)
    assert link, hints
    href = urlsplit(link.group(1).replace("&amp;", "&"))
    assert href.path == "/auth/login"
    assert parse_qs(href.query) == {"next": ["/questions/socket-timeout"]}
    invitation = re.compile(r"Sign in to submit code and unlock this question's (\d+) hints\.")
    words = invitation.fullmatch(link[2])
    assert words, link[2]
    total = int(words[1])
    chinese = client.get("/questions/socket-timeout", headers={"Accept-Language": "zh"})
    assert f"登录后即可提交代码并解锁本题的 {total} 条提示。" in chinese.get_data(as_text=True)

    _signed_in(client, auth)
    html = client.get("/questions/socket-timeout", headers=EN).get_data(as_text=True)
    hints = html.split('id="hints-heading"')[1].split("</section>")[0]
    assert f"{total} hints left: one more unlocks after each failed attempt." in hints
    assert "hints-sign-in" not in hints and "Sign in to submit code" not in hints


def test_a_visitor_reads_the_key_points_and_is_invited_to_sign_in_to_rate(client, auth):
    """A visitor has no rating to send ticks with: the revealed answer lists the key
    points (no checkboxes) and invites them to sign in, by a link back to the question."""
    html = client.get("/questions/udp-vs-tcp", headers=EN).get_data(as_text=True)
    answer = html.split('<details class="answer"')[1].split("</details>")[0]
    assert "<h2>Key points</h2>" in answer and answer.count("<li>") >= 2
    assert 'type="checkbox"' not in answer and "Which of these did you cover?" not in answer
    assert 'id="rate-form"' not in answer
    link = re.search(r'<p class="rate-sign-in"><a href="([^"]+)">([^<]+)</a></p>', answer)
    assert link, answer
    assert parse_qs(urlsplit(link[1].replace("&amp;", "&")).query) == {
        "next": ["/questions/udp-vs-tcp"]
    }
    assert link[2].startswith("Sign in to rate how well you knew it")
    chinese = client.get("/questions/udp-vs-tcp", headers={"Accept-Language": "zh"})
    assert "登录后即可给自己的掌握程度打分" in chinese.get_data(as_text=True)

    _signed_in(client, auth)
    html = client.get("/questions/udp-vs-tcp", headers=EN).get_data(as_text=True)
    answer = html.split('<details class="answer"')[1].split("</details>")[0]
    assert "Which of these did you cover?" in answer and 'type="checkbox"' in answer
    assert 'id="rate-form"' in answer and "rate-sign-in" not in answer

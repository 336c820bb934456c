"""Regrading from the studio (with its progress JSON) and the topic statistics."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import sqlalchemy as sa

from app.models import Submission, User, db, utcnow
from tests.instructor.conftest import question, text_of


def add_submissions(app) -> list[int]:
    """Two learners on udp-echo: one fails a check then passes, one fails twice."""
    with app.app_context():
        udp = question("udp-echo")
        users = [User(email=f"l{i}@example.com", password_hash="x") for i in range(2)]
        db.session.add_all(users)
        db.session.flush()
        start = utcnow() - timedelta(hours=1)

        def result(verdict):
            status = "passed" if verdict == "passed" else "failed"
            return {
                "verdict": verdict,
                "checks": [{"id": "server-acks-each-sender", "required": True, "status": status}],
            }

        rows = []
        for user, minutes, verdict in (
            (users[0], 0, "failed"),
            (users[0], 10, "passed"),
            (users[1], 0, "failed"),
            (users[1], 5, "failed"),
        ):
            rows.append(
                Submission(
                    user_id=user.id,
                    question_id=udp.id,
                    question_version=udp.version,
                    files={"server": "print(1)"},
                    status="done",
                    verdict=verdict,
                    score=1.0 if verdict == "passed" else 0.0,
                    result=result(verdict),
                    created_at=start + timedelta(minutes=minutes),
                )
            )
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def test_regrade_then_follow_its_progress(app, instructor):
    originals = add_submissions(app)
    response = instructor.post("/instructor/questions/udp-echo/regrade")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/instructor/questions/udp-echo/regrade?ids=")
    with app.app_context():
        regrades = db.session.scalars(
            sa.select(Submission).where(Submission.regrade_of.is_not(None)).order_by(Submission.id)
        ).all()
        assert [s.regrade_of for s in regrades] == originals  # the originals stay
        assert all(s.status == "queued" for s in regrades)  # no workers run in tests
        ids = [s.id for s in regrades]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 8
    page = instructor.get(location)
    assert page.status_code == 200
    assert "0 of 4 graded…" in text_of(page)
    # Each regrade next to the original it regrades, with the original's verdict.
    assert f"#{ids[0]} … Queued #{originals[0]} v1 ✗ FAILED" in text_of(page)
    html = page.get_data(as_text=True)
    assert 'http-equiv="refresh"' in html  # without JavaScript the page reloads itself
    ids_text = ",".join(map(str, ids))
    assert f'data-progress-url="/instructor/regrades/progress?ids={ids_text}"' in html

    # Progress counts only regrades: originals and unknown ids are left out.
    query = ",".join(map(str, ids + originals[:1] + [999_999]))
    body = instructor.get(f"/instructor/regrades/progress?ids={query}").get_json()
    assert body == {"total": 4, "done": 0, "counts": {"queued": 4}, "finished": False, "ids": ids}
    with app.app_context():
        for submission in db.session.scalars(sa.select(Submission).where(Submission.id.in_(ids))):
            submission.status = "done"
        db.session.commit()
    body = instructor.get(f"/instructor/regrades/progress?ids={query}").get_json()
    assert body["finished"] is True and body["done"] == 4
    assert 'http-equiv="refresh"' not in instructor.get(location).get_data(as_text=True)
    assert instructor.get("/instructor/regrades/progress?ids=1,x").status_code == 400


def test_nothing_to_regrade(app, instructor):
    response = instructor.post("/instructor/questions/udp-echo/regrade", follow_redirects=True)
    assert "nothing to regrade" in text_of(response)
    concept = instructor.post("/instructor/questions/udp-vs-tcp/regrade", follow_redirects=True)
    assert "Only code questions are graded." in text_of(concept)


def test_stats_page_has_a_chart_and_a_table(app, instructor):
    add_submissions(app)
    instructor.post("/instructor/questions/udp-echo/regrade")  # regrades are not counted
    response = instructor.get("/instructor/topics/sockets/stats")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and 'aria-labelledby="chart-title chart-desc"' in svg
    assert '<title id="chart-title">' in svg and "udp-echo: 25%." in svg
    assert svg.count('class="chart-row"') == 6  # the sockets topic's code questions
    text = text_of(response)
    assert "udp-echo 4 2 25% (1/4) server-acks-each-sender ×3 10.0" in text


def test_stats_csv_download(app, instructor):
    add_submissions(app)
    response = instructor.get("/instructor/topics/sockets/stats.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="sockets-stats.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == [
        "slug",
        "title",
        "attempts",
        "learners",
        "graded",
        "passed",
        "pass_rate",
        "top_failing_check",
        "top_failing_count",
        "median_minutes_to_pass",
    ]
    udp = next(row for row in rows if row["slug"] == "udp-echo")
    assert (udp["attempts"], udp["pass_rate"], udp["top_failing_check"]) == (
        "4",
        "0.25",
        "server-acks-each-sender",
    )
    assert instructor.get("/instructor/topics/nope/stats.csv").status_code == 404

"""Concurrent requests of one user cannot slip past the pending limit together."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from app.models import Submission, User, db
from app.submissions.service import Rejected, create_submission


def test_concurrent_submissions_respect_the_pending_limit(app):
    app.config.update(MAX_PENDING_SUBMISSIONS=3, SUBMISSIONS_PER_MINUTE=100)
    with app.app_context():
        user = User(email="racer@example.com")
        user.set_password("correct horse")
        db.session.add(user)
        db.session.commit()
        user_id = user.id
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def submit() -> None:
        with app.app_context():
            racer = db.session.get(User, user_id)
            start.wait()
            try:
                create_submission(racer, "tcp-echo", {"client": "print(1)\n"})
                outcomes.append("stored")
            except Rejected as error:
                outcomes.append(str(error.status))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["429"] * 9 + ["stored"] * 3
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 3

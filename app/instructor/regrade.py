"""Regrade every submission of a question against its current version, in the background.

A regrade is a new submission (same user, same files, ``regrade_of`` the original): the
previous results stay in the history."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.jobs import dispatcher
from app.models import Question, Submission, SubmissionStatus, User, db


def regrade(question: Question) -> list[int]:
    originals = db.session.scalars(
        sa.select(Submission)
        .options(so.load_only(Submission.id, Submission.user_id, Submission.files))
        .where(Submission.question_id == question.id, Submission.regrade_of.is_(None))
        .order_by(Submission.id)
    ).all()
    created = [
        Submission(
            user_id=s.user_id,
            question_id=question.id,
            question_version=question.version,
            files=dict(s.files),
            status=SubmissionStatus.QUEUED.value,
            regrade_of=s.id,
        )
        for s in originals
    ]
    db.session.add_all(created)
    db.session.commit()  # stored before queued, as always
    for submission in created:
        dispatcher().enqueue(submission.id)
    return [s.id for s in created]


PER_PAGE = 50
# What a regrade page shows of a submission: never its files or its result.
LISTED = (
    Submission.id,
    Submission.user_id,
    Submission.question_version,
    Submission.status,
    Submission.verdict,
    Submission.regrade_of,
)


def rows(ids: list[int]) -> sa.Select:
    """The regrades ``ids`` with their learner's email, in one query."""
    return (
        sa.select(Submission)
        .options(so.load_only(*LISTED), so.joinedload(Submission.user).load_only(User.email))
        .where(Submission.id.in_(ids))
        .order_by(Submission.id)
    )


def originals(regrades: list[Submission]) -> dict[int, Submission]:
    """The submissions ``regrades`` regrade, by id, in one query."""
    wanted = [r.regrade_of for r in regrades if r.regrade_of is not None]
    if not wanted:
        return {}
    found = db.session.scalars(
        sa.select(Submission).options(so.load_only(*LISTED)).where(Submission.id.in_(wanted))
    )
    return {s.id: s for s in found}


def progress(ids: list[int]) -> dict[str, Any]:
    if not ids:
        return {"total": 0, "done": 0, "counts": {}, "finished": True}
    rows = db.session.execute(
        sa.select(Submission.status, sa.func.count())
        .where(Submission.id.in_(ids))
        .group_by(Submission.status)
    ).all()
    counts = {status: count for status, count in rows}
    done = counts.get("done", 0) + counts.get("error", 0)
    return {"total": len(ids), "done": done, "counts": counts, "finished": done == len(ids)}

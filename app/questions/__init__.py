"""Reading questions: the list with filters, topic overviews and the question page."""

from flask import Blueprint

bp = Blueprint("questions", __name__)

from app.questions import routes  # noqa: E402,F401

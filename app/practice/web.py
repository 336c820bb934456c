"""The practice pages' blueprint (/practice): the queue walk-through, self-ratings, quiz
answers, mock interviews and progress. Its views are in pages.py and mock_pages.py."""

from flask import Blueprint

bp = Blueprint("practice", __name__, url_prefix="/practice")

from app.practice import mock_pages, pages  # noqa: E402,F401

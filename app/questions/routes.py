import sqlalchemy as sa
from flask import render_template_string

from app.models import Question, db
from app.questions import bp

LIST = "{% for q in questions %}<li>{{ q.title_en }}</li>{% endfor %}"


@bp.get("/")
def index():
    questions = db.session.scalars(sa.select(Question).order_by(Question.order)).all()
    return render_template_string(LIST, questions=questions)

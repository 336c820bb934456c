"""Forms of the studio (Flask-WTF: every form carries a CSRF token).

Files per role (starter, reference, known-wrong answers) depend on the roles a question
has, so they are read straight from the request (``role_files``) rather than declared
here; the form's CSRF token still covers the whole POST."""

from __future__ import annotations

import re

import yaml
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.bank.files import DIFFICULTIES, KINDS, parse_quiz_text
from app.bank.quiz import QuizFormatError
from app.models import Role

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
ROLE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # the spec schema's pattern for roles
MAX_ROLES = 8
MAX_TAGS = 20
MAX_TAG = 40


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def unix_newlines(value: str | None) -> str | None:
    """Browsers submit textareas with CRLF line ends; store LF like the bank files."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def split_list(text: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]`` (order kept, duplicates dropped)."""
    items: list[str] = []
    for item in (text or "").split(","):
        item = item.strip()
        if item and item not in items:
            items.append(item)
    return items


def split_lines(text: str | None) -> list[str]:
    """One key point per line; a leading ``-`` or ``*`` bullet is dropped."""
    points = []
    for line in unix_newlines(text or "").split("\n"):
        line = re.sub(r"^\s*[-*]\s+", "", line).strip()
        if line:
            points.append(line)
    return points


def _valid_roles(_form: FlaskForm, field: StringField) -> None:
    roles = split_list(field.data)
    bad = [role for role in roles if not ROLE_PATTERN.match(role)]
    if bad:
        raise ValidationError(
            _l(
                "Invalid role name: %(names)s. Use lowercase letters, digits and _ "
                "(starting with a letter).",
                names=", ".join(bad),
            )
        )
    if len(roles) > MAX_ROLES:
        raise ValidationError(_l("At most %(num)d roles.", num=MAX_ROLES))


def _valid_tags(_form: FlaskForm, field: StringField) -> None:
    tags = split_list(field.data)
    if len(tags) > MAX_TAGS:
        raise ValidationError(_l("At most %(num)d tags.", num=MAX_TAGS))
    if any(len(tag) > MAX_TAG for tag in tags):
        raise ValidationError(_l("A tag has at most %(num)d characters.", num=MAX_TAG))


def _valid_quiz(form: FlaskForm, field: TextAreaField) -> None:
    """Parse the quiz box; the items are kept on the form for saving."""
    try:
        form.quiz_items = parse_quiz_text(field.data or "")
    except yaml.YAMLError as exc:
        raise ValidationError(_l("Quiz: not valid YAML (%(problem)s).", problem=str(exc))) from None
    except QuizFormatError as exc:
        raise ValidationError(_l("Quiz: %(problem)s.", problem=str(exc))) from None


def choices(pairs) -> list[SelectChoice]:
    """``[(value, label), ...]`` -> what SelectField takes (labels may be lazy strings)."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


KIND_LABELS = {"code": _l("Code"), "concept": _l("Concept")}
DIFFICULTY_LABELS = {"easy": _l("Easy"), "medium": _l("Medium"), "hard": _l("Hard")}


class QuestionForm(FlaskForm):
    """Edit a question. ``NewQuestionForm`` adds the slug, fixed once created."""

    topic = SelectField(_l("Topic"), coerce=int)
    order = IntegerField(
        _l("Order"),
        default=0,
        validators=[NumberRange(min=0, max=100_000, message=_l("A number from 0 to 100000."))],
        description=_l("Position in the topic's list."),
    )
    kind = SelectField(
        _l("Kind"), choices=choices((kind, KIND_LABELS.get(kind, kind)) for kind in KINDS)
    )
    difficulty = SelectField(
        _l("Difficulty"),
        default="medium",
        choices=choices((level, DIFFICULTY_LABELS.get(level, level)) for level in DIFFICULTIES),
    )
    tags = StringField(
        _l("Tags"),
        filters=[strip],
        validators=[_valid_tags],
        description=_l("Comma separated, e.g. udp, socket, timeout."),
    )

    title_zh = StringField(_l("Title (Chinese)"), filters=[strip], validators=[Length(max=300)])
    title_en = StringField(_l("Title (English)"), filters=[strip], validators=[Length(max=300)])
    prompt_zh = TextAreaField(_l("Prompt (Chinese)"), filters=[unix_newlines])
    prompt_en = TextAreaField(_l("Prompt (English)"), filters=[unix_newlines])
    key_points_zh = TextAreaField(
        _l("Key points (Chinese)"), filters=[unix_newlines], description=_l("One per line.")
    )
    key_points_en = TextAreaField(
        _l("Key points (English)"), filters=[unix_newlines], description=_l("One per line.")
    )
    answer_zh = TextAreaField(_l("Model answer (Chinese)"), filters=[unix_newlines])
    answer_en = TextAreaField(_l("Model answer (English)"), filters=[unix_newlines])
    explanation_zh = TextAreaField(_l("Explanation (Chinese)"), filters=[unix_newlines])
    explanation_en = TextAreaField(_l("Explanation (English)"), filters=[unix_newlines])

    hints_zh = TextAreaField(
        _l("Hints (Chinese)"),
        filters=[unix_newlines],
        description=_l("One per line; they unlock one at a time after a failed attempt."),
    )
    hints_en = TextAreaField(
        _l("Hints (English)"),
        filters=[unix_newlines],
        description=_l("One per line; they unlock one at a time after a failed attempt."),
    )
    quiz = TextAreaField(
        _l("Quiz items (YAML)"),
        filters=[unix_newlines],
        validators=[_valid_quiz],
        description=_l(
            "A list of items: id, type (single, multiple, ordering, fill), prompt and "
            "explanation in zh and en, choices, and the answer. Checked on save."
        ),
    )

    roles = StringField(
        _l("Roles"),
        filters=[strip],
        validators=[_valid_roles],
        description=_l(
            "Comma separated, e.g. server, client: one submitted file per role. After "
            "changing the roles, press “Update roles” to get a file box per role."
        ),
    )
    spec = TextAreaField(
        _l("Grading spec (YAML)"),
        filters=[unix_newlines],
        description=_l("Checked on save: nothing is saved while the spec has errors."),
    )

    save = SubmitField(_l("Save"))
    preview = SubmitField(_l("Preview"))
    update_roles = SubmitField(_l("Update roles"))

    TEXT_FIELDS = ("prompt", "key_points", "answer", "explanation")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.title_zh.data or self.title_en.data):
            self.title_en.errors.append(_l("Give the question a title in at least one language."))
            valid = False
        return valid


class NewQuestionForm(QuestionForm):
    slug = StringField(
        _l("Slug"),
        filters=[strip],
        validators=[
            DataRequired(_l("Choose a slug.")),
            Length(max=80, message=_l("At most %(max)d characters.")),
            Regexp(
                SLUG_PATTERN,
                message=_l(
                    "Lowercase letters, digits and hyphens, starting with a letter or digit."
                ),
            ),
        ],
        description=_l("The question's address: /questions/SLUG. It cannot be changed later."),
        render_kw={"autocapitalize": "off", "spellcheck": "false"},
    )


class WrongAnswerForm(FlaskForm):
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Name the answer.")), Length(max=120)],
        description=_l("What is wrong with it, e.g. “replies to the first sender only”."),
    )
    failing_check = SelectField(
        _l("Check that must fail"),
        validators=[Optional()],
        description=_l("Optional: the check that must be among the failing ones."),
    )
    add = SubmitField(_l("Add known-wrong answer"))


class ImportForm(FlaskForm):
    file = FileField(
        _l("File"),
        validators=[FileRequired(_l("Choose a file to import."))],
        description=_l("A book chapter (.md) or a bank archive (.zip, as exported here)."),
        render_kw={"accept": ".md,.markdown,.zip,text/markdown,application/zip"},
    )
    topic = StringField(
        _l("Topic slug"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=80),
            Regexp(
                SLUG_PATTERN,
                message=_l(
                    "Lowercase letters, digits and hyphens, starting with a letter or digit."
                ),
            ),
        ],
        description=_l(
            "Chapter only: the topic of the drafts (created if new). Default: the prefix."
        ),
    )
    prefix = StringField(
        _l("Slug prefix"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=60),
            Regexp(
                SLUG_PATTERN,
                message=_l(
                    "Lowercase letters, digits and hyphens, starting with a letter or digit."
                ),
            ),
        ],
        description=_l(
            "Chapter only: questions become PREFIX-q1, PREFIX-q2, … Default: from the file name."
        ),
    )
    submit = SubmitField(_l("Import"))


ROLE_LABELS = {
    Role.LEARNER.value: _l("Learner"),
    Role.INSTRUCTOR.value: _l("Instructor"),
    Role.ADMIN.value: _l("Administrator"),
}


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()))
    submit = SubmitField(_l("Change role"))

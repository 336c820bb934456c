"""Forms of the auth blueprint. Every FlaskForm carries a CSRF token."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.auth.tokens import MAX_NAME as MAX_TOKEN_NAME

MIN_PASSWORD = 8
MAX_PASSWORD = 256  # hashing is slow on purpose; do not let anyone hash a megabyte
MAX_EMAIL = 254

# Deliberately simple: one "@", no spaces, a dot in the domain. Real validation is the
# confirmation e-mail (later); this only catches typos.
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def normalise_email(value: str | None) -> str | None:
    return value.strip().lower() if isinstance(value, str) else value


def is_valid_email(value: str | None) -> bool:
    return bool(value) and len(value) <= MAX_EMAIL and _EMAIL_RE.match(value) is not None


def _valid_email(_form: FlaskForm, field: EmailField) -> None:
    if not field.data or not _EMAIL_RE.match(field.data):
        raise ValidationError(_l("Enter a valid email address, like name@example.com."))


class RegisterForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        filters=[normalise_email],
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=MAX_EMAIL, message=_l("This email address is too long.")),
            _valid_email,
        ],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(
                min=MIN_PASSWORD,
                max=MAX_PASSWORD,
                message=_l("Use between %(min)d and %(max)d characters."),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least %(min)d characters.", min=MIN_PASSWORD),
    )
    confirm = PasswordField(
        _l("Confirm password"),
        validators=[
            DataRequired(_l("Type the password again.")),
            EqualTo("password", message=_l("The two passwords do not match.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Create account"))


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        filters=[normalise_email],
        validators=[DataRequired(_l("Enter your email address.")), Length(max=MAX_EMAIL)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=MAX_PASSWORD)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Sign out"))


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        filters=[lambda value: " ".join(value.split()) if isinstance(value, str) else value],
        validators=[
            DataRequired(_l("Give the token a name, e.g. the script that will use it.")),
            Length(max=MAX_TOKEN_NAME, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={"autocomplete": "off", "maxlength": MAX_TOKEN_NAME},
        description=_l("For example: laptop, CI grader."),
    )
    submit = SubmitField(_l("Create token"))


class RevokeTokenForm(FlaskForm):
    submit = SubmitField(_l("Revoke"))

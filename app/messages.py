"""The grader's messages (ids and parameters, ``app/grading/messages.py``) in words,
through Flask-Babel: the reader's language on pages, both languages in JSON."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import force_locale, get_translations, gettext
from markupsafe import Markup, escape

from app.grading.messages import Translate, current, is_bilingual, is_message, render
from app.i18n import LANGUAGES, current_lang


def _translate(template: str) -> str:
    return gettext(template)


def say(value: Any) -> Any:
    """A message (or bilingual content) in the reader's language; other values as they are.
    Results stored before messages had ids hold ``{en, zh}`` pairs: they read the same way."""
    return render(value, current_lang(), _translate)


def say_html(value: Any) -> Any:
    """``say`` for a page: the words escaped, the program's text (and the bytes of a
    difference, backquoted in the plain text) in ``<code>`` (it is shown as it is, in
    whatever language the program wrote it)."""
    if not is_message(value):
        return say(value)
    return render(
        value,
        current_lang(),
        lambda template: escape(gettext(template)),
        lambda text: Markup("<code>%s</code>") % text,
    )


def in_both(value: Any) -> Any:
    """``value`` with every message in it (at any depth) rendered in each language beside
    its id and parameters: ``{"id", "params", "en", "zh"}``. For JSON readers."""
    translators = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            translators[lang] = get_translations().gettext
    return _in_both(value, translators)


def _in_both(value: Any, translators: dict[str, Translate]) -> Any:
    if is_message(value):
        value = current(value)  # its parameters as the engine stores them now
        return {**value, **{lang: render(value, lang, t) for lang, t in translators.items()}}
    if isinstance(value, dict) and not is_bilingual(value):
        return {key: _in_both(item, translators) for key, item in value.items()}
    if isinstance(value, list):
        return [_in_both(item, translators) for item in value]
    return value


def init_app(app: Flask) -> None:
    app.jinja_env.filters["say"] = say
    app.jinja_env.filters["say_html"] = say_html

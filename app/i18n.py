"""Language of the interface and of the content: the switch, and template helpers.

The locale itself is chosen by ``select_locale`` in ``app/factory.py`` with
:func:`locale_code` (session, then the ``lang`` cookie, then Accept-Language). The switch
at ``/lang/<code>`` stores the choice in both the session and a long-lived cookie, then
goes back to a same-site ``next`` page.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    session,
)
from flask_babel import get_locale, get_translations
from werkzeug.datastructures import LanguageAccept

from app.auth.urls import safe_next_url

LANGUAGES = {"en": "English", "zh": "中文"}
# BCP 47 tags for <html lang>: the content is Simplified Chinese.
HTML_LANG = {"en": "en", "zh": "zh-Hans"}
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

bp = Blueprint("i18n", __name__)


def locale_code(chosen: str | None, cookie: str | None, accept: LanguageAccept) -> str:
    """The language the visitor chose with the switch (kept in the session, else in the
    cookie), else their browser's preference."""
    chosen = chosen or cookie
    if chosen in LANGUAGES:
        return chosen
    return accept.best_match(list(LANGUAGES)) or "en"


def current_lang() -> str:
    """``"zh"`` or ``"en"``: the language for UI strings and for ``*_zh``/``*_en`` content."""
    locale = get_locale()
    return "zh" if locale is not None and locale.language == "zh" else "en"


def html_lang(lang: str | None = None) -> str:
    return HTML_LANG[lang or current_lang()]


@bp.get("/lang/<code>")
def switch(code: str) -> Response:
    target = safe_next_url(request.args.get("next"), fallback="/")
    response = redirect(target)
    if code not in LANGUAGES:
        return response
    session["lang"] = code
    response.set_cookie(
        LANG_COOKIE,
        code,
        max_age=LANG_COOKIE_MAX_AGE,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        httponly=True,
        samesite="Lax",
    )
    return response


def _template_context() -> dict[str, Any]:
    lang = current_lang()
    # g.page_url: a form answered with the page it came from (a link back must GET that page)
    here = g.get("page_url") or (request.full_path if request.query_string else request.path)
    return {
        "lang": lang,
        "html_lang": html_lang(lang),
        "languages": [
            {"code": code, "name": name, "html_lang": HTML_LANG[code], "current": code == lang}
            for code, name in LANGUAGES.items()
        ],
        "here": here,
        # Between two sentences: a space in English, none after Chinese punctuation.
        "gap": "" if lang == "zh" else " ",
    }


def _vary_on_language(response: Response) -> Response:
    if request.endpoint == "static":  # the same file in every language (see static_assets)
        return response
    # Pages differ by Accept-Language and by the lang cookie (the session adds Vary: Cookie).
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def _translations():
    """This request's catalogue, looked up once: Flask-Babel resolves the locale and the
    domain on every string, a few hundred times on a long list (the templates' ``_()``)."""
    if not has_request_context():
        return get_translations()
    found = getattr(request, "_translations", None)
    if found is None:
        found = request._translations = get_translations()  # type: ignore[attr-defined]
    return found


def _install_template_gettext(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )


def init_app(app: Flask) -> None:
    _install_template_gettext(app)
    app.register_blueprint(bp)
    app.context_processor(_template_context)
    app.after_request(_vary_on_language)

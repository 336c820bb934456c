"""Accounts: register, sign in, sign out (Flask-Login sessions, Flask-WTF forms with CSRF)."""

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("auth", __name__, url_prefix="/auth")


def init_app(app: Flask) -> None:
    from app.auth import throttle
    from app.extensions import login_manager

    app.register_blueprint(bp)
    throttle.init_app(app)  # sign-in and registration limits
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str  # evaluate the lazy string in the request's locale


from app.auth import routes  # noqa: E402,F401

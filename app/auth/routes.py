"""Register, sign in and sign out; the profile page with its API tokens."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from app.auth import bp, throttle
from app.auth.forms import LoginForm, LogoutForm, RegisterForm, RevokeTokenForm, TokenForm
from app.auth.tokens import (
    MAX_ACTIVE_TOKENS,
    TokenError,
    active_tokens,
    issue_token,
    revoke_token,
    tokens_of,
)
from app.auth.urls import safe_next_url
from app.models import Role, User, db


@cache
def _dummy_hash() -> str:
    """Checked when the email is unknown, so a wrong email costs as long as a wrong password."""
    return generate_password_hash("not-a-real-password")


def _next_url() -> str:
    return safe_next_url(request.args.get("next"), fallback=url_for("questions.index"))


def _user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response:
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = RegisterForm()
    if form.validate_on_submit():
        email = form.email.data
        wait = throttle.register_retry_after()
        if wait is not None:
            return _too_many(
                _("Too many accounts were created from your network in the last hour."), wait
            )
        throttle.registered()
        if _user_by_email(email) is not None:
            form.email.errors.append(_taken_message())
        else:
            user = User(email=email, role=Role.LEARNER.value)
            user.set_password(form.password.data)
            db.session.add(user)
            try:
                db.session.commit()
            except IntegrityError:  # somebody registered the same address a moment ago
                db.session.rollback()
                form.email.errors.append(_taken_message())
            else:
                login_user(user)
                flash(_("Welcome! Your account is ready."), "success")
                return redirect(_next_url())
    status = 422 if form.errors else 200
    return render_template("auth/register.html", form=form), status


def _too_many(reason: str, wait: int) -> Response:
    """429 with Retry-After: nothing was checked or stored."""
    page = render_template("errors/429.html", reason=reason, retry_after=wait)
    return make_response(page, 429, {"Retry-After": str(wait)})


def _taken_message() -> str:
    return _("An account with this email already exists. Sign in instead?")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data
        user = _user_by_email(email)
        wait = throttle.login_retry_after(email, user.id if user else None)
        if wait is not None:  # checked before the password: no guess is judged
            return _too_many(
                _("Too many failed sign-ins for this account or from your network."), wait
            )
        if user is None:
            check_password_hash(_dummy_hash(), form.password.data)
        elif user.check_password(form.password.data):
            throttle.login_succeeded(email)
            login_user(user, remember=form.remember.data)
            flash(_("You are signed in."), "success")
            response = redirect(_next_url())
            throttle.remember_device(response, user.id)
            return response
        throttle.login_failed(email)
        form.form_errors.append(_("Incorrect email or password."))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> str | Response:
    """POST signs out (CSRF-checked). GET only shows a confirmation button."""
    form = LogoutForm()
    if request.method == "POST":
        if current_user.is_authenticated:
            logout_user()
            flash(_("You are signed out."), "info")
        return redirect(url_for("questions.index"))
    if not current_user.is_authenticated:
        return redirect(url_for("questions.index"))
    return render_template("auth/logout.html", form=form)


# --- profile and API tokens ----------------------------------------------------------------


def _profile_page(form: TokenForm, new_token: str | None = None, status: int = 200):
    response = make_response(
        render_template(
            "auth/profile.html",
            form=form,
            revoke_form=RevokeTokenForm(),
            tokens=tokens_of(current_user),
            new_token=new_token,
            max_tokens=MAX_ACTIVE_TOKENS,
        ),
        status,
    )
    # The page may show a freshly issued token: never cache it anywhere.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/profile")
@login_required
def profile() -> Response:
    return _profile_page(TokenForm())


@bp.post("/profile/tokens")
@login_required
def create_token() -> Response:
    """Issue a token and show it on this response only (never stored, never flashed)."""
    form = TokenForm()
    if form.validate_on_submit():
        if active_tokens(current_user) >= MAX_ACTIVE_TOKENS:
            form.name.errors.append(
                _(
                    "You already have %(num)d active tokens; revoke one first.",
                    num=MAX_ACTIVE_TOKENS,
                )
            )
        else:
            try:
                raw = issue_token(current_user, form.name.data)
            except TokenError as error:
                form.name.errors.append(str(error))
            else:
                return _profile_page(TokenForm(formdata=None), new_token=raw, status=201)
    return _profile_page(form, status=422)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    form = RevokeTokenForm()
    if not form.validate_on_submit():  # the global CSRF check normally answers first
        abort(400)
    token = revoke_token(current_user, token_id)
    if token is None:
        abort(404)
    flash(
        _("Token “%(name)s” revoked. Programs using it can no longer sign in.", name=token.name),
        "info",
    )
    return redirect(url_for("auth.profile"), 303)

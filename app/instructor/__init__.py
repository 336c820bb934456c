"""The instructor studio: author, validate, publish, version, import/export, regrade and
follow questions. Every page is for instructors and admins only (see ``access``).

The services (``validation``, ``versions``, ``regrade``, ``stats``) hold the rules; the
blueprint's routes only collect input and show their results."""

from flask import Blueprint

bp = Blueprint("instructor", __name__, url_prefix="/instructor")

from app.instructor import access, routes  # noqa: E402,F401

bp.before_request(access.guard_blueprint)
bp.register_error_handler(403, access.forbidden)

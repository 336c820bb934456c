"""Schemathesis, an off-the-shelf OpenAPI fuzzer, against /api/v1/openapi.json with every
one of its checks, authenticated with a real token: zero failures.

The schema is read once, at collection, from an app on a migrated database with the bank
(the document names the roles of the published code questions); each generated request
goes to the test's own ``app``. The run is bounded (a fixed number of examples per
operation, derandomized) so it takes seconds and finds the same things every time.
"""

from __future__ import annotations

import atexit
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from flask_migrate import upgrade
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from app.auth.tokens import hash_token
from app.bank.loader import load_bank
from app.models import ApiToken, db
from tests.api.helpers import make_user
from tests.helpers import make_app

load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())


def _document_app():
    folder = Path(tempfile.mkdtemp(prefix="loopback-openapi-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    app = make_app(folder, f"sqlite:///{folder / 'loopback.sqlite3'}")
    with app.app_context():
        upgrade()
        load_bank()
        db.engine.dispose()
    return app


# Schemathesis sends the token itself (so it knows which header authenticates, and its
# ignored_auth check can leave it out); the ``token`` fixture stores this token's hash.
TOKEN = "lb_schemathesis-" + secrets.token_urlsafe(24)
CONFIG = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearerAuth": {"bearer": TOKEN}}}})
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app(), config=CONFIG)


@pytest.fixture
def token(app) -> str:
    user_id = make_user(app, "fuzzer@example.com")
    with app.app_context():
        db.session.add(ApiToken(user_id=user_id, name="fuzzer", token_hash=hash_token(TOKEN)))
        db.session.commit()
    return TOKEN


def test_every_check_runs():
    names = {check.__name__ for check in ALL_CHECKS}
    assert {
        "not_a_server_error",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "ignored_auth",
        "unsupported_method",
    } <= names
    assert len(ALL_CHECKS) >= 14


@schema.parametrize()
@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_passes_schemathesis(case, app, token):
    response = case.call_and_validate(app=app, checks=ALL_CHECKS)
    STATUSES.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)


STATUSES: dict[str, set[int]] = {}


def test_the_fuzzer_got_past_authentication():
    """The run above reached the views (runs after it, in file order): not only 401s."""
    if not STATUSES:
        pytest.skip("run with test_api_passes_schemathesis")
    assert 200 in STATUSES["GET /questions"]
    assert 202 in STATUSES["POST /submissions"]
    assert {200, 404} <= STATUSES["GET /questions/{slug}"]

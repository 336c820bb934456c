from __future__ import annotations

import pytest

from tests.api.helpers import Api, make_token, make_user


@pytest.fixture
def api(app) -> Api:
    """A learner (learner@example.com) with a token."""
    make_user(app, "learner@example.com")
    return Api(app.test_client(), make_token(app, "learner@example.com"))


@pytest.fixture
def other_api(app) -> Api:
    make_user(app, "other@example.com")
    return Api(app.test_client(), make_token(app, "other@example.com"))


@pytest.fixture
def instructor_api(app) -> Api:
    make_user(app, "teacher@example.com", role="instructor")
    return Api(app.test_client(), make_token(app, "teacher@example.com"))

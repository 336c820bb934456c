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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Schemathesis names each operation's test ``...[POST /submissions]`` but gives all of
    them one node id; pytest-xdist schedules by node id and would run one operation."""
    for item in items:
        if getattr(item, "operation_label", None) and not item.nodeid.endswith("]"):
            item._id = item.parent.id.child(item.name)  # the name carries the operation

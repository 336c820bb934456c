from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.helpers import make_user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def learner(app) -> int:
    return make_user(app, "practiser@example.com")

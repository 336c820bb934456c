from __future__ import annotations

import time

import pytest

from tests.helpers import csrf_token


class Learner:
    """A signed-in learner submitting through the web endpoints."""

    def __init__(self, client, auth, email="learner@example.com"):
        self.client = client
        auth.register(email=email)
        self.token = csrf_token(client.get("/").get_data(as_text=True))

    def submit(self, slug: str, files, **headers):
        return self.client.post(
            f"/questions/{slug}/submissions",
            json={"files": files},
            headers={"X-CSRFToken": self.token, **headers},
        )

    def wait(self, submission_id: int, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.client.get(f"/submissions/{submission_id}.json").get_json()
            if data["status"] in ("done", "error"):
                return data
            time.sleep(0.1)
        raise AssertionError(f"submission {submission_id} not graded in {timeout} s: {data}")


@pytest.fixture
def learner(client, auth) -> Learner:
    return Learner(client, auth)

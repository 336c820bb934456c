"""Sign-in and registration throttles: 429 with Retry-After, a window and not a lock, shared
by every process (database, or Redis in the scaled mode)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.auth import throttle
from app.models import ThrottleEvent, User, db
from tests.api.helpers import make_user
from tests.helpers import REDIS_URL, AuthActions, make_app, reachable, require

EMAIL, PASSWORD = "ada@example.com", "correct horse"
OTHER_ADDRESS = "192.0.2.7"  # documentation range: only ever a WSGI environ value here


class Clock:
    """Stands in for time.time() in the throttle module."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(throttle, "time", fake)
    return fake


@pytest.fixture
def ada(app) -> int:
    return make_user(app, EMAIL, password=PASSWORD)


def fail(auth: AuthActions, times: int, email: str = EMAIL) -> None:
    for _ in range(times):
        response = auth.login(email, "wrong horse!")
        assert response.status_code == 422, response.status_code


def signed_in(response) -> bool:
    return response.status_code == 302 and response.headers["Location"] == "/"


def test_five_failures_a_minute_then_429_with_retry_after(client, auth, ada, clock):
    fail(auth, 5)
    clock.now += 10
    refused = auth.login(EMAIL, PASSWORD)  # even the right password is not judged now
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "50"
    assert "Too many failed sign-ins for this account or from your network." in refused.text
    assert "Try again in 50 seconds." in refused.text
    assert "Sign out" not in client.get("/").text


def test_it_is_a_window_not_a_lock(auth, ada, clock):
    fail(auth, 5)
    clock.now += 59
    assert auth.login(EMAIL, PASSWORD).status_code == 429
    clock.now += 2
    assert signed_in(auth.login(EMAIL, PASSWORD))


def test_sliding_window_counts_only_the_last_minute(auth, ada, clock):
    fail(auth, 4)
    clock.now += 45
    fail(auth, 1)  # five in the last minute
    assert auth.login(EMAIL, PASSWORD).headers["Retry-After"] == "15"
    clock.now += 16  # the first four left the window
    fail(auth, 3)
    assert auth.login(EMAIL, "wrong horse!").status_code == 422
    assert auth.login(EMAIL, PASSWORD).status_code == 429


def test_a_success_clears_the_account_failures(auth, ada, clock):
    fail(auth, 4)
    assert signed_in(auth.login(EMAIL, PASSWORD))
    auth.logout()
    fail(auth, 4)
    assert signed_in(auth.login(EMAIL, PASSWORD))


def test_429_page_in_chinese(app, auth, ada, clock):
    fail(auth, 5)
    chinese = AuthActions(app.test_client())
    chinese._client.set_cookie("lang", "zh")
    refused = chinese.login(EMAIL, PASSWORD)
    assert refused.status_code == 429
    assert "尝试次数过多" in refused.text
    assert "该账户或你所在网络的登录失败次数过多。" in refused.text
    assert "请在 60 秒后重试。" in refused.text


def test_an_attacker_cannot_lock_out_a_browser_that_signed_in_before(app, auth, ada, clock):
    """The owner's browser carries a device cookie: the account's throttle skips it."""
    assert signed_in(auth.login(EMAIL, PASSWORD))
    auth.logout()
    attacker = AuthActions(app.test_client())
    attacker._client.environ_base["REMOTE_ADDR"] = OTHER_ADDRESS
    fail(attacker, 5)
    assert attacker.login(EMAIL, PASSWORD).status_code == 429
    # A forged device cookie is worth nothing.
    attacker._client.set_cookie("device", "W10.forged.signature")
    assert attacker.login(EMAIL, PASSWORD).status_code == 429
    assert signed_in(auth.login(EMAIL, PASSWORD))  # the owner, same minute


def test_per_address_throttle_across_accounts(app, auth, clock):
    for n in range(app.config["LOGIN_FAILURES_PER_ADDRESS"]):
        fail(auth, 1, email=f"guess{n}@example.com")
    make_user(app, "bob@example.com", password=PASSWORD)
    refused = auth.login("bob@example.com", PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    elsewhere = AuthActions(app.test_client())
    elsewhere._client.environ_base["REMOTE_ADDR"] = OTHER_ADDRESS
    assert signed_in(elsewhere.login("bob@example.com", PASSWORD))


def test_registrations_per_address_are_limited(app, clock):
    app.config["REGISTRATIONS_PER_HOUR"] = 2
    for n in range(2):
        response = AuthActions(app.test_client()).register(f"new{n}@example.com")
        assert response.status_code == 302
    refused = AuthActions(app.test_client()).register("third@example.com")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3600"
    assert "Too many accounts were created from your network in the last hour." in refused.text
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == "third@example.com")) is None
    clock.now += 3601
    assert AuthActions(app.test_client()).register("third@example.com").status_code == 302


def test_processes_share_the_count_through_the_database(app, migrated_database, ada, clock):
    """A second app on the same database (another web process) sees the failures."""
    fail(AuthActions(app.test_client()), 5)
    other = make_app(app.instance_path, app.config["SQLALCHEMY_DATABASE_URI"])
    refused = AuthActions(other.test_client()).login(EMAIL, PASSWORD)
    assert refused.status_code == 429
    with other.app_context():
        db.engine.dispose()


def test_keys_are_not_stored_readably_and_old_rows_go(app, auth, ada, clock):
    fail(auth, 2)
    with app.app_context():
        buckets = list(db.session.scalars(sa.select(ThrottleEvent.bucket)))
    assert len(buckets) == 4  # address and account, twice
    assert not any(EMAIL in b or "127.0.0.1" in b for b in buckets)
    clock.now += throttle.KEEP_SECONDS + 1
    fail(auth, 1)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ThrottleEvent)) == 2


@pytest.mark.parametrize(
    ("remote", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_client_address_keys(app, remote, key):
    with app.test_request_context(environ_base={"REMOTE_ADDR": remote}):
        assert throttle.client_address() == key


@pytest.mark.redis
def test_redis_store_is_shared_and_windowed(app, clock):
    """The scaled mode: with REDIS_URL, the events live in Redis."""
    require(reachable(REDIS_URL), "Redis is not reachable at 127.0.0.1:6379")
    app.config.update(REDIS_URL=REDIS_URL, SECRET_KEY=uuid.uuid4().hex)  # fresh buckets
    limit = throttle.Limit("login-account", 3, 60)
    with app.test_request_context():
        app.extensions.pop("throttle_store", None)
        assert isinstance(throttle.store(), throttle.RedisStore)
        for _ in range(3):
            throttle.hit(limit, EMAIL)
            clock.now += 1
        assert throttle.retry_after(limit, EMAIL) == 57
    with app.test_request_context():
        app.extensions["throttle_store"] = throttle.RedisStore(REDIS_URL)  # another process
        assert throttle.retry_after(limit, EMAIL) == 57
        clock.now += 58
        assert throttle.retry_after(limit, EMAIL) is None
        throttle.clear(limit, EMAIL)
        assert (
            throttle.store().redis.exists(f"loopback:throttle:{throttle._bucket(limit, EMAIL)}")
            == 0
        )


def test_database_store_is_the_default(app):
    with app.test_request_context():
        assert isinstance(throttle.store(), throttle.DatabaseStore)

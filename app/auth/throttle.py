"""Throttles of sign-in and registration, shared by every web process.

A throttle counts events (a failed sign-in, a registration) per key in a sliding window:
once a key has ``count`` events in the last ``window`` seconds, the next attempt gets 429
with ``Retry-After`` (the seconds until the oldest of them leaves the window). Nothing is
ever locked for longer than the window, so an attacker cannot lock a real user out for
good; and a browser that has signed in to an account before carries a signed *device
cookie* that exempts it from that account's throttle (not from its address's), so even an
attacker who keeps failing on purpose does not lock its owner out at all (OWASP's
"device cookies").

Events live in the database (table ``throttle_event``), or in Redis sorted sets when
``REDIS_URL`` is set (the scaled mode). Keys are stored as HMACs under the secret key:
neither the addresses nor the e-mail addresses are readable there. Two processes checking
the same key at the same instant may both pass: the bound is approximate by a request or
two, never by more.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from flask import Flask, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from app.models import ThrottleEvent, db

DEVICE_COOKIE = "device"
DEVICE_MAX_AGE = 180 * 24 * 3600
DEVICE_ACCOUNTS = 5  # accounts remembered per browser
KEEP_SECONDS = 24 * 3600  # events older than this are deleted (longer than any window)


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    window: int  # seconds


def limits() -> dict[str, Limit]:
    config = current_app.config
    return {
        "login-account": Limit("login-account", config["LOGIN_FAILURES_PER_ACCOUNT"], 60),
        "login-address": Limit("login-address", config["LOGIN_FAILURES_PER_ADDRESS"], 60),
        "register-address": Limit("register-address", config["REGISTRATIONS_PER_HOUR"], 3600),
    }


class Store(Protocol):
    def times(self, bucket: str, since: float, most: int) -> list[float]: ...
    def add(self, bucket: str, now: float, window: int) -> None: ...
    def clear(self, bucket: str) -> None: ...


class DatabaseStore:
    def times(self, bucket: str, since: float, most: int) -> list[float]:
        return list(
            db.session.scalars(
                sa.select(ThrottleEvent.at)
                .where(ThrottleEvent.bucket == bucket, ThrottleEvent.at > since)
                .order_by(ThrottleEvent.at.desc())
                .limit(most)
            )
        )

    def add(self, bucket: str, now: float, window: int) -> None:
        db.session.execute(sa.delete(ThrottleEvent).where(ThrottleEvent.at < now - KEEP_SECONDS))
        db.session.add(ThrottleEvent(bucket=bucket, at=now))
        db.session.commit()

    def clear(self, bucket: str) -> None:
        db.session.execute(sa.delete(ThrottleEvent).where(ThrottleEvent.bucket == bucket))
        db.session.commit()


class RedisStore:
    def __init__(self, url: str):
        from redis import Redis

        self.redis = Redis.from_url(url)

    @staticmethod
    def _key(bucket: str) -> str:
        return f"loopback:throttle:{bucket}"

    def times(self, bucket: str, since: float, most: int) -> list[float]:
        key = self._key(bucket)
        pipe = self.redis.pipeline()
        pipe.zremrangebyscore(key, "-inf", since)
        pipe.zrevrange(key, 0, most - 1, withscores=True)
        return [score for _, score in pipe.execute()[1]]

    def add(self, bucket: str, now: float, window: int) -> None:
        key = self._key(bucket)
        pipe = self.redis.pipeline()
        pipe.zadd(key, {uuid.uuid4().hex: now})
        pipe.expire(key, window + 1)
        pipe.execute()

    def clear(self, bucket: str) -> None:
        self.redis.delete(self._key(bucket))


def store() -> Store:
    found = current_app.extensions.get("throttle_store")
    if found is None:
        url = current_app.config.get("REDIS_URL")
        found = RedisStore(url) if url else DatabaseStore()
        current_app.extensions["throttle_store"] = found
    return found


def _bucket(limit: Limit, key: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, f"{limit.name}\0{key}".encode(), hashlib.sha256).hexdigest()
    return f"{limit.name}:{digest[:40]}"


def retry_after(limit: Limit, key: str) -> int | None:
    """Seconds until ``key`` may try again, or None when it may now."""
    now = time.time()
    times = store().times(_bucket(limit, key), now - limit.window, limit.count)
    if len(times) < limit.count:
        return None
    return max(1, math.ceil(min(times) + limit.window - now))


def hit(limit: Limit, key: str) -> None:
    store().add(_bucket(limit, key), time.time(), limit.window)


def clear(limit: Limit, key: str) -> None:
    store().clear(_bucket(limit, key))


def client_address() -> str:
    """The client's address; an IPv6 client is counted by its /64 (one host usually has
    a whole /64). Behind a reverse proxy, configure ProxyFix so this is the real client."""
    raw = request.remote_addr or "unknown"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


# --- sign-in --------------------------------------------------------------------------------


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="loopback-device")


def known_accounts() -> list[int]:
    """The accounts this browser has signed in to (from its signed device cookie)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        accounts = _devices().loads(raw, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return []
    return [a for a in accounts if isinstance(a, int)] if isinstance(accounts, list) else []


def remember_device(response: Response, user_id: int) -> None:
    accounts = [user_id] + [a for a in known_accounts() if a != user_id]
    response.set_cookie(
        DEVICE_COOKIE,
        _devices().dumps(accounts[:DEVICE_ACCOUNTS]),
        max_age=DEVICE_MAX_AGE,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        httponly=True,
        samesite="Lax",
    )


def login_retry_after(email: str, user_id: int | None) -> int | None:
    """Seconds to wait before this sign-in may be tried, or None. The account's throttle
    does not apply to a browser that signed in to it before."""
    rules = limits()
    waits = [retry_after(rules["login-address"], client_address())]
    if user_id is None or user_id not in known_accounts():
        waits.append(retry_after(rules["login-account"], email))
    found = [wait for wait in waits if wait is not None]
    return max(found) if found else None


def login_failed(email: str) -> None:
    rules = limits()
    hit(rules["login-address"], client_address())
    hit(rules["login-account"], email)


def login_succeeded(email: str) -> None:
    clear(limits()["login-account"], email)


# --- registration ---------------------------------------------------------------------------


def register_retry_after() -> int | None:
    return retry_after(limits()["register-address"], client_address())


def registered() -> None:
    hit(limits()["register-address"], client_address())


def init_app(app: Flask) -> None:
    """The limits come from the environment, like every setting (app/config.py)."""
    from app.config import _env_int

    for name, default in (
        ("LOGIN_FAILURES_PER_ACCOUNT", 5),  # a minute
        ("LOGIN_FAILURES_PER_ADDRESS", 20),  # a minute: a classroom may share one address
        ("REGISTRATIONS_PER_HOUR", 20),  # per address
    ):
        app.config.setdefault(name, _env_int(name, default))

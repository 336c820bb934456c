"""API tokens: issued once, stored only as their SHA-256, looked up by that hash.

A token is ``lb_`` + 43 URL-safe characters (256 random bits). Because the token itself
is random and long, hashing it with SHA-256 (no salt, no slow KDF) is enough: the stored
hash is useless to an attacker who reads the database, and the lookup by the (indexed,
unique) hash leaks nothing about any valid token through timing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa

from app.models import ApiToken, User, db, utcnow

PREFIX = "lb_"
MAX_NAME = 100
MAX_ACTIVE_TOKENS = 20
# Longest raw token we bother hashing (ours are 46 characters).
MAX_TOKEN_LENGTH = 200
# last_used_at is written at most this often per token, so polling clients do not turn
# every status request into a database write.
LAST_USED_RESOLUTION = timedelta(seconds=60)


class TokenError(ValueError):
    """A token cannot be issued (bad name, too many active tokens)."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def active_tokens(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )


def issue_token(user: User, name: str) -> str:
    """Create a token for ``user`` and return it; this is the only time it is known."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("Give the token a name.")
    if len(name) > MAX_NAME:
        raise TokenError(f"The token name is longer than {MAX_NAME} characters.")
    if active_tokens(user) >= MAX_ACTIVE_TOKENS:
        raise TokenError(f"You already have {MAX_ACTIVE_TOKENS} active tokens; revoke one first.")
    raw = PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(raw)))
    db.session.commit()
    return raw


def user_for_token(raw: str | None) -> User | None:
    """The owner of an active token, or None (unknown, revoked, malformed)."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    digest = hash_token(raw)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if token.revoked_at is not None:
        return None
    now = utcnow()
    last = _aware(token.last_used_at)
    if last is None or now - last >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return db.session.get(User, token.user_id)


def tokens_of(user: User) -> list[ApiToken]:
    """Active tokens first, newest first."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )


def revoke_token(user: User, token_id: int) -> ApiToken | None:
    """Revoke one of ``user``'s tokens; None when it is not theirs. Idempotent."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        return None
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    return token


def _aware(moment):
    """SQLite hands back naive datetimes (stored as UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=utcnow().tzinfo)

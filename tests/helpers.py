"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import create_app

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def require(available: bool, reason: str) -> None:
    """Skip a test whose system dependency is missing; under CI=true fail instead."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and a dependency is missing: {reason}")
    pytest.skip(reason)


def make_app(instance: Path, database_uri: str, **extra) -> object:
    os.environ["LOOPBACK_INSTANCE"] = str(instance)
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "GRADING_WORKERS": 1,
    }
    settings.update(extra)
    return create_app(settings)

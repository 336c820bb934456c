from __future__ import annotations

import pytest

from app.bank.files import read_directory
from app.bank.loader import BUILTIN_BANK


@pytest.fixture(scope="session")
def bank() -> dict:
    """The built-in bank's questions by slug, straight from the files."""
    _, questions = read_directory(BUILTIN_BANK)
    return {q.slug: q for q in questions}

from __future__ import annotations

import pytest

from app.bank.files import read_directory
from app.bank.loader import BUILTIN_BANK
from app.grading.sandbox import sandbox_problem
from tests.helpers import require


@pytest.fixture(scope="session")
def sandbox() -> None:
    """Tests that run submitted code need bubblewrap and root (namespaces)."""
    problem = sandbox_problem()
    require(problem is None, f"no usable sandbox: {problem}")


@pytest.fixture(scope="session")
def bank() -> dict:
    """The built-in bank's questions by slug, straight from the files."""
    _, questions = read_directory(BUILTIN_BANK)
    return {q.slug: q for q in questions}

"""Expectations: what a check requires of what really happened.

Each expectation reads an :class:`Observation` (the program's run, what the trusted peer
saw, the packet trace) and returns an :class:`Outcome` with a bilingual message. They live
by what they read: output.py, exchange.py (the peer's record), packets.py (the capture).
"""

from app.grading.checks import exchange, output, packets  # noqa: F401 - they register
from app.grading.checks.base import EXPECTATIONS, Expectation, Observation, Outcome, excerpt

__all__ = ["EXPECTATIONS", "Expectation", "Observation", "Outcome", "excerpt"]

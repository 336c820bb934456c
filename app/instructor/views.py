"""Small pure helpers of the studio pages: states, messages, diff lines, id lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.grading.transcript import stored_checks
from app.models import Question

MAX_IDS = 2000


def validation_state(question: Question) -> str:
    """``none`` (never validated), ``running`` (queued or being graded by the service),
    ``stale`` (validated another version), ``passing`` or ``failing`` (for the current
    version)."""
    report = question.validation
    if not report:
        return "none"
    if report.get("state") in ("queued", "running"):
        return "running"
    if report.get("version") != question.version:
        return "stale"
    return "passing" if report.get("publishable") else "failing"


def reference_data(question: Question) -> dict[str, Any] | None:
    """The reference run of the last validation, shaped like a submission snapshot so the
    submission pages' check list (``submissions/_checks.html``) can show it."""
    report = question.validation or {}
    reference = report.get("reference")
    if not reference:
        return None
    result = reference.get("result") or {}
    checks = result.get("checks") or []
    return {
        "id": f"ref-{question.id}",
        "status": "done",
        "verdict": result.get("verdict") or reference.get("verdict"),
        "score": result.get("score"),
        "message": result.get("message"),
        "total": len(checks),
        "checks": stored_checks(checks),  # as the engine makes them now
        "skipped_roles": result.get("skipped_roles", []),
        "error": None,
    }


def check_ids(question: Question) -> list[str]:
    return [check["id"] for check in (question.spec or {}).get("checks", []) if "id" in check]


@dataclass
class DiffLine:
    kind: str  # add | del | hunk | file | same
    text: str


def diff_lines(patch: str) -> list[DiffLine]:
    lines = []
    for text in patch.splitlines():
        if text.startswith(("+++", "---")):
            kind = "file"
        elif text.startswith("@@"):
            kind = "hunk"
        elif text.startswith("+"):
            kind = "add"
        elif text.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        lines.append(DiffLine(kind, text))
    return lines


def parse_ids(text: str | None) -> list[int] | None:
    """``"1,2, 3"`` -> ``[1, 2, 3]``; None when malformed or too long."""
    parts = [part.strip() for part in (text or "").split(",") if part.strip()]
    if len(parts) > MAX_IDS or not all(part.isdigit() and len(part) < 12 for part in parts):
        return None
    return list(dict.fromkeys(int(part) for part in parts))

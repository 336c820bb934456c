"""What a process imports is what it can be made to run: the grading engine is importable
without the web stack (Flask, SQLAlchemy), and the grading service without the web's
parsers (blueprints, Markdown, the bank's YAML and zip importers)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import ROOT


def imported_after(statement: str) -> set[str]:
    """The top-level names in sys.modules after ``statement`` in a fresh interpreter."""
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(output.splitlines()[-1]))


def test_the_engine_imports_neither_flask_nor_sqlalchemy():
    modules = imported_after("import app.grading.engine")
    assert "app.grading.engine" in modules
    web = {m for m in modules if m.split(".")[0] in ("flask", "sqlalchemy", "flask_sqlalchemy")}
    assert web == set()


def test_create_app_is_still_importable_from_the_package():
    modules = imported_after("from app import create_app; assert callable(create_app)")
    assert "app.factory" in modules and "flask" in modules


def test_the_grading_service_needs_only_the_engine_and_the_models():
    modules = imported_after("import app.jobs.service, app.jobs.grading, app.jobs.validation")
    assert {"app.grading.engine", "app.models", "app.jobs.service"} <= modules
    web = {
        "app.factory",
        "app.extensions",
        "app.bank",
        "app.api",
        "app.auth",
        "app.questions",
        "app.submissions",
        "app.instructor",
        "app.markdown",
        "flask_socketio",
        "flask_wtf",
        "flask_babel",
        "flask_migrate",
        "markdown_it",
        "nh3",
        "gunicorn",
    }
    assert web & modules == set()


def test_the_supervisor_imports_neither_flask_nor_the_app():
    modules = imported_after("import app.serve")
    assert not {m for m in modules if m.split(".")[0] in ("flask", "sqlalchemy", "jinja2")}
    assert {m for m in modules if m.startswith("app.")} == {"app.serve"}

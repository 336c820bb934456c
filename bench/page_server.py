"""What bench/web.py's page benchmark serves: the whole app, and under ``/hello`` a
hello-world Flask app rendering a Jinja template — in the same gunicorn process, so both
are served the same way (same server, worker and threads).

    gunicorn bench.page_server:app
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, render_template
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from app import create_app

hello = Flask("hello", template_folder=Path(__file__).parent / "templates")


@hello.get("/")
def hello_page() -> str:
    return render_template("hello.html", title="Hello", name="world")


app = DispatcherMiddleware(create_app(), {"/hello": hello})

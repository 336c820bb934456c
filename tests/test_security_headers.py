"""Security headers on every kind of response, and templates with no inline script."""

from __future__ import annotations

import re

import pytest

from app.security_headers import content_security_policy
from tests.api.helpers import make_token, make_user
from tests.helpers import ROOT, make_app

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {response.request.path}"
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"directive {name} twice"
        parsed[name] = values
    return parsed


def assert_hardened(response, https: bool = False) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.request.path)
    assert "camera=()" in response.headers["Permissions-Policy"]
    csp = directives(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["style-src"][0] == "'self'" and len(csp["style-src"]) == 2
    assert re.fullmatch(r"'nonce-[A-Za-z0-9_-]{22}'", csp["style-src"][1])
    assert csp["style-src-attr"] == ["'unsafe-inline'"]
    assert csp["connect-src"] == ["'self'", "ws://localhost", "wss://localhost"]
    for values in csp.values():
        assert "'unsafe-eval'" not in values
    hsts = response.headers.get("Strict-Transport-Security")
    if https:
        assert hsts == "max-age=31536000; includeSubDomains"
    else:
        assert hsts is None


@pytest.fixture
def failing_app(app):
    """The app with a view that crashes, answered by the real 500 page."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    return app


def test_html_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_hardened(response)


def test_json_api_with_and_without_token(app, client):
    assert_hardened(client.get("/api/v1/openapi.json"))
    refused = client.get("/api/v1/questions")
    assert refused.status_code == 401
    assert_hardened(refused)
    make_user(app, "reader@example.com")
    token = make_token(app, "reader@example.com")
    answered = client.get("/api/v1/questions", headers={"Authorization": f"Bearer {token}"})
    assert answered.status_code == 200 and answered.is_json
    assert_hardened(answered)


def test_static_file(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert_hardened(response)


@pytest.mark.parametrize(
    "method, path, status",
    [("GET", "/no-such-page", 404), ("POST", "/auth/login", 400), ("GET", "/boom", 500)],
)
def test_error_pages(failing_app, method, path, status):
    response = failing_app.test_client().open(path, method=method)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert_hardened(response)


def test_socketio_answers_are_hardened(client, auth):
    """Engine.IO answers outside Flask's request hooks; the middleware still covers it:
    the socket gate's refusal of an anonymous page, and Engine.IO's own refusal of
    long-polling (the pages speak WebSocket only)."""
    anonymous = client.get("/socket.io/?EIO=4&transport=polling")
    assert anonymous.status_code == 401
    assert_hardened(anonymous)
    auth.register()
    polling = client.get("/socket.io/?EIO=4&transport=polling")
    assert polling.status_code == 400
    assert_hardened(polling)


def test_hsts_only_behind_https(migrated_database, tmp_path):
    import shutil

    database = tmp_path / "loopback.sqlite3"
    shutil.copy(migrated_database, database)
    secure = make_app(tmp_path, f"sqlite:///{database}", SESSION_COOKIE_SECURE=True)
    assert_hardened(secure.test_client().get("/"), https=True)
    assert_hardened(secure.test_client().get("/static/css/app.css"), https=True)


def test_a_view_may_set_its_own_header(app):
    @app.get("/framed")
    def framed():
        return "ok", 200, {"X-Frame-Options": "SAMEORIGIN"}

    response = app.test_client().get("/framed")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("host", ["evil.example; script-src *", "a b", "x'y", ""])
def test_odd_host_headers_never_reach_the_policy(host):
    policy = content_security_policy(host, "n0nce")
    assert "connect-src 'self';" in policy
    assert "*" not in policy


def test_ipv6_and_port_hosts():
    assert "ws://[::1]:5000 wss://[::1]:5000" in content_security_policy("[::1]:5000", "n")
    assert "ws://127.0.0.1:8000 " in content_security_policy("127.0.0.1:8000", "n")


def test_a_fresh_nonce_per_response_on_the_editor_script(client, auth):
    """The editor's <script> carries the response's nonce (CodeMirror's <style> gets it)."""
    auth.register()
    nonces = []
    for _ in range(2):
        response = client.get("/questions/tcp-echo")
        nonce = directives(response)["style-src"][1].removeprefix("'nonce-").removesuffix("'")
        assert re.search(
            rf'<script src="/static/js/editor\.[0-9a-f]{{12}}\.js" nonce="{nonce}"', response.text
        )
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


# -- templates: nothing the policy would block ------------------------------------------------

_SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)
_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
_JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(ROOT) for p in (ROOT / "templates").rglob("*.html"))
)
def test_templates_have_no_inline_script(template):
    text = (ROOT / template).read_text(encoding="utf-8")
    for match in _SCRIPT.finditer(text):
        attributes = match.group(1)
        assert "src=" in attributes or 'type="application/json"' in attributes, (
            f"{template}: inline <script{attributes}> (move it into a bundle in static/js)"
        )
    assert not _HANDLER.search(text), f"{template}: an inline event handler"
    assert not _JS_URL.search(text), f"{template}: a javascript: URL"
    assert "<style" not in text, f"{template}: a <style> element (use static/css)"

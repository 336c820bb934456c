"""Static files: content-hashed URLs, a year of caching for them, gzip for text."""

from __future__ import annotations

import gzip
import hashlib
import re

import pytest
from flask import url_for

from app import static_assets
from tests.helpers import ROOT

EDITOR = ROOT / "static" / "js" / "editor.js"


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(app, filename: str) -> str:
    with app.test_request_context():
        return url_for("static", filename=filename)


def test_url_for_embeds_the_content_hash(app):
    assert static_url(app, "js/editor.js") == f"/static/js/editor.{digest(EDITOR)}.js"
    favicon = ROOT / "static" / "favicon.svg"
    assert static_url(app, "favicon.svg") == f"/static/favicon.{digest(favicon)}.svg"
    assert static_url(app, "js/missing.js") == "/static/js/missing.js"


def test_pages_link_hashed_assets(client, auth):
    auth.register()  # the editor is for signed-in people
    page = client.get("/questions/tcp-echo").get_data(as_text=True)
    assert f"/static/js/editor.{digest(EDITOR)}.js" in page
    links = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert links and all(re.search(r"\.[0-9a-f]{12}\.\w+$", link) for link in links), links


def test_hashed_url_is_cached_for_a_year(app, client):
    response = client.get(static_url(app, "js/editor.js"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.data == EDITOR.read_bytes()
    assert response.mimetype == "text/javascript"
    assert "Content-Encoding" not in response.headers


@pytest.mark.parametrize(
    "path", ["/static/js/editor.js", "/static/js/editor.000000000000.js"], ids=["plain", "stale"]
)
def test_plain_or_stale_names_revalidate(client, path):
    """The file itself, but the browser must ask again (a stale hash: from an older page)."""
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.data == EDITOR.read_bytes()
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_gzip_when_the_client_accepts_it(app, client):
    url = static_url(app, "js/editor.js")
    response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.vary
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert len(response.data) < EDITOR.stat().st_size / 2
    assert gzip.decompress(response.data) == EDITOR.read_bytes()
    again = client.get(
        url, headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers
    assert refused.data == EDITOR.read_bytes()


def test_static_files_do_not_vary_by_cookie(app, client):
    """Vary: Cookie would make browsers refetch whenever the session cookie changes."""
    response = client.get(static_url(app, "css/app.css"))
    assert "Cookie" not in response.vary
    assert "Accept-Language" not in response.vary


def test_binary_types_are_not_gzipped(app, client, tmp_path, monkeypatch):
    (tmp_path / "data.bin").write_bytes(b"\0" * 4096)
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    response = client.get(static_url(app, "data.bin"), headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_changed_file_gets_a_new_name(app, client, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    asset = tmp_path / "site.css"
    asset.write_text("body { color: red }\n")
    first = static_url(app, "site.css")
    asset.write_text("body { color: blue }\n")
    second = static_url(app, "site.css")
    assert first != second
    fresh = client.get(second)
    assert fresh.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert fresh.data == b"body { color: blue }\n"
    assert client.get(first).headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app/config.py",
        "/static/%2e%2e/app/config.py",
        "/static/js/nothing.0123456789ab.js",
        "/static/js",
    ],
)
def test_nothing_outside_the_folder_or_missing(client, path):
    assert client.get(path).status_code == 404


def test_name_parsing():
    folder = str(ROOT / "static")
    assert static_assets.split_hashed("js/editor.0123456789ab.js", folder) == (
        "js/editor.js",
        "0123456789ab",
    )
    assert static_assets.split_hashed("LICENSE.0123456789ab", folder) == (
        "LICENSE",
        "0123456789ab",
    )
    assert static_assets.split_hashed("js/editor.js", folder) == ("js/editor.js", None)
    assert static_assets.split_hashed("a.b.0123456789ab.css", folder) == (
        "a.b.css",
        "0123456789ab",
    )

"""The language switch and how the locale is chosen."""

from __future__ import annotations

import pytest


def test_accept_language_picks_the_language(client):
    assert '<html lang="zh-Hans">' in client.get("/", headers={"Accept-Language": "zh-CN"}).text
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "en-GB"}).text
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "fr"}).text


def test_switch_sticks_across_requests(client):
    response = client.get("/lang/zh?next=/questions/tcp-echo", headers={"Accept-Language": "en"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/questions/tcp-echo"
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "zh"
    assert cookie.expires is not None  # long-lived, survives the browser session
    for url in ("/", "/questions/tcp-echo", "/topics/sockets"):
        html = client.get(url, headers={"Accept-Language": "en"}).text
        assert '<html lang="zh-Hans">' in html, url
    client.get("/lang/en?next=/")
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "zh"}).text


def test_cookie_alone_keeps_the_choice(app, client):
    client.get("/lang/zh")
    fresh = app.test_client()  # a new browser session that still has the cookie
    fresh.set_cookie("lang", client.get_cookie("lang").value)
    assert '<html lang="zh-Hans">' in fresh.get("/", headers={"Accept-Language": "en"}).text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\r\nSet-Cookie: x=1",
    ],
)
def test_switch_ignores_offsite_next(client, target):
    response = client.get("/lang/zh", query_string={"next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil.example" not in location and "javascript" not in location
    assert location.startswith("/") and not location.startswith("//")


def test_unknown_language_changes_nothing(client):
    response = client.get("/lang/xx?next=/")
    assert response.status_code == 302
    assert client.get_cookie("lang") is None


def test_switch_links_in_header_point_back_here(client):
    html = client.get("/questions/tcp-echo?reveal=1", headers={"Accept-Language": "en"}).text
    assert 'href="/lang/zh?next=/questions/tcp-echo?reveal%3D1"' in html
    assert 'lang="zh-Hans"' in html and 'aria-current="true"' in html

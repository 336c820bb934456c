"""Which ?next= targets are followed."""

import pytest

from app.auth.urls import safe_next_url


@pytest.mark.parametrize(
    "target", ["/", "/questions/tcp-echo", "/questions/tcp-echo?reveal=1#answer", "/a//b"]
)
def test_relative_paths_are_kept(target):
    assert safe_next_url(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "http:/evil.example",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "javascript:alert(1)",
        "questions/tcp-echo",
        "/ok\r\nSet-Cookie: x=1",
        "/tab\there",
    ],
)
def test_everything_else_falls_back(target):
    assert safe_next_url(target, fallback="/home") == "/home"

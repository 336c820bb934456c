"""Every studio route, one by one: anonymous -> sign in, learner -> 403, instructor and
admin allowed (admin-only routes: 403 for instructors). The routes come from the URL map,
so a route added later is tested too — and fails here if it has no sample values."""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from tests.instructor.conftest import Studio

# A value for every URL variable of the blueprint. The question is a concept question, so
# validating or regrading it is instant; nothing here is destructive for other tests.
SAMPLES = {"slug": "udp-vs-tcp", "answer_id": 999_999, "user_id": None}
TOPIC_SAMPLES = {"slug": "sockets"}
ADMIN_ONLY = {"instructor.users", "instructor.change_role"}
QUERY = {"instructor.regrade_progress": "?ids=1,2", "instructor.regrade_page": "?ids=1"}


def studio_rules(app) -> list[tuple[Rule, str]]:
    rules = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("instructor.")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    assert len(rules) >= 20, "the studio's routes are not registered"
    return rules


def url_for_rule(rule: Rule, values: dict) -> str:
    samples = TOPIC_SAMPLES if "/topics/" in rule.rule else SAMPLES
    missing = [name for name in rule.arguments if name not in samples]
    assert not missing, f"{rule.rule}: add sample values for {missing} to SAMPLES"
    arguments = {name: values.get(name, samples[name]) for name in rule.arguments}
    _, path = rule.build(arguments)
    return path + QUERY.get(rule.endpoint, "")


def call(studio_or_client, method: str, url: str):
    if isinstance(studio_or_client, Studio):
        if method == "GET":
            return studio_or_client.get(url)
        return studio_or_client.post(url)
    return studio_or_client.open(url, method=method)


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    # CSRF comes first for POSTs, so anonymous POSTs carry a session token too.
    from tests.helpers import csrf_token

    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    for rule, method in studio_rules(app):
        url = url_for_rule(rule, {"user_id": 1})
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 302, (method, url, response.status_code)
        assert response.headers["Location"].startswith("/auth/login?next="), (method, url)


def test_learners_are_refused_everywhere(app, learner):
    for rule, method in studio_rules(app):
        url = url_for_rule(rule, {"user_id": learner.user_id})
        response = call(learner, method, url)
        assert response.status_code == 403, (method, url, response.status_code)


@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_instructors_and_admins_are_let_in(app, role):
    studio = Studio(app, f"{role}@example.com", role)
    other = Studio(app, "someone@example.com", "learner")
    for rule, method in studio_rules(app):
        url = url_for_rule(rule, {"user_id": other.user_id})
        response = call(studio, method, url)
        if rule.endpoint in ADMIN_ONLY and role == "instructor":
            assert response.status_code == 403, (method, url, response.status_code)
            continue
        assert response.status_code not in (401, 403), (method, url, response.status_code)
        assert response.status_code < 500, (method, url, response.status_code)
        location = response.headers.get("Location", "")
        assert not location.startswith("/auth/login"), (method, url, location)


def test_the_nav_shows_the_studio_to_instructors_only(app, learner, instructor):
    assert "/instructor/" not in learner.get("/").get_data(as_text=True)
    assert 'href="/instructor/"' in instructor.get("/").get_data(as_text=True)


def test_learner_gets_a_readable_403_page(learner):
    response = learner.get("/instructor/")
    assert response.status_code == 403
    assert "instructors and administrators" in response.get_data(as_text=True)


def test_a_view_without_decorator_is_refused(app, instructor):
    """The blueprint fails closed: an undecorated view is 403 even for instructors."""
    assert instructor.get("/instructor/").status_code == 200
    decorated = app.view_functions["instructor.dashboard"]
    app.view_functions["instructor.dashboard"] = decorated.__wrapped__  # the bare view
    assert instructor.get("/instructor/").status_code == 403


def test_the_studio_speaks_chinese(instructor):
    instructor.get("/lang/zh")
    text = instructor.get("/instructor/").get_data(as_text=True)
    assert "教师工作台" in text and "新建题目" in text and "验证" in text
    edit = instructor.get("/instructor/questions/udp-echo/edit").get_data(as_text=True)
    assert "评分规格（YAML）" in edit and "规格参考" in edit

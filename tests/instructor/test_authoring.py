"""Authoring through the form: a new UDP code question, spec errors with line numbers,
the Markdown preview, and versions made by edits."""

from __future__ import annotations

import sqlalchemy as sa

from app.grading.spec import parse_spec_yaml
from app.models import QuestionVersion, db
from tests.instructor.conftest import form_values, question, text_of

# The shape of app/bank/sockets/04-udp-echo.md's spec, with peers from the catalog.
UDP_SPEC = """\
port: 65432
checks:
  - id: server-acks-each-sender
    title: {en: "Server answers each datagram", zh: "服务器回复每个数据报"}
    role: server
    peer: {kind: udp_client, datagrams: ["one", "two", "三"], senders: 2}
    expect:
      - udp_replies: {prefix: "ACK: "}
      - no_traceback: true
  - id: client-sends-and-prints
    title: {en: "Client sends a datagram and prints the reply", zh: "客户端发送数据报并打印回复"}
    role: client
    peer: {kind: udp_ack_server, prefix: "ACK: "}
    expect:
      - peer_received_nonempty: true
      - stdout_echoes_peer: true
      - exits_within_ms: 5000
      - no_traceback: true
"""
BAD_PEER = UDP_SPEC.replace("senders: 2}", "senders: 2, bogus: 1}")
BAD_PEER_LINE = 6


def udp_reference(app) -> dict[str, str]:
    with app.app_context():
        return dict(question("udp-echo").reference_files)


def new_question_values(studio, slug="udp-ack", spec=UDP_SPEC, reference=None) -> dict:
    """Fill the new-question form the way a person would: roles first ("Update roles"
    brings a file box per role), then the rest."""
    values = form_values(studio.get("/instructor/questions/new"), "question-form")
    values.update(
        slug=slug, kind="code", difficulty="easy", roles="server, client", update_roles="1"
    )
    page = studio.post("/instructor/questions/new", data=values)
    assert page.status_code == 200
    values = form_values(page, "question-form")
    assert "reference-server" in values and "starter-client" in values
    reference = reference or {}
    values.update(
        {
            "title_en": "UDP acknowledgements",
            "title_zh": "UDP 确认",
            "prompt_en": "Write a **UDP** server and client.",
            "prompt_zh": "写一对 **UDP** 程序。",
            "key_points_en": "- connectionless\r\n- `recvfrom()` gives the sender\r\n",
            "key_points_zh": "无连接\r\n",
            "tags": "udp, socket, udp",
            "starter-server": "import socket\r\n",
            "starter-client": "",
            "reference-server": reference.get("server", "print('server')\n"),
            "reference-client": reference.get("client", "print('client')\n"),
            "spec": spec.replace("\n", "\r\n"),
            "save": "Save",
        }
    )
    values.pop("update_roles", None)
    return values


def test_create_a_udp_code_question_through_the_form(app, instructor):
    reference = udp_reference(app)
    values = new_question_values(instructor, reference=reference)
    response = instructor.post("/instructor/questions/new", data=values)
    assert response.status_code == 303, text_of(response)[:2000]
    assert response.headers["Location"] == "/instructor/questions/udp-ack"
    with app.app_context():
        created = question("udp-ack")
        assert created is not None and not created.published and created.version == 1
        assert created.kind == "code" and created.roles == ["server", "client"]
        assert created.tags == ["udp", "socket"]
        assert created.key_points_en == ["connectionless", "`recvfrom()` gives the sender"]
        assert created.reference_files == reference  # CRLF from the browser became LF
        assert created.starter_files == {"server": "import socket\n"}
        assert [c["peer"]["kind"] for c in created.spec["checks"]] == [
            "udp_client",
            "udp_ack_server",
        ]
        assert created.spec["checks"][0]["peer"]["senders"] == 2
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(QuestionVersion)
                .where(QuestionVersion.question_id == created.id)
            )
            == 1
        )
    page = instructor.get("/instructor/questions/udp-ack")
    assert "Draft created" in text_of(page)
    assert "udp-ack" in text_of(instructor.get("/instructor/"))


def test_an_invalid_spec_shows_its_line_and_saves_nothing(app, instructor):
    values = new_question_values(instructor, spec=BAD_PEER)
    response = instructor.post("/instructor/questions/new", data=values)
    assert response.status_code == 422
    text = text_of(response)
    assert (
        f"line {BAD_PEER_LINE}: checks/0/peer: Additional properties are not allowed "
        "('bogus' was unexpected)"
    ) in text
    assert "Nothing was saved" in text
    page = response.get_data(as_text=True)
    assert f'data-line="{BAD_PEER_LINE}"' in page and 'aria-invalid="true"' in page
    # What was typed is still there to fix.
    assert "bogus: 1" in form_values(response, "question-form")["spec"]
    with app.app_context():
        assert question("udp-ack") is None

    broken_yaml = UDP_SPEC.replace("role: client", "role: [client")
    (error,) = parse_spec_yaml(broken_yaml, ["server", "client"])[1]
    assert str(error).startswith("line ") and "YAML:" in str(error)
    response = instructor.post("/instructor/questions/new", data={**values, "spec": broken_yaml})
    assert response.status_code == 422 and str(error) in text_of(response)
    with app.app_context():
        assert question("udp-ack") is None


def test_a_spec_role_must_be_one_of_the_questions_roles(app, instructor):
    values = new_question_values(instructor)
    values["roles"] = "server"
    values.pop("reference-client"), values.pop("starter-client")
    response = instructor.post("/instructor/questions/new", data=values)
    assert response.status_code == 422
    assert "line 12: checks/1/role: role 'client' is not one of the question's roles" in text_of(
        response
    )
    with app.app_context():
        assert question("udp-ack") is None


def test_slug_is_validated_and_unique(app, instructor):
    values = new_question_values(instructor)
    for slug, message in (
        ("Bad Slug", "Lowercase letters, digits and hyphens"),
        ("tcp-echo", "A question with this slug already exists"),
        ("new", "A question with this slug already exists"),
    ):
        response = instructor.post("/instructor/questions/new", data={**values, "slug": slug})
        assert response.status_code == 422 and message in text_of(response), slug
    with app.app_context():
        assert question("new") is None and question("Bad Slug") is None


def test_preview_endpoint_renders_and_sanitizes(instructor):
    headers = {"X-CSRFToken": instructor.token}
    response = instructor.client.post(
        "/instructor/preview",
        headers=headers,
        data={"text": "Hi <script>alert(1)</script> **bold** [x](javascript:alert(1))"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<strong>bold</strong>" in html and 'href="javascript' not in html
    lines = instructor.client.post(
        "/instructor/preview", headers=headers, json={"text": "- one\n- `two`", "mode": "lines"}
    )
    assert lines.get_data(as_text=True) == (
        '<ul class="key-points"><li>one</li><li><code>two</code></li></ul>'
    )
    # Without the CSRF header the endpoint refuses.
    assert instructor.client.post("/instructor/preview", data={"text": "x"}).status_code == 400


def test_preview_button_rerenders_without_saving(app, instructor):
    values = new_question_values(instructor)
    values.pop("save")
    values["preview"] = "Preview"
    values["prompt_en"] = "Uses <script>x()</script> and `sendto()`"
    response = instructor.post("/instructor/questions/new", data=values)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<details class="md-preview" open>' in page
    assert "<code>sendto()</code>" in page and "<script>x()" not in page
    with app.app_context():
        assert question("udp-ack") is None


def test_saving_an_unchanged_form_changes_nothing(app, instructor):
    """Browsers send CRLF and drop a textarea's first newline: still no new version."""
    with app.app_context():
        before = question("tcp-echo")
        snapshot = (
            before.version,
            dict(before.spec),
            dict(before.reference_files),
            list(before.key_points_zh),
            before.answer_en,
        )
    values = form_values(instructor.get("/instructor/questions/tcp-echo/edit"), "question-form")
    assert "\r\n" in values["spec"]
    response = instructor.post(
        "/instructor/questions/tcp-echo/edit", data={**values, "save": "Save"}
    )
    assert response.status_code == 303
    with app.app_context():
        after = question("tcp-echo")
        assert (
            after.version,
            after.spec,
            after.reference_files,
            after.key_points_zh,
            after.answer_en,
        ) == snapshot


def test_editing_a_published_question_makes_a_version_and_the_diff_shows_it(app, instructor):
    values = form_values(instructor.get("/instructor/questions/udp-echo/edit"), "question-form")
    assert "senders: 3" in values["spec"]
    values["spec"] = values["spec"].replace("senders: 3", "senders: 2")
    values["title_en"] = "UDP echo, revised"
    response = instructor.post(
        "/instructor/questions/udp-echo/edit",
        data={**values, "save": "Save"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    text = text_of(response)
    assert "it is now version 2 and its validation was cleared" in text
    with app.app_context():
        edited = question("udp-echo")
        assert edited.version == 2 and edited.published and edited.validation is None
        assert edited.spec["checks"][0]["peer"]["senders"] == 2
    page = instructor.get("/instructor/questions/udp-echo/diff?from=1&to=2")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    removed = [
        chunk.split("\n</span>")[0] for chunk in html.split('<span class="diff-line diff-del">')[1:]
    ]
    added = [
        chunk.split("\n</span>")[0] for chunk in html.split('<span class="diff-line diff-add">')[1:]
    ]
    assert "-    senders: 3" in removed and "+    senders: 2" in added
    assert "+  en: UDP echo, revised" in added
    assert "Changes from v1" in text_of(instructor.get("/instructor/questions/udp-echo"))
    assert instructor.get("/instructor/questions/udp-echo/diff?from=1&to=9").status_code == 404


def test_editing_a_draft_in_place_clears_its_validation(app, instructor):
    instructor.post("/instructor/questions/new", data=new_question_values(instructor))
    with app.app_context():
        draft = question("udp-ack")
        draft.validation = {"version": 1, "publishable": True, "wrong": [], "spec_errors": []}
        db.session.commit()
    values = form_values(instructor.get("/instructor/questions/udp-ack/edit"), "question-form")
    values["spec"] = values["spec"].replace("exits_within_ms: 5000", "exits_within_ms: 4000")
    response = instructor.post(
        "/instructor/questions/udp-ack/edit", data={**values, "save": "Save"}, follow_redirects=True
    )
    assert "validate the question again" in text_of(response)
    with app.app_context():
        draft = question("udp-ack")
        assert draft.version == 1 and draft.validation is None
        assert (
            db.session.scalar(
                sa.select(QuestionVersion.snapshot).where(QuestionVersion.question_id == draft.id)
            )["spec"]
            == draft.spec
        )

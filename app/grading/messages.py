"""Every sentence the engine says, as a stable id and parameters.

A result never holds finished text: a message is ``{"id": "listen.wrong_port", "params":
{"port": 8888, "found": "9999"}}``, and the web renders it in the reader's language through
Flask-Babel (``app/messages.py``), the API in both. The English templates below are the
gettext message ids (extracted with the ``N_`` keyword, translated in
``app/translations/*/LC_MESSAGES/messages.po``); the ids are what stays stable.

A parameter is a plain value, a message itself (rendered first), bilingual content from a
spec (``{"en", "zh"}``: the reader's side of it) or a list of these (joined the reader's
way). The values a result shows as expected/actual are plain data or a message alike.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

Message = dict[str, Any]
Translate = Callable[[str], str]


def N_(text: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    return text


MESSAGES: dict[str, str] = {
    # -- the verdict -----------------------------------------------------------------
    "grade.invalid_spec": N_("Invalid grading spec: %(error)s"),
    "grade.unsafe": N_("The grader cannot run code safely here: %(problem)s"),
    "grade.nothing_to_grade": N_(
        "Nothing to grade: the submission has none of the roles this question checks."
    ),
    "grade.grader_failed": N_("The grader failed on a check; this is not your fault. Try again."),
    "grade.all_passed": N_("All %(passed)s required checks passed."),
    "grade.some_passed": N_("%(passed)s of %(graded)s required checks passed."),
    "grade.with_skipped": N_("%(summary)s Not submitted, so not checked: %(roles)s."),
    # -- one check ---------------------------------------------------------------------
    "check.passed": N_("Passed."),
    "check.skipped": N_("Skipped: no '%(role)s' file was submitted."),
    "check.cannot_run": N_("The grader could not run this check: %(error)s"),
    "check.limit_hit": N_("Stopped: your program hit the %(limit)s."),
    "list.separator": N_(", "),
    "role.server": N_("server"),
    "role.client": N_("client"),
    "role.other": N_("'%(role)s' program"),
    "limit.time": N_("wall-clock time limit (%(seconds)s s)"),
    "limit.cpu": N_("CPU time limit (%(seconds)s s)"),
    "limit.memory": N_("memory limit (%(mib)s MiB)"),
    "limit.processes": N_("processes/threads limit (%(count)s)"),
    "limit.output": N_("output size limit (%(kib)s KiB)"),
    "limit.disk": N_("disk space limit (%(mib)s MiB)"),
    "limit.open_files": N_("open files limit (%(count)s)"),
    # -- the crash ---------------------------------------------------------------------
    "crash.line_message": N_("Your %(role)s crashed: %(type)s on line %(line)s: %(message)s"),
    "crash.line": N_("Your %(role)s crashed: %(type)s on line %(line)s"),
    "crash.message": N_("Your %(role)s crashed: %(type)s: %(message)s"),
    "crash.bare": N_("Your %(role)s crashed: %(type)s"),
    # -- a server that does not listen where it should -------------------------------------
    "listen.exited_tcp": N_(
        "Your server exited before a TCP server listening on 127.0.0.1:%(port)s appeared."
    ),
    "listen.exited_udp": N_(
        "Your server exited before a UDP socket bound to 127.0.0.1:%(port)s appeared."
    ),
    "listen.timeout_tcp": N_(
        "No TCP server listening on 127.0.0.1:%(port)s appeared within the time limit."
    ),
    "listen.timeout_udp": N_(
        "No UDP socket bound to 127.0.0.1:%(port)s appeared within the time limit."
    ),
    "listen.unreachable": N_(
        "Your server listens on %(where)s, which a client connecting to 127.0.0.1:%(port)s "
        "cannot reach: bind to 127.0.0.1 (or 0.0.0.0)."
    ),
    "listen.wrong_port": N_("Your server listens on port %(found)s, not on %(port)s."),
    # -- the reference peer's own trouble ---------------------------------------------------
    "peer.failed": N_("the reference %(peer)s failed: %(error)s"),
    "peer.connect_failed": N_("could not connect to 127.0.0.1:%(port)s: %(error)s"),
    "peer.reply_too_big": N_(
        "a %(size)s-byte datagram cannot be answered: the reply would be %(reply)s bytes, "
        "more than one datagram holds (%(most)s)"
    ),
    # -- output expectations -----------------------------------------------------------------
    "stream.stdout": N_("Standard output"),
    "stream.output": N_("Output (standard output or error)"),
    "stream.stderr": N_("Error output"),
    "output.contains": N_("%(stream)s should contain %(wanted)s."),
    "output.shows": N_("%(stream)s should show %(what)s."),
    "output.not_shows": N_("%(stream)s should not show %(what)s."),
    "output.matches": N_("%(stream)s should match /%(pattern)s/."),
    "output.not_matches": N_("%(stream)s should not match /%(pattern)s/."),
    "output.no_traceback": N_("The program should handle errors itself, without a traceback."),
    "output.no_traceback_ended": N_(
        "The program should handle errors itself, without a traceback (it ended with: %(last)s)."
    ),
    "exit.status": N_("The program should exit with status %(code)s."),
    "exit.within": N_("The program should finish by itself within %(seconds)s s."),
    "exit.waits_at_least": N_(
        "The program should really wait for the server (at least %(ms)s ms) before giving up."
    ),
    # -- bytes and echoes --------------------------------------------------------------------
    "bytes.what_arrived": N_("%(base)s What arrived %(note)s."),
    "bytes.what_printed": N_("%(base)s What it printed %(note)s."),
    "diff.at_offset": N_("differs from offset %(offset)s: expected %(expected)s, got %(actual)s"),
    "diff.the_end": N_("the end"),
    "diff.the_end_of": N_("the end (%(got)s of %(total)s bytes)"),
    "peer.should_receive_data": N_("The reference %(peer)s should receive data from your program."),
    "peer.should_receive_exactly": N_("The reference %(peer)s should receive exactly %(text)s."),
    "echo.exact": N_("Every byte sent (%(sent)s bytes) should come back unchanged, in order."),
    "echo.exact_cut": N_(
        "Every byte sent should come back unchanged, in order; the reference client sent "
        "%(sent)s of its %(planned)s bytes before the connection ended."
    ),
    "close.server_after_client": N_(
        "After the client closes its side, your server should close the connection."
    ),
    "close.when_done": N_("Your program should close the connection when it is done."),
    "echo.interactive": N_(
        "Your server should echo each message as soon as it arrives: this client waits for "
        "the echo before it sends more or closes its side."
    ),
    "client.send_first": N_("The client should send a message to the server first."),
    "client.print_reply": N_("The client should print the server's whole reply."),
    "udp.replies": N_(
        "Each datagram should be answered with %(prefix)s + its data, sent back from port "
        "%(port)s to the address it came from."
    ),
    "stdin.forwarded": N_("Every line typed on stdin should reach the server, in order."),
    "client.prints_pushed": N_(
        "Messages the server pushes should be printed as they arrive, even while nothing is typed."
    ),
    # -- packets -----------------------------------------------------------------------------
    "packets.unconfirmed": N_("%(fact)s (The capture lost packets, so this cannot be confirmed.)"),
    "packets.syn": N_("The client should really try to connect to port %(port)s (send a SYN)."),
    "packets.handshake": N_("A TCP three-way handshake (SYN, SYN-ACK, ACK) should complete."),
    "packets.fin": N_("Your program should close the connection with a FIN (a graceful close)."),
    "packets.no_rst": N_(
        "Your program should end the connection without a reset (RST): closing with unread "
        "data or with SO_LINGER 0 aborts it."
    ),
    "packets.fin_within": N_("Your program should send its FIN within %(ms)s ms of connecting."),
    # -- expected and actual values ------------------------------------------------------------
    "value.bytes": N_("%(count)s bytes"),
    "value.some_bytes": N_("some bytes"),
    "value.bytes_identical": N_("%(count)s bytes, identical"),
    "value.with_note": N_("%(value)s — %(note)s"),
    "value.nothing_printed": N_("nothing printed"),
    "value.nothing_received": N_("nothing received"),
    "value.not": N_("not %(what)s"),
    "value.no_pattern": N_("no /%(pattern)s/"),
    "value.no_traceback": N_("no traceback"),
    "value.still_running": N_("still running (stopped)"),
    "value.did_not_exit": N_("did not exit by itself"),
    "value.at_most_ms": N_("≤ %(ms)s ms"),
    "value.at_least_ms": N_("≥ %(ms)s ms"),
    "value.ms": N_("%(ms)s ms"),
    "value.closed": N_("closed"),
    "value.reset": N_("reset (RST)"),
    "value.left_open": N_("left open"),
    "value.open_after_client_closed": N_("still open after the client closed its side"),
    "value.echoed_before_next": N_("each message echoed before the next one is sent"),
    "value.echoed_at_once": N_("each message echoed at once"),
    "value.no_echo_of": N_("no echo of message %(number)s while the client waited for it"),
    "value.no_message_exchanged": N_("no message exchanged"),
    "value.a_message_sent": N_("a message sent"),
    "value.replies": N_("%(count)s replies"),
    "value.answered": N_("%(good)s of %(total)s answered correctly"),
    "value.answered_wrong": N_(
        "%(good)s of %(total)s answered correctly; to %(data)s (from port %(port)s) %(problem)s"
    ),
    "value.got_no_reply": N_("got no reply"),
    "value.got": N_("got %(data)s"),
    "value.reply_from_port": N_("got the right reply, but from port %(got)s, not %(port)s"),
    "value.missing": N_("missing %(line)s"),
    "value.fin_from": N_("FIN from %(sides)s"),
    "value.no_rst_from_program": N_("no RST from your program"),
    "value.rst_from_program": N_("%(count)s RST from your program"),
    "value.none": N_("none"),
    "value.no_fin": N_("no FIN"),
    "value.no_tcp_packets": N_("no TCP packets"),
    # -- why a question cannot be published (app/instructor/validation.py) ------------------
    "validation.run_first": N_("Run the validation for the current version first."),
    "validation.still_running": N_("The validation is still running: wait for it to finish."),
    "validation.reference_fails": N_("The reference solution fails: %(checks)s"),
    "validation.wrong_passes": N_(
        "The known-wrong answer “%(name)s” does not fail as expected (verdict %(verdict)s)."
    ),
    "validation.did_not_pass": N_("The validation did not pass."),
    # -- what a failure means (diagnosis.CONDITIONS) -------------------------------------------
    "condition.crashed": N_(
        "the program ended with an uncaught exception (a SyntaxError, an ImportError …)"
    ),
    "condition.traceback_printed": N_(
        "a traceback was printed, though the program did not end with it"
    ),
    "condition.not_listening": N_(
        "the server never listened on the port (it exited first, or took too long)"
    ),
    "condition.wrong_address": N_(
        "the server listened on another port, or an address the client cannot reach"
    ),
    "condition.time_limit": N_(
        "the grader stopped the program at the check's wall-clock time limit"
    ),
    "condition.resource_limit": N_(
        "the program hit another limit (memory, CPU, processes, output, disk, open files)"
    ),
    "condition.never_connected": N_("the client never connected to the reference server"),
    "condition.nothing_sent": N_("the reference peer received nothing from the program"),
    "condition.no_reply": N_("nothing came back to the reference peer"),
    "condition.data_changed": N_("bytes came back (or arrived) different from what was expected"),
    "condition.data_short": N_("the bytes were right but cut short: fewer than expected"),
    "condition.not_interactive": N_(
        "a message was not echoed while the client waited for it (the server waits for more)"
    ),
    "condition.never_closed": N_("the program left the connection open (no FIN)"),
    "condition.reset": N_("the program aborted the connection with a reset (RST)"),
    "condition.no_reply_to_second_sender": N_(
        "UDP: the first sender got replies, another sender did not"
    ),
    "condition.reply_from_wrong_port": N_("UDP: a reply came from another port than the server's"),
    "condition.printed_own_data": N_("the client printed what it sent, not the reply it received"),
    "condition.wrong_output": N_("the program did not print what was expected"),
    "condition.no_timeout": N_(
        "against a server that never answers, the program waited until it was stopped"
    ),
    "condition.did_not_exit": N_("the program did not exit by itself"),
    "condition.too_slow": N_("the program exited by itself, but later than allowed"),
    "condition.gave_up_too_soon": N_("the program gave up without really waiting"),
}


# Parameters that are code, not words: a byte of the data (transcript.difference_note),
# stored bare (``h``, ``\n``, ``\x00``). The plain text shows it in backquotes for the
# eye (`` `h` ``); a page puts it in ``<code>``. The plain text is text, not Markdown: the
# program's own output goes into it as it is. Results graded before engine 2.1 hold the
# byte in backquotes: read as bare (:func:`bare_code`).
CODE_PARAMS: dict[str, tuple[str, ...]] = {"diff.at_offset": ("expected", "actual")}


def msg(message_id: str, **params: Any) -> Message:
    """A message of the engine's; an unknown id is a bug, caught where it is made."""
    if message_id not in MESSAGES:
        raise KeyError(f"no message {message_id!r}")
    return {"id": message_id, "params": params}


def is_message(value: Any) -> bool:
    return isinstance(value, dict) and value.get("id") in MESSAGES and "params" in value


def is_bilingual(value: Any) -> bool:
    """Content written in both languages (a spec's title, hint or description)."""
    return isinstance(value, dict) and "id" not in value and {"en", "zh"} <= value.keys()


def seconds(ms: int) -> int | float:
    """Milliseconds as seconds for a message: 9000 -> 9, 1500 -> 1.5."""
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def role_name(role: str) -> Message:
    if role in ("server", "client"):
        return msg(f"role.{role}")
    return msg("role.other", role=role)


def render(
    value: Any,
    lang: str,
    translate: Translate | None = None,
    data: Callable[[str], str] | None = None,
) -> Any:
    """``value`` as the reader of ``lang`` reads it: a message rendered with ``translate``
    (its template -> the translated template; English needs none), bilingual content
    picked, a list joined; anything else as it is. ``data`` marks up the text parameters
    (the program's output, bytes, patterns: shown as they are in any language)."""
    translate = translate or (lambda text: text)
    if is_message(value):
        template = translate(MESSAGES[value["id"]])
        code = CODE_PARAMS.get(value["id"], ())
        params = {
            key: _code(item, data)
            if key in code and isinstance(item, str)
            else _text(item, lang, translate, data)
            for key, item in (value.get("params") or {}).items()
        }
        return _fill(template, params)
    if is_bilingual(value):
        return value.get(lang) or value["en"]
    if isinstance(value, list) and any(is_message(item) for item in value):
        return _text(value, lang, translate, data)
    return value


def _code(text: str, data: Callable[[str], str] | None) -> str:
    """A code parameter: marked up by ``data`` on a page, a Markdown code span otherwise."""
    text = bare_code(text)
    return data(text) if data is not None else code_span(text)


def code_span(text: str) -> str:
    """``text`` as a Markdown code span: `` `h` ``; one holding backquotes is fenced by a
    longer run, padded where it starts or ends with one (`` ` `` for a backquote)."""
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def bare_code(text: str) -> str:
    """A code parameter as stored now: results graded before held it in backquotes
    (`` `h` ``); a bare byte is one character or an escape, never backquoted."""
    if len(text) >= 3 and text[0] == text[-1] == "`":
        return text[1:-1]
    return text


def current(value: Any) -> Any:
    """A stored message (at any depth of its parameters) as the engine makes it now: its
    code parameters bare. For readers of the stored parameters (the JSON)."""
    if is_message(value):
        code = CODE_PARAMS.get(value["id"], ())
        params = {
            key: bare_code(item) if key in code and isinstance(item, str) else current(item)
            for key, item in (value.get("params") or {}).items()
        }
        return {**value, "params": params}
    if isinstance(value, list):
        return [current(item) for item in value]
    return value


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def _fill(template: Any, params: dict[str, Any]) -> Any:
    """``template % params``; a stored message whose parameters no longer fit its
    template (renamed since) still reads, with "…" where a value is missing."""
    if not params:
        return template
    return template % _Params(params)  # every placeholder is %(name)s: any value fits


def _text(value: Any, lang: str, translate: Translate, data: Callable[[str], str] | None) -> Any:
    if isinstance(value, list):
        separator = translate(MESSAGES["list.separator"])
        parts = [_text(item, lang, translate, data) for item in value]
        return separator.join(part if isinstance(part, str) else str(part) for part in parts)
    if isinstance(value, str) and data is not None:
        return data(value)
    return render(value, lang, translate, data)


TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


@functools.cache
def catalog_translate(lang: str) -> Translate:
    """The compiled catalog's gettext for ``lang``, for renderers outside the web (the
    CLI's report). The web renders through Flask-Babel with the same catalogs."""
    from babel.support import Translations

    return Translations.load(str(TRANSLATIONS), [lang]).gettext


def render_in(value: Any, lang: str) -> Any:
    """``render`` with the compiled catalog of ``lang``."""
    return render(value, lang, None if lang == "en" else catalog_translate(lang))

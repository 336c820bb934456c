"""Every UI string has a Chinese translation, and the compiled catalogs are used."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.helpers import ROOT

TRANSLATIONS = ROOT / "app" / "translations"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,  # the grader's messages (app/grading/messages.py)
}


def extracted_ids() -> set[str]:
    with (TRANSLATIONS / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    ids = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def catalog(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def test_every_ui_string_is_in_both_catalogs():
    ids = extracted_ids()
    assert "Reveal answer" in ids and "Sign in" in ids
    for lang in ("zh", "en"):
        messages = {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in catalog(lang) if m.id}
        missing = sorted(i for i in ids if i not in messages)
        assert not missing, f"{lang}: run pybabel extract/update (see babel.cfg): {missing}"
        untranslated = sorted(
            key
            for key, m in messages.items()
            if key in ids and not (all(m.string) if isinstance(m.string, tuple) else m.string)
        )
        assert not untranslated, f"{lang}: untranslated {untranslated}"
        assert not catalog(lang).fuzzy, f"{lang}: the catalog header is fuzzy; pybabel skips it"


def test_zh_keeps_placeholders():
    for message in catalog("zh"):
        if not message.id or not message.python_format:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            for placeholder in ("%(num)d", "%(min)d", "%(max)d", "%(email)s", "%(role)s"):
                if placeholder in ids[-1]:
                    assert placeholder in string, (message.id, string)


def test_compiled_catalogs_exist():
    for lang in ("zh", "en"):
        assert (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").exists()

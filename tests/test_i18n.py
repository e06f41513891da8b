"""The French catalog is complete and compiled, and French documents speak only French.

Messages are English in the code and templates (``_()``, ``{% trans %}``); Babel extracts
them as ``babel.cfg`` says, ``sla_tracker/locale/fr/LC_MESSAGES/messages.po`` translates
them and the ``.mo`` beside it is what runs. Regenerate after changing a message:
``pybabel extract -F babel.cfg -o sla_tracker/locale/messages.pot --no-location
--sort-output . && pybabel update -i sla_tracker/locale/messages.pot -d sla_tracker/locale
--no-fuzzy-matching --ignore-obsolete``, translate, then ``pybabel compile -d
sla_tracker/locale``.
"""

from __future__ import annotations

import re
from html import unescape
from io import BytesIO
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from sla_tracker.present.i18n import CATALOGS
from tests.conftest import ROOT
from tests.documents import render_documents, sample_week

PO = CATALOGS / "fr" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def _catalog() -> Any:
    with PO.open("rb") as file:
        return read_po(file, locale="fr")


def _extracted() -> set[str]:
    """Every message of the code and templates, as ``pybabel extract`` finds them."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as file:
        method_map, options_map = parse_mapping_cfg(file)
    found = extract_from_dir(str(ROOT), method_map, options_map)
    return {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in found
    }


def test_every_message_has_a_french_translation() -> None:
    catalog = _catalog()
    missing = sorted(message for message in _extracted() if message not in catalog)
    assert not missing, f"not in {PO.name} (run pybabel update): {missing}"
    untranslated = [
        message.id
        for message in catalog
        if message.id
        and (message.fuzzy or not all([message.string] if isinstance(message.string, str)
                                      else message.string))
    ]  # fmt: skip
    assert not untranslated, f"untranslated or fuzzy in {PO.name}: {untranslated}"


def test_the_compiled_catalog_is_the_translations_as_they_stand() -> None:
    compiled = BytesIO()
    write_mo(compiled, _catalog())
    assert MO.read_bytes() == compiled.getvalue(), f"run: pybabel compile -d {CATALOGS}"


@pytest.fixture(scope="module")
def french(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    scenario = sample_week(tmp_path_factory.mktemp("i18n"))
    try:
        documents = render_documents(scenario, "fr")
    finally:
        scenario.close()
    texts = {"statement": visible(documents["statement"])}
    for name in ("weekly-report", "alert"):
        email = documents[name]
        texts |= {f"{name} subject": email.subject, f"{name} text": email.text,
                  f"{name} html": visible(email.html)}  # fmt: skip
    return texts


def visible(html: str) -> str:
    """What a reader sees of a page: no style sheet, no tags, entities decoded."""
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<style.*?</style>", "", html)))


def test_every_template_is_rendered(french: dict[str, str]) -> None:
    templates = {p.name for p in (ROOT / "templates").iterdir() if p.suffix in (".txt", ".html")}
    rendered = {"statement.html"} | {
        f"{name}-{part}" for name in ("weekly-report", "alert")
        for part in ("subject.txt", "body.txt", "body.html")
    }  # fmt: skip
    assert templates - {"words.txt"} == rendered  # words.txt: macros every document imports
    assert all(text.strip() for text in french.values())


def test_french_documents_hold_no_english_message(french: dict[str, str]) -> None:
    """No message left in English (a translation missing at run time), no English number."""
    catalog = _catalog()
    english = [
        message.id if isinstance(message.id, str) else message.id[1]
        for message in catalog
        if message.id and (message.string != message.id)
    ]
    words = {re.sub(r"%\(\w+\)s", "", text).strip(" :.,") for text in english}
    words = {word for word in words if len(word) > 8}
    for name, text in french.items():
        left = [word for word in words if word in text]
        assert not left, f"{name} holds English: {left}"
        # A decimal point between digits is an English number (French writes 62,1 %).
        # Ticket subjects, URLs and e-mail addresses aside, none should appear.
        assert not re.search(r"(?<![\w/.-])\d+\.\d+(?![\w/.-])", text), (name, text)
        assert "EUR" not in text and "Z " not in text


def test_the_freshdesk_disagreement_is_said_in_french(french: dict[str, str]) -> None:
    assert (
        "#4 Freshdesk attend la prise en compte le lun. 30 nov. 15:00, le contrat le "
        "lun. 30 nov. 18:00\u00a0: 3\u202fh plus tôt" in french["weekly-report text"]
    )

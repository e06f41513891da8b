"""Every document has the same words in every language (a missing one would fail to render
or show the other language), and every word a template asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sla_tracker.present.i18n import CLOCKS, DOCUMENTS, words
from tests.conftest import ROOT

TEMPLATES = ROOT / "templates"


@pytest.mark.parametrize("document", sorted(DOCUMENTS))
def test_each_language_has_the_same_words(document: str) -> None:
    tables = DOCUMENTS[document]
    assert set(tables) == {"fr", "en"}
    assert set(tables["fr"]) == set(tables["en"]), document
    assert set(CLOCKS["fr"]) == set(CLOCKS["en"])


@pytest.mark.parametrize(
    "path", [p for p in sorted(TEMPLATES.iterdir()) if p.name != "README.md"], ids=lambda p: p.name
)
def test_every_word_a_template_uses_exists(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    document = next((name for name in DOCUMENTS if path.name.startswith(name)), None)
    used = set(re.findall(r"\bw\.(\w+)", text))
    if document is None:
        assert not used, f"{path}: words used but no table for this template"
        return
    missing = used - set(words(document, "fr"))
    assert not missing, f"{path}: no word for {sorted(missing)}"

"""Which language a document speaks: its CLDR locale (numbers, dates, units, Babel) and its
gettext catalog (the words, ``sla_tracker/locale``).

Messages are written in English in the code and templates and extracted with Babel
(``babel.cfg``); a language is a locale code here and a ``.po``/``.mo`` pair there.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel import Locale
from babel.support import NullTranslations, Translations

LOCALES = {"fr": "fr_FR", "en": "en_GB"}
"""Each document language and the CLDR locale that formats its numbers and dates: British
English for a European support desk (day before month, 24-hour clock)."""

CATALOGS = Path(__file__).parent.parent / "locale"
"""``<lang>/LC_MESSAGES/messages.po`` and its compiled ``.mo``; the messages are English."""


@cache
def babel_locale(lang: str) -> Locale:
    """The CLDR locale of a document language (``fr``, ``en``)."""
    return Locale.parse(LOCALES[lang])


@cache
def translations(lang: str) -> NullTranslations:
    """The gettext catalog of ``lang``; English is the messages' own language."""
    return Translations.load(CATALOGS, [lang])

"""Instants and durations as people read them, in their language (Babel's CLDR data).

A small, stable API for every human view (CLI text, alerts, reports, statements); JSON and
CSV keep UTC ISO-8601 and never come through here:

- ``local_instant(at, zone, lang)``: "lun. 30 nov. 10:30" / "Mon 30 Nov 10:30";
- ``relative(at, now, lang)``: "dans 3 h 20 min", "il y a 2 j" / "in 3 h 20 min", "2 days ago";
- ``duration(seconds, lang)``: "3 h 20 min" / "3 hr 20 min".

Unit symbols, their order and the weekday and month abbreviations come from CLDR, so a
third language is a locale code in ``i18n.LOCALES`` and a catalog, not code here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from babel.dates import format_date, format_skeleton, format_time
from babel.lists import format_list
from babel.units import format_unit

from sla_tracker.present.i18n import babel_locale, translations

if TYPE_CHECKING:
    from datetime import date, datetime, tzinfo

_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60))


def local_instant(at: datetime, zone: tzinfo, lang: str, *, year: bool = False) -> str:
    """``at`` in ``zone`` with its weekday: "lun. 30 nov. 10:30", "Mon 30 Nov 2026 10:30"."""
    locale = babel_locale(lang)
    day = format_skeleton("yMMMEd" if year else "MMMEd", at, tzinfo=zone, locale=locale)
    return f"{day} {format_time(at, 'HH:mm', tzinfo=zone, locale=locale)}"


def long_date(day: date, lang: str) -> str:
    """A calendar date spelled out, for documents: "30 novembre 2026", "30 November 2026"."""
    return format_date(day, "long", locale=babel_locale(lang))


def duration(
    seconds: float, lang: str, *, largest: Literal["day", "hour"] = "day", parts: int = 2
) -> str:
    """A length of time in at most ``parts`` units, to the minute: "3 h 20 min", "2 j 3 h".

    ``largest="hour"`` never rolls hours into days, for business time (a business day is
    not 24 hours). Under a minute it says seconds; the sign is ignored (see ``relative``)."""
    locale = babel_locale(lang)
    left = round(abs(seconds))
    if left < 60:
        return format_unit(left, "duration-second", "short", locale=locale)
    left = round(left / 60) * 60
    units = _UNITS if largest == "day" else _UNITS[1:]
    words: list[str] = []
    for unit, size in units:
        count, left = divmod(left, size)
        if count and len(words) < parts:
            words.append(format_unit(count, f"duration-{unit}", "short", locale=locale))
        elif words:
            break
    return format_list(words, style="unit-narrow", locale=locale)


def relative(
    at: datetime, now: datetime, lang: str, *, largest: Literal["day", "hour"] = "day"
) -> str:
    """How far ``at`` is from ``now``: "dans 3 h 20 min" / "in 3 h 20 min", "il y a 2 j"."""
    span = duration((at - now).total_seconds(), lang, largest=largest)
    _ = translations(lang).gettext
    if at >= now:
        return _("in %(duration)s") % {"duration": span}
    return _("%(duration)s ago") % {"duration": span}

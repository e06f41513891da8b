"""The template environments, one per language, and the two shapes they render: a page and
an e-mail.

A document ``name`` is ``templates/<name>.html`` (a page) or the triple
``templates/<name>-subject.txt``, ``-body.txt`` and ``-body.html`` (an e-mail). Words are
gettext messages (``{% trans %}``, ``_()``, plural forms) from ``sla_tracker/locale``;
numbers, amounts, instants and durations go through the filters below, which format them
for the environment's language. A document's context gives ``zone`` (the calendar's time
zone) and ``now`` where it shows instants or relative times.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape

from sla_tracker.bundled import bundled
from sla_tracker.present import numbers, when
from sla_tracker.present.i18n import translations

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import date, datetime
    from decimal import Decimal

    from jinja2.runtime import Context


@dataclass(frozen=True)
class RenderedEmail:
    """An e-mail as people will read it; ``delivery.smtp.make_message`` wraps it for sending."""

    subject: str
    text: str
    html: str


def _filters(lang: str) -> dict[str, Callable[..., str]]:
    """Every formatting filter, bound to one language."""

    @pass_context
    def instant(context: Context, at: datetime, *, year: bool = False) -> str:
        return when.local_instant(at, context["zone"], lang, year=year)

    @pass_context
    def relative(context: Context, at: datetime) -> str:
        return when.relative(at, context["now"], lang)

    def duration(seconds: float, *, business: bool = False) -> str:
        largest: Literal["day", "hour"] = "hour" if business else "day"
        return when.duration(seconds, lang, largest=largest)

    def money(amount: Decimal | float, currency: str) -> str:
        return numbers.money(amount, currency, lang)

    def percent(value: float) -> str:
        return numbers.percent(value, lang)

    def number(value: Decimal | float, decimals: int = 2) -> str:
        return numbers.number(value, lang, decimals=decimals)

    def long_date(day: date) -> str:
        return when.long_date(day, lang)

    return {
        "instant": instant,
        "relative": relative,
        "duration": duration,
        "money": money,
        "percent": percent,
        "number": number,
        "long_date": long_date,
    }


@cache
def environment(lang: str) -> Environment:
    """Autoescaped HTML and StrictUndefined: ticket subjects are untrusted, typos are errors.

    Built once per language, so each template is compiled once per process and language."""
    built = Environment(
        loader=FileSystemLoader(bundled("templates")),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    built.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    built.filters.update(_filters(lang))
    built.globals["lang"] = lang
    return built


def _render(template: str, context: Mapping[str, Any], language: str) -> str:
    return environment(language).get_template(template).render(context)


def render_page(name: str, context: Mapping[str, Any], language: str) -> str:
    """``templates/<name>.html`` in ``language``."""
    return _render(f"{name}.html", context, language)


def render_email(name: str, context: Mapping[str, Any], language: str) -> RenderedEmail:
    """The subject / plain text / HTML triple of ``templates/<name>-*`` in ``language``."""
    return RenderedEmail(
        subject=" ".join(_render(f"{name}-subject.txt", context, language).split()),
        text=_render(f"{name}-body.txt", context, language),
        html=_render(f"{name}-body.html", context, language),
    )

"""The one template environment, and the two shapes it renders: a page and an e-mail.

A document ``name`` is ``templates/<name>.html`` (a page) or the triple
``templates/<name>-subject.txt``, ``-body.txt`` and ``-body.html`` (an e-mail). Every template
gets ``lang`` and ``w``, its words in that language (``present/i18n.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape

from sla_tracker.bundled import bundled
from sla_tracker.present.i18n import words

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from jinja2.runtime import Context


@dataclass(frozen=True)
class RenderedEmail:
    """An e-mail as people will read it; ``delivery.smtp.make_message`` wraps it for sending."""

    subject: str
    text: str
    html: str


@pass_context
def _local(context: Context, instant: datetime) -> str:
    """An instant as read in the document's time zone (the context's ``zone``)."""
    return instant.astimezone(context["zone"]).strftime("%d/%m %H:%M")


@cache
def environment() -> Environment:
    """Autoescaped HTML and StrictUndefined: ticket subjects are untrusted, typos are errors.

    Built once, so each template is compiled once per process."""
    built = Environment(
        loader=FileSystemLoader(bundled("templates")),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    built.filters["local"] = _local
    return built


def _render(template: str, document: str, context: Mapping[str, Any], language: str) -> str:
    return (
        environment()
        .get_template(template)
        .render({**context, "lang": language, "w": words(document, language)})
    )


def render_page(name: str, context: Mapping[str, Any], language: str) -> str:
    """``templates/<name>.html`` in ``language``."""
    return _render(f"{name}.html", name, context, language)


def render_email(name: str, context: Mapping[str, Any], language: str) -> RenderedEmail:
    """The subject / plain text / HTML triple of ``templates/<name>-*`` in ``language``."""
    return RenderedEmail(
        subject=_render(f"{name}-subject.txt", name, context, language).strip(),
        text=_render(f"{name}-body.txt", name, context, language),
        html=_render(f"{name}-body.html", name, context, language),
    )

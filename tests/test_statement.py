"""The customer statement: who issues it, a number that changes only with the figures, each
ticket's facts, the formula with its units, the clauses, and the same page as an A4 PDF."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from sla_tracker.judge import evaluate_tickets
from sla_tracker.money import customer_periods
from sla_tracker.policies import indemnity_options
from sla_tracker.present.money import (
    PdfUnavailableError,
    render_statement,
    render_statement_pdf,
    statement_number,
)
from tests.documents import ISSUER, sample_week


@pytest.fixture(scope="module")
def statement(tmp_path_factory: pytest.TempPathFactory) -> Any:
    scenario = sample_week(tmp_path_factory.mktemp("statement"))
    reports = evaluate_tickets(
        scenario.engine, scenario.settings, scenario.calendar, now=scenario.now
    )
    lines = customer_periods(
        scenario.engine, scenario.settings, scenario.calendar, reports, now=scenario.now
    )
    options = {
        "company_id": 1,
        "period_text": "2026",
        "calendar": scenario.calendar,
        "basis": indemnity_options(scenario.settings)[0],
        "now": scenario.now,
        "issuer": ISSUER,
    }
    yield lines, options
    scenario.close()


def test_the_statement_says_who_issues_it_to_whom_and_for_what(statement: Any) -> None:
    lines, options = statement
    html = " ".join(render_statement(lines, language="fr", **options).split())  # no-break too
    for fact in (
        "Éditeur Logiciel SAS", "SIREN/SIRET 123 456 789 00012", "FR12123456789",
        "Boulangerie Martin SARL", f"N° de relevé</th><td>{statement_number(1, '2026', lines)}",
        "Établi le</th><td>3 décembre 2026", "Impossible de créer un devis",
        "ouvert le</span> lun. 23 nov. 2026 09:00", "échéance GTR</span> jeu. 3 déc. 2026 10:00",
        "rétabli le</span> <strong>pas encore", "5 h", "3,42 €",
        "= 6 000,00 € × 5 h ÷ 8 760 h = 3,42 €",
        "Celle-ci sera calculé au Prorata temporis de son abonnement à partir de la 73 h ouvrées",
        "Sera pris en considération le montant le plus faible de ces sommes.",
        "@page { size: A4;",
    ):  # fmt: skip
        assert fact in html, fact
    assert "C10" not in html and "C12" not in html  # no internal labels for a customer


def test_the_number_is_customer_period_and_a_version_of_the_figures(statement: Any) -> None:
    lines, _ = statement
    number = statement_number(1, "2026", lines)
    assert number.startswith("1-2026-") and number == statement_number(1, "2026", lines)
    lines[0].frozen = lines[0].shown_amount + 1  # a period closed at another amount
    try:
        assert statement_number(1, "2026", lines) != number
    finally:
        lines[0].frozen = None


def test_the_pdf_is_an_a4_document(statement: Any) -> None:
    weasyprint = pytest.importorskip("weasyprint")
    lines, options = statement
    pdf = render_statement_pdf(lines, language="fr", **options)
    assert pdf.startswith(b"%PDF-")
    html = render_statement(lines, language="fr", **options)
    [page, *_] = weasyprint.HTML(string=html).render().pages
    assert (round(page.width), round(page.height)) == (794, 1123)  # 210 × 297 mm at 96 px/in


def test_without_weasyprint_the_error_names_the_extra(
    statement: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if not installed
    lines, options = statement
    with pytest.raises(PdfUnavailableError, match=r"pip install 'sla-tracker\[pdf\]'"):
        render_statement_pdf(lines, language="fr", **options)


def test_the_english_statement_quotes_the_clauses_as_translations(statement: Any) -> None:
    lines, options = statement
    html = render_statement(lines, language="en", **options)
    assert "translated from the French contract, which prevails" in html
    assert "€6,000.00" in html and "Issued on</th><td>3 December 2026" in html

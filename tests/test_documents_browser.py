"""The weekly report, the statement and an alert in French, in a real headless Chromium at a
phone's and a narrow mail pane's widths: nothing wider than the window, every section there.

``pytest --update-snapshots`` also rewrites their screenshots (640 px) in docs/screenshots/,
shown in the README.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ROOT
from tests.documents import render_documents, sample_week

SECTIONS = {
    "weekly-report": [
        "#not-over", "#received", "#compliance", "#trend", "#breaches", "#at-risk",
        "#indemnities", "#exposure", "#by-group", "#by-agent", "#disagreements", "#review",
        "#sync",
    ],
    "statement": [
        "#issuer", "#customer", "#reference", ".period table.tickets", ".formula", "#total",
        "#clauses",
    ],
    "alert": [".alert", 'a[href^="https://acme.freshdesk.com/a/tickets/"]'],
}  # fmt: skip


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    scenario = sample_week(tmp_path_factory.mktemp("documents"))
    try:
        documents = render_documents(scenario, "fr")
    finally:
        scenario.close()
    return {
        "weekly-report": documents["weekly-report"].html,
        "statement": documents["statement"],
        "alert": documents["alert"].html,
    }


@pytest.mark.parametrize("width", [640, 400])
@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_the_document_fits_the_window_with_every_section(
    browser: Any, pages: dict[str, str], name: str, width: int, update_snapshots: bool
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.set_content(pages[name], wait_until="load")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name} is {scroll_width} px wide in a {width} px window"
        missing = [css for css in SECTIONS[name] if page.locator(css).count() == 0]
        assert not missing, f"{name} lacks {missing}"
        if update_snapshots and width == 640:
            page.screenshot(path=ROOT / "docs" / "screenshots" / f"{name}.fr.png", full_page=True)
    finally:
        page.close()

"""A real headless Chromium for the tests that look at rendered pages.

The distribution's browser (``apt-get install chromium``), driven by Playwright pointed at
that executable: no browser download. Without it the tests skip with the reason, except
under ``CI=true``, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium_path() -> str | None:
    configured = os.environ.get("SLA_TRACKER_TEST_CHROMIUM")
    if configured:
        return configured
    for candidate in CHROMIUM_CANDIDATES:
        if shutil.which(candidate):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Chromium shared by the session's browser tests (a Playwright Browser)."""
    executable = chromium_path()
    if executable is None:
        reason = "no Chromium: apt-get install chromium (or set SLA_TRACKER_TEST_CHROMIUM)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()

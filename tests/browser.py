"""Chromium for the browser tests: Debian's binary, its flags, the marks, and one page."""

from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium); "
        "Playwright's own browsers are never downloaded",
    ),
]


@contextmanager
def chromium_page(live_server, monkeypatch, settings, *, width: int, height: int):
    """A Chromium page on the live server; Playwright's sync API runs an event loop Django
    must tolerate. ``page.outside`` lists what the page fetched from elsewhere (closed
    networks: nothing may be)."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.CSRF_COOKIE_SECURE = False  # the live server speaks plain http
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            outside: list[str] = []
            context.on(
                "request",
                lambda request: (
                    None if request.url.startswith(live_server.url) else outside.append(request.url)
                ),
            )
            page = context.new_page()
            page.outside = outside
            yield page
        finally:
            browser.close()
            # Playwright's greenlet gives the test body its own context, hence its own
            # database connection: close it, or PostgreSQL cannot drop the test database.
            connections.close_all()

"""Browser fixtures for the console: the system's Chromium (never skipped: without one the
tests fail and say how to install it), one browser for the whole run, and the in-process
app served over real HTTP on the tests' own event loop, so a test can set up data through
the API and the database while the browser works."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import uvicorn

INSTALL_HINT = (
    "No Chromium found: the console's browser tests drive the system's Chromium through Playwright. "
    "Install it with `apt-get install chromium` (Debian; .ci/run does this when it is missing), "
    "or set CHROMIUM to a Chromium executable."
)


def chromium_executable() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "/usr/bin/chromium"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_executable()
    if path is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return path


@pytest.fixture(scope="session")
async def live_url(app) -> AsyncIterator[str]:
    """The app (already started by the `app` fixture) on a real port, on this event loop."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def browser(chromium: str):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        yield launched
        await launched.close()


@dataclass
class Tab:
    """A page in a context of its own, with every request it made."""

    page: object
    base: str
    requests: list = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        own = urlsplit(self.base).netloc
        return [
            r.url
            for r in self.requests
            if urlsplit(r.url).scheme not in ("data", "blob") and urlsplit(r.url).netloc != own
        ]

    def posted(self) -> str:
        """Everything the page sent: URLs, headers and bodies of every request."""
        return "\n".join(f"{r.url}\n{r.headers}\n{r.post_data or ''}" for r in self.requests)


@pytest.fixture
async def tab(browser, live_url, registry) -> AsyncIterator[Tab]:
    """A fresh browser context (its own cookies and storage) on the bootstrapped registry."""
    context = await browser.new_context(base_url=live_url, locale="en-US")
    page = await context.new_page()
    opened = Tab(page, live_url)
    page.on("request", lambda request: opened.requests.append(request))
    yield opened
    await context.close()

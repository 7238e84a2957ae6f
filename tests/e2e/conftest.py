"""Browser tests: the real app under uvicorn, driven by Debian's Chromium through Playwright.

- The app runs as `python -m vertelpunt serve` in a subprocess on 127.0.0.1 and a free port,
  with a fresh database and data folder and the demo data (VERTELPUNT_DEMO=1): the same code
  path as `make run` (tests/live_server.py).
- Chromium is Debian's /usr/bin/chromium (override with $VERTELPUNT_CHROMIUM); Playwright's
  own browser download does not work here. `.ci/run` installs the package. Without it the
  browser tests are skipped with a reason locally, and FAIL in CI (CI=true), so a missing
  browser never passes silently.
- axe-core comes from npm (tests/e2e/package.json, installed by `make test` with `npm ci`
  into tests/e2e/node_modules). Same rule: skipped locally when missing, a failure in CI.
- Screenshots of the main pages go to test-output/screenshots/ (gitignored).
"""

from __future__ import annotations

import re

import pytest
from live_server import LiveServer

from .e2e_helpers import (
    AXE,
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    STORY,
    TELLER,
    login,
    missing,
    screenshot,
    wait_for_preview,
)


@pytest.fixture(scope="package")
def app_server(tmp_path_factory):
    """The app with the demo data, served by uvicorn; yields its base URL."""
    workdir = tmp_path_factory.mktemp("e2e-app")
    server = LiveServer(workdir, workdir / "e2e.db", demo=True).start()
    try:
        yield server.url
    finally:
        server.stop()
        log = server.log_tail(20_000)
        if "Traceback" in log:
            print(log)  # shown with a failing test's output


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright Python package is not installed (pip install -e '.[test]')")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


def new_context(browser, base_url: str):
    """A fresh browser profile (no cookies, no drafts), in Dutch."""
    ctx = browser.new_context(
        base_url=base_url,
        locale="nl-NL",
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    ctx.set_default_timeout(15_000)
    return ctx


@pytest.fixture
def context(browser, app_server):
    ctx = new_context(browser, app_server)
    yield ctx
    ctx.close()


def watch(page) -> list[str]:
    """Record script errors, console errors and failed requests on a page."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def on_console(msg):
        # A failed request is logged as "Failed to load resource" without its address; the
        # response handler reports those with the address instead.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(f"console error: {msg.text}")

    def on_response(response):
        if response.status >= 500 or (
            response.status == 404 and not response.url.endswith("/favicon.ico")
        ):
            problems.append(f"{response.status} for {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    return problems


@pytest.fixture
def page(context):
    """A page; the test fails if a script failed, the CSP blocked something, or a request
    got a server error or an unexpected 404."""
    page = context.new_page()
    page.problems = watch(page)
    yield page
    assert not page.problems, page.problems


@pytest.fixture(scope="package")
def axe_source():
    if not AXE.exists():
        missing(f"axe-core not found at {AXE} (`npm ci --prefix tests/e2e`; `make test` does)")
    return AXE


# --- the story a teller tells, shared by the teller's and the researcher's tests -----------

@pytest.fixture(scope="package")
def told_story(browser, app_server):
    """A teller's whole flow in the browser, once: log in, write, check the masked preview,
    confirm. Returns what the tests check (tests/e2e/test_teller.py) and the researcher
    needs (tests/e2e/test_researcher.py)."""


    ctx = new_context(browser, app_server)
    page = ctx.new_page()
    problems = watch(page)
    try:
        login(page, TELLER)
        page.get_by_role("link", name="Vertel een verhaal").first.click()
        page.get_by_role("heading", level=1, name="Vertel een verhaal").wait_for()
        screenshot(page, "01-verhaal-formulier")
        page.get_by_label("Titel").fill(STORY["title"])
        page.get_by_label("Je verhaal").fill(STORY["text"])
        page.get_by_label("Maand waarin het gebeurde").fill("2025-03")
        page.get_by_label("Je rol").fill(STORY["role"])
        page.get_by_label("Wat is de les?").fill(STORY["lesson"])
        page.get_by_label("Armoede").check()
        page.get_by_role("button", name="Bekijk zonder persoonsgegevens").click()
        wait_for_preview(page)
        screenshot(page, "02-controle-gemaskeerd")
        story_id = int(re.search(r"/vertel/(\d+)/", page.url).group(1))
        marked = page.locator("mark.entity").all_inner_texts()
        masked = page.locator(".story-text.masked").all_inner_texts()
        page.get_by_role("button", name="Bevestig en verstuur").click()
        page.get_by_role("heading", level=1, name="Bedankt voor je verhaal").wait_for()
        screenshot(page, "03-bedankt")
        code = page.locator("#intrekcode").inner_text().strip()
        page.get_by_role("link", name="Bekijk je verhaal").click()
        page.get_by_role("heading", level=1).wait_for()
        return {
            "id": story_id,
            "marked": marked,
            "masked": "\n".join(masked),
            "code": code,
            "title": page.get_by_role("heading", level=1).inner_text(),
            "detail_text": page.locator(".story-text").inner_text(),
            "problems": problems,
        }
    finally:
        ctx.close()

"""Helpers for the browser tests (constants, logging in, screenshots, axe-core)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
E2E = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("VERTELPUNT_CHROMIUM", "/usr/bin/chromium"))
AXE = E2E / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-output" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEMO_PASSWORD = "demo-vertelpunt-2026"
TELLER = "verteller@demo.vertelpunt.nl"
RESEARCHER = "onderzoeker@demo.vertelpunt.nl"
ADMIN = "beheerder@demo.vertelpunt.nl"


def missing(what: str) -> None:
    """Skip locally with a clear reason; in CI a missing tool is a failure, never a skip."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true: the browser tests must run in CI)", pytrace=False)
    pytest.skip(what)


def login(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Inloggen").click()
    if "/inloggen" in page.url:
        raise AssertionError(f"login as {email} failed: {page.locator('main').inner_text()}")


def screenshot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# --- the story a teller tells, shared by the teller's and the researcher's tests -----------

UNIQUE_WORD = "zeilbootverhaal"  # in no demo story, so a search finds exactly this one
STORY = {
    "title": "Fatima en de zeilboot van de buurvrouw",
    "text": (
        "Ik kwam bij Fatima el Amrani thuis aan de Kastanjelaan 12 in Zwolle. Haar zoon Sem "
        "sliep slecht sinds de huurachterstand en de brieven van de deurwaarder over de "
        "schulden. Samen met de buurvrouw, die een zeilboot heeft, hebben we een plan gemaakt "
        "om de vaste lasten te betalen; de schuldhulpverlening nam het over. Bel me gerust op "
        f"06-12345678. Dit {UNIQUE_WORD} leerde me: begin bij wat het gezin zelf al doet."
    ),
    "role": "wijkcoach",
    "lesson": "Vraag eerst wie er al helpt.",
}


def wait_for_preview(page) -> None:
    """The preview, possibly after the waiting page that reloads itself until the masks are
    ready."""
    page.wait_for_url(re.compile(r"/vertel/\d+/controle$"))
    page.get_by_role("heading", level=1, name=re.compile("Controleer je verhaal")).wait_for(
        timeout=60_000
    )


# --- accessibility with axe-core -------------------------------------------------------------

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def inject_axe(page, axe: Path) -> None:
    """Put axe-core into the page.

    Not with page.add_script_tag(path=...): that adds an inline <script>, which the app's
    CSP (script-src 'self') refuses (tests/e2e/test_accessibility.py shows it). Code
    evaluated through the DevTools protocol (page.evaluate) is not subject to the page's CSP,
    so the CSP stays exactly as in production while axe runs.
    """
    if page.evaluate("typeof window.axe") != "object":
        page.evaluate(axe.read_text(encoding="utf-8") + "\n;true")
    if page.evaluate("typeof window.axe") != "object":
        raise RuntimeError("axe-core could not be injected into the page")


def run_axe(page, axe: Path, min_passes: int = 10) -> list[dict]:
    """WCAG 2.1 A and AA violations on the current page (an empty list: none). A real page
    passes many rules; fewer than `min_passes` means axe did not really look."""
    inject_axe(page, axe)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    assert len(result["passes"]) >= min_passes, "axe found almost nothing to check here"
    return result["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            summary = (node.get("failureSummary") or "").splitlines()
            lines.append(f"    {node['target']}: {summary[-1] if summary else ''}")
    return "\n".join(lines)

"""A teller in a real browser: log in, write a story with personal details, check the masked
preview, confirm. And the same form completed with the keyboard alone."""

from __future__ import annotations

import re

from .e2e_helpers import TELLER, login, wait_for_preview


def test_teller_tells_a_story_and_checks_the_masked_preview(told_story):
    # The preview marked the personal details in the original ...
    marked = " ".join(told_story["marked"])
    assert "Fatima" in marked and "06-12345678" in marked
    # ... and the version researchers get has placeholders instead.
    masked = told_story["masked"]
    assert "[PERSOON-1]" in masked and "[TELEFOON-1]" in masked
    for personal in ("Fatima", "Amrani", "06-12345678", "Kastanjelaan"):
        assert personal not in masked
    # Confirmed: a withdrawal code, and the detail page shows only the masked text.
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", told_story["code"])
    assert "Fatima" not in told_story["detail_text"]
    assert "[PERSOON-1]" in told_story["detail_text"]
    assert not told_story["problems"], told_story["problems"]


def test_story_form_with_the_keyboard_only(page):
    """Tab, Space, Enter and the arrow keys only: no mouse clicks, no fill()."""
    keyboard = page.keyboard
    login(page, TELLER)
    page.goto("/vertel")

    def tab_to(selector: str, limit: int = 40) -> None:
        for _ in range(limit):
            keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    # The first Tab lands on the skip link; Enter follows it to the main content.
    keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip().startswith("Ga direct")
    keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "inhoud"

    tab_to("#title")
    keyboard.type("Met het toetsenbord verteld")
    tab_to("#text")
    keyboard.type(
        "De familie Jansen had hulp nodig bij de administratie. Met het toetsenbord alleen "
        "vertel ik hier hoe de buurvrouw hielp en hoe we samen een plan maakten."
    )
    # The team is preselected for a teller with one team; check with the arrow keys anyway.
    tab_to("#team")
    assert page.evaluate("document.activeElement.value") != ""
    tab_to("#month")
    # The month picker with arrow keys: January, then this year, then one year back.
    for key in ("ArrowUp", "ArrowRight", "ArrowUp", "ArrowDown"):
        keyboard.press(key)
    assert re.fullmatch(r"20\d\d-01", page.input_value("#month"))
    tab_to("#role")
    keyboard.type("wijkcoach")
    keyboard.press("Escape")  # close the datalist suggestions
    tab_to("#theme-armoede")
    keyboard.press("Space")
    assert page.is_checked("#theme-armoede")
    tab_to("#signifier_difference")
    for _ in range(4):
        keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.value") == "70"
    tab_to("button[type=submit]:not(.link)")
    with page.expect_navigation():
        keyboard.press("Enter")
    errors = page.locator(".error-summary")
    assert not errors.count(), errors.inner_text()
    wait_for_preview(page)
    # Confirm with the keyboard too.
    tab_to("button[value=confirm]", limit=80)
    keyboard.press("Enter")
    page.get_by_role("heading", level=1, name="Bedankt voor je verhaal").wait_for()

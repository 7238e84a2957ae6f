"""axe-core on every main page: zero WCAG 2.1 A/AA violations (tags wcag2a, wcag2aa, wcag21a,
wcag21aa). axe comes from npm (tests/e2e/package.json) and is injected from that local file."""

from __future__ import annotations

import re

import pytest

from .e2e_helpers import (
    ADMIN,
    RESEARCHER,
    STORY,
    TELLER,
    UNIQUE_WORD,
    describe,
    inject_axe,
    login,
    run_axe,
    screenshot,
    wait_for_preview,
)

# (who, path, screenshot name): every main page, as the role that uses it.
PAGES = [
    (None, "/", "home"),
    (None, "/inloggen", "inloggen"),
    (None, "/toegankelijkheid", "toegankelijkheid"),
    (None, "/intrekken", "intrekken"),
    (None, "/wachtwoord-vergeten", "wachtwoord-vergeten"),
    (TELLER, "/vertel", "vertel"),
    (TELLER, "/mijn-verhalen", "mijn-verhalen"),
    (TELLER, "/account", "account-verteller"),
    (RESEARCHER, "/verhalen", "verhalen"),
    (RESEARCHER, "/verhalen?theme=armoede&q=schuld", "verhalen-selectie"),
    (RESEARCHER, "/verhalen/{story}", "verhaal"),
    (RESEARCHER, "/patronen", "patronen"),
    (RESEARCHER, "/patronen?theme=armoede", "patronen-selectie"),
    (RESEARCHER, "/review", "review"),
    (RESEARCHER, "/export?theme=armoede", "export"),
    (RESEARCHER, "/export/rapport?theme=armoede", "export-rapport"),
    (RESEARCHER, "/account", "account"),
    (ADMIN, "/beheer", "beheer"),
    (ADMIN, "/beheer/logboek", "beheer-logboek"),
    (ADMIN, "/beheer/taxonomie", "beheer-taxonomie"),
    (ADMIN, "/beheer/import", "beheer-import"),
    (None, "/bestaat-niet", "fout-404"),
]


@pytest.fixture(scope="package")
def sessions(browser, app_server):
    """A logged-in browser state per demo account, made once."""
    states = {}
    for who in (TELLER, RESEARCHER, ADMIN):
        ctx = browser.new_context(base_url=app_server, locale="nl-NL")
        page = ctx.new_page()
        login(page, who)
        states[who] = ctx.storage_state()
        ctx.close()
    return states


@pytest.fixture
def as_user(browser, app_server, sessions):
    contexts = []

    def open_page(who):
        state = sessions[who] if who else None
        ctx = browser.new_context(
            base_url=app_server, locale="nl-NL", storage_state=state,
            viewport={"width": 1280, "height": 900},
        )
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield open_page
    for ctx in contexts:
        ctx.close()


def a_story_id(page) -> str:
    page.goto("/verhalen")
    href = page.locator(".story-card a").first.get_attribute("href")
    return re.search(r"/verhalen/(\d+)", href).group(1)


@pytest.mark.parametrize(("who", "path", "name"), PAGES, ids=[p[2] for p in PAGES])
def test_no_wcag_violations(as_user, axe_source, who, path, name):
    page = as_user(who)
    if "{story}" in path:
        path = path.format(story=a_story_id(page))
    response = page.goto(path)
    expected = 404 if name == "fout-404" else 200
    assert response.status == expected, f"{path}: {response.status}"
    assert "/inloggen" not in page.url or path == "/inloggen", f"{path} asked for a login"
    screenshot(page, f"a11y-{name}")
    violations = run_axe(page, axe_source)
    assert not violations, f"{path}:\n{describe(violations)}"


def test_form_with_errors_and_masked_preview(as_user, axe_source):
    """The two states of the teller's form that only exist after a submission."""
    page = as_user(TELLER)
    page.goto("/vertel")
    with page.expect_navigation():
        page.get_by_role("button", name="Bekijk zonder persoonsgegevens").click()
    assert page.locator(".error-summary").count() == 1
    screenshot(page, "a11y-vertel-fouten")
    violations = run_axe(page, axe_source)
    assert not violations, f"form with errors:\n{describe(violations)}"

    page.get_by_label("Titel").fill(STORY["title"])
    # Not the researcher's search word: that must find the teller's story alone.
    page.get_by_label("Je verhaal").fill(STORY["text"].replace(UNIQUE_WORD, "verhaal"))
    page.get_by_label("Maand waarin het gebeurde").fill("2025-04")
    page.get_by_label("Je rol").fill(STORY["role"])
    page.get_by_role("button", name="Bekijk zonder persoonsgegevens").click()
    wait_for_preview(page)
    violations = run_axe(page, axe_source)
    assert not violations, f"masked preview:\n{describe(violations)}"

    with page.expect_navigation():
        page.get_by_role("button", name="Bevestig en verstuur").click()
    violations = run_axe(page, axe_source)
    assert not violations, f"thanks page:\n{describe(violations)}"


def test_axe_gets_in_despite_the_csp(page, app_server, axe_source):
    """add_script_tag adds an inline script, which the CSP refuses (as it should); axe then
    comes in through page.evaluate, which the CSP does not govern."""
    page.goto("/inloggen")
    with pytest.raises(Exception, match="Content Security Policy"):
        page.add_script_tag(path=str(axe_source))
    assert page.evaluate("typeof window.axe") == "undefined"
    page.problems.clear()  # the refusal above was logged as a console error, on purpose
    inject_axe(page, axe_source)
    assert page.evaluate("typeof window.axe.run") == "function"


def test_axe_finds_what_it_should(page, axe_source):
    """A check on the checker: a page with known problems gets the expected violations."""
    page.set_content(
        '<html><body><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input id="x">'
        '<p style="color:#aaa;background:#fff">te licht</p></body></html>'
    )
    found = {v["id"] for v in run_axe(page, axe_source, min_passes=0)}
    assert {"image-alt", "label", "color-contrast", "html-has-lang"} <= found, found

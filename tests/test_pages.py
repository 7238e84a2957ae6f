"""Plain pages, error pages, static files and the security headers on every response."""

from __future__ import annotations

import time


def test_home_leads_to_the_story_form(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="nl">' in page.text
    assert 'href="/vertel"' in page.text and "Vertel een verhaal" in page.text


def test_accessibility_statement_exists(client):
    page = client.get("/toegankelijkheid")
    assert page.status_code == 200 and "Toegankelijkheidsverklaring" in page.text
    assert "WCAG" in page.text


def test_unknown_page_is_a_dutch_404(client):
    page = client.get("/bestaat-niet")
    assert page.status_code == 404
    assert "Deze pagina bestaat niet" in page.text


def test_security_headers_on_pages_api_and_errors(client):
    for path in ("/", "/vertel", "/api/v1/themes", "/bestaat-niet"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        for part in (
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ):
            assert part in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in headers  # only over https


def test_hsts_when_served_over_https(settings, warm_deidentifier):
    from dataclasses import replace

    from starlette.testclient import TestClient

    from vertelpunt.app import create_app

    with TestClient(create_app(replace(settings, https=True))) as client:
        assert "max-age=" in client.get("/").headers["strict-transport-security"]


def test_static_assets_are_served_by_the_app(client):
    css = client.get("/static/vertelpunt.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert client.get("/static/vertelpunt.js").status_code == 200
    page = client.get("/vertel").text
    assert "http://" not in page.replace("http://testserver", "")
    assert "https://" not in page


def test_no_inline_scripts_or_styles_in_pages(client):
    for path in ("/", "/vertel", "/verhalen", "/toegankelijkheid"):
        page = client.get(path).text
        assert "<script>" not in page and "style=" not in page and "<style" not in page


def test_health_says_the_app_answers_and_is_warm(anonymous):
    for _ in range(50):  # a small corpus needs no warm-up: done after one count
        response = anonymous.get("/gezond")
        assert response.status_code == 200 and response.json()["ok"] is True
        if response.json()["warm"]:
            break
        time.sleep(0.05)
    assert response.json() == {"ok": True, "warm": True}

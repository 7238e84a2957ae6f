"""A researcher in a real browser: find the teller's story through a facet and a search,
open it with its evidence highlighted, review a tag, export a summary and open the file."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

from .e2e_helpers import RESEARCHER, UNIQUE_WORD, login, screenshot


def result_count(page) -> int:
    heading = page.locator("#resultaten").inner_text()
    return int(re.match(r"(\d+)", heading).group(1))


def test_researcher_finds_reads_reviews_and_exports(page, told_story):
    login(page, RESEARCHER)
    page.goto("/verhalen")
    screenshot(page, "04-verhalen")
    everything = result_count(page)

    # A facet: the theme the teller chose. The list narrows and the choice shows as a chip.
    themes = page.get_by_role("region", name=re.compile("^Thema"))
    with page.expect_navigation():
        themes.get_by_role("link", name=re.compile("^Armoede")).click()
    assert "theme=armoede" in page.url
    assert page.locator(".facet-on", has_text="Armoede").count() == 1
    with_theme = result_count(page)
    assert 0 < with_theme < everything

    # A search inside that selection finds the teller's story, with the word marked.
    page.get_by_label("Zoek in de verhalen").fill(UNIQUE_WORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Zoeken").click()
    assert "theme=armoede" in page.url and f"q={UNIQUE_WORD}" in page.url
    assert result_count(page) == 1
    card = page.locator(".story-card")
    assert card.locator("mark").first.inner_text().lower() == UNIQUE_WORD
    screenshot(page, "05-zoeken-en-facet")
    selection_url = page.url

    # The story page: the masked text, and (once the worker tagged it) the evidence marked.
    with page.expect_navigation():
        card.get_by_role("link", name=told_story["title"]).click()
    assert "Fatima" not in page.locator(".story-text").inner_text()
    deadline = time.monotonic() + 60
    while not page.locator("mark.evidence").count() and time.monotonic() < deadline:
        time.sleep(1)
        page.reload()
    evidence = page.locator(".story-text mark.evidence")
    assert evidence.count() > 0, "no evidence highlighted after 60 s"
    assert "schuld" in " ".join(evidence.all_inner_texts()).lower()
    screenshot(page, "06-verhaal-met-bewijs")

    # Review: the first tag in the queue, accepted with a reason.
    page.goto("/review")
    screenshot(page, "07-review")
    item = page.locator("article.review-item").first
    heading = item.get_by_role("heading").inner_text()
    theme_label = heading.split(" in “")[0]
    story_link = item.get_by_role("link").first.get_attribute("href")
    item.get_by_label("Reden").first.fill("Past: de bewijszin gaat hierover.")
    with page.expect_navigation():
        item.get_by_role("button", name=re.compile("^Akkoord")).click()
    assert page.url.endswith("/review#wachtrij")
    assert page.locator("article.review-item h3", has_text=heading).count() == 0
    page.goto(story_link)
    row = page.get_by_role("row", name=re.compile(re.escape(theme_label)))
    assert "akkoord" in row.inner_text()

    # Export the summary of the selection and open the downloaded file.
    page.goto(selection_url)
    export_link = page.locator("main").get_by_role("link", name=re.compile("^Export"))
    assert export_link.count(), "the story list has no link to export this selection"
    with page.expect_navigation():
        export_link.first.click()
    assert page.url.split("?")[0].endswith("/export")
    assert "theme=armoede" in page.url
    screenshot(page, "08-export")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("^CSV, één regel per thema")).click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    content = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert rows, content[:500]
    assert any("armoede" in json.dumps(row, ensure_ascii=False).lower() for row in rows)
    assert "Fatima" not in content and "06-12345678" not in content


def test_patterns_page_shows_a_chart_with_its_table(page):
    login(page, RESEARCHER)
    page.goto("/patronen")
    page.get_by_role("heading", level=1).wait_for()
    assert page.locator("table").count() > 0
    screenshot(page, "09-patronen")

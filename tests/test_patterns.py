"""Patterns: themes over time (SVG + table), co-occurrence with links to exactly those
stories, theme x team/municipality, distinctive terms, lessons, disagreements, and
small-number protection in the page and the JSON."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from test_browse import FILLER, as_researcher, listed_ids, seed

from vertelpunt import patterns
from vertelpunt.filters import StoryFilter


def set_k(client, k: int) -> None:
    async def write(db):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO app_settings (key, value) VALUES ('min_cell', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (str(k),),
            )

    client.portal.call(write, client.app.state.db)


def corpus(client) -> list[int]:
    """6 stories with armoede+wonen (Zwolle), 2 with armoede+gezondheid (Tilburg), 5 with
    only opvoeding; armoede stories talk about the deurwaarder."""
    items = []
    for i in range(6):
        items.append(
            {
                "title": f"Huur {i}",
                "text": f"De deurwaarder kwam weer langs en de huurachterstand groeide {i}."
                + FILLER,
                "nlp": {"armoede": 0.8, "wonen": 0.7},
                "month": f"2025-0{1 + i % 3}",
                "lessons": [{"source": "teller", "text": f"Bel eerder met de verhuurder ({i})."}],
            }
        )
    for i in range(2):
        items.append(
            {
                "title": f"Zorg {i}",
                "text": "De deurwaarder en de huisarts; zorgen om de gezondheid." + FILLER,
                "nlp": {"armoede": 0.6},
                "teller": ["gezondheid"],
                "month": "2025-04",
                "team": "Buurtteam Zuid",
            }
        )
    for i in range(5):
        items.append(
            {
                "title": f"Opvoeding {i}",
                "text": "Ruzie over de bedtijd en de regels thuis met de puber." + FILLER,
                "nlp": {"opvoeding": 0.9},
                "teller": ["opvoeding", "veiligheid"] if i == 0 else [],
                "month": "2025-05",
            }
        )
    return seed(client, items)


def test_cooccurrence_cells_link_to_exactly_those_stories(anonymous):
    ids = corpus(anonymous)
    client = as_researcher(anonymous)
    set_k(client, 1)
    data = client.get("/patronen.json").json()
    matrix = {row["theme"]: row for row in data["cooccurrence"]}
    order = [row["theme"] for row in data["cooccurrence"]]
    cell = matrix["armoede"]["cells"][order.index("wonen")]
    assert cell["count"] == 6
    assert cell["jaccard"] == round(6 / (8 + 6 - 6), 2)
    assert listed_ids(client, cell["url"]) == set(ids[:6])
    diagonal = matrix["armoede"]["cells"][order.index("armoede")]
    assert diagonal["count"] == 8 and listed_ids(client, diagonal["url"]) == set(ids[:8])
    # Every non-empty cell's link lists exactly as many stories as the cell counts.
    for row in data["cooccurrence"]:
        for c in row["cells"]:
            if c["url"]:
                assert len(listed_ids(client, c["url"])) == c["count"]


def test_small_numbers_are_suppressed_in_page_and_json(anonymous):
    corpus(anonymous)
    client = as_researcher(anonymous)
    set_k(client, 5)
    data = client.get("/patronen.json").json()
    assert data["k"] == 5
    themes = {t["theme"]: t for t in data["themes"]}
    assert themes["armoede"]["count"] == 8
    assert themes["gezondheid"]["count"] == "< 5" and themes["gezondheid"]["url"] is None
    matrix = {row["theme"]: row for row in data["cooccurrence"]}
    order = [row["theme"] for row in data["cooccurrence"]]
    small = matrix["armoede"]["cells"][order.index("gezondheid")]
    assert small == {"count": "< 5", "url": None, "jaccard": None}
    teams = data["by_team"]
    north = [c["id"] for c in teams["columns"]].index(client.teams["Wijkteam Noord"])
    south = [c["id"] for c in teams["columns"]].index(client.teams["Buurtteam Zuid"])
    armoede = next(r for r in teams["rows"] if r["theme"] == "armoede")
    assert armoede["cells"][north]["count"] == 6 and armoede["cells"][south]["count"] == "< 5"
    for row in data["over_time"]["rows"]:
        for v in row["values"]:
            assert v["count"] == 0 or v["count"] == "< 5" or v["count"] >= 5
    # No lessons, terms or marks from themes with fewer than k stories.
    assert {g["theme"] for g in data["lessons"]} <= {"armoede", "wonen", "opvoeding"}
    assert "gezondheid" not in {d["theme"] for d in data["distinctive"]}
    page = client.get("/patronen").text
    main, sidebar = page.split('class="sidebar"')
    assert "&lt; 5" in main and "gezondheid" not in re.findall(r"theme=(\w+)", main)
    # The facet counts beside the patterns are protected as well.
    assert re.search(r"Gezondheid</a>\s*<span class=\"count\">\(&lt; 5", sidebar)


def test_theme_over_time_chart_and_table(anonymous):
    corpus(anonymous)
    client = as_researcher(anonymous)
    set_k(client, 1)
    data = client.get("/patronen.json").json()
    assert [p["key"] for p in data["over_time"]["periods"]] == [
        "2025-01",
        "2025-02",
        "2025-03",
        "2025-04",
        "2025-05",
    ]
    armoede = next(r for r in data["over_time"]["rows"] if r["theme"] == "armoede")
    assert [v["count"] for v in armoede["values"]] == [2, 2, 2, 2, 0]
    link = armoede["values"][0]["url"]
    assert dict(parse_qsl(urlsplit(link).query)) == {
        "theme": "armoede",
        "from": "2025-01",
        "to": "2025-01",
    }
    quarters = client.get("/patronen.json?per=quarter").json()["over_time"]
    assert [p["key"] for p in quarters["periods"]] == ["2025-K1", "2025-K2"]
    page = client.get("/patronen").text
    assert page.count("<svg") >= 4 and "<title" in page and "<desc" in page
    assert '<th scope="col">januari 2025</th>' in page
    assert "<script" not in page.replace('<script src="/static/vertelpunt.js"', "")
    assert "style=" not in page


def test_distinctive_terms_link_to_a_search(anonymous):
    ids = corpus(anonymous)
    more = seed(
        anonymous,
        [
            {
                "text": f"De deurwaarder stond voor de deur, brief {i}." + FILLER,
                "nlp": {"armoede": 0.7},
            }
            for i in range(20)
        ]
        + [
            {
                "text": f"De puber en de regels over schermtijd, avond {i}." + FILLER,
                "nlp": {"opvoeding": 0.7},
            }
            for i in range(20)
        ],
    )
    client = as_researcher(anonymous)
    set_k(client, 2)
    data = client.get("/patronen.json").json()
    terms = {d["theme"]: d["terms"] for d in data["distinctive"]}
    armoede = [t["term"] for t in terms["armoede"]]
    assert "deurwaarder" in armoede
    assert "puber" in [t["term"] for t in terms["opvoeding"]]
    assert "de" not in armoede and "en" not in armoede  # stop words removed
    url = next(t for t in terms["armoede"] if t["term"] == "deurwaarder")["url"]
    assert dict(parse_qsl(urlsplit(url).query)) == {"theme": "armoede", "q": "deurwaarder"}
    assert listed_ids(client, url) == set(ids[:8]) | set(more[:20])


def test_log_odds_scores_favour_the_theme_words():
    docs = [["deurwaarder", "schuld", f"brief{i}"] for i in range(10)]
    docs += [["tuin", "buren", f"dag{i}"] for i in range(10)]
    labels = [{"armoede"} if i < 10 else set() for i in range(20)]
    result = patterns.log_odds(docs, labels, top=3)
    stem, z, stories = result["armoede"][0]
    assert stem in ("deurwaarder", "schuld") and stories == 10 and z > 1.96
    assert all(t[0] not in ("tuin", "buren") for t in result["armoede"])
    assert patterns.log_odds([], [], top=3) == {}
    forms = patterns.word_forms(["De deurwaarders kwamen. Een deurwaarder belde."], {"deurwaarder"})
    assert forms == {"deurwaarder": "deurwaarder"} or forms == {"deurwaarder": "deurwaarders"}


def test_lessons_and_disagreements(anonymous):
    ids = corpus(anonymous)
    client = as_researcher(anonymous)
    set_k(client, 1)
    data = client.get("/patronen.json").json()
    lessons = {g["theme"]: g["lessons"] for g in data["lessons"]}
    assert len(lessons["armoede"]) == 5 and lessons["armoede"][0]["source"] == "teller"
    disagree = {d["theme"]: d for d in data["disagreements"]}
    assert disagree["gezondheid"]["teller_only"] == 2
    assert disagree["veiligheid"]["teller_only"] == 1
    assert disagree["armoede"]["nlp_only"] == 8
    assert listed_ids(client, disagree["gezondheid"]["url"]) == {ids[6], ids[7]}


def test_patterns_respect_the_filter(anonymous):
    corpus(anonymous)
    client = as_researcher(anonymous)
    set_k(client, 1)
    south = client.teams["Buurtteam Zuid"]
    data = client.get(f"/patronen.json?team={south}").json()
    assert data["total"] == 2
    assert {t["theme"] for t in data["themes"]} == {"armoede", "gezondheid"}
    cell = data["cooccurrence"][0]["cells"][0]
    assert ("team", str(south)) in parse_qsl(urlsplit(cell["url"]).query)


def test_pattern_functions_work_without_http(anonymous):
    corpus(anonymous)
    db = anonymous.app.state.db
    flt = StoryFilter(themes=("armoede",))
    pairs = anonymous.portal.call(patterns.cooccurrence, db, flt)
    assert pairs[("armoede", "wonen")] == 6 and pairs[("armoede", "armoede")] == 8
    counts = anonymous.portal.call(patterns.theme_summary, db, flt)["counts"]
    assert counts["total"] == 8


def test_svg_chart_leaves_suppressed_counts_out():
    from vertelpunt import charts

    periods = [{"label": p} for p in ("jan", "feb", "mrt", "apr")]
    svg = str(charts.line_chart("Armoede", periods, [6, "< 5", 7, 8], 10, "g"))
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 3
    assert '<title id="g-t">Armoede</title>' in svg and "niet getoond" in svg
    assert "style=" not in svg and "<script" not in svg

"""Browsing stories: effective themes, facets (AND logic, counts, toggle links), periods,
JSON renderings, teller scoping, the story page and the time-limit message."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

from conftest import login, post_form

from vertelpunt.filters import StoryFilter

FILLER = (
    " De wijkcoach sprak met het gezin over wat er speelt en wat zij zelf al geprobeerd hadden."
)


async def _insert(db, items, team_ids) -> list[int]:
    ids = []
    async with db.write() as conn:
        for item in items:
            text = item.get("text", "Een verhaal uit de wijk." + FILLER)
            cursor = await conn.execute(
                "INSERT INTO stories (status, title, text, team_id, month, teller_role, lesson,"
                " signifier_difference, signifier_outcome, nlp_status, confirmed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'done', '2025-01-01T00:00:00Z')",
                (
                    item.get("status", "confirmed"),
                    item.get("title", "Verhaal"),
                    text,
                    team_ids[item.get("team", "Wijkteam Noord")],
                    item.get("month", "2025-01"),
                    item.get("role", "wijkcoach"),
                    item.get("lesson", ""),
                    item.get("difference"),
                    item.get("outcome"),
                ),
            )
            story_id = cursor.lastrowid
            ids.append(story_id)
            for theme in item.get("teller", ()):
                await conn.execute(
                    "INSERT INTO story_themes (story_id, theme, source, taxonomy_version)"
                    " VALUES (?, ?, 'teller', 't1')",
                    (story_id, theme),
                )
            for theme, score in item.get("nlp", {}).items():
                evidence = item.get("evidence", {}).get(theme, [])
                await conn.execute(
                    "INSERT INTO story_themes (story_id, theme, source, taxonomy_version,"
                    " score, evidence, component) VALUES (?, ?, 'nlp:m1', 't1', ?, ?, 'rules')",
                    (story_id, theme, score, json.dumps(evidence)),
                )
            for lesson in item.get("lessons", ()):
                await conn.execute(
                    "INSERT INTO lessons (story_id, source, start, end, text)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        story_id,
                        lesson.get("source", "nlp:m1"),
                        lesson.get("start"),
                        lesson.get("end"),
                        lesson["text"],
                    ),
                )
    return ids


def seed(client, items: list[dict]) -> list[int]:
    """Insert confirmed stories (with tags and lessons) directly; returns their ids."""
    return client.portal.call(_insert, client.app.state.db, items, client.teams)


def sql(client, query: str, params=()):
    return client.portal.call(client.app.state.db.fetchall, query, params)


def as_researcher(client):
    client.cookies.clear()
    login(client, "researcher")
    return client


def listed_ids(client, url: str) -> set[int]:
    """Every story a list URL selects, over all its pages."""
    url = url if ".json" in url else url.replace("/verhalen", "/verhalen.json", 1)
    ids, page = set(), 1
    while True:
        sep = "&" if "?" in url else "?"
        body = client.get(f"{url}{sep}pagina={page}")
        assert body.status_code == 200, body.text
        data = body.json()
        ids |= {s["id"] for s in data["stories"]}
        if page >= data["pages"]:
            assert len(ids) == data["total"]
            return ids
        page += 1


def facet(data: dict, key: str) -> dict[str, dict]:
    found = next(f for f in data["facets"] if f["key"] == key)
    return {v["value"]: v for v in found["values"]}


THEMED = [
    {"title": "A", "nlp": {"armoede": 0.9, "wonen": 0.8}, "month": "2025-01"},
    {"title": "B", "nlp": {"armoede": 0.7}, "teller": ["wonen"], "month": "2025-02"},
    {"title": "C", "nlp": {"armoede": 0.6}, "month": "2025-04", "team": "Buurtteam Zuid"},
    {"title": "D", "teller": ["gezondheid"], "month": "2025-05", "team": "Buurtteam Zuid"},
]


def test_effective_themes_table_equals_the_view_and_follows_review(anonymous):
    ids = seed(anonymous, THEMED)
    table = "SELECT story_id, theme, by_teller, by_nlp, reviewed FROM story_effective_themes"
    view = "SELECT story_id, theme, by_teller, by_nlp, reviewed FROM effective_themes"

    def same():
        return sorted(map(tuple, sql(anonymous, table))) == sorted(map(tuple, sql(anonymous, view)))

    assert same()
    assert ("armoede", 0, 1, 0) in [tuple(r)[1:] for r in sql(anonymous, table) if r[0] == ids[0]]

    async def review(db, decision, theme, story_id):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO story_themes (story_id, theme, source, taxonomy_version, decision)"
                " VALUES (?, ?, 'human:3', 't1', ?) ON CONFLICT (story_id, theme, source)"
                " DO UPDATE SET decision = excluded.decision",
                (story_id, theme, decision),
            )

    db = anonymous.app.state.db
    anonymous.portal.call(review, db, "reject", "armoede", ids[0])
    assert same()
    themes = {r["theme"] for r in sql(anonymous, table + " WHERE story_id = ?", (ids[0],))}
    assert themes == {"wonen"}  # a reviewer's reject overrides the tagger
    anonymous.portal.call(review, db, "add", "veiligheid", ids[3])
    row = sql(anonymous, table + " WHERE story_id = ? AND theme = 'veiligheid'", (ids[3],))
    assert tuple(row[0])[2:] == (0, 0, 1)
    assert same()
    # Only confirmed stories have effective themes.
    (pending,) = seed(anonymous, [{"status": "preview", "teller": ["armoede"]}])
    assert sql(anonymous, table + " WHERE story_id = ?", (pending,)) == []


def test_theme_facets_combine_with_and_and_count_the_current_selection(anonymous):
    ids = seed(anonymous, THEMED)
    client = as_researcher(anonymous)
    data = client.get("/verhalen.json").json()
    assert data["total"] == 4
    themes = facet(data, "theme")
    assert themes["armoede"]["count"] == 3
    assert themes["wonen"]["count"] == 2
    assert themes["gezondheid"]["count"] == 1

    data = client.get("/verhalen.json?theme=armoede").json()
    assert {s["id"] for s in data["stories"]} == set(ids[:3])
    themes = facet(data, "theme")
    assert themes["armoede"]["selected"] and themes["armoede"]["count"] == 3
    assert themes["wonen"]["count"] == 2  # stories with armoede AND wonen
    assert themes["gezondheid"]["count"] == 0

    data = client.get("/verhalen.json?theme=armoede&theme=wonen").json()
    assert {s["id"] for s in data["stories"]} == {ids[0], ids[1]}
    assert data["total"] == 2


def test_toggle_links_add_and_remove_a_value(anonymous):
    seed(anonymous, THEMED)
    client = as_researcher(anonymous)
    data = client.get("/verhalen.json?theme=armoede").json()
    wonen = facet(data, "theme")["wonen"]["url"]
    assert sorted(parse_qsl(urlsplit(wonen).query)) == [("theme", "armoede"), ("theme", "wonen")]
    off = facet(data, "theme")["armoede"]["url"]
    assert parse_qsl(urlsplit(off).query) == []
    # The HTML page carries the same links, escaped once.
    page = client.get("/verhalen?theme=armoede")
    assert page.status_code == 200
    hrefs = [unescape(h) for h in re.findall(r'href="([^"]+)"', page.text)]
    assert wonen in hrefs and off in hrefs


def test_or_facets_count_without_their_own_selection(anonymous):
    seed(anonymous, THEMED)
    client = as_researcher(anonymous)
    north, south = anonymous.teams["Wijkteam Noord"], anonymous.teams["Buurtteam Zuid"]
    data = client.get(f"/verhalen.json?team={north}").json()
    teams = facet(data, "team")
    assert data["total"] == 2
    assert teams[str(north)]["selected"] and teams[str(north)]["count"] == 2
    assert teams[str(south)]["count"] == 2 and not teams[str(south)]["selected"]
    both = teams[str(south)]["url"]
    assert listed_ids(client, both) == {
        s["id"] for s in client.get("/verhalen.json").json()["stories"]
    }
    # Municipalities and names work too (the API contract uses names).
    zwolle = client.get("/verhalen.json?municipality=Zwolle").json()
    assert zwolle["total"] == 2
    named = client.get("/verhalen.json?team=Buurtteam%20Zuid").json()
    assert {s["title"] for s in named["stories"]} == {"C", "D"}


def test_source_facet_restricts_themes_to_a_source(anonymous):
    ids = seed(anonymous, THEMED)
    client = as_researcher(anonymous)
    data = client.get("/verhalen.json?theme=wonen&bron=teller").json()
    assert {s["id"] for s in data["stories"]} == {ids[1]}
    data = client.get("/verhalen.json?theme=wonen&bron=nlp").json()
    assert {s["id"] for s in data["stories"]} == {ids[0]}
    assert facet(data, "bron")["teller"]["count"] == 1  # counted without its own selection
    assert client.get("/verhalen.json?bron=reviewed").json()["total"] == 0


def test_periods_by_month_and_quarter_in_date_order(anonymous):
    ids = seed(anonymous, [*THEMED, {"title": "E", "month": "2024-11", "teller": ["armoede"]}])
    client = as_researcher(anonymous)
    months = list(facet(client.get("/verhalen.json").json(), "period"))
    assert months == ["2024-11", "2025-01", "2025-02", "2025-04", "2025-05"]
    data = client.get("/verhalen.json?per=quarter").json()
    quarters = facet(data, "period")
    assert list(quarters) == ["2024-K4", "2025-K1", "2025-K2"]
    assert quarters["2025-K1"]["count"] == 2 and quarters["2025-K2"]["label"] == "2025 kwartaal 2"
    q1 = quarters["2025-K1"]["url"]
    assert dict(parse_qsl(urlsplit(q1).query)) == {
        "from": "2025-01",
        "to": "2025-03",
        "per": "quarter",
    }
    assert listed_ids(client, q1) == {ids[0], ids[1]}
    # The selected quarter's link clears the period again.
    again = facet(client.get(q1.replace("/verhalen", "/verhalen.json")).json(), "period")
    assert again["2025-K1"]["selected"]
    assert "from" not in dict(parse_qsl(urlsplit(again["2025-K1"]["url"]).query))
    assert listed_ids(client, "/verhalen.json?from=2025-02&to=2025-04") == {ids[1], ids[2]}


def test_role_and_signifier_facets(anonymous):
    ids = seed(
        anonymous,
        [
            {"title": "R1", "role": "gezinscoach", "difference": 10, "outcome": 90},
            {"title": "R2", "role": "wijkcoach", "difference": 50, "outcome": 85},
            {"title": "R3", "role": "wijkcoach", "difference": 95},
        ],
    )
    client = as_researcher(anonymous)
    data = client.get("/verhalen.json").json()
    assert facet(data, "role")["wijkcoach"]["count"] == 2
    assert facet(data, "difference")["0-19"]["count"] == 1
    assert facet(data, "outcome")["80-100"]["count"] == 2
    assert listed_ids(client, "/verhalen.json?difference=0-19&difference=80-100") == {
        ids[0],
        ids[2],
    }
    assert listed_ids(client, "/verhalen.json?role=wijkcoach&outcome=80-100") == {ids[1]}
    assert listed_ids(client, "/verhalen.json?difference=30-70") == {ids[1]}


def test_story_filter_round_trips_and_drops_bad_values():
    params = [
        ("theme", "armoede"),
        ("theme", "wonen"),
        ("team", "3"),
        ("from", "2025-01"),
        ("to", "2025-13"),
        ("bron", "nlp"),
        ("bron", "iemand"),
        ("difference", "5-500"),
        ("q", "  schulden   huur "),
        ("per", "quarter"),
    ]

    class Params(list):
        def getlist(self, key):
            return [v for k, v in self if k == key]

    flt = StoryFilter.from_params(Params(params))
    assert flt.themes == ("armoede", "wonen") and flt.teams == ("3",)
    assert flt.start == "2025-01" and flt.end == "" and flt.sources == ("nlp",)
    assert flt.difference == () and flt.q == "schulden huur" and flt.interval == "quarter"
    again = StoryFilter.from_params(Params(parse_qsl(flt.query_string())))
    assert again == flt
    where, values = flt.where()
    assert where.count("?") == len(values)


def test_json_by_accept_header_and_html_by_default(anonymous):
    seed(anonymous, THEMED)
    client = as_researcher(anonymous)
    as_json = client.get("/verhalen?theme=wonen", headers={"accept": "application/json"})
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.json() == client.get("/verhalen.json?theme=wonen").json()
    page = client.get("/verhalen?theme=wonen")
    assert page.headers["content-type"].startswith("text/html")
    assert "2 verhalen" in page.text and "<script>" not in page.text and "style=" not in page.text


def test_a_teller_sees_only_their_own_teams_stories(anonymous):
    ids = seed(anonymous, THEMED)
    login(anonymous, "teller")  # Wijkteam Noord
    data = anonymous.get("/verhalen.json").json()
    assert {s["id"] for s in data["stories"]} == {ids[0], ids[1]}
    assert facet(data, "theme")["armoede"]["count"] == 2
    assert set(facet(data, "team")) == {str(anonymous.teams["Wijkteam Noord"])}
    # Asking for the other team gives nothing, not their stories.
    south = anonymous.teams["Buurtteam Zuid"]
    assert anonymous.get(f"/verhalen.json?team={south}").json()["total"] == 0
    assert anonymous.get(f"/verhalen/{ids[2]}").status_code == 404
    api = anonymous.get("/api/v1/stories?theme=armoede").json()["stories"]
    assert {s["id"] for s in api} == {ids[0], ids[1]}
    assert anonymous.get("/patronen").status_code == 403


def test_api_list_uses_the_same_filter(anonymous):
    ids = seed(anonymous, THEMED)
    client = as_researcher(anonymous)
    body = client.get("/api/v1/stories?theme=armoede&municipality=Tilburg&from=2025-03").json()
    assert [s["id"] for s in body["stories"]] == [ids[2]]
    assert "teller_id" not in body["stories"][0] and "original_text" not in body["stories"][0]


def test_story_page_marks_evidence_with_labels_lessons_and_logs_the_view(anonymous):
    text = "Het gezin had grote schulden. De buurvrouw hielp met boodschappen. Zo kan het ook."
    first, second = text.index("Het"), text.index("De buurvrouw")
    evidence = {"armoede": [{"start": first, "end": second - 1}]}
    lesson = {"start": text.index("Zo"), "end": len(text), "text": "Zo kan het ook."}
    (story_id,) = seed(
        anonymous,
        [
            {
                "title": "Schulden en buren",
                "text": text,
                "nlp": {"armoede": 0.81},
                "teller": ["informeel-netwerk"],
                "evidence": evidence,
                "lessons": [lesson],
                "difference": 20,
                "outcome": 70,
            }
        ],
    )
    client = as_researcher(anonymous)
    page = client.get(f"/verhalen/{story_id}")
    assert page.status_code == 200
    assert re.search(
        r'<mark class="evidence theme-\d">Het gezin had grote schulden\.</mark>'
        r'<span class="evidence-label"> \[Armoede',
        page.text,
    )
    assert '<span class="lesson-label"> [les]</span>' in page.text
    assert "Informeel netwerk" in page.text or "informeel" in page.text.lower()
    assert "20 op een schaal van 0" in page.text
    assert "Vergelijkbare verhalen" in page.text
    events = sql(client, "SELECT subject FROM events WHERE action = 'story.view'")
    assert [e["subject"] for e in events] == [f"story:{story_id}"]
    as_json = client.get(f"/verhalen/{story_id}", headers={"accept": "application/json"}).json()
    assert as_json["story"]["id"] == story_id and "teller_id" not in as_json["story"]
    assert {e["theme"] for e in as_json["effective"]} == {"armoede", "informeel-netwerk"}


def test_story_text_is_escaped_on_the_page(anonymous):
    (story_id,) = seed(
        anonymous,
        [{"text": "<script>alert(1)</script> schulden" + FILLER, "nlp": {"armoede": 0.9}}],
    )
    client = as_researcher(anonymous)
    assert "<script>alert" not in client.get(f"/verhalen/{story_id}").text
    assert "<script>alert" not in client.get("/verhalen?q=schulden").text


def test_a_slow_query_gets_a_dutch_message_not_a_500(anonymous):
    seed(anonymous, [{"title": f"S{i}", "nlp": {"armoede": 0.6}} for i in range(300)])
    client = as_researcher(anonymous)
    db = client.app.state.db
    db.query_time_limit_ms = 0
    page = client.get("/verhalen?theme=armoede")
    assert page.status_code == 503 and "duurde te lang" in page.text
    as_json = client.get("/verhalen.json?theme=armoede")
    assert as_json.status_code == 503 and "duurde te lang" in as_json.json()["error"]
    assert client.get("/patronen?theme=armoede").status_code == 503
    db.query_time_limit_ms = 2000
    assert client.get("/verhalen?theme=armoede").status_code == 200


def test_marking_a_story_most_significant(anonymous):
    (story_id,) = seed(anonymous, [{"nlp": {"armoede": 0.9}}])
    client = as_researcher(anonymous)
    response = post_form(
        client,
        f"/verhalen/{story_id}/betekenisvol",
        {"theme": "armoede", "reason": "Laat zien hoe schulden stapelen."},
    )
    assert response.status_code == 303
    page = client.get(f"/verhalen/{story_id}").text
    assert "Laat zien hoe schulden stapelen." in page
    bad = post_form(client, f"/verhalen/{story_id}/betekenisvol", {"theme": "wonen", "reason": "x"})
    assert bad.status_code == 422
    rows = sql(client, "SELECT story_id, theme, reason FROM significant_stories")
    assert [tuple(r) for r in rows] == [(story_id, "armoede", "Laat zien hoe schulden stapelen.")]

"""Dutch full-text search: stemming, bm25 ranking, safe highlighted snippets, search with
facets, and an index that follows confirmation and withdrawal (down to the file bytes)."""

from __future__ import annotations

import re

from conftest import STORY_TEXT, login, post_form, story_form
from test_browse import FILLER, as_researcher, seed, sql
from test_privacy import confirmed_story, file_bytes

from vertelpunt import search


def test_stems_fold_dutch_word_forms():
    assert search.stem_word("ondersteuning") == search.stem_word("ondersteunen")
    assert search.stem_word("schulden") == search.stem_word("schuld")
    # The classic Snowball algorithm keeps "gezin" and "zin" apart.
    assert search.stem_word("gezin") != search.stem_word("zin")
    assert search.fts_query('ondersteuning "vaste lasten"') == '"vast last" AND "ondersteun"'
    assert search.fts_query("!!! ,,,") is None
    # Search text can never become FTS5 syntax.
    assert (
        search.fts_query("NEAR(a b) OR col:x*")
        == '"near" AND "a" AND "b" AND "or" AND "col" AND "x"'
    )


def test_ondersteuning_finds_ondersteunen_ranked_by_bm25(anonymous):
    ids = seed(
        anonymous,
        [
            {"title": "Eén keer", "text": "Wij gingen ondersteunen waar het kon." + FILLER},
            {
                "title": "Vaak",
                "text": "Ondersteunen, ondersteund en nog eens ondersteunen:"
                " de ondersteuning stond centraal." + FILLER,
            },
            {"title": "Niets", "text": "Over iets heel anders, de tuin en de buren." + FILLER},
        ],
    )
    client = as_researcher(anonymous)
    data = client.get("/verhalen.json?q=ondersteuning").json()
    assert [s["id"] for s in data["stories"]] == [ids[1], ids[0]]
    assert data["total"] == 2
    snippet = data["stories"][1]["snippet"]
    assert "<mark>ondersteunen</mark>" in snippet


def test_snippets_escape_the_text_before_marking(anonymous):
    seed(
        anonymous, [{"text": "De moeder schreef <b>schulden</b> & zorgen op een briefje." + FILLER}]
    )
    client = as_researcher(anonymous)
    page = client.get("/verhalen?q=schulden").text
    assert "&lt;b&gt;<mark>schulden</mark>&lt;/b&gt; &amp; zorgen" in page
    assert "<b>schulden" not in page
    snippet = search.snippet("a <i>b</i> schulden", "schuld")
    assert str(snippet) == "a &lt;i&gt;b&lt;/i&gt; <mark>schulden</mark>"


def test_search_combines_with_facets_and_the_facets_count_the_matches(anonymous):
    ids = seed(
        anonymous,
        [
            {"text": "Grote schulden bij de energie." + FILLER, "nlp": {"armoede": 0.9}},
            {"text": "Schulden en een kleine woning." + FILLER, "nlp": {"wonen": 0.8}},
            {"text": "Een ruzie met de buren." + FILLER, "nlp": {"armoede": 0.7}},
        ],
    )
    client = as_researcher(anonymous)
    data = client.get("/verhalen.json?q=schuld&theme=armoede").json()
    assert [s["id"] for s in data["stories"]] == [ids[0]]
    found = client.get("/verhalen.json?q=schuld").json()
    themes = {
        v["value"]: v["count"] for f in found["facets"] if f["key"] == "theme" for v in f["values"]
    }
    assert themes["armoede"] == 1 and themes["wonen"] == 1
    # The search box keeps the other filters as hidden fields.
    page = client.get("/verhalen?theme=armoede").text
    assert '<input type="hidden" name="theme" value="armoede">' in page


def test_index_follows_confirmation_and_withdrawal_down_to_the_file(client, settings):
    marker = "Kwartelkoningweide"
    story_id, code = confirmed_story(client, STORY_TEXT + f" We zaten in de {marker} samen.")
    login(client, "teller")
    assert [s["id"] for s in client.get(f"/verhalen.json?q={marker}").json()["stories"]] == [
        story_id
    ]
    stem = search.stem_word(marker).encode()
    client.portal.call(client.app.state.db.checkpoint)
    assert stem in file_bytes(settings.db_path)
    post_form(client, "/intrekken", {"code": code})
    assert sql(client, "SELECT count(*) AS n FROM story_fts")[0]["n"] == 0
    assert stem not in file_bytes(settings.db_path)
    assert marker.lower().encode() not in file_bytes(settings.db_path)


def test_confirmed_story_is_searchable_at_once(client):
    preview = post_form(client, "/vertel", story_form(client)).headers["location"]
    assert client.get("/verhalen.json?q=buurvrouw").json()["total"] == 0  # not confirmed yet
    post_form(client, preview, {"action": "confirm", "mask": [str(i) for i in range(50)]})
    found = client.get("/verhalen.json?q=buurvrouw").json()
    assert found["total"] == 1
    assert "Fatima" not in str(found)


# Two pairs of stories on one subject each: each story's nearest neighbour is its pair.
PAIRED_STORIES = [
    {"title": "Huur 1", "text": "Huurachterstand, deurwaarder en ontruiming dreigden." + FILLER},
    {"title": "Huur 2", "text": "De deurwaarder kwam om de huurachterstand; ontruiming." + FILLER},
    {"title": "Tuin", "text": "Samen de tuin opgeknapt met vrijwilligers uit de buurt." + FILLER},
    {"title": "Tuin 2", "text": "Vrijwilligers uit de buurt hielpen in de tuin." + FILLER},
]


def test_similar_stories_are_stored_and_shown(anonymous):
    ids = seed(
        anonymous,
        PAIRED_STORIES,
    )
    client = as_researcher(anonymous)
    client.get("/verhalen")  # indexes the queue; a small corpus gets neighbours at once
    rows = sql(
        client,
        "SELECT story_id, rank, neighbour_id FROM story_neighbours"
        " WHERE rank = 1 ORDER BY story_id",
    )
    assert {r["story_id"]: r["neighbour_id"] for r in rows} == {
        ids[0]: ids[1],
        ids[1]: ids[0],
        ids[2]: ids[3],
        ids[3]: ids[2],
    }
    page = client.get(f"/verhalen/{ids[0]}").text
    similar = page.split('id="vergelijkbaar"')[1]
    assert re.search(rf'href="/verhalen/{ids[1]}">Huur 2</a>', similar)


def test_new_stories_in_a_large_corpus_get_neighbours_without_the_batch(anonymous, monkeypatch):
    monkeypatch.setattr(search, "SMALL_CORPUS", 0)  # act as if the corpus were large
    ids = seed(
        anonymous,
        PAIRED_STORIES,
    )
    client = as_researcher(anonymous)
    client.get("/verhalen")  # indexes the new stories; their neighbours follow in the background
    client.portal.call(search.settle)
    rows = sql(client, "SELECT story_id, neighbour_id FROM story_neighbours WHERE rank = 1")
    assert {r["story_id"]: r["neighbour_id"] for r in rows} == {
        ids[0]: ids[1],
        ids[1]: ids[0],
        ids[2]: ids[3],
        ids[3]: ids[2],
    }
    # A later story enters the lists of the stories it resembles.
    (late,) = seed(
        anonymous,
        [
            {
                "title": "Huur 3",
                "text": "Weer de deurwaarder: huurachterstand en ontruiming." + FILLER,
            }
        ],
    )
    client.get("/verhalen")
    client.portal.call(search.settle)
    listed = sql(client, "SELECT story_id FROM story_neighbours WHERE neighbour_id = ?", (late,))
    assert {ids[0], ids[1]} <= {r["story_id"] for r in listed}
    assert (
        sql(client, "SELECT count(*) AS n FROM story_neighbours WHERE story_id = ?", (late,))[0][
            "n"
        ]
        >= 2
    )

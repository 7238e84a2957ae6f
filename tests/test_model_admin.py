"""The admin's NLP work: editing the taxonomy, re-tagging with a diff, training from review."""

from __future__ import annotations

import json
import re

from conftest import login, post_form, run_worker, story_form

from vertelpunt.cli import main
from vertelpunt.taxonomy import active_taxonomy, active_toml

DOG_STORY = (
    "Het gezin heeft drie honden en een kat. De hond van de buren blaft de hele nacht, en de "
    "honden van het gezin zelf zijn niet uitgelaten. Moeder vertelde dat de hond haar troost "
    "geeft. We spraken over een hondenuitlaatservice van vrijwilligers uit de wijk."
)
NEW_THEME = """
[[themes]]
id = "huisdieren"
label_nl = "Huisdieren"
label_en = "Pets"
definition = "Pets in the household and what they mean for the family."
examples = ["De hond van het gezin troost de kinderen."]
counter_examples = []
[themes.terms]
hond = 2.5
kat = 2.5
huisdier = 2.5
[themes.phrases]
"""


def tell(client, text: str) -> int:
    preview = post_form(client, "/vertel", story_form(client, text=text)).headers["location"]
    post_form(client, preview, {"action": "confirm", "mask": [str(i) for i in range(50)]})
    run_worker(client)
    return int(preview.split("/")[-2])


def wait_for_job(client):
    client.portal.call(client.app.state.jobs.wait)


def test_saving_the_taxonomy_makes_a_new_version_and_retags_with_a_diff(anonymous):
    client = anonymous
    login(client, "teller")
    story_id = tell(client, DOG_STORY)
    client.cookies.clear()
    login(client, "admin")
    db = client.app.state.db
    old = client.portal.call(active_taxonomy, db)
    page = client.get("/beheer/taxonomie")
    assert page.status_code == 200 and "veiligheid" in page.text
    toml = client.portal.call(active_toml, db)
    assert toml.lstrip().startswith("#")  # the shipped file, comments and all

    response = post_form(client, "/beheer/taxonomie", {"toml": toml + NEW_THEME})
    assert response.status_code == 303
    wait_for_job(client)
    new = client.portal.call(active_taxonomy, db)
    assert new.version != old.version and "huisdieren" in new.ids
    rows = client.portal.call(
        db.fetchall,
        "SELECT theme, taxonomy_version FROM story_themes"
        " WHERE story_id = ? AND source GLOB 'nlp:*'",
        (story_id,),
    )
    assert "huisdieren" in {r["theme"] for r in rows}
    assert {r["taxonomy_version"] for r in rows} == {new.version}

    page = client.get("/beheer/taxonomie").text
    assert "Laatste keer opnieuw taggen: klaar" in page
    job = client.app.state.jobs.last["retag"]
    assert job.result["gained"]["huisdieren"] == 1 and job.result["changed_stories"] >= 1
    with open(job.result["diff_file"], encoding="utf-8") as lines:
        diff = [json.loads(line) for line in lines]
    assert {"story": story_id, "gained": ["huisdieren"], "lost": []} in diff
    versions = client.portal.call(db.fetchall, "SELECT version FROM taxonomy_versions")
    assert len(versions) == 2
    actions = [r["action"] for r in client.portal.call(db.fetchall, "SELECT action FROM events")]
    assert "taxonomy.save" in actions and "job.retag.done" in actions


def test_an_invalid_taxonomy_is_refused_with_a_clear_message(anonymous):
    client = anonymous
    login(client, "admin")
    toml = client.portal.call(active_toml, client.app.state.db)
    broken = toml + '\n[[themes]]\nid = "veiligheid"\nlabel_nl = "Dubbel"\n'
    response = post_form(client, "/beheer/taxonomie", {"toml": broken})
    assert response.status_code == 422
    assert "De taxonomie klopt nog niet" in response.text
    assert "label_nl = &#34;Dubbel&#34;" in response.text  # the admin's text is kept
    response = post_form(client, "/beheer/taxonomie", {"toml": "dit is [geen toml"})
    assert response.status_code == 422


def test_training_from_review_reports_quality_and_agreement(anonymous):
    client = anonymous
    login(client, "teller")
    story_id = tell(client, DOG_STORY + " Er is een grote huurachterstand en de schulden lopen op.")
    db = client.app.state.db
    researcher = client.user_ids["researcher"]
    client.portal.call(_review, db, story_id, researcher)
    client.cookies.clear()
    login(client, "admin")
    assert post_form(client, "/beheer/trainen", {}).status_code == 303
    wait_for_job(client)
    job = client.app.state.jobs.last["train"]
    assert job.state == "done", job.error
    result = job.result
    assert result["reviewed_stories"] == 1
    assert set(result["per_theme"]) == set(client.portal.call(active_taxonomy, db).ids)
    assert 0 <= result["new_macro_f1"] <= 1
    assert result["promoted"] is True  # no model was active in this data folder
    page = client.get("/beheer/taxonomie").text
    assert "Laatste training: klaar" in page and "Cohens kappa" in page
    # The worker now tags with the new model, and says so in each tag's source.
    login(client, "teller")
    new_story = tell(client, DOG_STORY)
    sources = client.portal.call(
        db.fetchall, "SELECT DISTINCT source FROM story_themes WHERE story_id = ?", (new_story,)
    )
    assert f"nlp:{result['new_version']}" in {r["source"] for r in sources}


async def _review(db, story_id, user_id):
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO story_themes (story_id, theme, source, taxonomy_version, decision)"
            " VALUES (?, 'armoede', ?, '2026.1', 'add')",
            (story_id, f"human:{user_id}"),
        )


def test_cli_retag_prints_a_summary(anonymous, settings, capsys):
    client = anonymous
    login(client, "teller")
    tell(client, DOG_STORY)
    tell(client, "Een gewone dag in de wijk, met koffie bij het buurthuis en een praatje. " * 2)
    assert main(["retag", "--db", str(settings.db_path)]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["total"] == 2
    assert re.match(r"(m-|rules-only)", summary["model_version"])
    assert main(["retag", "--db", str(settings.db_path), "--processes", "0"]) == 2

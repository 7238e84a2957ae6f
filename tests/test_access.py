"""Who may use which route: every route, as every role and anonymously.

EXPECTED is this test's own table. A route added to the app without a line here fails
test_every_route_is_in_the_table; a rule that differs from this table fails the matrix.
"""

from __future__ import annotations

import re

import pytest
from conftest import USERS, csrf, login, post_form, story_form

from vertelpunt.app import iter_routes

ANYONE = {"anoniem", "verteller", "onderzoeker", "beheerder"}
LOGGED_IN = {"verteller", "onderzoeker", "beheerder"}
EXPECTED = {
    "home": ANYONE,
    "accessibility": ANYONE,
    "health": ANYONE,
    "login": ANYONE,
    "logout": ANYONE,
    "forgot_password": ANYONE,
    "reset_password": ANYONE,
    "accept_invite": ANYONE,
    "account": LOGGED_IN,
    "change_password": LOGGED_IN,
    "create_token": LOGGED_IN,
    "revoke_token": LOGGED_IN,
    "story_form": {"verteller"},
    "story_preview": {"verteller"},
    "story_thanks": {"verteller"},
    "my_stories": {"verteller"},
    "withdraw": ANYONE,
    "kept_original": {"verteller"},
    "story_list": {"verteller", "onderzoeker"},
    "story_detail": {"verteller", "onderzoeker"},
    "story_list_json": {"verteller", "onderzoeker"},
    "mark_significant": {"onderzoeker"},
    "patterns": {"onderzoeker"},
    "patterns_json": {"onderzoeker"},
    "add_observation": {"onderzoeker"},
    "review": {"onderzoeker"},
    "review_json": {"onderzoeker"},
    "review_decide": {"onderzoeker"},
    "admin": {"beheerder"},
    "admin_invite": {"beheerder"},
    "admin_update_user": {"beheerder"},
    "admin_add_team": {"beheerder"},
    "admin_settings": {"beheerder"},
    "admin_events": {"beheerder"},
    "admin_taxonomy": {"beheerder"},
    "admin_save_taxonomy": {"beheerder"},
    "admin_retag": {"beheerder"},
    "admin_train": {"beheerder"},
    "create_story": {"verteller"},
    "list_stories": {"verteller", "onderzoeker"},
    "get_story": {"verteller", "onderzoeker"},
    "confirm_story": {"verteller"},
    "list_themes": LOGGED_IN,
    # exports and imports (issue 7): researchers export, admins import
    "export": {"onderzoeker"},
    "export_report": {"onderzoeker"},
    "export_summary": {"onderzoeker"},
    "export_stories": {"onderzoeker"},
    "api_themes_summary": {"onderzoeker"},
    "api_export_summary": {"onderzoeker"},
    "api_export_stories": {"onderzoeker"},
    "admin_import": {"beheerder"},
    "admin_import_upload": {"beheerder"},
}
ROLE_OF = {
    "anoniem": None,
    "verteller": "teller",
    "onderzoeker": "researcher",
    "beheerder": "admin",
}


def all_routes(app):
    return list(iter_routes(app.routes))


def test_every_route_is_in_the_table(anonymous):
    names = {route.name for route in all_routes(anonymous.app)}
    assert names == set(EXPECTED), (
        f"routes without a line in EXPECTED: {names - set(EXPECTED)}; "
        f"lines for routes that are gone: {set(EXPECTED) - names}"
    )


def test_every_route_declares_the_expected_roles(anonymous):
    for route in all_routes(anonymous.app):
        assert set(route.allowed_roles) == EXPECTED[route.name], route.name


def make_story(client) -> int:
    """A confirmed story by the teller of Wijkteam Noord; logs that teller in."""
    login(client, "teller")
    preview = post_form(client, "/vertel", story_form(client)).headers["location"]
    post_form(client, preview, {"action": "confirm", "mask": [str(i) for i in range(50)]})
    return int(preview.split("/")[-2])


def is_forbidden(response, api: bool, anonymous: bool) -> bool:
    if anonymous:
        if api:
            return response.status_code == 401
        return response.status_code == 303 and "/inloggen" in response.headers["location"]
    return response.status_code == 403


@pytest.mark.parametrize("role", sorted(ANYONE))
def test_role_route_matrix(anonymous, role):
    client = anonymous
    story_id = make_story(client)
    client.cookies.clear()
    checked = 0
    for route in all_routes(client.app):
        path = route.full_path.replace("{id:int}", str(story_id)).replace("{token}", "onbekend")
        api = path.startswith("/api/")
        for method in sorted(route.methods - {"HEAD"}):
            client.cookies.clear()
            if ROLE_OF[role]:
                login(client, ROLE_OF[role])
            headers = {"x-csrf-token": csrf(client)} if api else {}
            if method == "GET":
                response = client.get(path, headers=headers)
            elif api:
                response = client.post(path, json={}, headers=headers)
            else:
                response = post_form(client, path, {})
            forbidden = is_forbidden(response, api, role == "anoniem")
            allowed = role in EXPECTED[route.name]
            assert forbidden != allowed, (
                f"{role} {method} {path}: status {response.status_code}, "
                f"expected {'allowed' if allowed else 'forbidden'}"
            )
            checked += 1
    assert checked >= len(EXPECTED)


def test_a_teller_cannot_read_another_teams_stories(anonymous):
    client = anonymous
    story_id = make_story(client)
    client.cookies.clear()
    login(client, "teller_b")
    for path in (
        f"/verhalen/{story_id}",
        f"/vertel/{story_id}/controle",
        f"/vertel/{story_id}/bedankt",
        f"/api/v1/stories/{story_id}",
    ):
        assert client.get(path).status_code == 404, path
    # Guessing ids finds nothing either, and the list shows only their own team.
    assert client.get("/api/v1/stories").json()["stories"] == []
    assert "Een plan met de buurvrouw" not in client.get("/verhalen").text
    # Their own team-mate can read it; a researcher too, and that view is logged.
    client.cookies.clear()
    login(client, "researcher")
    assert client.get(f"/verhalen/{story_id}").status_code == 200
    events = client.portal.call(
        client.app.state.db.fetchall,
        "SELECT actor, action, subject FROM events WHERE action = 'story.view'",
    )
    assert [(e["actor"], e["subject"]) for e in events] == [
        (USERS["researcher"][0], f"story:{story_id}")
    ]


def test_a_researcher_never_sees_the_original(anonymous):
    client = anonymous
    login(client, "teller")
    preview = post_form(client, "/vertel", story_form(client)).headers["location"]
    story_id = int(preview.split("/")[-2])
    client.cookies.clear()
    login(client, "researcher")
    assert client.get(preview).status_code == 403
    # Not confirmed yet: not readable for research at all.
    assert client.get(f"/verhalen/{story_id}").status_code == 404
    body = client.get("/api/v1/stories").text
    assert "Fatima" not in body


def test_admin_is_not_a_researcher(anonymous):
    client = anonymous
    story_id = make_story(client)
    client.cookies.clear()
    login(client, "admin")
    assert client.get(f"/verhalen/{story_id}").status_code == 403
    assert client.get("/verhalen").status_code == 403
    assert re.search(r"Beheer", client.get("/beheer").text)

"""Shared fixtures: a fresh database built from the migrations, and the app around it."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager

import pytest
from starlette.testclient import TestClient

from nlp import deidentify as deid
from vertelpunt.accounts import create_api_token, create_user
from vertelpunt.app import create_app
from vertelpunt.db import Database
from vertelpunt.demo import ensure_team
from vertelpunt.events import CLI
from vertelpunt.settings import Settings


@pytest.fixture(scope="session")
def warm_deidentifier():
    """Load deduce once for the whole run (it takes seconds)."""
    deid.warm()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env(
        env={}, db_path=tmp_path / "test.db", data_dir=tmp_path / "data", worker=False
    )


@pytest.fixture
def app(settings):
    return create_app(settings)


PASSWORD = "een lang genoeg testwachtwoord"
USERS = {
    "teller": ("teller@example.nl", "verteller", "Wijkteam Noord"),
    "teller_b": ("teller-b@example.nl", "verteller", "Buurtteam Zuid"),
    "researcher": ("researcher@example.nl", "onderzoeker", None),
    "admin": ("admin@example.nl", "beheerder", None),
}


@pytest.fixture
def anonymous(app, warm_deidentifier):
    """The app with start-up run, two teams in two municipalities, a user per role, nobody
    logged in, and no background worker (call `run_worker(client)` for queued work)."""
    with TestClient(app, follow_redirects=False) as client:
        db = app.state.db
        client.teams = {
            "Wijkteam Noord": client.portal.call(ensure_team, db, "Wijkteam Noord", "Zwolle"),
            "Buurtteam Zuid": client.portal.call(ensure_team, db, "Buurtteam Zuid", "Tilburg"),
        }
        client.user_ids = {}
        for key, (email, role, team) in USERS.items():
            teams = [client.teams[team]] if team else []
            client.user_ids[key] = client.portal.call(
                create_user, db, email, role, PASSWORD, teams, CLI
            )
        yield client


@pytest.fixture
def client(anonymous):
    """Logged in as a teller of Wijkteam Noord."""
    login(anonymous, "teller")
    return anonymous


def login(client, who: str, password: str = PASSWORD):
    email = USERS[who][0] if who in USERS else who
    response = client.post(
        "/inloggen", data={"email": email, "password": password, "csrf_token": csrf(client)}
    )
    client.csrf_token = csrf(client)
    return response


def csrf(client) -> str:
    """The CSRF token of this client's session, as a page hands it out."""
    page = client.get("/inloggen").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post_form(client, url: str, data: dict, **kwargs):
    return client.post(url, data={**data, "csrf_token": csrf(client)}, **kwargs)


def api_token(client, who: str) -> dict:
    """Headers for the API as `who`, with a fresh API token."""
    db = client.app.state.db
    token = client.portal.call(create_api_token, db, client.user_ids[who], "test", CLI)
    return {"authorization": f"Bearer {token}"}


def run_worker(client) -> int:
    return client.portal.call(client.app.state.worker.run_once)


STORY_TEXT = (
    "Ik kwam bij Fatima el Amrani thuis aan de Kastanjelaan 12 in Zwolle. Haar zoon Sem (7) "
    "sliep slecht sinds de huurachterstand en de brieven van de deurwaarder. Samen met de "
    "buurvrouw hebben we een plan gemaakt; de schuldhulpverlening nam het over. "
    "Bel me gerust op 06-12345678. Wat ik heb geleerd: begin bij wat het gezin zelf al doet."
)


def story_form(client, **overrides) -> dict:
    form = {
        "title": "Een plan met de buurvrouw",
        "text": STORY_TEXT,
        "team": str(client.teams["Wijkteam Noord"]),
        "month": "2025-03",
        "role": "wijkcoach",
        "lesson": "Vraag eerst wie er al helpt.",
        "themes": ["armoede", "informeel-netwerk"],
        "signifier_difference": "30",
        "signifier_outcome": "80",
    }
    form.update(overrides)
    return form


@asynccontextmanager
async def opened(db_path, **options):
    """An open Database on `db_path` (already migrated), closed afterwards."""
    db = Database(db_path, **options)
    await db.open()
    try:
        yield db
    finally:
        await db.close()

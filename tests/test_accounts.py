"""Accounts and security: logging in, sessions, CSRF, throttling, invites, tokens, audit."""

from __future__ import annotations

import re
import time

from conftest import PASSWORD, USERS, csrf, login, post_form, story_form

from vertelpunt import accounts, auth


def events(client, action: str):
    return client.portal.call(
        client.app.state.db.fetchall,
        "SELECT actor, action, subject, detail, ip FROM events WHERE action = ?",
        (action,),
    )


def test_login_sets_a_safe_cookie_and_a_new_session_id(anonymous):
    client = anonymous
    client.cookies.set(auth.SESSION_COOKIE, "fixated-by-an-attacker", domain="testserver.local")
    response = login(client, "teller")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # plain http in tests
    new = client.cookies.get(auth.SESSION_COOKIE)
    assert new and new != "fixated-by-an-attacker"
    assert client.get("/mijn-verhalen").status_code == 200
    assert events(client, "login.success")[0]["actor"] == USERS["teller"][0]


def test_wrong_password_and_unknown_account_get_the_same_message(anonymous):
    client = anonymous
    wrong = login(client, "teller", password="helemaal verkeerd wachtwoord")
    unknown = login(client, "niemand@example.nl", password="helemaal verkeerd wachtwoord")
    assert wrong.status_code == unknown.status_code == 401
    assert accounts.LOGIN_FAILED in wrong.text and accounts.LOGIN_FAILED in unknown.text
    assert len(events(client, "login.failure")) == 2


def test_lockout_after_repeated_failures_for_existing_and_unknown_accounts(anonymous):
    client = anonymous
    for who in ("teller", "niemand@example.nl"):
        for _ in range(accounts.ACCOUNT_LIMIT):
            login(client, who, password="helemaal verkeerd wachtwoord")
        locked = login(client, who)  # even the right password is refused now
        assert locked.status_code == 401
        assert "te vaak" in locked.text
    assert auth.SESSION_COOKIE not in client.cookies


def test_lockout_ends_after_the_window(anonymous):
    db = anonymous.app.state.db
    call = anonymous.portal.call
    past = time.time() - accounts.WINDOW_SECONDS - 5
    for _ in range(accounts.ACCOUNT_LIMIT):
        call(accounts.authenticate, db, USERS["teller"][0], "fout fout fout", "1.2.3.4", past)
    result = call(accounts.authenticate, db, USERS["teller"][0], PASSWORD, "1.2.3.4")
    assert result.message is None


def test_csrf_is_required_and_bound_to_the_session(anonymous):
    client = anonymous
    login(client, "teller")
    form = story_form(client)
    assert client.post("/vertel", data=form).status_code == 403
    assert client.post("/vertel", data={**form, "csrf_token": "x" * 64}).status_code == 403
    # A token from another session is refused.
    other_token = client.csrf_token
    client.cookies.clear()
    login(client, "teller")
    response = client.post("/vertel", data={**form, "csrf_token": other_token})
    assert response.status_code == 403
    assert "formulier was verlopen" in response.text
    # Cross-site requests are refused even with the right token.
    response = client.post(
        "/vertel",
        data={**form, "csrf_token": csrf(client)},
        headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
    )
    assert response.status_code == 403
    assert post_form(client, "/vertel", form).status_code == 303


def test_idle_and_absolute_session_timeouts(anonymous):
    client = anonymous
    login(client, "teller")
    db = client.app.state.db
    client.portal.call(_age_sessions, db, auth.IDLE_SECONDS + 1, 0)
    response = client.get("/mijn-verhalen")
    assert response.status_code == 303 and "/inloggen" in response.headers["location"]
    login(client, "teller")
    client.portal.call(_age_sessions, db, 0, auth.ABSOLUTE_SECONDS + 1)
    assert client.get("/mijn-verhalen").status_code == 303


async def _age_sessions(db, idle: float, absolute: float):
    async with db.write() as conn:
        await conn.execute(
            "UPDATE sessions SET last_seen_at = last_seen_at - ?, created_at = created_at - ?",
            (idle, absolute),
        )


def test_login_redirect_keeps_the_target_but_never_leaves_the_site(anonymous):
    client = anonymous
    response = client.get("/vertel")
    assert response.headers["location"] == "/inloggen?next=%2Fvertel"
    token = csrf(client)
    ok = client.post(
        "/inloggen",
        data={
            "email": USERS["teller"][0],
            "password": PASSWORD,
            "next": "/vertel",
            "csrf_token": token,
        },
    )
    assert ok.headers["location"] == "/vertel"
    client.cookies.clear()
    evil = client.post(
        "/inloggen",
        data={
            "email": USERS["teller"][0],
            "password": PASSWORD,
            "next": "//evil.example/x",
            "csrf_token": csrf(client),
        },
    )
    assert evil.headers["location"] == "/"


def test_password_change_logs_out_everywhere(anonymous, app):
    from starlette.testclient import TestClient

    client = anonymous
    login(client, "teller")
    other = TestClient(app, follow_redirects=False)
    login(other, "teller")
    assert other.get("/mijn-verhalen").status_code == 200
    new = "een heel nieuw wachtwoord voor mij"
    response = post_form(
        client, "/account/wachtwoord", {"current": PASSWORD, "password": new, "password2": new}
    )
    assert response.status_code == 303
    assert client.get("/mijn-verhalen").status_code == 200  # this browser got a fresh session
    assert other.get("/mijn-verhalen").status_code == 303  # the other one is logged out
    client.cookies.clear()
    assert login(client, "teller", password=new).status_code == 303


def test_weak_passwords_are_refused_in_dutch(anonymous):
    client = anonymous
    login(client, "teller")
    response = post_form(
        client,
        "/account/wachtwoord",
        {"current": PASSWORD, "password": "kort", "password2": "kort"},
    )
    assert response.status_code == 422 and "minstens 12 tekens" in response.text


def test_invite_flow_single_use_and_expiry(anonymous):
    client = anonymous
    login(client, "admin")
    page = post_form(
        client,
        "/beheer/uitnodigingen",
        {
            "email": "nieuw@example.nl",
            "role": "verteller",
            "team": str(client.teams["Buurtteam Zuid"]),
        },
    )
    link = re.search(r'id="uitnodigingslink">([^<]+)<', page.text).group(1)
    path = link.replace("http://testserver", "")
    client.cookies.clear()
    assert "nieuw@example.nl" in client.get(path).text
    password = "mijn eigen sterke wachtwoord"
    done = post_form(client, path, {"password": password, "password2": password})
    assert done.status_code == 303
    assert client.get("/vertel").status_code == 200
    assert "Buurtteam Zuid" in client.get("/vertel").text
    client.cookies.clear()
    assert client.get(path).status_code == 410  # single use

    # An expired invite is refused.
    db = client.app.state.db
    token = client.portal.call(
        accounts.create_invite, db, "later@example.nl", "onderzoeker", None, accounts.Actor("t")
    )
    client.portal.call(_expire_invites, db)
    response = client.get(f"/uitnodiging/{token}")
    assert response.status_code == 410 and "verlopen" in response.text


async def _expire_invites(db):
    async with db.write() as conn:
        await conn.execute("UPDATE invites SET expires_at = 0")


def test_password_reset_says_the_same_for_unknown_addresses(anonymous, caplog):
    client = anonymous
    known = post_form(client, "/wachtwoord-vergeten", {"email": USERS["teller"][0]})
    unknown = post_form(client, "/wachtwoord-vergeten", {"email": "niemand@example.nl"})
    assert (
        known.text.count("Als er een account is")
        == unknown.text.count("Als er een account is")
        == 1
    )
    link = next(r.getMessage() for r in caplog.records if "herstellink" in r.getMessage())
    path = "/wachtwoord-herstellen/" + link.rsplit("/", 1)[1]
    new = "een nieuw wachtwoord na reset"
    assert post_form(client, path, {"password": new, "password2": new}).status_code == 303
    client.cookies.clear()
    assert login(client, "teller", password=new).status_code == 303


def test_api_tokens_work_and_can_be_revoked(anonymous):
    client = anonymous
    login(client, "researcher")
    page = post_form(client, "/account/tokens", {"name": "mijn script"})
    token = re.search(r'id="nieuw-token">([^<]+)<', page.text).group(1)
    client.cookies.clear()
    headers = {"authorization": f"Bearer {token}"}
    assert client.get("/api/v1/stories", headers=headers).status_code == 200
    stored = client.portal.call(client.app.state.db.fetchall, "SELECT token_hash FROM api_tokens")
    assert token not in str([dict(r) for r in stored])  # only a hash is kept
    login(client, "researcher")
    token_id = re.search(r"/account/tokens/(\d+)/intrekken", client.get("/account").text).group(1)
    post_form(client, f"/account/tokens/{token_id}/intrekken", {})
    client.cookies.clear()
    assert client.get("/api/v1/stories", headers=headers).status_code == 401


def test_admin_changes_are_audited_and_the_log_pages(anonymous):
    client = anonymous
    login(client, "admin")
    post_form(client, "/beheer/teams", {"name": "Lokaal team Oost", "municipality": "Almelo"})
    post_form(
        client,
        "/beheer/instellingen",
        {"min_cell": "7", "keep_original": "0", "retention_days": "90"},
    )
    teller_id = client.user_ids["teller"]
    post_form(client, f"/beheer/gebruikers/{teller_id}", {"role": "onderzoeker", "active": "1"})
    actions = {
        e["action"]
        for e in client.portal.call(client.app.state.db.fetchall, "SELECT action FROM events")
    }
    assert {"team.add", "settings.update", "user.update", "login.success"} <= actions
    log_page = client.get("/beheer/logboek")
    assert "settings.update" in log_page.text and "min_cell=7" in log_page.text
    bad = post_form(
        client,
        "/beheer/instellingen",
        {"min_cell": "0", "keep_original": "0", "retention_days": "90"},
    )
    assert bad.status_code == 422


def test_deactivated_user_is_logged_out(anonymous, app):
    from starlette.testclient import TestClient

    teller = TestClient(app, follow_redirects=False)
    login(teller, "teller")
    client = anonymous
    login(client, "admin")
    teller_id = client.user_ids["teller"]
    post_form(client, f"/beheer/gebruikers/{teller_id}", {"role": "verteller"})
    assert teller.get("/mijn-verhalen").status_code == 303
    assert login(teller, "teller").status_code == 401


def test_passwords_are_argon2id_with_at_least_owasp_parameters(anonymous):
    row = anonymous.portal.call(
        anonymous.app.state.db.fetchone, "SELECT password_hash FROM users LIMIT 1"
    )
    params = dict(p.split("=") for p in row["password_hash"].split("$")[3].split(","))
    assert row["password_hash"].startswith("$argon2id$")
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2 and int(params["p"]) >= 1


def test_oversized_requests_are_refused(anonymous):
    client = anonymous
    login(client, "teller")
    response = post_form(client, "/vertel", story_form(client, text="x" * 3_000_000))
    assert response.status_code == 413


def test_an_expired_session_while_writing_keeps_the_story_text(anonymous):
    """WCAG 2.2.1: the draft lives in the browser, the login page says so, nothing is lost."""
    client = anonymous
    login(client, "teller")
    token = client.csrf_token
    client.portal.call(_age_sessions, client.app.state.db, auth.IDLE_SECONDS + 1, 0)
    response = client.post("/vertel", data={**story_form(client), "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/inloggen?next=%2Fvertel&verlopen=1"
    page = client.get(response.headers["location"])
    assert "Je sessie is verlopen" in page.text and "staat nog in deze browser" in page.text
    # The form page keeps a draft in the browser and never clears it before the story is stored.
    login(client, "teller")
    form_page = client.get("/vertel").text
    assert 'data-draft="verhaal"' in form_page and "data-clear-draft" not in form_page


def test_one_ip_address_trying_many_accounts_is_slowed_down(anonymous):
    db = anonymous.app.state.db
    call = anonymous.portal.call
    for i in range(accounts.IP_LIMIT):
        call(accounts.authenticate, db, f"gok{i}@example.nl", "fout fout fout", "9.9.9.9")
    from_that_ip = call(accounts.authenticate, db, USERS["teller"][0], PASSWORD, "9.9.9.9")
    assert from_that_ip.message == accounts.LOCKED
    elsewhere = call(accounts.authenticate, db, USERS["teller"][0], PASSWORD, "8.8.8.8")
    assert elsewhere.message is None

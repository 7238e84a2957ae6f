-- Accounts: server-side sessions, invites and resets, API tokens, login throttling, settings.

ALTER TABLE users ADD COLUMN password_changed_at TEXT;
ALTER TABLE users ADD COLUMN last_login_at TEXT;

-- A session is known by the SHA-256 of its cookie value, so a copy of the database does not
-- hand out live sessions.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   REAL NOT NULL,  -- unix seconds
    last_seen_at REAL NOT NULL,
    ip           TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Single-use, expiring links: an admin's invitation, or a password reset.
CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    email      TEXT NOT NULL COLLATE NOCASE,
    role       TEXT CHECK (role IS NULL OR role IN ('verteller', 'onderzoeker', 'beheerder')),
    team_id    INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at    REAL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    last_used_at TEXT,
    revoked_at   TEXT
);

-- Failed logins, per e-mail address as typed (existing account or not, so a lockout does not
-- reveal which addresses exist) and per IP address.
CREATE TABLE login_failures (
    id    INTEGER PRIMARY KEY,
    email TEXT NOT NULL COLLATE NOCASE,
    ip    TEXT,
    at    REAL NOT NULL
);
CREATE INDEX login_failures_email ON login_failures(email, at);
CREATE INDEX login_failures_ip ON login_failures(ip, at);

-- Admin settings that live in the database (small-number threshold, retention, ...).
CREATE TABLE app_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_by INTEGER REFERENCES users(id) ON DELETE SET NULL
);

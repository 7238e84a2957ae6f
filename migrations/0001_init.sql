-- Vertelpunt schema, version 1: the places, people, stories, tags and the audit log.

CREATE TABLE municipalities (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE teams (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT NOT NULL CHECK (role IN ('verteller', 'onderzoeker', 'beheerder')),
    password_hash TEXT,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE user_teams (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, team_id)
);

-- Every version of the theme taxonomy, as the TOML text it was saved as.
CREATE TABLE taxonomy_versions (
    version    TEXT PRIMARY KEY,
    toml       TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    created_by INTEGER REFERENCES users(id)
);
CREATE UNIQUE INDEX taxonomy_one_active ON taxonomy_versions(active) WHERE active = 1;

CREATE TABLE themes (
    taxonomy_version TEXT NOT NULL REFERENCES taxonomy_versions(version) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    label_nl         TEXT NOT NULL,
    label_en         TEXT NOT NULL,
    definition       TEXT NOT NULL,
    position         INTEGER NOT NULL,
    PRIMARY KEY (taxonomy_version, id)
);

-- A story. `original_text` is what the teller typed: kept only until the teller confirms the
-- masked version (data minimisation), unless an admin chose to keep originals encrypted. `text` is the confirmed, de-identified text: the only
-- text researchers ever see. status:
--   pending    stored for its teller only; de-identification has not run or failed (retried)
--   preview    masked version ready, waiting for the teller to check and confirm
--   confirmed  de-identified text confirmed; visible for research
--   withdrawn  withdrawn by its teller; all text removed
CREATE TABLE stories (
    id                   INTEGER PRIMARY KEY,
    status               TEXT NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'preview', 'confirmed', 'withdrawn')),
    title                TEXT NOT NULL,
    original_text        TEXT,
    original_encrypted   BLOB,  -- only when an admin chose to keep originals: see privacy.py
    original_delete_after TEXT, -- and then deleted after the retention period
    text                 TEXT,
    proposed_entities    TEXT,  -- JSON: the de-identifier's spans, for the teller's preview
    team_id              INTEGER NOT NULL REFERENCES teams(id),
    month                TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
    teller_role          TEXT NOT NULL,
    teller_id            INTEGER REFERENCES users(id) ON DELETE SET NULL,
    lesson               TEXT NOT NULL DEFAULT '',
    signifier_difference INTEGER CHECK (signifier_difference BETWEEN 0 AND 100),
    signifier_outcome    INTEGER CHECK (signifier_outcome BETWEEN 0 AND 100),
    origin               TEXT NOT NULL DEFAULT 'form' CHECK (origin IN ('form', 'api', 'demo', 'import')),
    demo_slug            TEXT UNIQUE,
    withdrawal_hash      TEXT,
    deid_attempts        INTEGER NOT NULL DEFAULT 0,
    deid_error           TEXT,
    nlp_status           TEXT NOT NULL DEFAULT 'waiting'
                         CHECK (nlp_status IN ('waiting', 'done', 'failed')),
    nlp_attempts         INTEGER NOT NULL DEFAULT 0,
    nlp_error            TEXT,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    confirmed_at         TEXT
);
CREATE INDEX stories_status ON stories(status);
CREATE INDEX stories_team_month ON stories(team_id, month);
CREATE INDEX stories_month ON stories(month);
CREATE INDEX stories_teller ON stories(teller_id);

-- A theme on a story, with where it came from: 'teller', 'nlp:<model version>' or
-- 'human:<user id>'. For human review rows, `decision` says what the reviewer did.
CREATE TABLE story_themes (
    id               INTEGER PRIMARY KEY,
    story_id         INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    theme            TEXT NOT NULL,
    source           TEXT NOT NULL CHECK (source = 'teller' OR source GLOB 'nlp:*' OR source GLOB 'human:*'),
    taxonomy_version TEXT NOT NULL,
    score            REAL CHECK (score IS NULL OR score BETWEEN 0 AND 1),
    evidence         TEXT NOT NULL DEFAULT '[]',  -- JSON [{"start": .., "end": ..}] into stories.text
    component        TEXT,
    decision         TEXT CHECK (decision IS NULL OR decision IN ('accept', 'reject', 'add')),
    reason           TEXT,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (story_id, theme, source)
);
CREATE INDEX story_themes_theme ON story_themes(theme, story_id);

CREATE TABLE lessons (
    id       INTEGER PRIMARY KEY,
    story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    source   TEXT NOT NULL,  -- 'teller' (the "Wat is de les?" field) or 'nlp:<model version>'
    start    INTEGER,        -- offsets into stories.text for nlp lessons
    end      INTEGER,
    text     TEXT NOT NULL
);
CREATE INDEX lessons_story ON lessons(story_id);

-- Append-only audit log: who did what, when and from where. Never holds story text.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor_id   INTEGER,
    actor      TEXT NOT NULL,  -- e-mail, 'anoniem', 'systeem' or 'cli'
    action     TEXT NOT NULL,
    subject    TEXT,           -- e.g. 'story:12'
    detail     TEXT NOT NULL DEFAULT '{}',
    ip         TEXT
);
CREATE INDEX events_at ON events(at);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- Research workspace: effective themes, the Dutch search index, similar stories, observations.
--
-- Derived tables here are kept in sync by triggers, so every path that changes tags or
-- stories (the web app, the worker, `vertelpunt retag`, the CLI, tests writing SQL) keeps
-- them right without having to know about them. Only stemming (a Python step) cannot run in
-- a trigger: confirmed stories are queued in search_queue and indexed by vertelpunt/search.py.

-- --- effective themes ---------------------------------------------------------------------
-- THE definition of "a story has a theme", used by browse, facets, patterns and exports:
-- a confirmed story has theme T when the teller or the NLP tagged it with T, or a reviewer
-- accepted or added T, and the most recent reviewer decision on (story, T) is not 'reject'.
-- by_teller / by_nlp / reviewed say where an effective theme comes from (the `bron` facet).
CREATE VIEW effective_themes AS
SELECT story_id, theme, by_teller, by_nlp, coalesce(review, '') IN ('accept', 'add') AS reviewed
FROM (
    SELECT st.story_id, st.theme,
           max(st.source = 'teller') AS by_teller,
           max(st.source GLOB 'nlp:*') AS by_nlp,
           (SELECT h.decision FROM story_themes h
             WHERE h.story_id = st.story_id AND h.theme = st.theme AND h.source GLOB 'human:*'
             ORDER BY h.created_at DESC, h.id DESC LIMIT 1) AS review
    FROM story_themes st JOIN stories s ON s.id = st.story_id
    WHERE s.status = 'confirmed'
    GROUP BY st.story_id, st.theme
)
WHERE coalesce(review, '') != 'reject'
  AND (by_teller OR by_nlp OR review IN ('accept', 'add'));

-- The view, materialised: one row per (story, effective theme), refreshed by the triggers
-- below for exactly the (story, theme) that changed. tests/test_browse.py checks that the
-- table always equals the view.
CREATE TABLE story_effective_themes (
    story_id  INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    theme     TEXT NOT NULL,
    by_teller INTEGER NOT NULL,
    by_nlp    INTEGER NOT NULL,
    reviewed  INTEGER NOT NULL,
    PRIMARY KEY (story_id, theme)
) WITHOUT ROWID;
CREATE INDEX story_effective_themes_theme
    ON story_effective_themes(theme, story_id, by_teller, by_nlp, reviewed);

INSERT INTO story_effective_themes SELECT * FROM effective_themes;

-- A counter that changes whenever anything the research views show changes; in-process
-- caches of facet counts and patterns are keyed by it (vertelpunt/filters.py).
CREATE TABLE research_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO research_state (id, version) VALUES (1, 1);

CREATE TRIGGER story_themes_effective_insert AFTER INSERT ON story_themes
BEGIN
    DELETE FROM story_effective_themes WHERE story_id = NEW.story_id AND theme = NEW.theme;
    INSERT INTO story_effective_themes
        SELECT * FROM effective_themes WHERE story_id = NEW.story_id AND theme = NEW.theme;
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER story_themes_effective_delete AFTER DELETE ON story_themes
BEGIN
    DELETE FROM story_effective_themes WHERE story_id = OLD.story_id AND theme = OLD.theme;
    INSERT INTO story_effective_themes
        SELECT * FROM effective_themes WHERE story_id = OLD.story_id AND theme = OLD.theme;
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER story_themes_effective_update AFTER UPDATE ON story_themes
BEGIN
    DELETE FROM story_effective_themes
     WHERE (story_id = OLD.story_id AND theme = OLD.theme)
        OR (story_id = NEW.story_id AND theme = NEW.theme);
    INSERT INTO story_effective_themes
        SELECT * FROM effective_themes
         WHERE (story_id = OLD.story_id AND theme = OLD.theme)
            OR (story_id = NEW.story_id AND theme = NEW.theme);
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lessons_research_insert AFTER INSERT ON lessons
BEGIN
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lessons_research_delete AFTER DELETE ON lessons
BEGIN
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;

-- --- full-text search ---------------------------------------------------------------------
-- Snowball stems of the masked title and of the masked text + lesson (see vertelpunt/search.py
-- for why stems). Only stems are stored here, never the readable text; snippets are cut
-- from stories.text. rowid = stories.id.
CREATE VIRTUAL TABLE story_fts USING fts5(
    title_stems, text_stems, tokenize = 'unicode61 remove_diacritics 2'
);

-- Per stem, in how many stories it occurs: the idf for similar stories of a new story.
CREATE VIRTUAL TABLE story_fts_vocab USING fts5vocab(story_fts, 'row');

-- Confirmed stories waiting to be stemmed and indexed.
CREATE TABLE search_queue (
    story_id INTEGER PRIMARY KEY REFERENCES stories(id) ON DELETE CASCADE
);
INSERT INTO search_queue (story_id) SELECT id FROM stories WHERE status = 'confirmed';

-- Top-5 most similar stories per story (TF-IDF on stems, cosine; nlp/similarity.py).
CREATE TABLE story_neighbours (
    story_id     INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    rank         INTEGER NOT NULL,
    neighbour_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    score        REAL NOT NULL,
    PRIMARY KEY (story_id, rank)
) WITHOUT ROWID;
CREATE INDEX story_neighbours_neighbour ON story_neighbours(neighbour_id);

CREATE TRIGGER stories_research_insert AFTER INSERT ON stories
WHEN NEW.status = 'confirmed'
BEGIN
    INSERT OR IGNORE INTO search_queue (story_id) VALUES (NEW.id);
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;

-- A story becomes visible for research: its themes count, its text gets indexed.
CREATE TRIGGER stories_research_confirm AFTER UPDATE OF status, title, text, lesson ON stories
WHEN NEW.status = 'confirmed'
BEGIN
    DELETE FROM story_effective_themes WHERE story_id = NEW.id;
    INSERT INTO story_effective_themes SELECT * FROM effective_themes WHERE story_id = NEW.id;
    INSERT OR IGNORE INTO search_queue (story_id) VALUES (NEW.id);
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;

-- A story leaves research (withdrawn): everything derived from its text goes with it.
CREATE TRIGGER stories_research_leave AFTER UPDATE OF status ON stories
WHEN OLD.status = 'confirmed' AND NEW.status != 'confirmed'
BEGIN
    DELETE FROM story_effective_themes WHERE story_id = OLD.id;
    DELETE FROM search_queue WHERE story_id = OLD.id;
    DELETE FROM story_fts WHERE rowid = OLD.id;
    DELETE FROM story_neighbours WHERE story_id = OLD.id OR neighbour_id = OLD.id;
    DELETE FROM significant_stories WHERE story_id = OLD.id;
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER stories_research_facts AFTER UPDATE OF team_id, month, teller_role,
    signifier_difference, signifier_outcome ON stories
WHEN NEW.status = 'confirmed'
BEGIN
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;

-- Browse and patterns select confirmed stories by month, team, role and signifiers: this
-- covering index answers those filters (and the newest-first order) without reading the
-- wide story rows, whose text makes a table scan ~50 times more pages to read.
CREATE INDEX stories_research ON stories(status, month, team_id, teller_role,
    signifier_difference, signifier_outcome, nlp_status);

-- Team and municipality names are labels in research views: a change must refresh caches.
CREATE TRIGGER teams_research_insert AFTER INSERT ON teams
BEGIN
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER teams_research_update AFTER UPDATE ON teams
BEGIN
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER municipalities_research_update AFTER UPDATE ON municipalities
BEGIN
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;

-- The review queue walks NLP tags from the least certain (score nearest the 0.5 threshold).
CREATE INDEX story_themes_nlp_margin ON story_themes(abs(score - 0.5), story_id)
    WHERE source GLOB 'nlp:*';

-- --- observations -------------------------------------------------------------------------
-- A researcher's observation about a pattern, with the filtered view (query string) it is
-- about and one or more interpretations of it.
CREATE TABLE observations (
    id         INTEGER PRIMARY KEY,
    author_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    text       TEXT NOT NULL,
    query      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE observation_interpretations (
    id             INTEGER PRIMARY KEY,
    observation_id INTEGER NOT NULL REFERENCES observations(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    text           TEXT NOT NULL,
    UNIQUE (observation_id, position)
);

-- "Most significant change": a story a researcher marks as most significant for a theme.
CREATE TABLE significant_stories (
    id         INTEGER PRIMARY KEY,
    story_id   INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    theme      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    author_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (story_id, theme, author_id)
);
CREATE INDEX significant_stories_theme ON significant_stories(theme, story_id);

-- Theme labels come from the active taxonomy.
CREATE TRIGGER taxonomy_research_insert AFTER INSERT ON taxonomy_versions
BEGIN
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER taxonomy_research_update AFTER UPDATE ON taxonomy_versions
BEGIN
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;

-- The small-number threshold k (app_settings.min_cell) is read through the same cache.
CREATE TRIGGER app_settings_research_insert AFTER INSERT ON app_settings
BEGIN
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER app_settings_research_update AFTER UPDATE ON app_settings
BEGIN
    UPDATE research_state SET version = version + 1 WHERE id = 1;
END;

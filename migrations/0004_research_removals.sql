-- Research caches (vertelpunt/filters.py) may lag behind additions on a large corpus, but
-- never behind removals. `removals` changes whenever something leaves or changes in what
-- researchers may see: a story withdrawn, deleted or edited after confirmation, its team,
-- month, role or signifiers changed, a team or municipality renamed, the taxonomy or the
-- small-number threshold changed. A cached value computed before such a change is never
-- served again. New stories and tags only raise `version` (as before).
ALTER TABLE research_state ADD COLUMN removals INTEGER NOT NULL DEFAULT 1;

CREATE TRIGGER stories_removal_leave AFTER UPDATE OF status ON stories
WHEN OLD.status = 'confirmed' AND NEW.status != 'confirmed'
BEGIN
    UPDATE research_state SET removals = removals + 1 WHERE id = 1;
END;

CREATE TRIGGER stories_removal_edit AFTER UPDATE OF title, text, lesson, team_id, month,
    teller_role, signifier_difference, signifier_outcome ON stories
WHEN OLD.status = 'confirmed'
BEGIN
    UPDATE research_state SET removals = removals + 1 WHERE id = 1;
END;

CREATE TRIGGER stories_removal_delete AFTER DELETE ON stories
WHEN OLD.status = 'confirmed'
BEGIN
    UPDATE research_state SET removals = removals + 1, version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER teams_removal_update AFTER UPDATE ON teams
BEGIN
    UPDATE research_state SET removals = removals + 1 WHERE id = 1;
END;

CREATE TRIGGER municipalities_removal_update AFTER UPDATE ON municipalities
BEGIN
    UPDATE research_state SET removals = removals + 1 WHERE id = 1;
END;

CREATE TRIGGER taxonomy_removal_insert AFTER INSERT ON taxonomy_versions
BEGIN
    UPDATE research_state SET removals = removals + 1 WHERE id = 1;
END;

CREATE TRIGGER taxonomy_removal_update AFTER UPDATE ON taxonomy_versions
BEGIN
    UPDATE research_state SET removals = removals + 1 WHERE id = 1;
END;

CREATE TRIGGER app_settings_removal_insert AFTER INSERT ON app_settings
BEGIN
    UPDATE research_state SET removals = removals + 1 WHERE id = 1;
END;

CREATE TRIGGER app_settings_removal_update AFTER UPDATE ON app_settings
BEGIN
    UPDATE research_state SET removals = removals + 1 WHERE id = 1;
END;

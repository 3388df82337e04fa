-- Run headers keep a run's result (D9), a rollback's progress (D7) and who drives the run (D8;
-- SQLite has one driving process, PATH.lock, so owner and fence stay as written). Only added
-- columns with defaults: headers written by version 1 read as before.
ALTER TABLE cano_runs ADD COLUMN final_state TEXT    NOT NULL DEFAULT '';
ALTER TABLE cano_runs ADD COLUMN attempts    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cano_runs ADD COLUMN failure     TEXT;  -- JSON: the run's error
ALTER TABLE cano_runs ADD COLUMN rollback    TEXT;  -- JSON: the saga drain's record
ALTER TABLE cano_runs ADD COLUMN owner       TEXT    NOT NULL DEFAULT '';
ALTER TABLE cano_runs ADD COLUMN fence       INTEGER NOT NULL DEFAULT 0;

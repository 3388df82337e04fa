-- Run records (issue 15): listing runs newest first, the last state of a run whose log was
-- cleared, and the history a finished run's rows move to when the store keeps history
-- (with_history_retention). Only an added column with a default, new tables and indexes.
ALTER TABLE cano_runs ADD COLUMN last_state TEXT NOT NULL DEFAULT ''; -- noted when the log is cleared

-- list_runs: newest first, a page at a time (created_at, then workflow_id, both descending).
CREATE INDEX cano_runs_by_created ON cano_runs (created_at, workflow_id);

-- The rows of finished runs, moved here instead of being deleted. run_created_at is the
-- created_at of the run's header when its rows moved: it tells the runs of one id apart (a new
-- run of a finished id replaces its header, and its history shows only its own rows).
CREATE TABLE cano_checkpoint_history (
  workflow_id      TEXT    NOT NULL,
  sequence         INTEGER NOT NULL,
  state            TEXT    NOT NULL,
  task_id          TEXT    NOT NULL,
  output_blob      BLOB,
  kind             INTEGER NOT NULL,
  workflow_version INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,           -- unix ms of the append
  run_created_at   INTEGER NOT NULL,           -- unix ms: cano_runs.created_at of its run
  archived_at      INTEGER NOT NULL,           -- unix ms of the move; purges go by it
  PRIMARY KEY (workflow_id, run_created_at, sequence) -- a run's history is one range of the key
) WITHOUT ROWID;
CREATE INDEX cano_checkpoint_history_by_age ON cano_checkpoint_history (archived_at);

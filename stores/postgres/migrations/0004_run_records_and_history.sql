-- Run records (issue 15): listing runs newest first, the last state of a run whose log was
-- cleared, and the history a finished run's rows move to when the store keeps history
-- (with_history_retention). Only an added column with a default, new tables, indexes and a
-- trigger: code of migration 3 reads and writes as before.
ALTER TABLE cano_runs ADD COLUMN last_state text NOT NULL DEFAULT ''; -- noted when the log is cleared

-- list_runs: newest first, a page at a time (created_at, then workflow_id, both descending).
CREATE INDEX cano_runs_by_created ON cano_runs (created_at, workflow_id);

-- The rows of finished runs, moved here instead of being deleted. run_created_at is the
-- created_at of the run's header when its rows moved: it tells the runs of one id apart (a new
-- run of a finished id replaces its header, and its history shows only its own rows).
CREATE TABLE cano_checkpoint_history (
  workflow_id      text        NOT NULL,
  sequence         bigint      NOT NULL,
  state            text        NOT NULL,
  task_id          text        NOT NULL,
  output_blob      bytea,
  kind             smallint    NOT NULL,
  workflow_version bigint      NOT NULL,
  created_at       timestamptz NOT NULL, -- when the row was appended
  run_created_at   timestamptz NOT NULL, -- cano_runs.created_at of its run
  archived_at      timestamptz NOT NULL  -- when it moved here; purges go by it
);
CREATE INDEX cano_checkpoint_history_by_run ON cano_checkpoint_history (workflow_id, run_created_at, sequence);
CREATE INDEX cano_checkpoint_history_by_age ON cano_checkpoint_history (archived_at);

-- When a log is cleared, its newest state entry becomes the header's last state, so a run rolled
-- back cleanly still says where it stopped. Completed runs are skipped (their final_state says
-- it), which keeps the common end of a run free of a second header update. One UPDATE per
-- DELETE statement, whatever the batch size.
CREATE FUNCTION cano_note_last_state() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE cano_runs r SET last_state = g.state
    FROM (SELECT DISTINCT ON (c.workflow_id) c.workflow_id, c.state
            FROM cano_cleared c JOIN cano_runs h ON h.workflow_id = c.workflow_id AND h.status <> 'completed'
           WHERE c.kind = 0
           ORDER BY c.workflow_id, c.sequence DESC) g
   WHERE r.workflow_id = g.workflow_id AND r.last_state <> g.state;
  RETURN NULL;
END
$$;
CREATE TRIGGER cano_checkpoints_note_last_state AFTER DELETE ON cano_checkpoints
  REFERENCING OLD TABLE AS cano_cleared FOR EACH STATEMENT EXECUTE FUNCTION cano_note_last_state();

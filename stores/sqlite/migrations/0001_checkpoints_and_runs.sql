-- The write-ahead log: one row per state entered, saga step completed or step cursor, dense
-- sequences per run starting at 0. The primary key is what rejects a duplicate
-- (workflow_id, sequence): appends use INSERT ... ON CONFLICT DO NOTHING and report a conflict
-- when no row changed, so the first row always stays.
CREATE TABLE cano_checkpoints (
  workflow_id      TEXT    NOT NULL,
  sequence         INTEGER NOT NULL,           -- u64 in the API, at most 2^63 - 1 here
  state            TEXT    NOT NULL,           -- the state's label
  task_id          TEXT    NOT NULL,           -- the task's name; '' for split and exit states
  output_blob      BLOB,                       -- JSON bytes: saga output or step cursor; NULL for
                                               -- a state entry (an empty blob stays empty)
  kind             INTEGER NOT NULL DEFAULT 0, -- 0 state entry, 1 compensation completion,
                                               -- 2 step cursor; anything else reads as 0
  workflow_version INTEGER NOT NULL DEFAULT 0, -- Workflow::with_workflow_version (u32)
  created_at       INTEGER NOT NULL,           -- unix time of the append, milliseconds
  append_token     TEXT    NOT NULL,           -- 128 random bits (32 hex digits) per row: after
                                               -- an in-doubt commit, tells whether our row landed
  PRIMARY KEY (workflow_id, sequence)          -- one run is one ordered range of the key
) WITHOUT ROWID;

-- Run headers: what a new process needs to find and resume unfinished runs (resume_all).
CREATE TABLE cano_runs (
  workflow_id      TEXT    PRIMARY KEY,
  definition       TEXT    NOT NULL,           -- Workflow::with_name
  workflow_version INTEGER NOT NULL,
  input            TEXT    NOT NULL,           -- the run's input as JSON text ('null' for none)
  status           TEXT    NOT NULL,           -- cano::to_string(RunStatus)
  created_at       INTEGER NOT NULL,           -- unix ms; an update keeps the first non-zero one
  updated_at       INTEGER NOT NULL            -- unix ms of the latest header write
) WITHOUT ROWID;

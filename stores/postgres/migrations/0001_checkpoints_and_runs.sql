-- One row per checkpoint: cano-e2e's columns and types, plus when it was written and the token
-- that lets a retried, in-doubt commit recognise its own rows.
CREATE TABLE cano_checkpoints (
  workflow_id      text        NOT NULL,
  sequence         bigint      NOT NULL,
  state            text        NOT NULL,
  task_id          text        NOT NULL,
  output_blob      bytea,                          -- JSON text of a saga output or a cursor
  kind             smallint    NOT NULL DEFAULT 0, -- 0 entry, 1 saga output, 2 step cursor
  workflow_version bigint      NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  append_token     text        NOT NULL,
  PRIMARY KEY (workflow_id, sequence)
);

-- One header per run: what resume_all needs to find and restart unfinished runs.
CREATE TABLE cano_runs (
  workflow_id      text        PRIMARY KEY,
  definition       text        NOT NULL,
  workflow_version bigint      NOT NULL,
  input            jsonb       NOT NULL,
  status           text        NOT NULL, -- running, completed, failed, rolled_back, interrupted
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);
CREATE INDEX cano_runs_unfinished ON cano_runs (status) WHERE status IN ('running', 'interrupted');

-- One mark per committed batch: after a lost connection it tells whether the commit happened.
CREATE TABLE cano_commit_marks (
  token      text        PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

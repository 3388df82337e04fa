-- Run headers keep a run's result (D9), a rollback's progress (D7) and who drives the run (D8).
-- Only added columns with defaults: headers written by migration 1's code read as before.
ALTER TABLE cano_runs
  ADD COLUMN final_state text    NOT NULL DEFAULT '', -- the exit state's label once completed
  ADD COLUMN attempts    integer NOT NULL DEFAULT 0,  -- drivers that started or resumed the run
  ADD COLUMN failure     jsonb,                       -- the run's error (category, message, nested)
  ADD COLUMN rollback    jsonb,                       -- the saga drain: stack, undone, errors
  ADD COLUMN owner       text    NOT NULL DEFAULT '', -- the store identity that drives the run
  ADD COLUMN fence       bigint  NOT NULL DEFAULT 0;  -- incremented by every claim
-- Status 'compensating' is unfinished too; so is any status this version cannot read (listed as
-- unreadable, never skipped).
CREATE INDEX cano_runs_not_final ON cano_runs (status) WHERE status NOT IN ('completed', 'failed', 'rolled_back');
-- One row per owner identity: its epoch moves whenever another owner takes one of its runs over.
-- A batch holds its owner's row FOR SHARE and re-checks each run's owner and fence only when the
-- epoch moved (a claim's UPDATE of this row waits for the batch in flight, and the batch after
-- the claim sees the new epoch): the fence check of D8 at the cost of one row per batch.
CREATE TABLE cano_owners (
  owner      text        PRIMARY KEY,
  epoch      bigint      NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);

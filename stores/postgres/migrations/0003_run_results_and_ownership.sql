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

-- Durable cancel requests (cano 0.15 §4.3): any process may ask the owner of an unfinished run to
-- cancel it by setting cancel_requested_at — a request, not a write into the run, so it checks no
-- owner or fence. Each owner polls for the requests on its runs with one query (the partial index
-- keeps it to the runs that have one). Header writes never clear it; a new run of the id starts
-- without one.
ALTER TABLE cano_runs ADD COLUMN cancel_requested_at timestamptz; -- NULL: nobody asked
CREATE INDEX cano_runs_cancel_requested ON cano_runs (owner)
  WHERE cancel_requested_at IS NOT NULL AND status NOT IN ('completed', 'failed', 'rolled_back');

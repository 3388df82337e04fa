-- The cluster's membership (cano::node): one row per node incarnation. A node renews its lease in
-- one statement per interval, judged by this server's clock (now()), never a node's; a node
-- that finds its own row dead rejoins under a new incarnation. Owner identities of nodes are
-- "<node_id>#<incarnation>" (cano_runs.owner, cano_owners.owner).
CREATE TABLE cano_nodes (
  node_id     text        NOT NULL,
  incarnation bigint      NOT NULL,
  address     text        NOT NULL,                -- host:port of its node actor
  definitions jsonb       NOT NULL DEFAULT '[]',   -- [{"name": ..., "version": ...}] it serves
  state       text        NOT NULL,                -- joining | active | draining | dead
  started_at  timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz NOT NULL,
  PRIMARY KEY (node_id, incarnation)
);
-- A dead node's unfinished runs are given owner 'orphan' (fence + 1) in the transaction that
-- declares it dead; survivors claim them from there. This index finds them, and a node's own.
CREATE INDEX cano_runs_owner_unfinished ON cano_runs (owner) WHERE status NOT IN ('completed', 'failed', 'rolled_back');
-- Placement picks the node with the fewest unfinished runs, then the one given fewest lately.
CREATE INDEX cano_runs_owner_created ON cano_runs (owner, created_at);

-- Scheduled flows of a cluster (cano/cluster_flow.hpp): one row per flow id. Its leader, the node
-- incarnation "<node_id>#<incarnation>" that fires it, holds it while that incarnation is active
-- in cano_nodes; fence moves by one at each change of leader. A fire locks the row, checks leader
-- and fence, writes the run's header ("<flow_id>@<tick>", start-or-get) and marks the flow
-- running, in one transaction. The status columns are cano's FlowInfo, kept here so that they
-- outlive a change of leader.
CREATE TABLE cano_flows (
  flow_id          text        PRIMARY KEY,
  leader           text        NOT NULL DEFAULT '',     -- '' before any
  fence            bigint      NOT NULL DEFAULT 0,
  kind             text        NOT NULL,                -- every | cron | manual (as its leader declared it)
  schedule         text        NOT NULL DEFAULT '',     -- "every 30s", "cron 0 0 2 * * *", "manual"
  definition       text        NOT NULL,
  workflow_version bigint      NOT NULL DEFAULT 0,
  input            jsonb       NOT NULL DEFAULT 'null', -- each run's input
  status           text        NOT NULL DEFAULT 'idle', -- idle | running | completed | backoff | tripped
  failure_streak   bigint      NOT NULL DEFAULT 0,
  last_error       text        NOT NULL DEFAULT '',
  next_eligible    timestamptz,                         -- the end of the backoff window ('infinity': never)
  run_count        bigint      NOT NULL DEFAULT 0,
  last_run         timestamptz,                         -- when the last run was dispatched
  last_tick        timestamptz,                         -- the scheduled time of the last fire
  current_run      text        NOT NULL DEFAULT '',     -- the last fire's run id
  fired_by         text        NOT NULL DEFAULT '',     -- of that run: schedule | trigger
  next_tick        timestamptz,                         -- when the next tick is due ('infinity': never)
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

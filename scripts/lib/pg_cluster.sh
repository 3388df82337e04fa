# shellcheck shell=bash
# Throwaway PostgreSQL 15 clusters (run as user postgres) for integration tests.
#   pg_cluster_start        -> the shared cluster: exports CANO_PG_DSN, CANO_PG_AUTH_DSN,
#                              CANO_PG_AUTH_PASSWORD, CANO_PG_PORT, CANO_PG_BASE, CANO_PG_CTL
#   pg_cluster_start fault  -> a second cluster that tests may stop and restart without
#                              disturbing the others: exports CANO_PG_FAULT_DSN, CANO_PG_FAULT_CTL
#   pg_cluster_stop         -> stops every cluster started here and removes its directory (safe
#                              to call twice)
# CANO_PG_CTL / CANO_PG_FAULT_CTL are commands taking stop|start|restart|status.

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
PG_BIN=/usr/lib/postgresql/15/bin
PG_BASES=()

# Run a command as postgres from a directory postgres can read (runuser keeps the cwd).
_pg_as_postgres() {
  local base="$1"
  shift
  (cd "$base" && runuser -u postgres -- "$@")
}

_pg_free_port() {
  local p
  for ((p = 55432; p < 55532; p++)); do
    # The connect failing means nobody listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "pg_cluster: no free port in 55432-55531" >&2
  return 1
}

_pg_fail() {
  local base="$1"
  echo "pg_cluster: $2" >&2
  if [[ -f "$base/server.log" ]]; then
    echo "----- $base/server.log -----" >&2
    cat "$base/server.log" >&2
  fi
  return 1
}

pg_cluster_start() {
  local name="${1:-}" base port data
  base=$(mktemp -d /tmp/cano-pg.XXXXXX) || return 1
  PG_BASES+=("$base")
  chown postgres:postgres "$base" && chmod 700 "$base" || return 1
  data="$base/data"
  port=$(_pg_free_port) || return 1

  _pg_as_postgres "$base" "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$base/initdb.log" 2>&1 \
    || { cat "$base/initdb.log" >&2; _pg_fail "$base" "initdb failed"; return 1; }

  # pg_hba.conf is first-match: the scram line must precede initdb's trust lines.
  { echo "host all cano_auth 127.0.0.1/32 scram-sha-256"; cat "$data/pg_hba.conf"; } \
    >"$data/pg_hba.conf.new" && mv "$data/pg_hba.conf.new" "$data/pg_hba.conf" \
    && chown postgres:postgres "$data/pg_hba.conf" || return 1
  echo "password_encryption = 'scram-sha-256'" >>"$data/postgresql.conf"

  _pg_as_postgres "$base" "$PG_BIN/pg_ctl" -D "$data" -l "$base/server.log" -w -t 60 \
    -o "-p $port -k $base -c listen_addresses=127.0.0.1" start >/dev/null \
    || { _pg_fail "$base" "pg_ctl start failed"; return 1; }

  # The cluster's own control command, for tests that stop and restart it.
  printf '#!/usr/bin/env bash\nCANO_PG_BASE=%q CANO_PG_PORT=%q exec %q "$@"\n' \
    "$base" "$port" "$ROOT/scripts/pg_ctl_helper.sh" >"$base/ctl.sh" && chmod 755 "$base/ctl.sh"

  local dsn="host=127.0.0.1 port=$port user=postgres dbname=postgres"
  if [[ "$name" == fault ]]; then
    export CANO_PG_FAULT_DSN="$dsn"
    export CANO_PG_FAULT_CTL="$base/ctl.sh"
  else
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
      -c "CREATE ROLE cano_auth LOGIN PASSWORD 'cano-secret-pw'" \
      -c "CREATE DATABASE cano_auth OWNER cano_auth" \
      || { _pg_fail "$base" "creating role cano_auth failed"; return 1; }
    export CANO_PG_PORT="$port"
    export CANO_PG_BASE="$base"
    export CANO_PG_DSN="$dsn"
    export CANO_PG_AUTH_DSN="host=127.0.0.1 port=$port user=cano_auth dbname=cano_auth"
    export CANO_PG_AUTH_PASSWORD=cano-secret-pw
    export CANO_PG_CTL="$base/ctl.sh"
  fi
  echo "pg_cluster: PostgreSQL 15 ${name:+($name) }on 127.0.0.1:$port ($base)" >&2
}

pg_cluster_stop() {
  local base
  for base in "${PG_BASES[@]}"; do
    [[ -n "$base" && -d "$base" ]] || continue
    if [[ -f "$base/data/postmaster.pid" ]]; then
      _pg_as_postgres "$base" "$PG_BIN/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$base"
  done
  PG_BASES=()
  return 0
}

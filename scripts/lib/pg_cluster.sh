# shellcheck shell=bash
# Throwaway PostgreSQL 15 cluster (run as user postgres) for integration tests.
#   pg_cluster_start  -> exports CANO_PG_DSN, CANO_PG_AUTH_DSN, CANO_PG_AUTH_PASSWORD,
#                        CANO_PG_PORT, CANO_PG_BASE, CANO_PG_CTL
#   pg_cluster_stop   -> stops the server and removes its directory (safe to call twice)

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
PG_BIN=/usr/lib/postgresql/15/bin
PG_BASE=""

# Run a command as postgres. runuser keeps the cwd, which postgres must be able to
# read, so run from PG_BASE (owned by postgres) in a subshell.
_pg_as_postgres() {
  (cd "$PG_BASE" && runuser -u postgres -- "$@")
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
  echo "pg_cluster: $1" >&2
  if [[ -f "$PG_BASE/server.log" ]]; then
    echo "----- $PG_BASE/server.log -----" >&2
    cat "$PG_BASE/server.log" >&2
  fi
  return 1
}

pg_cluster_start() {
  local port data
  PG_BASE=$(mktemp -d /tmp/cano-pg.XXXXXX) || return 1
  chown postgres:postgres "$PG_BASE" && chmod 700 "$PG_BASE" || return 1
  data="$PG_BASE/data"
  port=$(_pg_free_port) || return 1

  _pg_as_postgres "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$PG_BASE/initdb.log" 2>&1 \
    || { cat "$PG_BASE/initdb.log" >&2; _pg_fail "initdb failed"; return 1; }

  # pg_hba.conf is first-match: the scram line must precede initdb's trust lines.
  { echo "host all cano_auth 127.0.0.1/32 scram-sha-256"; cat "$data/pg_hba.conf"; } \
    >"$data/pg_hba.conf.new" && mv "$data/pg_hba.conf.new" "$data/pg_hba.conf" \
    && chown postgres:postgres "$data/pg_hba.conf" || return 1
  echo "password_encryption = 'scram-sha-256'" >>"$data/postgresql.conf"

  _pg_as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$PG_BASE/server.log" -w -t 60 \
    -o "-p $port -k $PG_BASE -c listen_addresses=127.0.0.1" start >/dev/null \
    || { _pg_fail "pg_ctl start failed"; return 1; }

  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE cano_auth LOGIN PASSWORD 'cano-secret-pw'" \
    -c "CREATE DATABASE cano_auth OWNER cano_auth" \
    || { _pg_fail "creating role cano_auth failed"; return 1; }

  export CANO_PG_PORT="$port"
  export CANO_PG_BASE="$PG_BASE"
  export CANO_PG_DSN="host=127.0.0.1 port=$port user=postgres dbname=postgres"
  export CANO_PG_AUTH_DSN="host=127.0.0.1 port=$port user=cano_auth dbname=cano_auth"
  export CANO_PG_AUTH_PASSWORD=cano-secret-pw
  export CANO_PG_CTL="$ROOT/scripts/pg_ctl_helper.sh"
  echo "pg_cluster: PostgreSQL 15 on 127.0.0.1:$port ($PG_BASE)" >&2
}

pg_cluster_stop() {
  [[ -n "$PG_BASE" && -d "$PG_BASE" ]] || return 0
  if [[ -f "$PG_BASE/data/postmaster.pid" ]]; then
    _pg_as_postgres "$PG_BIN/pg_ctl" -D "$PG_BASE/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_BASE"
  PG_BASE=""
  return 0
}

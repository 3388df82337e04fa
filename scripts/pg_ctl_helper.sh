#!/usr/bin/env bash
# Control the throwaway cluster started by scripts/lib/pg_cluster.sh (used by tests
# that exercise reconnects). Usage: pg_ctl_helper.sh stop|start|restart|status
# Needs CANO_PG_BASE and CANO_PG_PORT; exits with pg_ctl's exit code.
set -uo pipefail

action="${1:-}"
case "$action" in
  stop | start | restart | status) ;;
  *) echo "usage: $0 stop|start|restart|status" >&2; exit 2 ;;
esac
: "${CANO_PG_BASE:?CANO_PG_BASE not set}" "${CANO_PG_PORT:?CANO_PG_PORT not set}"

args=(-D "$CANO_PG_BASE/data")
case "$action" in
  start | restart)
    args+=(-l "$CANO_PG_BASE/server.log" -w -t 60
      -o "-p $CANO_PG_PORT -k $CANO_PG_BASE -c listen_addresses=127.0.0.1") ;;
  stop) args+=(-m fast -w) ;;
esac

# runuser keeps the cwd, which must be readable by postgres.
cd "$CANO_PG_BASE" || exit 1
if [[ "$(id -un)" == postgres ]]; then
  exec /usr/lib/postgresql/15/bin/pg_ctl "${args[@]}" "$action"
fi
exec runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl "${args[@]}" "$action"

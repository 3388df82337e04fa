#!/usr/bin/env bash
# Install deps, build, start a throwaway PostgreSQL and run the whole ctest suite.
# Fails if any test fails, is skipped/disabled/not run, or if no tests ran at all.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib/packages.sh
source scripts/lib/build.sh
source scripts/lib/pg_cluster.sh

cano_install_packages
# The tree's formatting is part of the build's contract (.clang-format; --fix to apply).
./scripts/check-format.sh
# Our own code must build without warnings here (consumers get warnings, never errors).
cano_build build -DCANO_ACTOR_WARNINGS_AS_ERRORS=ON

# Trap first so a half-started cluster is cleaned too. INT/TERM stop a running ctest
# and exit, which runs the EXIT trap.
on_signal() {
  local pid kids
  for pid in $(jobs -p); do
    # ctest ignores INT and on TERM leaves its running tests behind: kill them too.
    kids=$(pgrep -P "$pid" || true)
    # shellcheck disable=SC2086  # one pid per word
    kill "$pid" $kids 2>/dev/null || true
  done
  exit "$1"
}
trap pg_cluster_stop EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
pg_cluster_start
pg_cluster_start fault # for tests that stop and restart their server

export CANO_REQUIRE_PG=1
log="$ROOT/build/ctest.log"
rc=0
# Run in the background and wait: bash defers traps until a foreground command ends,
# but interrupts `wait`. With pipefail, waiting on $! yields the pipeline's status.
(cd build && exec ctest --output-on-failure --timeout 600 -j2) 2>&1 | tee "$log" &
wait $! || rc=$?

if ((rc != 0)); then
  echo "test.sh: ctest failed (exit $rc), see $log" >&2
  exit "$rc"
fi
pattern='Not Run|\*\*\*Skipped|Disabled'
if grep -qE "$pattern" "$log"; then
  echo "test.sh: some tests did not run:" >&2
  grep -E "$pattern" "$log" | sort -u >&2
  exit 1
fi
total=$(sed -nE 's/.*tests passed, 0 tests failed out of ([0-9]+).*/\1/p' "$log" | tail -n1)
if [[ -z "$total" || "$total" -eq 0 ]]; then
  echo "test.sh: no tests ran" >&2
  exit 1
fi
echo "test.sh: all $total tests passed"

#!/usr/bin/env bash
# Benchmarks (figures only, no assertions): builds, starts a throwaway PostgreSQL cluster with
# fsync=on (the default; never turned off) so the durable workloads have a server, and runs
# cano-bench. Extra arguments go to cano-bench, e.g. ./scripts/bench.sh --seconds 10 --json
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib/packages.sh
source scripts/lib/build.sh
source scripts/lib/pg_cluster.sh

cano_install_packages
cano_build build

trap pg_cluster_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
pg_cluster_start

workloads=(linear10 concurrent1000 linear10_blocking split100_all split10000 split8_cpu parked100k linear10_ckpt_mem
  pg_raw_ceiling linear10_ckpt_pg_c1 linear10_ckpt_pg_c100 linear10_ckpt_pg_c1000
  sqlite_raw_ceiling linear10_ckpt_sqlite_c1 linear10_ckpt_sqlite_c100 linear10_ckpt_sqlite_c1000
  failover_kill failover_stop cluster_throughput scheduler_ticks)
args=()
for w in "${workloads[@]}"; do args+=(--workload "$w"); done
./build/apps/cano-bench/cano-bench "${args[@]}" "$@"

#!/usr/bin/env bash
# Install deps, build, and run the demo application with the given arguments.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/lib/packages.sh
source scripts/lib/build.sh

cano_install_packages
cano_build build
exec ./build/apps/cano-demo/cano-demo "$@"

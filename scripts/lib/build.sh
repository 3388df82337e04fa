# shellcheck shell=bash
# Configure and build the project (Release), with extra cmake arguments if given. Re-running is
# cheap: cmake is idempotent.

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

cano_build() {
  local build_dir="${1:?usage: cano_build BUILD_DIR [CMAKE_ARGS...]}"
  shift
  cmake -S "$ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@"
  cmake --build "$build_dir" -j2
}

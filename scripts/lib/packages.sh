# shellcheck shell=bash
# Ensure the Debian packages needed to build and test the project are installed.

CANO_PACKAGES=(
  g++ cmake make pkg-config ccache
  libcaf-dev libssl-dev libpqxx-dev libpq-dev nlohmann-json3-dev
  libboost-test-dev libsqlite3-dev libcli11-dev
  graphviz # `cano graph --format svg` and its test
  prometheus-cpp-dev libcpp-httplib-dev libspdlog-dev # the metrics, status page and spdlog components
  chromium # the status page's tests load it in headless Chromium
  postgresql-15 postgresql-client-15 openssl
  clang-format # scripts/check-format.sh, run by test.sh
)

cano_install_packages() {
  local p missing=()
  for p in "${CANO_PACKAGES[@]}"; do
    # dpkg-query also knows removed-but-configured packages; only this status means usable.
    if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
      missing+=("$p")
    fi
  done
  ((${#missing[@]} == 0)) && return 0

  echo "packages: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

#!/usr/bin/env bash
# Installs the Debian packages llmcc builds and tests with. Idempotent: packages already present
# are skipped. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(build-essential cmake ninja-build nlohmann-json3-dev libcli11-dev libfmt-dev
          libgtest-dev libgmock-dev libbenchmark-dev libomp-dev libssl-dev libpcre2-dev libsentencepiece-dev libcpp-httplib-dev
          pkg-config binutils tar python3 python3-pip)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install_deps: all packages present"
  exit 0
fi
echo "install_deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"

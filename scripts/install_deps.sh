#!/usr/bin/env bash
# Installs the Debian packages llmcc builds and tests with (and the aarch64 cross toolchain and
# qemu-user that the aarch64 target's tests run under). Idempotent: packages already present
# are skipped. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(build-essential cmake ninja-build nlohmann-json3-dev libcli11-dev libfmt-dev
          libgtest-dev libgmock-dev libbenchmark-dev libomp-dev libssl-dev libpcre2-dev libsentencepiece-dev libcpp-httplib-dev
          pkg-config binutils tar python3 python3-pip iproute2 chromium
          g++-aarch64-linux-gnu qemu-user libssl-dev:arm64 libgtest-dev:arm64)

# The serve tests drive the server with the official openai client, parse /metrics with
# prometheus_client and validate constrained JSON output with jsonschema.
python_packages=(openai==3.60.0 prometheus_client==0.26.0 jsonschema==4.26.0)
install_python_packages() {
  python3 -c "import openai, prometheus_client, jsonschema" 2>/dev/null && return 0
  echo "install_deps: pip installing ${python_packages[*]}"
  local flags=(--quiet --disable-pip-version-check)
  python3 -m pip install --help | grep -q -- --break-system-packages && flags+=(--break-system-packages)
  python3 -m pip install "${flags[@]}" "${python_packages[@]}"
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install_deps: all packages present"
  install_python_packages
  exit 0
fi
echo "install_deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
# The aarch64 runtime links Debian's arm64 OpenSSL, and its kernel tests arm64 GoogleTest (multiarch).
dpkg --print-foreign-architectures | grep -qx arm64 || "${sudo_cmd[@]}" dpkg --add-architecture arm64
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
install_python_packages

#!/usr/bin/env bash
# Configures and builds llmcc into build/ (Release with debug info). With arguments, builds only
# those targets (e.g. `scripts/build.sh llmcc`).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
if (($#)); then cmake --build build --target "$@"; else cmake --build build; fi

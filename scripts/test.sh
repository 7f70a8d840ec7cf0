#!/usr/bin/env bash
# Builds llmcc and runs every test. This is the command the README and CI give.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j2

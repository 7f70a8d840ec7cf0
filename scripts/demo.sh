#!/usr/bin/env bash
# The README's main command: set up, build, compile a built-in preset, and run it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
mkdir -p out
time build/llmcc compile tinyllama_1b --quantization q0f16 --device cpu -o out/tinyllama_1b-q0f16.so
build/llmcc model_metadata out/tinyllama_1b-q0f16.so --memory-only

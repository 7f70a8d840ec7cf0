#!/usr/bin/env bash
# The README's main command: set up, build, compile the built-in TinyLlama-1.1B preset, then run
# the whole pipeline (convert_weight -> compile -> generate) on a committed tiny checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
mkdir -p out
echo "== compile the tinyllama_1b preset (no files needed)"
time build/llmcc compile tinyllama_1b --quantization q0f16 --device cpu -o out/tinyllama_1b-q0f16.so
build/llmcc model_metadata out/tinyllama_1b-q0f16.so --memory-only
echo "== convert, compile and generate with tests/data/models/llama_gqa_tied (random weights)"
build/llmcc convert_weight tests/data/models/llama_gqa_tied --quantization q0f32 -o out/llama_gqa_tied-q0f32
build/llmcc compile tests/data/models/llama_gqa_tied --quantization q0f32 -o out/llama_gqa_tied-q0f32.so
build/llmcc generate out/llama_gqa_tied-q0f32 --model-lib out/llama_gqa_tied-q0f32.so \
    --prompt-ids 1,17,200,33,5,91,142,7,250,64,12,180 --max-tokens 16

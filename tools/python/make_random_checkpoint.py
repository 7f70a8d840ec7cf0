#!/usr/bin/env python3
"""Writes a random-weight Hugging Face Llama checkpoint of a given shape, streaming one tensor at a
time so that it needs little memory. Used to measure convert_weight on a realistic size.

  python3 tools/python/make_random_checkpoint.py OUT_DIR [--preset tinyllama] [--dtype f16]

Needs only numpy. The default shape is TinyLlama-1.1B (dim 2048, 22 layers, 32 heads, 4 KV heads,
ffn 5632, vocab 32000): 2.2 GB in f16.
"""
import argparse
import json
import os
import struct

import numpy as np

PRESETS = {
    "tinyllama": dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                      num_attention_heads=32, num_key_value_heads=4, vocab_size=32000,
                      max_position_embeddings=2048),
}


def tensor_list(c):
    h, i, d = c["hidden_size"], c["intermediate_size"], c["hidden_size"] // c["num_attention_heads"]
    kv = c["num_key_value_heads"] * d
    out = [("model.embed_tokens.weight", (c["vocab_size"], h))]
    for layer in range(c["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        out += [(p + "self_attn.q_proj.weight", (h, h)), (p + "self_attn.k_proj.weight", (kv, h)),
                (p + "self_attn.v_proj.weight", (kv, h)), (p + "self_attn.o_proj.weight", (h, h)),
                (p + "mlp.gate_proj.weight", (i, h)), (p + "mlp.up_proj.weight", (i, h)),
                (p + "mlp.down_proj.weight", (h, i)), (p + "input_layernorm.weight", (h,)),
                (p + "post_attention_layernorm.weight", (h,))]
    return out + [("model.norm.weight", (h,)), ("lm_head.weight", (c["vocab_size"], h))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--preset", default="tinyllama", choices=sorted(PRESETS))
    parser.add_argument("--dtype", default="f16", choices=["f16", "f32"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    np_dtype, st_dtype = (np.float16, "F16") if args.dtype == "f16" else (np.float32, "F32")
    config = dict(PRESETS[args.preset], model_type="llama", architectures=["LlamaForCausalLM"],
                  rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                  bos_token_id=1, eos_token_id=2, torch_dtype="float16" if args.dtype == "f16" else "float32")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    tensors = tensor_list(config)
    header, offset = {}, 0
    for name, shape in tensors:
        nbytes = int(np.prod(shape)) * np.dtype(np_dtype).itemsize
        header[name] = {"dtype": st_dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * ((8 - len(blob) % 8) % 8)
    rng = np.random.default_rng(args.seed)
    with open(os.path.join(args.out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name, shape in tensors:
            scale = 1.0 if "norm" in name else 0.02
            base = 1.0 if "norm" in name else 0.0
            f.write((base + scale * rng.standard_normal(shape, dtype=np.float32)).astype(np_dtype).tobytes())
    print(f"wrote {args.out}: {offset / 1e9:.2f} GB of {args.dtype} weights")


if __name__ == "__main__":
    main()

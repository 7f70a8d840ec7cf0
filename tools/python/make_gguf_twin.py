#!/usr/bin/env python3
"""Writes a committed random-weight Qwen2 or Qwen3 checkpoint (tests/data/models/NAME) as an F32
GGUF laid out as llama.cpp's converter lays it out (tensor names, metadata keys, no q/k
permutation for these architectures), so llmcc's GGUF import can be checked against the same
model's Hugging Face goldens. The vocabulary is the 256 byte-level tokens of the random models,
without merges, under the `qwen2` pre-tokenizer.

  python3 tools/python/make_gguf_twin.py qwen2_gqa_tied [--out tests/data/gguf]

Needs numpy and the `gguf` package from PyPI. CI reads the committed file.
"""
import argparse
import json
import os
import struct

import gguf
import numpy as np

LAYER_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight", "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.weight": "attn_k.weight", "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.weight": "attn_v.weight", "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight", "self_attn.k_norm.weight": "attn_k_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def gguf_name(hf):
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    parts = hf.split(".")
    return f"blk.{parts[2]}." + LAYER_NAMES[".".join(parts[3:])]


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        assert info["dtype"] == "F32", "write the twin from an f32 checkpoint"
        yield name, np.frombuffer(data[begin:end], dtype=np.float32).reshape(info["shape"])


def byte_level_alphabet():
    """GPT-2's byte-to-unicode map, in byte order: token i is byte i."""
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../tests/data"))
    args = parser.parse_args()
    src = os.path.join(args.data, "models", args.name)
    c = json.load(open(os.path.join(src, "config.json")))
    arch = c["model_type"]
    heads = c["num_attention_heads"]
    out_dir = os.path.join(args.data, "gguf")
    os.makedirs(out_dir, exist_ok=True)
    w = gguf.GGUFWriter(os.path.join(out_dir, args.name + ".gguf"), arch)
    w.add_name(args.name)
    w.add_context_length(c["max_position_embeddings"])
    w.add_embedding_length(c["hidden_size"])
    w.add_block_count(c["num_hidden_layers"])
    w.add_feed_forward_length(c["intermediate_size"])
    w.add_head_count(heads)
    w.add_head_count_kv(c.get("num_key_value_heads", heads))
    head_dim = c.get("head_dim") or c["hidden_size"] // heads
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_layer_norm_rms_eps(c["rms_norm_eps"])
    rope = c.get("rope_parameters") or {}
    w.add_rope_freq_base(rope.get("rope_theta", c.get("rope_theta", 10000.0)))
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(byte_level_alphabet()[: c["vocab_size"]])
    w.add_token_types([gguf.TokenType.NORMAL] * c["vocab_size"])
    w.add_token_merges([])
    w.add_bos_token_id(c["bos_token_id"])
    w.add_eos_token_id(c["eos_token_id"])
    for name, tensor in read_safetensors(os.path.join(src, "model.safetensors")):
        w.add_tensor(gguf_name(name), np.ascontiguousarray(tensor))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {args.name}.gguf ({arch}, {c['num_hidden_layers']} layers)")


if __name__ == "__main__":
    main()

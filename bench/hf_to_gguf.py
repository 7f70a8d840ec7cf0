#!/usr/bin/env python3
"""Writes a Hugging Face Llama checkpoint (config.json + model.safetensors) as an F16 GGUF, so
llama.cpp can be benchmarked on exactly the weights llmcc runs. Random-weight checkpoints have no
tokenizer; this writes a placeholder SentencePiece-style vocabulary of the right size (special
tokens, the 256 byte tokens, then filler), which is all llama-bench needs.

  python3 bench/hf_to_gguf.py /tmp/tinyllama-random /tmp/tinyllama-f16.gguf

Needs numpy and the `gguf` package from PyPI.
"""
import json
import os
import struct
import sys

import gguf
import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    dtypes = {"F16": np.float16, "F32": np.float32}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        yield name, data[begin:end].view(dtypes[info["dtype"]]).reshape(info["shape"])


def permute(w, heads):
    # llama.cpp stores q/k rows interleaved per head rather than rotate-half.
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main():
    src, out = sys.argv[1], sys.argv[2]
    c = json.load(open(os.path.join(src, "config.json")))
    heads, kv_heads = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
    w = gguf.GGUFWriter(out, "llama")
    w.add_name("llmcc-bench")
    w.add_context_length(c.get("max_position_embeddings", 2048))
    w.add_embedding_length(c["hidden_size"])
    w.add_block_count(c["num_hidden_layers"])
    w.add_feed_forward_length(c["intermediate_size"])
    w.add_rope_dimension_count(c["hidden_size"] // heads)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(c.get("rms_norm_eps", 1e-5))
    w.add_rope_freq_base(c.get("rope_theta", 10000.0))
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    vocab = c["vocab_size"]
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
    tokens += [f"\u2581t{i}" for i in range(vocab - len(tokens))]
    types += [gguf.TokenType.NORMAL] * (vocab - len(types))
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * 3 + [0.0] * 256 + [-float(i) for i in range(vocab - 259)])
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    per_layer = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
                 "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
                 "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                 "mlp.down_proj": "ffn_down"}
    for name, t in read_safetensors(os.path.join(src, "model.safetensors")):
        if name in names:
            gname = names[name]
        else:
            parts = name.split(".")
            layer, key = parts[2], ".".join(parts[3:-1])
            gname = f"blk.{layer}.{per_layer[key]}.weight"
        if name.endswith("q_proj.weight"):
            t = permute(t, heads)
        elif name.endswith("k_proj.weight"):
            t = permute(t, kv_heads)
        t = np.ascontiguousarray(t.astype(np.float32 if t.ndim == 1 else np.float16))
        w.add_tensor(gname, t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes a committed random-weight Qwen2, Qwen3, Gemma, Gemma 2 or Gemma 3 checkpoint
(tests/data/models/NAME, f32 or bf16) as an F32 GGUF laid out as llama.cpp's converter lays it out (tensor names, metadata keys, no q/k
permutation for these architectures, Gemma's norms stored as 1 + w), so llmcc's GGUF import can
be checked against the same model's Hugging Face goldens. Qwen's vocabulary is the 256
byte-level tokens of the random models, without merges, under the `qwen2` pre-tokenizer; Gemma's
is the Gemma-style SentencePiece test tokenizer (tests/data/tokenizers/gemma/tokenizer.model),
written as llama.cpp's _create_vocab_sentencepiece writes one (pieces, scores, token types).

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


# Gemma 2/3's sandwich norms (Llama's ffn_norm is HF's post_attention_layernorm).
SANDWICH_NAMES = {
    "post_attention_layernorm.weight": "post_attention_norm.weight",
    "pre_feedforward_layernorm.weight": "ffn_norm.weight",
    "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
}
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}{%- if messages[0]['role'] == 'system' -%}{%- set first_user_prefix = "
    "messages[0]['content'] + '\n\n' -%}{%- set loop_messages = messages[1:] -%}{%- else -%}"
    "{%- set first_user_prefix = \"\" -%}{%- set loop_messages = messages -%}{%- endif -%}"
    "{%- for message in loop_messages -%}{%- if (message['role'] == 'assistant') -%}"
    "{%- set role = \"model\" -%}{%- else -%}{%- set role = message['role'] -%}{%- endif -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else \"\") }}"
    "{{ message['content'] | trim }}{{ '<end_of_turn>\n' }}{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{'<start_of_turn>model\n'}}{%- endif -%}")


# Gemma 1 and 2's: no system role.
GEMMA_1_2_CHAT_TEMPLATE = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}{% if (message['role'] == 'assistant') %}"
    "{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
    "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}")


def sentencepiece_vocab(model_file):
    """tokens, scores and llama.cpp token types (SentencePiece's piece types) of a tokenizer.model."""
    from sentencepiece import sentencepiece_model_pb2
    proto = sentencepiece_model_pb2.ModelProto()
    with open(model_file, "rb") as f:
        proto.ParseFromString(f.read())
    return ([p.piece for p in proto.pieces], [p.score for p in proto.pieces],
            [int(p.type) for p in proto.pieces])


def gguf_name(hf, arch="qwen2"):
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    parts = hf.split(".")
    rest = ".".join(parts[3:])
    if arch in ("gemma2", "gemma3") and rest in SANDWICH_NAMES:
        return f"blk.{parts[2]}." + SANDWICH_NAMES[rest]
    return f"blk.{parts[2]}." + LAYER_NAMES[rest]


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        if info["dtype"] == "BF16":  # widened exactly: bf16 is the top half of an f32
            bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            yield name, bits.view(np.float32).reshape(info["shape"])
            continue
        assert info["dtype"] == "F32", "write the twin from an f32 or bf16 checkpoint"
        yield name, np.frombuffer(raw, dtype=np.float32).reshape(info["shape"])


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
    arch = {"gemma3_text": "gemma3"}.get(c["model_type"], c["model_type"])
    gemma = arch.startswith("gemma")
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
    rope = rope.get("full_attention", rope)  # Gemma 3: the global layers' RoPE
    w.add_rope_freq_base(rope.get("rope_theta", c.get("rope_theta", 10000.0)))
    if rope.get("rope_type") == "linear":
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(rope["factor"])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    if gemma:
        if arch == "gemma2":
            w.add_attn_logit_softcapping(c["attn_logit_softcapping"])
            w.add_final_logit_softcapping(c["final_logit_softcapping"])
            w.add_sliding_window(c["sliding_window"])
            # llama.cpp's converter writes no scale (it assumes head_dim, or hidden / heads on
            # the 27B); this model's query_pre_attn_scalar is neither, so the twin says it with
            # the attention.scale key, which llmcc reads.
            w.add_float32(gguf.Keys.Attention.SCALE.format(arch=arch),
                          c["query_pre_attn_scalar"] ** -0.5)
            # llama.cpp's default pattern for Gemma 2: even layers slide.
            assert all((t == "sliding_attention") == (i % 2 == 0)
                       for i, t in enumerate(c["layer_types"]))
        if arch == "gemma3":
            assert c.get("attn_logit_softcapping") is None
            if c.get("final_logit_softcapping"):
                w.add_final_logit_softcapping(c["final_logit_softcapping"])
            w.add_sliding_window(c["sliding_window"])
            w.add_sliding_window_pattern([t == "sliding_attention" for t in c["layer_types"]])
        tokens, scores, types = sentencepiece_vocab(
            os.path.join(args.data, "tokenizers", "gemma", "tokenizer.model"))
        # Models of 256 tokens carry the vocabulary's first 256 pieces: a valid vocabulary for
        # the import, not one to tokenize text with (the 512-token models test that).
        assert len(tokens) >= c["vocab_size"]
        tokens, scores, types = (v[: c["vocab_size"]] for v in (tokens, scores, types))
        w.add_tokenizer_model("llama")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_scores(scores)
        w.add_token_types(types)
        w.add_add_space_prefix(False)
        w.add_add_bos_token(True)
        w.add_bos_token_id(2)
        w.add_eos_token_id(1)
        w.add_unk_token_id(3)
        w.add_pad_token_id(0)
        w.add_chat_template(GEMMA_CHAT_TEMPLATE if arch == "gemma3" else GEMMA_1_2_CHAT_TEMPLATE)
    else:
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("qwen2")
        w.add_token_list(byte_level_alphabet()[: c["vocab_size"]])
        w.add_token_types([gguf.TokenType.NORMAL] * c["vocab_size"])
        w.add_token_merges([])
        w.add_bos_token_id(c["bos_token_id"])
        w.add_eos_token_id(c["eos_token_id"])
    for name, tensor in read_safetensors(os.path.join(src, "model.safetensors")):
        if gemma and name.endswith("norm.weight"):
            tensor = tensor + np.float32(1)  # as llama.cpp's Gemma converters store them
        w.add_tensor(gguf_name(name, arch), np.ascontiguousarray(tensor))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {args.name}.gguf ({arch}, {c['num_hidden_layers']} layers)")


if __name__ == "__main__":
    main()

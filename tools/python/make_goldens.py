#!/usr/bin/env python3
"""Creates tiny random-weight checkpoints (Llama, Qwen2) with Hugging Face transformers and records
their logits, the correctness oracle for llmcc's end-to-end tests.

For each model it writes tests/data/models/<name>/ (config.json plus safetensors, in the dtype and
sharding given below) and tests/data/goldens/<name>.json:
  {"prompt": [...], "tokens": [32 greedy tokens], "logits": [[vocab floats] x 33]}
logits[0] is the prediction after the prompt, logits[i] the one after greedy token i.

Needs torch and transformers (PyPI). CI does not run this: it reads the committed files.
  python3 tools/python/make_goldens.py [--out tests/data] [--only NAME ...]
"""
import argparse
import json
import os
import shutil

import torch
from transformers import (AutoModelForCausalLM, Gemma2Config, Gemma3TextConfig, GemmaConfig,
                          GPT2Config, GPTNeoXConfig, LlamaConfig, MistralConfig, Phi3Config,
                          Qwen2Config, Qwen3Config)

PROMPT = [1, 17, 200, 33, 5, 91, 142, 7, 250, 64, 12, 180]
STEPS = 32
# Seeds are searched until every step's top-2 logit gap is at least this fraction of max|logit|,
# so that a reduced-precision run (q0f16) can be required to pick the same greedy tokens.
MIN_RELATIVE_MARGIN = 0.01

MODELS = {
    # name: (config overrides, storage dtype, max shard size or None)
    "llama_mha": (dict(num_attention_heads=4, num_key_value_heads=4), torch.float32, None),
    "llama_gqa_tied": (dict(num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True),
                       torch.bfloat16, None),
    "llama3_rope_scaling": (dict(num_attention_heads=8, num_key_value_heads=2, rope_theta=500000.0,
                                 rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                               "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                               "original_max_position_embeddings": 32}),
                            torch.float16, "150KB"),
    "llama_odd_sizes": (dict(hidden_size=72, head_dim=24, num_attention_heads=4,
                             num_key_value_heads=1, intermediate_size=100, num_hidden_layers=3),
                        torch.float32, None),
    # Qwen2: q/k/v biases (randomised below: HF initialises them to zero, which would hide a
    # missing bias), tied embeddings as on Qwen2.5-0.5B, and odd sizes with one KV head.
    "qwen2_gqa_tied": (dict(family="qwen2", num_attention_heads=4, num_key_value_heads=2,
                            tie_word_embeddings=True), torch.float32, None),
    "qwen2_odd_sizes": (dict(family="qwen2", hidden_size=72, num_attention_heads=4,
                             num_key_value_heads=1, intermediate_size=100, num_hidden_layers=3),
                        torch.bfloat16, None),
    # Qwen3: per-head q/k RMSNorm (weights randomised below: HF initialises them to one) and a
    # head_dim that is not hidden / heads; untied with GQA, and tied in f16.
    "qwen3_head_dim": (dict(family="qwen3", hidden_size=64, head_dim=24, num_attention_heads=4,
                            num_key_value_heads=2, intermediate_size=96, num_hidden_layers=3),
                       torch.float32, None),
    "qwen3_tied": (dict(family="qwen3", num_attention_heads=4, num_key_value_heads=1,
                        tie_word_embeddings=True), torch.float16, None),
    # Mistral: a sliding window of 13 (not a multiple of llmcc's 16-token pages) under a 44-token
    # sequence, so most positions see only part of the past.
    "mistral_sliding_window": (dict(family="mistral", num_attention_heads=4, num_key_value_heads=2,
                                    sliding_window=13), torch.float32, None),
    # Phi-3: the checkpoint itself stores the fused qkv_proj and gate_up_proj, and (as
    # Phi-3-mini-4k) a sliding window, here 20 under the 44-token sequence.
    "phi3_fused": (dict(family="phi3", num_attention_heads=4, num_key_value_heads=2,
                        sliding_window=20, pad_token_id=0), torch.float32, None),
    # Phi-3 128k's rope: longrope with short and long factors, switched when a forward reaches past
    # original_max_position_embeddings (32 here, inside the 44-token sequence, so decoding crosses
    # it), with partial rotary (0.75 of head_dim 16: 12 rotated dims, 6 factors each).
    "phi3_longrope": (dict(family="phi3", num_attention_heads=4, num_key_value_heads=2,
                           pad_token_id=0, partial_rotary_factor=0.75,
                           original_max_position_embeddings=32,
                           rope_scaling={"rope_type": "longrope",
                                         "short_factor": [1.0, 1.05, 1.2, 1.5, 1.9, 2.4],
                                         "long_factor": [1.0, 1.6, 2.7, 4.1, 6.3, 9.5]}),
                      torch.float32, None),
    # Qwen2.5's long-context rope: YaRN (factor 4 over an original 32 positions).
    "qwen2_yarn": (dict(family="qwen2", num_attention_heads=4, num_key_value_heads=2,
                        rope_scaling={"rope_type": "yarn", "factor": 4.0,
                                      "original_max_position_embeddings": 32}),
                   torch.float32, None),
    # Linear position interpolation, in f16.
    "llama_linear_rope": (dict(num_attention_heads=4, num_key_value_heads=2,
                               rope_scaling={"rope_type": "linear", "factor": 2.5}),
                          torch.float16, None),
    # Gemma: tied embeddings (always), head_dim 24 unrelated to hidden / heads, GeGLU with the tanh
    # GELU, (1 + w) norms (weights randomised below: HF initialises them to zero) and the
    # embedding scaled by sqrt(hidden) in bf16.
    "gemma_head_dim": (dict(family="gemma", head_dim=24, num_attention_heads=4,
                            num_key_value_heads=1, tie_word_embeddings=True,
                            hidden_activation="gelu_pytorch_tanh"), torch.bfloat16, None),
    # Gemma 2: sandwich norms, attention and final-logit softcaps small enough to bite, an
    # attention scale from query_pre_attn_scalar (20, not head_dim 16), and sliding layers (0 and
    # 2, window 13) alternating with full ones under the 44-token sequence.
    "gemma2_softcap_window": (dict(family="gemma2", num_hidden_layers=3, num_attention_heads=4,
                                   num_key_value_heads=2, head_dim=16, tie_word_embeddings=True,
                                   query_pre_attn_scalar=20, attn_logit_softcapping=3.0,
                                   final_logit_softcapping=15.0, sliding_window=13),
                              torch.float32, None),
    # Gemma 3 (text): per-head (1 + w) q/k norms, sliding layers rotating with base 1e4 and a
    # global layer with base 1e6 and linear scaling x4, window 13, in f32. Its 512-token vocabulary
    # is the size of the Gemma-style SentencePiece test tokenizer, which its GGUF twin carries.
    "gemma3_local_global": (dict(family="gemma3", vocab_size=512, num_hidden_layers=3, num_attention_heads=4,
                                 num_key_value_heads=2, head_dim=32, tie_word_embeddings=True,
                                 query_pre_attn_scalar=32, sliding_window=13,
                                 layer_types=["sliding_attention", "sliding_attention",
                                              "full_attention"],
                                 rope_parameters={
                                     "full_attention": {"rope_type": "linear", "factor": 4.0,
                                                        "rope_theta": 1e6},
                                     "sliding_attention": {"rope_type": "default",
                                                           "rope_theta": 1e4}}),
                            torch.float32, None),
    # GPT-2: learned absolute positions (wpe), LayerNorm with bias, GELU-tanh, Conv1D weights
    # stored [in, out], a fused c_attn with bias, a tied head.
    "gpt2_learned_positions": (dict(family="gpt2"), torch.float32, None),
    # ... and in f16 with odd sizes (n_inner 100, three layers).
    "gpt2_odd_sizes": (dict(family="gpt2", n_embd=72, n_head=6, n_inner=100, n_layer=3),
                       torch.float16, None),
    # GPT-NeoX (Pythia): parallel residual, a quarter of each head rotated, the fused
    # query_key_value in per-head order, exact GELU, an untied head.
    "gpt_neox_parallel": (dict(family="gpt_neox"), torch.float32, None),
    # ... and the sequential residual with half the head rotated and a different base.
    "gpt_neox_sequential": (dict(family="gpt_neox", use_parallel_residual=False,
                                 rope_parameters={"rope_type": "default", "rope_theta": 500.0,
                                                  "partial_rotary_factor": 0.5}),
                            torch.float32, None),
}
# Models whose greedy run must also visit this many distinct tokens, so that it does not settle
# into repeating one token (the tiny tied Gemmas tend to).
MIN_DISTINCT_TOKENS = {"gemma_head_dim": 8, "gemma2_softcap_window": 8, "gemma3_local_global": 8,
                       "gpt2_learned_positions": 8, "gpt2_odd_sizes": 8, "gpt_neox_parallel": 8,
                       "gpt_neox_sequential": 8}
CONFIGS = {"gemma": GemmaConfig, "gemma2": Gemma2Config, "gemma3": Gemma3TextConfig,
           "llama": LlamaConfig, "mistral": MistralConfig, "phi3": Phi3Config,
           "qwen2": Qwen2Config, "qwen3": Qwen3Config}


def gpt_config(family, **overrides):
    """GPT-2 and GPT-NeoX spell their fields their own way."""
    if family == "gpt2":
        fields = dict(vocab_size=256, n_embd=64, n_layer=2, n_head=4, n_positions=128,
                      activation_function="gelu_new", layer_norm_epsilon=1e-5,
                      bos_token_id=1, eos_token_id=2, initializer_range=0.25,
                      attn_implementation="eager")
        fields.update(overrides)
        return GPT2Config(**fields)
    fields = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, max_position_embeddings=128, layer_norm_eps=1e-5,
                  hidden_act="gelu", use_parallel_residual=True, tie_word_embeddings=False,
                  rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                   "partial_rotary_factor": 0.25},
                  bos_token_id=1, eos_token_id=2, initializer_range=0.25,
                  attn_implementation="eager")
    fields.update(overrides)
    return GPTNeoXConfig(**fields)


def base_config(family="llama", **overrides):
    if family in ("gpt2", "gpt_neox"):
        return gpt_config(family, **overrides)
    fields = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=128,
                  rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                  bos_token_id=1, eos_token_id=2, initializer_range=0.25,
                  attn_implementation="eager")
    fields.update(overrides)
    if "rope_parameters" in fields:
        del fields["rope_theta"]
    if family.startswith("gemma"):
        fields.update(bos_token_id=2, eos_token_id=1, pad_token_id=0)
    return CONFIGS[family](**fields)


def randomise_neutral_params(model):
    """Gives every bias random values of the weights' scale (HF's init sets them to zero), and the
    per-head q/k norms random gains (HF's init sets them to one), so that neither can be ignored."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0.0, 0.5)
            elif "gemma" in type(model).__name__.lower() and name.endswith(
                    ("post_attention_layernorm.weight", "post_feedforward_layernorm.weight")):
                # Gemma 2/3's sandwich norms: branch gains of 2-4 keep the scaled embedding from
                # dominating the residual (a tiny tied model would then repeat its last token).
                p.uniform_(1.0, 3.0)
            elif "gemma" in type(model).__name__.lower() and name.endswith("norm.weight"):
                p.uniform_(-0.5, 0.5)  # Gemma's norms scale by (1 + w)
            elif name.endswith(("q_norm.weight", "k_norm.weight")):
                p.uniform_(0.5, 1.5)
            elif type(model).__name__.startswith("GPT") and name.endswith(
                    ("ln_1.weight", "ln_2.weight", "ln_f.weight", "layernorm.weight",
                     "layer_norm.weight")):
                p.uniform_(0.5, 1.5)  # LayerNorm gains (HF's init sets them to one)


def greedy(model, prompt, steps):
    """Greedy decoding with HF's KV cache; returns (tokens, logits per step) in float32."""
    ids = torch.tensor([prompt])
    out = model(input_ids=ids, use_cache=True)
    past, logits = out.past_key_values, [out.logits[0, -1].float()]
    tokens = []
    for _ in range(steps):
        nxt = int(torch.argmax(logits[-1]))
        tokens.append(nxt)
        out = model(input_ids=torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
        past = out.past_key_values
        logits.append(out.logits[0, -1].float())
    return tokens, logits[:steps + 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "../../tests/data"))
    parser.add_argument("--only", nargs="*", help="models to (re)make; default all")
    args = parser.parse_args()
    torch.manual_seed(0)
    for name, (overrides, dtype, shard) in MODELS.items():
        if args.only and name not in args.only:
            continue
        for seed in range(1000):
            torch.manual_seed(seed)
            model = AutoModelForCausalLM.from_config(base_config(**overrides)).eval()
            randomise_neutral_params(model)
            # Round the weights to the storage dtype first, so the f32 reference run sees exactly
            # the weights llmcc will read back.
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(p.to(dtype).float())
                tokens, logits = greedy(model, PROMPT, STEPS)
            top2 = [float(torch.topk(l, 2).values[0] - torch.topk(l, 2).values[1]) for l in logits]
            scale = max(float(l.abs().max()) for l in logits)
            if (min(top2) >= MIN_RELATIVE_MARGIN * scale and
                    len(set(tokens)) >= MIN_DISTINCT_TOKENS.get(name, 0)):
                break
        else:
            raise SystemExit(f"{name}: no seed gives a top-2 margin of {MIN_RELATIVE_MARGIN}")
        model_dir = os.path.join(args.out, "models", name)
        shutil.rmtree(model_dir, ignore_errors=True)
        os.makedirs(model_dir)
        save_kwargs = {"safe_serialization": True}
        if shard:
            save_kwargs["max_shard_size"] = shard
        model.to(dtype).save_pretrained(model_dir, **save_kwargs)
        golden = {"model": name, "seed": seed, "transformers": __import__("transformers").__version__,
                  "prompt": PROMPT, "tokens": tokens,
                  "min_top2_margin": min(top2), "max_abs_logit": scale,
                  "logits": [[float(f"{v:.8g}") for v in l.tolist()] for l in logits]}
        if "longrope" in json.dumps(overrides):
            # One forward over the whole sequence picks the long factors for every position, so a
            # teacher-forced prefill has its own reference.
            with torch.no_grad():
                whole = model(input_ids=torch.tensor([PROMPT + tokens])).logits[0].float()
            golden["teacher_forced_logits"] = [[float(f"{v:.8g}") for v in l.tolist()]
                                               for l in whole[len(PROMPT) - 1:]]
        os.makedirs(os.path.join(args.out, "goldens"), exist_ok=True)
        with open(os.path.join(args.out, "goldens", name + ".json"), "w") as f:
            json.dump(golden, f, separators=(",", ":"))
        print(f"{name}: seed {seed}, tokens {tokens[:6]}..., max|logit| {scale:.3f}, "
              f"min top-2 margin {min(top2):.4f}")


if __name__ == "__main__":
    main()

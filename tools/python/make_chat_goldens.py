#!/usr/bin/env python3
"""Builds tests/data/models/chat_tiny (a random-weight Llama whose vocabulary is the byte-level
test tokenizer's) and records, with Hugging Face transformers and tokenizers, a two-turn chat in
MLC's chatml template: each turn's prompt ids and the greedy reply. llmcc's chat test must send the
same ids and print the same replies.

It also builds tests/data/models/chat_gemma3 and chat_gemma2, random-weight Gemma 3 (text) and
Gemma 2 models whose vocabulary is the Gemma-style SentencePiece test tokenizer's, and records a
two-turn chat in each model's own chat template (transformers' apply_chat_template; Gemma 3's
with a system message), which llmcc's gemma3_instruction and gemma_instruction must reproduce id
for id; make_gguf_twin.py writes their GGUFs.

  python3 tools/python/make_chat_goldens.py      (after make_tokenizer_goldens.py)
"""
import json
import os
import shutil

import torch
from tokenizers import Tokenizer
from transformers import LlamaConfig, LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "tests", "data")
TOKENIZER = os.path.join(DATA, "tokenizers", "bytelevel", "tokenizer.json")
MAX_TOKENS = 8
STOP_IDS = [2]  # chatml's stop_token_ids; <|im_end|> in the byte-level test tokenizer
SYSTEM = ("A conversation between a user and an LLM-based AI assistant. The assistant gives helpful "
          "and honest answers.")
USERS = ["Hello there! What is a river?", "And what is 2+2?"]


def chatml_prompt(messages):
    """MLC's Conversation.as_prompt for the chatml template."""
    text = f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"
    for role, content in messages:
        if content is None:
            text += f"<|im_start|>{role}\n"
        else:
            text += f"<|im_start|>{role}\n{content}<|im_end|>\n"
    return text


def greedy(model, ids, stop_ids=STOP_IDS):
    out, margins = [], []
    with torch.no_grad():
        for _ in range(MAX_TOKENS):
            logits = model(input_ids=torch.tensor([ids + out])).logits[0, -1]
            top = torch.topk(logits, 2).values
            margins.append(float(top[0] - top[1]) / float(logits.abs().max()))
            nxt = int(torch.argmax(logits))
            if nxt in stop_ids:
                break
            out.append(nxt)
    return out, min(margins)


def save(name, model, tokenizer_file, golden):
    """The model with its tokenizer as tests/data/models/NAME, the golden as goldens/NAME.json."""
    out = os.path.join(DATA, "models", name)
    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(out, safe_serialization=True)
    shutil.copy(tokenizer_file, os.path.join(out, "tokenizer.json"))
    with open(os.path.join(DATA, "goldens", name + ".json"), "w") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)


GEMMA_TOKENIZER = os.path.join(DATA, "tokenizers", "gemma", "tokenizer.json")
GEMMA_SYSTEM = "You answer briefly."
GEMMA_STOP_IDS = [1, 106, 5]  # gemma3_instruction's ids, and <end_of_turn> (its stop string)


def gemma_chat_model(version, vocab_size):
    """A tiny random Gemma 2 or Gemma 3 (text) with a 16-token window that the second turn
    reaches past."""
    from transformers import (Gemma2Config, Gemma2ForCausalLM, Gemma3ForCausalLM,
                              Gemma3TextConfig)
    if version == 2:
        config = Gemma2Config(
            vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=16,
            sliding_window=16, attn_logit_softcapping=10.0, final_logit_softcapping=15.0,
            max_position_embeddings=256, rms_norm_eps=1e-6, tie_word_embeddings=True,
            bos_token_id=2, eos_token_id=1, pad_token_id=0, initializer_range=0.3,
            attn_implementation="eager")
        return Gemma2ForCausalLM(config).eval()
    config = Gemma3TextConfig(
            vocab_size=vocab_size, hidden_size=64, intermediate_size=128,
            num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
            query_pre_attn_scalar=16, sliding_window=16,
            layer_types=["sliding_attention", "sliding_attention", "full_attention"],
            rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1e6},
                             "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}},
            max_position_embeddings=256, rms_norm_eps=1e-6, tie_word_embeddings=True,
            bos_token_id=2, eos_token_id=1, pad_token_id=0, initializer_range=0.3,
            attn_implementation="eager")
    return Gemma3ForCausalLM(config).eval()


def make_gemma_chat(version):
    """Gemma 3 with a system message (its template folds it into the first user turn), or Gemma 2
    without one (its template refuses one), in each model's own chat template."""
    import sys
    from transformers import PreTrainedTokenizerFast
    sys.path.insert(0, HERE)
    from make_goldens import randomise_neutral_params
    from make_gguf_twin import GEMMA_1_2_CHAT_TEMPLATE, GEMMA_CHAT_TEMPLATE
    name, template = ("chat_gemma3", "gemma3_instruction") if version == 3 else (
        "chat_gemma2", "gemma_instruction")
    chat_template = GEMMA_CHAT_TEMPLATE if version == 3 else GEMMA_1_2_CHAT_TEMPLATE
    stop_ids = GEMMA_STOP_IDS if version == 3 else [1, 107, 5]
    system = [{"role": "system", "content": GEMMA_SYSTEM}] if version == 3 else []
    hf_tok = PreTrainedTokenizerFast(tokenizer_file=GEMMA_TOKENIZER, bos_token="<bos>",
                                     eos_token="<eos>", pad_token="<pad>", unk_token="<unk>")
    for seed in range(2000):
        torch.manual_seed(seed)
        model = gemma_chat_model(version, hf_tok.vocab_size)
        randomise_neutral_params(model)
        messages, turns, worst = list(system), [], 1.0
        for user in USERS:
            messages.append({"role": "user", "content": user})
            text = hf_tok.apply_chat_template(messages, chat_template=chat_template,
                                              add_generation_prompt=True, tokenize=False)
            ids = hf_tok(text, add_special_tokens=False)["input_ids"]
            reply_ids, margin = greedy(model, ids, stop_ids)
            worst = min(worst, margin)
            reply = hf_tok.decode(reply_ids, skip_special_tokens=False)
            messages.append({"role": "assistant", "content": reply})
            turns.append({"user": user, "prompt_ids": ids, "reply_ids": reply_ids, "reply": reply})
        if worst >= 0.01 and all(t["reply"].strip() and "<" not in t["reply"] and
                                 "\ufffd" not in t["reply"] for t in turns):
            break
    else:
        raise SystemExit(f"{name}: no seed gives clear greedy margins and text replies")
    golden = {"seed": seed, "template": template, "max_tokens": MAX_TOKENS, "turns": turns}
    if system:
        golden["system"] = GEMMA_SYSTEM
    save(name, model, GEMMA_TOKENIZER, golden)
    for t in turns:
        print(f"{name} {t['user']!r} -> {t['reply']!r} ({len(t['prompt_ids'])} prompt ids)")


def main():
    make_gemma_chat(3)
    make_gemma_chat(2)
    tok = Tokenizer.from_file(TOKENIZER)
    vocab = tok.get_vocab_size()
    for seed in range(500):
        torch.manual_seed(seed)
        config = LlamaConfig(vocab_size=vocab, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                             rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
                             bos_token_id=0, eos_token_id=2, initializer_range=0.3,
                             attn_implementation="eager")
        model = LlamaForCausalLM(config).eval()
        messages, turns, worst = [], [], 1.0
        for user in USERS:
            messages += [("user", user), ("assistant", None)]
            ids = tok.encode(chatml_prompt(messages), add_special_tokens=False).ids
            reply_ids, margin = greedy(model, ids)
            worst = min(worst, margin)
            reply = tok.decode(reply_ids, skip_special_tokens=False)
            messages[-1] = ("assistant", reply)
            turns.append({"user": user, "prompt_ids": ids, "reply_ids": reply_ids, "reply": reply})
        # Replies must be whole UTF-8 text: no special tokens, no replacement characters.
        if worst >= 0.01 and all(t["reply"] and "<|" not in t["reply"] and "\ufffd" not in t["reply"]
                                 for t in turns):
            break
    else:
        raise SystemExit("no seed gives clear greedy margins")
    save("chat_tiny", model, TOKENIZER,
         {"seed": seed, "template": "chatml", "max_tokens": MAX_TOKENS, "turns": turns})
    for t in turns:
        print(f"{t['user']!r} -> {t['reply']!r}")


if __name__ == "__main__":
    main()

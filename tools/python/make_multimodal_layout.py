#!/usr/bin/env python3
"""Writes tests/data/models/gemma3_multimodal: the text model of tests/data/models/
gemma3_local_global inside a Gemma3ForConditionalGeneration (as Gemma 3 4B/12B/27B ship), with a
tiny random SigLIP vision tower, saved by transformers in its own layout (config.json with a
text_config, tensors under model.language_model.* beside model.vision_tower.* and
model.multi_modal_projector.*). Its text-only logits are checked here to equal the
gemma3_local_global golden, so llmcc's import of the language model can be tested against it.

  python3 tools/python/make_multimodal_layout.py

Needs torch and transformers (PyPI). CI reads the committed files.
"""
import json
import os
import shutil

import torch
from transformers import (AutoModelForCausalLM, Gemma3Config, Gemma3ForConditionalGeneration,
                          SiglipVisionConfig)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data")


def main():
    text = AutoModelForCausalLM.from_pretrained(os.path.join(DATA, "models", "gemma3_local_global"),
                                                dtype=torch.float32)
    text_config = text.config
    text_config._attn_implementation = "eager"
    vision = SiglipVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                num_attention_heads=2, image_size=28, patch_size=14)
    config = Gemma3Config(text_config=text_config.to_dict(), vision_config=vision.to_dict(),
                          mm_tokens_per_image=4, image_token_index=text_config.vocab_size - 1,
                          boi_token_index=text_config.vocab_size - 2,
                          eoi_token_index=text_config.vocab_size - 3)
    config.text_config._attn_implementation = "eager"
    torch.manual_seed(0)
    model = Gemma3ForConditionalGeneration(config).eval()
    missing = model.model.language_model.load_state_dict(
        {k[len("model."):]: v for k, v in text.state_dict().items() if k.startswith("model.")})
    assert not missing.missing_keys and not missing.unexpected_keys, missing
    golden = json.load(open(os.path.join(DATA, "goldens", "gemma3_local_global.json")))
    ids = torch.tensor([golden["prompt"] + golden["tokens"]])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, len(golden["prompt"]) - 1:]
    ref = torch.tensor(golden["logits"])
    diff = float((logits[: len(ref)] - ref).abs().max() / ref.abs().max())
    assert diff < 1e-5, f"the multimodal wrapper changes the text logits by {diff}"
    out = os.path.join(DATA, "models", "gemma3_multimodal")
    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(out, safe_serialization=True)
    print(f"wrote {out}: text logits within {diff:.2g} of the gemma3_local_global golden")


if __name__ == "__main__":
    main()

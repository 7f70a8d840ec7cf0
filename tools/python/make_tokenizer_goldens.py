#!/usr/bin/env python3
"""Trains small tokenizers with Hugging Face `tokenizers` and records the ids it gives for a test
corpus: the oracle for llmcc's C++ tokenizer tests.

Writes tests/data/tokenizers/<name>/tokenizer.json and tests/data/tokenizers/goldens.json:
  {"<name>": [{"text": ..., "ids": [...], "ids_with_special": [...], "decoded": ...}, ...]}

Three families:
  bytelevel  GPT-2 / Llama-3 / Qwen2 / SmolLM style: Digits + ByteLevel pre-tokenizer, ByteLevel
             decoder, special tokens <|endoftext|>, <|im_start|>, <|im_end|>.
  llama      Llama-2 / TinyLlama style converted from SentencePiece: Prepend + Replace
             normalizer, BPE with byte fallback, <unk>/<s>/</s>, <s> prepended.
  metaspace  the same model with transformers' newer Metaspace pre-tokenizer (prepend "first").
  sentencepiece  a SentencePiece BPE tokenizer.model (byte fallback), ids from the `sentencepiece`
             package; llmcc loads it through the SentencePiece C++ library.
  gemma, llama_sp  SentencePiece BPE models laid out as Gemma's and Llama 2's; gemma: (<pad> <eos> <bos> <unk>, no dummy
             prefix, whitespace kept, digits split, <start_of_turn>/<end_of_turn> user-defined),
             with ids from the tokenizer.json that transformers' GemmaConverter makes of it. Its
             vocabulary goes into the Gemma 3 GGUF twin (make_gguf_twin.py), whose SentencePiece
             vocabulary llmcc must tokenize the same way; llama_sp's goes into a
             vocabulary-only GGUF (tests/data/gguf/llama_sp_vocab.gguf).

The training text is the project's own prose (tests/data/text/sample.txt) plus a few lines of
code. Needs `tokenizers`, `sentencepiece`, `protobuf` and (for the Gemma converter) `transformers`
(PyPI). CI reads the committed files.
  python3 tools/python/make_tokenizer_goldens.py
"""
import json
import os

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "tests", "data")

EXTRA_TRAINING = """
def add(a, b):
    return a + b

for (int i = 0; i < n; ++i) { total += values[i]; }
The quick brown fox jumps over the lazy dog. 1234567890
"""

CORPUS = [
    "",
    "Hello, world!",
    "The river came down from the hills in the spring, brown and loud.",
    "  leading spaces and trailing spaces   ",
    "a   b\t\tc\n\n\nd \n e",
    "def add(a, b):\n    return a + b\n",
    "for (int i = 0; i < n; ++i) { total += values[i]; }  // sum",
    "Numbers: 12345, 3.14159, 1e-5 and 007.",
    "café naïve résumé Ångström façade",
    "I ❤️ 🦙 llamas 👍🏽!",
    "机器学习很有趣。日本語のテキストです。한국어",
    "Mixed: Hello,World!!! ... ??? --- ___",
    "don't won't it's I'm we'll they've",
    "\u00a0non-breaking\u00a0space and zero\u200bwidth",
    "tabs\tand\rcarriage\r\nreturns",
]

SPECIAL_TEXT = {
    "bytelevel": ["<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
                  "text<|endoftext|>more text"],
    "llama": ["<s>[INST] Hi there [/INST]</s>", "a</s>b<unk>c"],
    "metaspace": ["<s>[INST] Hi there [/INST]</s>", "a</s>b<unk>c"],
}


def training_text():
    with open(os.path.join(DATA, "text", "sample.txt")) as f:
        return [line for line in (f.read() + EXTRA_TRAINING).split("\n") if line.strip()]


def make_bytelevel():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True),
         pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=700, min_frequency=2,
                                  special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_text(), trainer)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok


def make_llama(metaspace_pre_tokenizer):
    # Train the merges on "▁"-joined text, then lay the vocabulary out as SentencePiece
    # conversions do: <unk>, <s>, </s>, the 256 byte tokens, then the learned pieces.
    trainer_tok = Tokenizer(models.BPE())
    trainer_tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trainer_tok.pre_tokenizer = pre_tokenizers.Split("▁", behavior="merged_with_next")
    trainer = trainers.BpeTrainer(vocab_size=600, min_frequency=2)
    trainer_tok.train_from_iterator(training_text(), trainer)
    learned = json.loads(trainer_tok.to_str())["model"]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for piece in sorted(learned["vocab"], key=lambda p: learned["vocab"][p]):
        if piece not in vocab:
            vocab[piece] = len(vocab)
    merges = learned["merges"]
    spec = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True} for i, c in enumerate(["<unk>", "<s>", "</s>"])],
        "normalizer": None if metaspace_pre_tokenizer else {
            "type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
        if metaspace_pre_tokenizer else None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                  "ignore_merges": False, "vocab": vocab, "merges": merges},
    }
    return Tokenizer.from_str(json.dumps(spec))


def make_sentencepiece(out_dir):
    import io
    import sentencepiece as spm
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(training_text()), model_writer=model,
                                   model_type="bpe", vocab_size=400, byte_fallback=True,
                                   character_coverage=1.0, normalization_rule_name="identity", bos_id=1, eos_id=2, unk_id=0, pad_id=-1)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.model"), "wb") as f:
        f.write(model.getvalue())
    sp = spm.SentencePieceProcessor(model_file=os.path.join(out_dir, "tokenizer.model"))
    cases = []
    for text in CORPUS + ["<s> is text here, not a control token"]:
        ids = sp.encode(text)
        cases.append({"text": text, "ids": ids, "ids_with_special": [sp.bos_id()] + ids,
                      "decoded": sp.decode(ids)})
    return cases


def sentencepiece_tokenizer_json(model_file, dummy_prefix, bos):
    """The tokenizer.json that transformers' GemmaConverter (no dummy prefix) or legacy
    LlamaConverter (dummy prefix) writes for a SentencePiece BPE model. Gemma's class no longer
    runs in transformers 5, so the recipe is spelled out here: the pieces in id order, merges from
    the piece scores (transformers' own generate_merges), byte fallback, spaces as "▁",
    control and user-defined pieces as added tokens, and <bos> before the text."""
    from tokenizers import AddedToken
    from transformers.convert_slow_tokenizer import generate_merges, import_protobuf
    proto = import_protobuf().ModelProto()
    with open(model_file, "rb") as f:
        proto.ParseFromString(f.read())
    vocab = {p.piece: i for i, p in enumerate(proto.pieces)}
    scores = {p.piece: p.score for p in proto.pieces}
    merges = generate_merges(vocab, scores)
    unk = proto.pieces[proto.trainer_spec.unk_id].piece
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=unk, fuse_unk=True,
                               byte_fallback=True))
    replace = normalizers.Replace(" ", "▁")
    tok.normalizer = (normalizers.Sequence([normalizers.Prepend("▁"), replace])
                      if dummy_prefix else replace)
    steps = [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]
    if dummy_prefix:
        steps.append(decoders.Strip(" ", 1, 0))
    tok.decoder = decoders.Sequence(steps)
    tok.add_special_tokens([AddedToken(p.piece, normalized=False, special=True)
                            for p in proto.pieces if p.type in (2, 3)])
    tok.add_tokens([AddedToken(p.piece, normalized=False, special=False)
                    for p in proto.pieces if p.type == 4])
    tok.post_processor = processors.TemplateProcessing(
        single=f"{proto.pieces[bos].piece} $A", special_tokens=[(proto.pieces[bos].piece, bos)])
    return tok


def write_vocab_gguf(model_file, path, dummy_prefix, ids):
    """A vocabulary-only GGUF (as llama.cpp's ggml-vocab-*.gguf test files) of a SentencePiece
    model, written as llama.cpp's _set_vocab_sentencepiece writes one."""
    import gguf
    from transformers.convert_slow_tokenizer import import_protobuf
    proto = import_protobuf().ModelProto()
    with open(model_file, "rb") as f:
        proto.ParseFromString(f.read())
    w = gguf.GGUFWriter(path, "llama")
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list([p.piece for p in proto.pieces])
    w.add_token_scores([p.score for p in proto.pieces])
    w.add_token_types([int(p.type) for p in proto.pieces])
    w.add_add_space_prefix(dummy_prefix)
    w.add_add_bos_token(True)
    w.add_bos_token_id(ids["bos"])
    w.add_eos_token_id(ids["eos"])
    w.add_unk_token_id(ids["unk"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# SentencePiece BPE models with byte fallback and whitespace kept, as Gemma's and Llama 2's.
SENTENCEPIECE_FAMILIES = {
    # <pad> <eos> <bos> <unk>, no dummy prefix, digits split, the turn markers user-defined.
    "gemma": dict(train=dict(add_dummy_prefix=False, split_digits=True, pad_id=0, eos_id=1,
                             bos_id=2, unk_id=3, pad_piece="<pad>", eos_piece="<eos>",
                             bos_piece="<bos>", unk_piece="<unk>",
                             user_defined_symbols=["<start_of_turn>", "<end_of_turn>"]),
                  ids=dict(bos=2, eos=1, unk=3),
                  special=["<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n",
                           "<bos>text<eos> after <pad> and <unk>!", "  <start_of_turn> spaced "]),
    # Llama 2: <unk> <s> </s>, a dummy "▁" prefix.
    "llama_sp": dict(train=dict(add_dummy_prefix=True, unk_id=0, bos_id=1, eos_id=2, pad_id=-1),
                     ids=dict(bos=1, eos=2, unk=0),
                     special=["<s>[INST] Hi there [/INST]</s>", "a</s>b<unk>c"]),
}


def make_sentencepiece_family(name, out_dir):
    import io
    import sentencepiece as spm
    spec = SENTENCEPIECE_FAMILIES[name]
    dummy_prefix = spec["train"]["add_dummy_prefix"]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(training_text()), model_writer=model, model_type="bpe",
        vocab_size=512, byte_fallback=True, character_coverage=1.0,
        normalization_rule_name="identity", remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True, **spec["train"])
    os.makedirs(out_dir, exist_ok=True)
    model_file = os.path.join(out_dir, "tokenizer.model")
    with open(model_file, "wb") as f:
        f.write(model.getvalue())
    tok = sentencepiece_tokenizer_json(model_file, dummy_prefix, spec["ids"]["bos"])
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    tok = Tokenizer.from_file(os.path.join(out_dir, "tokenizer.json"))
    if name == "llama_sp":  # Gemma's vocabulary travels in the Gemma 3 GGUF twin instead
        write_vocab_gguf(model_file, os.path.join(DATA, "gguf", "llama_sp_vocab.gguf"),
                         dummy_prefix, spec["ids"])
    sp = spm.SentencePieceProcessor(model_file=model_file)
    cases = []
    for text in CORPUS + spec["special"]:
        ids = tok.encode(text, add_special_tokens=False).ids
        if text not in spec["special"] and ids != sp.encode(text):
            print(f"{name}: sentencepiece and tokenizers differ on {text!r}")
        cases.append({"text": text, "ids": ids,
                      "ids_with_special": tok.encode(text, add_special_tokens=True).ids,
                      "decoded": tok.decode(ids, skip_special_tokens=False)})
    return cases


def main():
    goldens = {}
    for name, tok in [("bytelevel", make_bytelevel()), ("llama", make_llama(False)),
                      ("metaspace", make_llama(True))]:
        out_dir = os.path.join(DATA, "tokenizers", name)
        os.makedirs(out_dir, exist_ok=True)
        tok.save(os.path.join(out_dir, "tokenizer.json"))
        tok = Tokenizer.from_file(os.path.join(out_dir, "tokenizer.json"))
        cases = []
        for text in CORPUS + SPECIAL_TEXT[name]:
            ids = tok.encode(text, add_special_tokens=False).ids
            cases.append({"text": text, "ids": ids,
                          "ids_with_special": tok.encode(text, add_special_tokens=True).ids,
                          "decoded": tok.decode(ids, skip_special_tokens=False)})
        goldens[name] = cases
        print(f"{name}: vocab {tok.get_vocab_size()}, {len(cases)} cases")
    goldens["sentencepiece"] = make_sentencepiece(os.path.join(DATA, "tokenizers", "sentencepiece"))
    print(f"sentencepiece: {len(goldens['sentencepiece'])} cases")
    for name in SENTENCEPIECE_FAMILIES:
        goldens[name] = make_sentencepiece_family(name, os.path.join(DATA, "tokenizers", name))
        print(f"{name}: {len(goldens[name])} cases")
    with open(os.path.join(DATA, "tokenizers", "goldens.json"), "w") as f:
        json.dump(goldens, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()

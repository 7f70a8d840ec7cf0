// A GGUF's SentencePiece vocabulary (tokenizer.ggml.model "llama": Llama 2, Gemma) as the
// tokenizer.json that transformers' converters (LlamaConverter, GemmaConverter) write for the same
// SentencePiece model: BPE over the pieces, merges ranked by the pieces' scores, byte fallback,
// spaces as U+2581 (with a leading one where the model adds a dummy prefix), and the control and
// user-defined pieces as added tokens.
#pragma once

#include "support/json.h"
#include "weights/gguf.h"

namespace llmcc {

Json gguf_sentencepiece_tokenizer_json(const GgufFile& gguf);

}  // namespace llmcc

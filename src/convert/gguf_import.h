// Everything a GGUF file can give llmcc besides tensors: a Hugging Face config.json, a
// tokenizer.json built from its vocabulary, and the conversation template its chat template
// matches. GgufCheckpoint serves its tensors under Hugging Face names.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "convert/checkpoint.h"
#include "support/json.h"
#include "weights/gguf.h"

namespace llmcc {

// config.json for a llama-architecture GGUF. UserError for other architectures.
Json gguf_hf_config(const GgufFile& gguf);
// tokenizer.json for a GGUF whose tokenizer.ggml.model is "gpt2" (byte-level BPE) or "llama"
// (SentencePiece; weights/gguf_sentencepiece_vocab.h).
Json gguf_tokenizer_json(const GgufFile& gguf);
// The pieces of a tokenizer.json that both vocabulary kinds write: an added token, and the
// template that puts BOS first when tokenizer.ggml.add_bos_token (or, where the file does not
// say, `add_bos_by_default`) asks for it (null otherwise). UserError for a BOS id outside the
// vocabulary.
Json gguf_added_token(size_t id, const std::string& content, bool normalized, bool special);
Json gguf_bos_post_processor(const GgufFile& gguf, bool add_bos_by_default);
// The MLC conversation template matching tokenizer.chat_template ("LM" when none does), and the
// default system prompt the chat template writes, when it is a literal (SmolLM2 has one).
std::string gguf_conv_template(const GgufFile& gguf);
std::optional<std::string> gguf_default_system_message(const GgufFile& gguf);
// Sampling defaults for mlc-chat-config.json: the general.sampling.* keys the file's author set,
// and for the rest llama.cpp's defaults (temperature 0.8, top_k 40, top_p 0.95, min_p 0.05), so a
// GGUF chats as it would in llama.cpp. MLC's own fallbacks (temperature 1, no filtering) let a
// small or quantized model wander off into noise once sampling leaves the likely tokens.
Json gguf_sampling_defaults(const GgufFile& gguf);

std::unique_ptr<Checkpoint> open_gguf_checkpoint(const std::filesystem::path& path);

// Writes config.json, tokenizer.json and (through gen_config) mlc-chat-config.json for the GGUF
// model into `dir`, so that the folder is a complete llmcc model.
void write_gguf_model_files(const std::filesystem::path& gguf_path,
                            const std::filesystem::path& dir, const std::string& quantization);

}  // namespace llmcc

// WordPiece tokenization as in BERT and sentence-transformers (e.g. all-MiniLM-L6-v2), from a
// Hugging Face tokenizer.json: BertNormalizer, BertPreTokenizer, the WordPiece model,
// TemplateProcessing / BertProcessing and the WordPiece decoder.
#pragma once

#include <memory>
#include <string>

#include "support/json.h"
#include "tokenizer/tokenizer.h"

namespace llmcc {

// Whether tokenizer.json `j` has a WordPiece model.
bool is_wordpiece_tokenizer(const UnorderedJson& j);

// The tokenizer that `j` describes. UserError naming `file` and the field for anything llmcc
// does not implement.
std::unique_ptr<Tokenizer> make_wordpiece_tokenizer(const UnorderedJson& j,
                                                    const std::string& file);

}  // namespace llmcc

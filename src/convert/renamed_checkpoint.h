// A checkpoint seen under the tensor names a model expects, when the file spells them with
// another prefix: GPT-2 saved as GPT2Model ("h.0.attn...", not "transformer.h.0.attn..."), BERT
// saved with a head (BertForMaskedLM: "bert.embeddings..." for "embeddings...").
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "convert/checkpoint.h"

namespace llmcc {

// {the prefix in the model's names, the prefix the file may use instead}
using PrefixAlias = std::pair<std::string, std::string>;

// `ckpt` itself when it holds `probe` (a name the model needs) or no alias applies; otherwise a
// view whose names are rewritten by the first alias under which `probe` exists. Names outside
// the alias (a head's tensors) keep their own.
std::unique_ptr<Checkpoint> with_expected_names(std::unique_ptr<Checkpoint> ckpt,
                                                const std::string& probe,
                                                const std::vector<PrefixAlias>& aliases);

}  // namespace llmcc

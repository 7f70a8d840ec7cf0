#include "convert/gguf_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "convert/gen_config.h"
#include "convert/gguf_sentencepiece_vocab.h"
#include "support/error.h"
#include "support/files.h"
#include "support/logging.h"
#include "support/strings.h"

namespace llmcc {

namespace {

// The GGUF name of each Hugging Face Llama tensor (per layer, then global).
const std::map<std::string, std::string>& layer_names() {
  static const std::map<std::string, std::string> m = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
      // Qwen2's q/k/v biases and Qwen3's per-head q/k norms.
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"}};
  return m;
}

// Gemma 2 and 3 norm the MLP's input with ffn_norm and the attention's output with
// post_attention_norm (Llama's ffn_norm is HF's post_attention_layernorm).
const std::map<std::string, std::string>& sandwich_layer_names() {
  static const std::map<std::string, std::string> m = {
      {"post_attention_layernorm.weight", "post_attention_norm.weight"},
      {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
      {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"}};
  return m;
}

// The GGUF architectures llmcc imports and the HF class each one is.
const std::map<std::string, std::string>& architectures() {
  static const std::map<std::string, std::string> m = {
      {"llama", "LlamaForCausalLM"},   {"qwen2", "Qwen2ForCausalLM"},
      {"qwen3", "Qwen3ForCausalLM"},   {"gemma", "GemmaForCausalLM"},
      {"gemma2", "Gemma2ForCausalLM"}, {"gemma3", "Gemma3ForCausalLM"}};
  return m;
}

bool is_gemma(const std::string& arch) { return arch.rfind("gemma", 0) == 0; }

// general.architecture, or NotImplementedError naming the supported ones.
std::string gguf_architecture(const GgufFile& g) {
  const std::string arch = g.metadata().value("general.architecture", "");
  if (!architectures().count(arch)) {
    std::string known;
    for (const auto& [name, _] : architectures()) known += (known.empty() ? "" : ", ") + name;
    throw NotImplementedError(fmt::format("GGUF file '{}' holds a '{}' model; llmcc imports {}",
                                          g.path().string(), arch, known));
  }
  return arch;
}

std::string to_hf_name(const std::string& gguf, const std::string& arch) {
  if (gguf == "token_embd.weight") return "model.embed_tokens.weight";
  if (gguf == "output_norm.weight") return "model.norm.weight";
  if (gguf == "output.weight") return "lm_head.weight";
  if (gguf.rfind("blk.", 0) == 0) {
    size_t dot = gguf.find('.', 4);
    std::string layer = gguf.substr(4, dot - 4), rest = gguf.substr(dot + 1);
    if (arch == "gemma2" || arch == "gemma3")
      for (const auto& [hf, g] : sandwich_layer_names())
        if (g == rest) return "model.layers." + layer + "." + hf;
    for (const auto& [hf, g] : layer_names())
      if (g == rest) return "model.layers." + layer + "." + hf;
  }
  return "";  // not a tensor llmcc maps (e.g. rope_freqs.weight)
}

int64_t meta_int(const GgufFile& g, const std::string& key) {
  if (!g.metadata().contains(key))
    user_error("GGUF file '{}' lacks metadata '{}'", g.path().string(), key);
  return g.metadata()[key].get<int64_t>();
}

class GgufCheckpoint : public Checkpoint {
 public:
  explicit GgufCheckpoint(const std::filesystem::path& path) : gguf_(path) {
    const std::string arch = gguf_architecture(gguf_);
    // Only llama.cpp's Llama converter interleaves q/k rows; Qwen's keep HF's order.
    permuted_ = arch == "llama";
    // llama.cpp's Gemma converters store 1 + w for every (1 + w) norm; HF tensors hold w.
    norm_offset_ = is_gemma(arch) ? -1.0f : 0.0f;
    heads_ = meta_int(gguf_, arch + ".attention.head_count");
    kv_heads_ = gguf_.metadata().value(arch + ".attention.head_count_kv", heads_);
    for (const auto& t : gguf_.tensors()) {
      std::string hf = to_hf_name(t.name, arch);
      if (!hf.empty()) by_hf_[hf] = &t;
    }
  }

  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& [name, _] : by_hf_) out.push_back(name);
    return out;
  }
  bool contains(const std::string& name) const override { return by_hf_.count(name) > 0; }

  TensorView load(const std::string& name) const override {
    const GgufTensor& t = *by_hf_.at(name);
    TensorView v;
    v.name = name;
    v.dtype = "F32";
    v.shape = t.shape();
    v.file = gguf_.path().string() + ":" + t.name;
    v.owned.resize(static_cast<size_t>(t.elements()));
    dequantize_gguf_tensor(t, v.owned.data());
    gguf_.release(t);
    // llama.cpp's converter interleaves q/k rows per head for its rope; restore rotate-half.
    if (permuted_ && name.find("q_proj") != std::string::npos)
      unpermute(v, heads_);
    else if (permuted_ && name.find("k_proj") != std::string::npos)
      unpermute(v, kv_heads_);
    if (norm_offset_ != 0 && ends_with(name, "norm.weight"))
      for (float& x : v.owned) x += norm_offset_;
    v.data = reinterpret_cast<const uint8_t*>(v.owned.data());
    v.nbytes = v.owned.size() * sizeof(float);
    return v;
  }

 private:
  // Rows of head h are stored as pairs (2i, 2i+1) = (i, i + d/2) of the original; undo that.
  static void unpermute(TensorView& v, int64_t heads) {
    const int64_t rows = v.shape[0], cols = v.shape.size() > 1 ? v.shape[1] : 1;
    const int64_t per_head = rows / heads, half_rows = per_head / 2;
    std::vector<float> out(v.owned.size());
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < half_rows; ++i)
        for (int64_t which = 0; which < 2; ++which) {
          const int64_t src = h * per_head + 2 * i + which,
                        dst = h * per_head + which * half_rows + i;
          std::copy(v.owned.begin() + src * cols, v.owned.begin() + (src + 1) * cols,
                    out.begin() + dst * cols);
        }
    v.owned.swap(out);
  }

  GgufFile gguf_;
  bool permuted_ = false;
  float norm_offset_ = 0;
  int64_t heads_ = 0, kv_heads_ = 0;
  std::map<std::string, const GgufTensor*> by_hf_;
};

// The end-of-sequence id, and with it the end-of-turn and end-of-message ids when the file names
// them (Llama 3 ends a turn with <|eot_id|>): one id, or a list as HF writes several.
Json gguf_eos_token_ids(const GgufFile& g) {
  const Json& m = g.metadata();
  Json ids = Json::array({m.value("tokenizer.ggml.eos_token_id", 2)});
  for (const char* key : {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"})
    if (m.contains(key) && m[key].is_number_integer() &&
        std::find(ids.begin(), ids.end(), m[key]) == ids.end())
      ids.push_back(m[key]);
  return ids.size() == 1 ? ids[0] : ids;
}

// What llama.cpp's Gemma converters write beyond Llama's keys, and what llama.cpp assumes where
// they write nothing.
void add_gemma_config(const GgufFile& g, const std::string& arch, Json& c) {
  const Json& m = g.metadata();
  const std::string a = arch + ".";
  const int64_t layers = c["num_hidden_layers"], hidden = c["hidden_size"];
  const int64_t heads = c["num_attention_heads"], head_dim = c["head_dim"];
  c["hidden_activation"] = "gelu_pytorch_tanh";
  if (arch == "gemma3") c["model_type"] = "gemma3_text";
  if (arch == "gemma") return;
  // llama.cpp scales by head_dim^-1/2 except on the 27B models (46 and 62 layers), whose
  // query_pre_attn_scalar is hidden / heads.
  const bool big = (arch == "gemma2" && layers == 46) || (arch == "gemma3" && layers == 62);
  c["query_pre_attn_scalar"] = big ? hidden / heads : head_dim;
  if (m.contains(a + "attention.scale") && m[a + "attention.scale"].is_number()) {
    const double scale = m[a + "attention.scale"];
    c["query_pre_attn_scalar"] = 1.0 / (scale * scale);
  }
  auto number_or_null = [&](const std::string& key) {
    return m.contains(key) && m[key].is_number() && m[key].get<double>() > 0 ? m[key] : Json();
  };
  c["attn_logit_softcapping"] = number_or_null(a + "attn_logit_softcapping");
  c["final_logit_softcapping"] = number_or_null(a + "final_logit_softcapping");
  c["sliding_window"] = number_or_null(a + "attention.sliding_window");
  // Which layers slide: the file's pattern (a flag per layer, or a period), else llama.cpp's
  // defaults (Gemma 2: even layers; Gemma 3: five of every six).
  const std::string pattern_key = a + "attention.sliding_window_pattern";
  const Json pattern = m.value(pattern_key, Json());
  Json types = Json::array();
  for (int64_t i = 0; i < layers; ++i) {
    bool sliding;
    if (pattern.is_array()) {
      if (static_cast<int64_t>(pattern.size()) != layers)
        user_error("GGUF file '{}': {} lists {} layers, the model has {}", g.path().string(),
                   pattern_key, pattern.size(), layers);
      sliding = pattern[i].get<bool>();
    } else {
      const int64_t period = pattern.is_number_integer() ? pattern.get<int64_t>()
                             : arch == "gemma2"          ? 2
                                                         : 6;
      if (period < 1)
        user_error("GGUF file '{}': {} must be positive", g.path().string(), pattern_key);
      sliding = i % period < period - 1;  // llama.cpp's swa pattern
    }
    types.push_back(sliding && !c["sliding_window"].is_null() ? "sliding_attention"
                                                              : "full_attention");
  }
  c["layer_types"] = types;
  if (arch == "gemma3") c["rope_local_base_freq"] = 10000.0;  // fixed in llama.cpp too
}

}  // namespace

Json gguf_hf_config(const GgufFile& g) {
  const Json& m = g.metadata();
  const std::string arch = gguf_architecture(g);
  const std::string a = arch + ".";  // metadata keys are prefixed by the architecture
  const int64_t hidden = meta_int(g, a + "embedding_length");
  const int64_t heads = meta_int(g, a + "attention.head_count");
  int64_t vocab = m.value(a + "vocab_size", int64_t{0});
  if (vocab == 0 && m.contains("tokenizer.ggml.tokens"))
    vocab = static_cast<int64_t>(m["tokenizer.ggml.tokens"].size());
  if (vocab == 0 && g.find("token_embd.weight")) vocab = g.find("token_embd.weight")->dims[1];
  Json c = {{"architectures", {architectures().at(arch)}},
            {"model_type", arch},
            {"hidden_size", hidden},
            {"intermediate_size", meta_int(g, a + "feed_forward_length")},
            {"num_hidden_layers", meta_int(g, a + "block_count")},
            {"num_attention_heads", heads},
            {"num_key_value_heads", m.value(a + "attention.head_count_kv", heads)},
            {"head_dim", m.value(a + "attention.key_length",
                                 m.value(a + "rope.dimension_count", hidden / heads))},
            {"rms_norm_eps", m.value(a + "attention.layer_norm_rms_epsilon", 1e-5)},
            {"rope_theta", m.value(a + "rope.freq_base", 10000.0)},
            {"max_position_embeddings", meta_int(g, a + "context_length")},
            {"vocab_size", vocab},
            {"tie_word_embeddings", g.find("output.weight") == nullptr},
            {"bos_token_id", m.value("tokenizer.ggml.bos_token_id", 1)},
            {"eos_token_id", gguf_eos_token_ids(g)},
            {"torch_dtype", "float16"}};
  const std::string scaling = m.value(a + "rope.scaling.type", "none");
  if (scaling == "linear")
    c["rope_scaling"] = {{"rope_type", "linear"},
                         {"factor", m.value(a + "rope.scaling.factor", 1.0)}};
  else if (scaling != "none")
    throw NotImplementedError(fmt::format("GGUF rope scaling '{}' is not imported yet", scaling));
  if (is_gemma(arch)) add_gemma_config(g, arch, c);
  return c;
}

Json gguf_added_token(size_t id, const std::string& content, bool normalized, bool special) {
  return {{"id", id},        {"content", content},       {"single_word", false}, {"lstrip", false},
          {"rstrip", false}, {"normalized", normalized}, {"special", special}};
}

Json gguf_bos_post_processor(const GgufFile& g, bool add_bos_by_default) {
  const Json& m = g.metadata();
  if (!m.value("tokenizer.ggml.add_bos_token", add_bos_by_default) ||
      !m.contains("tokenizer.ggml.bos_token_id"))
    return Json();
  const Json& tokens = m.at("tokenizer.ggml.tokens");
  const int64_t bos = m["tokenizer.ggml.bos_token_id"];
  if (bos < 0 || bos >= static_cast<int64_t>(tokens.size()))
    user_error("GGUF file '{}': tokenizer.ggml.bos_token_id {} is not a token", g.path().string(),
               bos);
  const std::string name = tokens[bos];
  Json special = Json::object();
  special[name] = {{"id", name}, {"ids", Json::array({bos})}, {"tokens", Json::array({name})}};
  Json single = Json::array({Json{{"SpecialToken", {{"id", name}, {"type_id", 0}}}},
                             Json{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}});
  return {{"type", "TemplateProcessing"}, {"single", single}, {"special_tokens", special}};
}

Json gguf_tokenizer_json(const GgufFile& g) {
  const Json& m = g.metadata();
  const std::string model = m.value("tokenizer.ggml.model", "");
  if (model == "llama") return gguf_sentencepiece_tokenizer_json(g);
  if (model != "gpt2")
    throw NotImplementedError(
        fmt::format("GGUF tokenizer model '{}' cannot be exported yet; llmcc exports byte-level "
                    "BPE ('gpt2') and SentencePiece ('llama') vocabularies",
                    model));
  const Json& tokens = m.at("tokenizer.ggml.tokens");
  const Json types = m.value("tokenizer.ggml.token_type", Json::array());
  Json vocab = Json::object(), added = Json::array();
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string t = tokens[i];
    vocab[t] = i;
    const int type = i < types.size() ? types[i].get<int>() : 1;
    if (type == 3 || type == 4)  // control, user-defined
      added.push_back(gguf_added_token(i, t, /*normalized=*/type == 4, /*special=*/type == 3));
  }
  // llama.cpp's pre-tokenizer names; all split digits or words before the byte-level step.
  const std::string pre = m.value("tokenizer.ggml.pre", "default");
  Json byte_level = {{"type", "ByteLevel"},
                     {"add_prefix_space", false},
                     {"trim_offsets", true},
                     {"use_regex", true}};
  Json pre_tokenizer;
  if (pre == "smollm" || pre == "starcoder" || pre == "refact") {
    pre_tokenizer = {
        {"type", "Sequence"},
        {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level}}};
  } else if (pre == "llama-bpe" || pre == "llama3" || pre == "qwen2") {
    // Llama 3 groups up to three digits; Qwen2 splits every digit on its own.
    const std::string digits = pre == "qwen2" ? "\\p{N}" : "\\p{N}{1,3}";
    byte_level["use_regex"] = false;
    pre_tokenizer = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern",
            {{"Regex", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|" + digits +
                           "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          byte_level}}};
  } else if (pre == "default" || pre == "gpt-2" || pre == "gpt2") {
    pre_tokenizer = byte_level;
  } else {
    throw NotImplementedError(fmt::format("GGUF pre-tokenizer '{}' is not known to llmcc", pre));
  }
  Json merges = m.value("tokenizer.ggml.merges", Json::array());
  const Json post = gguf_bos_post_processor(g, /*add_bos_by_default=*/false);
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer", pre_tokenizer},
          {"post_processor", post},
          {"decoder",
           {{"type", "ByteLevel"},
            {"add_prefix_space", true},
            {"trim_offsets", true},
            {"use_regex", true}}},
          {"model",
           {{"type", "BPE"},
            {"unk_token", nullptr},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"ignore_merges", pre == "llama-bpe" || pre == "llama3"},  // Qwen2 does not
            {"vocab", vocab},
            {"merges", merges}}}};
}

std::string gguf_conv_template(const GgufFile& g) {
  const std::string t = g.metadata().value("tokenizer.chat_template", "");
  if (t.find("<|im_start|>") != std::string::npos) return "chatml";
  if (t.find("<|start_header_id|>") != std::string::npos) return "llama-3";
  if (t.find("<start_of_turn>") != std::string::npos)  // Gemma 3's folds the system message in
    return t.find("first_user_prefix") != std::string::npos ? "gemma3_instruction"
                                                            : "gemma_instruction";
  if (t.find("<|user|>") != std::string::npos) return "phi-3";
  if (t.find("<<SYS>>") != std::string::npos) return "llama-2";
  if (t.find("[INST]") != std::string::npos) return "mistral_default";
  return "LM";
}

std::optional<std::string> gguf_default_system_message(const GgufFile& g) {
  const std::string t = g.metadata().value("tokenizer.chat_template", "");
  // A chatml template that writes a fixed system turn: '<|im_start|>system\n...<|im_end|>'.
  const std::string open = "<|im_start|>system\n", close = "<|im_end|>";
  size_t at = t.find(open);
  if (at == std::string::npos) return std::nullopt;
  at += open.size();
  size_t end = t.find(close, at);
  if (end == std::string::npos) return std::nullopt;
  std::string message = t.substr(at, end - at);
  if (message.find_first_of("{}'\"") != std::string::npos) return std::nullopt;  // not a literal
  return message;
}

Json gguf_sampling_defaults(const GgufFile& g) {
  const Json& m = g.metadata();
  Json out = {{"temperature", 0.8}, {"top_k", 40}, {"top_p", 0.95}, {"min_p", 0.05}};
  const std::pair<const char*, const char*> keys[] = {
      {"general.sampling.temp", "temperature"},
      {"general.sampling.top_k", "top_k"},
      {"general.sampling.top_p", "top_p"},
      {"general.sampling.min_p", "min_p"},
      {"general.sampling.penalty_repeat", "repetition_penalty"},
      {"general.sampling.penalty_present", "presence_penalty"},
      {"general.sampling.penalty_freq", "frequency_penalty"}};
  for (const auto& [key, field] : keys)
    if (m.contains(key)) {
      if (!m[key].is_number()) user_error("GGUF metadata '{}' must be a number", key);
      out[field] = m[key];
    }
  return out;
}

std::unique_ptr<Checkpoint> open_gguf_checkpoint(const std::filesystem::path& path) {
  return std::make_unique<GgufCheckpoint>(path);
}

void write_gguf_model_files(const std::filesystem::path& gguf_path,
                            const std::filesystem::path& dir, const std::string& quantization) {
  GgufFile gguf(gguf_path);
  write_file_atomic(dir / "config.json", gguf_hf_config(gguf).dump(2));
  write_file_atomic(dir / "tokenizer.json", gguf_tokenizer_json(gguf).dump());
  GenConfigOptions options;
  options.config = dir.string();
  options.quantization = quantization;
  options.conv_template = gguf_conv_template(gguf);
  options.system_message = gguf_default_system_message(gguf);
  options.sampling_defaults = gguf_sampling_defaults(gguf);
  options.output = dir;
  log_info("GGUF chat template matches MLC's '{}' conversation template", options.conv_template);
  gen_config(options);
}

}  // namespace llmcc

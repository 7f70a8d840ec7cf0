// Compiles tiny Llama models to real libraries, loads them, and checks their functions against the
// independent reference in reference_llama.h; also checks the libraries' metadata and static
// (.tar) builds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "config/presets.h"
#include "kernels/cpu/common.h"
#include "llmcc/compile.h"
#include "runtime/model_library.h"
#include "runtime/paged_kv_cache.h"
#include "support/error.h"
#include "support/files.h"
#include "tests/e2e/abi_tensor.h"
#include "tests/e2e/reference_llama.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;
using cpu_kernels::half;

struct CompiledModel {
  Json config;
  std::string quantization;
  TempPath dir = make_temp_dir("llmcc-e2e");
  fs::path lib;
  CompileResult result;
};

std::unique_ptr<CompiledModel> compile_model(Json config, const std::string& quantization,
                                             const std::string& file = "model.so",
                                             const std::string& prefix = "auto") {
  auto m = std::make_unique<CompiledModel>();
  m->config = config;
  m->quantization = quantization;
  m->lib = m->dir.path() / file;
  m->result = compile(config, Quantization::from_name(quantization), Model::from_name("llama"),
                      Target::from_device("cpu"), OptimizationFlags::from_str("O2"), nullptr,
                      prefix, m->lib, ModelConfigOverride::from_str(""));
  return m;
}

// Random weights in the library's param order, kept both as f32 (for the reference) and in the
// library's dtype.
struct Weights {
  testing::ReferenceLlama ref;
  std::vector<std::vector<uint8_t>> storage;
  std::vector<const void*> pointers;
};

Weights make_weights(const Json& metadata, uint32_t seed) {
  Weights w;
  const Json& c = metadata["model_config"];
  w.ref.hidden = c["hidden_size"];
  w.ref.inter = c["intermediate_size"];
  w.ref.heads = c["num_attention_heads"];
  w.ref.kv_heads = c["num_key_value_heads"];
  w.ref.head_dim = c["head_dim"];
  w.ref.layers = c["num_hidden_layers"];
  w.ref.vocab = c["vocab_size"];
  w.ref.eps = c["rms_norm_eps"];
  w.ref.theta = c["position_embedding_base"];
  w.ref.tied = c["tie_word_embeddings"];
  std::mt19937 rng(seed);
  for (const auto& p : metadata["params"]) {
    std::string name = p["name"];
    int64_t n = 1;
    for (const auto& d : p["shape"])
      n *= d.is_string() ? c[d.get<std::string>()].get<int64_t>() : d.get<int64_t>();
    bool is_norm = name.find("norm") != std::string::npos;
    bool is_embed = name.find("embed_tokens") != std::string::npos;
    std::normal_distribution<float> dist(is_norm ? 1.0f : 0.0f, is_norm    ? 0.1f
                                                                : is_embed ? 1.0f
                                                                           : 0.15f);
    std::vector<float> values(n);
    for (auto& v : values) v = dist(rng);
    std::string dtype = p["dtype"];
    std::vector<uint8_t> bytes;
    if (dtype == "float32") {
      bytes.resize(n * 4);
      std::memcpy(bytes.data(), values.data(), n * 4);
    } else {
      // The reference sees exactly the rounded weights the library gets.
      bytes.resize(n * 2);
      auto* h = reinterpret_cast<half*>(bytes.data());
      for (int64_t i = 0; i < n; ++i) {
        h[i] = cpu_kernels::from_float<half>(values[i]);
        values[i] = cpu_kernels::to_float(h[i]);
      }
    }
    w.ref.w[name] = values;
    w.storage.push_back(std::move(bytes));
  }
  for (const auto& s : w.storage) w.pointers.push_back(s.data());
  return w;
}

llmcc_tensor tensor(void* data, llmcc_dtype dtype, std::vector<int64_t> shape) {
  return testing::abi_tensor(data, dtype, shape);
}

// Drives a library the way the runtime will: embed, then a forward with the KV cache.
class Runner {
 public:
  Runner(const fs::path& lib, const Weights& w, llmcc_dtype dtype)
      : lib_(lib), w_(w), dtype_(dtype), bytes_(dtype == LLMCC_FLOAT32 ? 4 : 2) {
    int64_t ws = 0;
    for (const auto& [name, f] : lib_.functions()) ws = std::max(ws, f->workspace_bytes);
    workspace_.resize(ws / 8 + 64);
    raw_kv_ = lib_.create_kv_cache(4, 128, 32, 16);
    kv_ = std::make_unique<PagedKVCache>(
        raw_kv_, [this](int64_t src, int64_t dst) { lib_.copy_kv_page(raw_kv_, src, dst); });
  }
  ~Runner() { lib_.free_kv_cache(raw_kv_); }

  std::vector<uint8_t> embed(const std::vector<int32_t>& ids) {
    std::vector<int32_t> copy = ids;
    std::vector<uint8_t> out(ids.size() * w_.ref.hidden * bytes_);
    llmcc_tensor in = tensor(copy.data(), LLMCC_INT32, {static_cast<int64_t>(ids.size())});
    llmcc_tensor o = tensor(out.data(), dtype_, {static_cast<int64_t>(ids.size()), w_.ref.hidden});
    lib_.call("embed", &in, 1, &o, 1, nullptr, w_.pointers.data(), workspace_.data());
    return out;
  }

  // Runs `fn` over rows of `seqs` (appending lengths[i] tokens each) and returns f32 logits.
  std::vector<float> forward(const std::string& fn, const std::vector<int64_t>& seqs,
                             const std::vector<int64_t>& lengths, std::vector<uint8_t> embeds,
                             std::vector<int64_t> in_shape, std::vector<int32_t> positions = {}) {
    kv_->begin_forward(seqs, lengths);
    std::vector<llmcc_tensor> inputs = {tensor(embeds.data(), dtype_, in_shape)};
    if (!positions.empty())
      inputs.push_back(
          tensor(positions.data(), LLMCC_INT32, {static_cast<int64_t>(positions.size())}));
    int64_t out_rows = fn == "batch_prefill"  ? positions.size()
                       : fn == "batch_decode" ? in_shape[0]
                       : fn == "batch_verify" ? in_shape[1]
                                              : 1;
    std::vector<float> logits(out_rows * w_.ref.vocab);
    std::vector<int64_t> out_shape = fn == "batch_decode"
                                         ? std::vector<int64_t>{out_rows, 1, w_.ref.vocab}
                                         : std::vector<int64_t>{1, out_rows, w_.ref.vocab};
    llmcc_tensor out = tensor(logits.data(), LLMCC_FLOAT32, out_shape);
    lib_.call(fn, inputs.data(), static_cast<int32_t>(inputs.size()), &out, 1, kv_->raw(),
              w_.pointers.data(), workspace_.data());
    kv_->end_forward();
    return logits;
  }

  PagedKVCache& kv() { return *kv_; }
  ModelLibrary& lib() { return lib_; }
  std::vector<uint64_t>& workspace() { return workspace_; }

 private:
  ModelLibrary lib_;
  const Weights& w_;
  llmcc_dtype dtype_;
  int64_t bytes_;
  std::vector<uint64_t> workspace_;
  llmcc_kv_cache* raw_kv_;
  std::unique_ptr<PagedKVCache> kv_;
};

// max |got - ref| / max |ref| over one row of logits.
double relative_error(const float* got, const std::vector<double>& ref) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff = std::max(diff, std::abs(got[i] - ref[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return diff / scale;
}

Json odd_config() {
  // GQA, hidden 72 with head_dim 24 (not hidden/heads), tied embeddings.
  Json c = *find_preset("tiny_llama");
  c["hidden_size"] = 72;
  c["num_attention_heads"] = 4;
  c["num_key_value_heads"] = 1;
  c["head_dim"] = 24;
  c["intermediate_size"] = 100;
  c["tie_word_embeddings"] = true;
  c["num_hidden_layers"] = 3;
  c["rope_theta"] = 500.0;
  return c;
}

class CompiledForward : public ::testing::TestWithParam<int> {};

void check_prefill_and_decode(const Json& config, const std::string& quantization, double bound) {
  auto m = compile_model(config, quantization);
  llmcc_dtype dtype = quantization == "q0f32" ? LLMCC_FLOAT32 : LLMCC_FLOAT16;
  Weights w = make_weights(m->result.metadata, 42);
  Runner run(m->lib, w, dtype);
  std::vector<int32_t> ids = {3, 17, 5, 90, 44, 1, 0, 63, 12, 77, 8, 19, 33, 20, 2, 50, 71, 9};
  auto ref = w.ref.forward(ids);
  const int64_t H = w.ref.hidden;

  // Prefill the first 13 tokens, then decode the rest one at a time.
  const int64_t prompt = 13;
  run.kv().add_sequence(0);
  std::vector<int32_t> head(ids.begin(), ids.begin() + prompt);
  auto logits = run.forward("prefill", {0}, {prompt}, run.embed(head), {1, prompt, H});
  EXPECT_LT(relative_error(logits.data(), ref[prompt - 1]), bound) << "prefill";
  for (size_t t = prompt; t < ids.size(); ++t) {
    logits = run.forward("decode", {0}, {1}, run.embed({ids[t]}), {1, 1, H});
    EXPECT_LT(relative_error(logits.data(), ref[t]), bound) << "decode at " << t;
  }
  EXPECT_EQ(run.kv().sequence_length(0), static_cast<int64_t>(ids.size()));
}

TEST(CompiledForward, Q0f32PrefillAndDecodeMatchReference) {
  check_prefill_and_decode(*find_preset("tiny_llama"), "q0f32", 1e-4);
}

TEST(CompiledForward, Q0f32OddShapesTiedGqaMatchReference) {
  check_prefill_and_decode(odd_config(), "q0f32", 1e-4);
}

TEST(CompiledForward, Q0f16RunsCloseToReference) {
  // f16 storage of activations: each rounding is 2^-11 relative; a few dozen roundings deep.
  check_prefill_and_decode(*find_preset("tiny_llama"), "q0f16", 2e-2);
}

TEST(CompiledForward, BatchedFunctionsServeSeveralSequences) {
  Json config = *find_preset("tiny_llama");
  config["max_batch_size"] = 4;
  auto m = compile_model(config, "q0f32");
  Weights w = make_weights(m->result.metadata, 7);
  Runner run(m->lib, w, LLMCC_FLOAT32);
  const int64_t H = w.ref.hidden;
  std::vector<int32_t> a = {4, 8, 15, 16, 23, 42}, b = {1, 2, 3, 5, 8, 13, 21, 34, 55, 89};
  auto ref_a = w.ref.forward(a), ref_b = w.ref.forward(b);

  // batch_prefill: 4 tokens of a and 7 of b in one call, logits at each sequence's last row.
  run.kv().add_sequence(10);
  run.kv().add_sequence(20);
  std::vector<int32_t> rows(a.begin(), a.begin() + 4);
  rows.insert(rows.end(), b.begin(), b.begin() + 7);
  auto logits =
      run.forward("batch_prefill", {10, 20}, {4, 7}, run.embed(rows), {1, 11, H}, {3, 10});
  EXPECT_LT(relative_error(logits.data(), ref_a[3]), 1e-4);
  EXPECT_LT(relative_error(logits.data() + w.ref.vocab, ref_b[6]), 1e-4);

  // batch_decode: one token each.
  logits = run.forward("batch_decode", {10, 20}, {1, 1}, run.embed({a[4], b[7]}), {2, 1, H});
  EXPECT_LT(relative_error(logits.data(), ref_a[4]), 1e-4);
  EXPECT_LT(relative_error(logits.data() + w.ref.vocab, ref_b[7]), 1e-4);

  // batch_verify: logits for every row (speculative verification of b's next two tokens).
  logits = run.forward("batch_verify", {20}, {2}, run.embed({b[8], b[9]}), {1, 2, H});
  EXPECT_LT(relative_error(logits.data(), ref_b[8]), 1e-4);
  EXPECT_LT(relative_error(logits.data() + w.ref.vocab, ref_b[9]), 1e-4);

  // Removing a sequence frees its pages; a new one starts from position 0.
  int64_t before = run.kv().free_pages();
  run.kv().remove_sequence(10);
  EXPECT_GT(run.kv().free_pages(), before);
  run.kv().add_sequence(30);
  logits = run.forward("prefill", {30}, {2}, run.embed({a[0], a[1]}), {1, 2, H});
  EXPECT_LT(relative_error(logits.data(), ref_a[1]), 1e-4);
}

TEST(CompiledForward, ForkedSequencesContinueIndependently) {
  Json config = *find_preset("tiny_llama");
  auto m = compile_model(config, "q0f32");
  Weights w = make_weights(m->result.metadata, 11);
  Runner run(m->lib, w, LLMCC_FLOAT32);
  const int64_t H = w.ref.hidden;
  // 13 tokens leave the second page partly filled, so the fork must copy it.
  std::vector<int32_t> prompt = {9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 20, 30, 40};
  run.kv().add_sequence(0);
  run.forward("prefill", {0}, {13}, run.embed(prompt), {1, 13, H});
  run.kv().fork_sequence(0, 1);
  for (auto [seq, next] :
       std::vector<std::pair<int64_t, int32_t>>{{0, 50}, {1, 60}, {0, 51}, {1, 61}}) {
    std::vector<int32_t> full = prompt;
    full.push_back(seq == 0 ? 50 : 60);
    if (next % 10 == 1) full.push_back(next);
    auto ref = w.ref.forward(full);
    auto logits = run.forward("decode", {seq}, {1}, run.embed({next}), {1, 1, H});
    EXPECT_LT(relative_error(logits.data(), ref.back()), 1e-4)
        << "seq " << seq << " token " << next;
  }
}

TEST(CompiledForward, HiddenStateFunctionsComposeWithGetLogits) {
  Json config = *find_preset("tiny_llama");
  auto m = compile_model(config, "q0f32");
  Weights w = make_weights(m->result.metadata, 9);
  Runner run(m->lib, w, LLMCC_FLOAT32);
  const int64_t H = w.ref.hidden, V = w.ref.vocab;
  std::vector<int32_t> ids = {5, 6, 7};
  auto ref = w.ref.forward(ids);
  run.kv().add_sequence(0);
  run.kv().begin_forward({0}, {3});
  auto embeds = run.embed(ids);
  std::vector<float> hidden(3 * H), selected(H), logits(V);
  llmcc_tensor in = tensor(embeds.data(), LLMCC_FLOAT32, {1, 3, H});
  llmcc_tensor out = tensor(hidden.data(), LLMCC_FLOAT32, {1, 3, H});
  run.lib().call("prefill_to_last_hidden_states", &in, 1, &out, 1, run.kv().raw(),
                 w.pointers.data(), run.workspace().data());
  run.kv().end_forward();
  int32_t last = 2;
  llmcc_tensor sel_in[2] = {tensor(hidden.data(), LLMCC_FLOAT32, {3, H}),
                            tensor(&last, LLMCC_INT32, {1})};
  llmcc_tensor sel_out = tensor(selected.data(), LLMCC_FLOAT32, {1, H});
  run.lib().call("batch_select_last_hidden_states", sel_in, 2, &sel_out, 1, nullptr,
                 w.pointers.data(), run.workspace().data());
  llmcc_tensor lg_in = tensor(selected.data(), LLMCC_FLOAT32, {1, H});
  llmcc_tensor lg_out = tensor(logits.data(), LLMCC_FLOAT32, {1, V});
  run.lib().call("get_logits", &lg_in, 1, &lg_out, 1, nullptr, w.pointers.data(),
                 run.workspace().data());
  EXPECT_LT(relative_error(logits.data(), ref[2]), 1e-4);
}

TEST(CompiledForward, LibraryRejectsBadArguments) {
  Json config = *find_preset("tiny_llama");
  auto m = compile_model(config, "q0f32");
  Weights w = make_weights(m->result.metadata, 1);
  Runner run(m->lib, w, LLMCC_FLOAT32);
  try {
    run.embed({96, 97});  // vocab is 97
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("token id 97"), std::string::npos) << e.what();
  }
  // seq_len above prefill_chunk_size (32) is refused by the bounds check.
  std::vector<float> big(33 * 64);
  run.kv().add_sequence(0);
  try {
    run.forward("prefill", {0}, {33}, std::vector<uint8_t>(33 * 64 * 4), {1, 33, 64});
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("seq_len = 33"), std::string::npos) << e.what();
  }
}

TEST(CompiledMetadata, FollowsMlcSchema) {
  auto m = compile_model(*find_preset("tiny_llama"), "q0f16");
  ModelLibrary lib(m->lib);
  const Json& md = lib.metadata();
  EXPECT_EQ(md, m->result.metadata);
  EXPECT_EQ(md["model_type"], "llama");
  EXPECT_EQ(md["quantization"], "q0f16");
  EXPECT_EQ(md["context_window_size"], 128);
  EXPECT_EQ(md["sliding_window_size"], -1);
  EXPECT_EQ(md["attention_sink_size"], -1);
  EXPECT_EQ(md["prefill_chunk_size"], 32);
  EXPECT_EQ(md["tensor_parallel_shards"], 1);
  EXPECT_EQ(md["pipeline_parallel_stages"], 1);
  EXPECT_EQ(md["disaggregation"], false);
  EXPECT_EQ(md["kv_state_kind"], "kv_cache");
  EXPECT_EQ(md["max_batch_size"], 1);
  EXPECT_TRUE(md["active_vocab_size"].is_null());
  EXPECT_EQ(md["model_task"], "chat");
  EXPECT_EQ(md["abi_version"], LLMCC_ABI_VERSION);
  EXPECT_EQ(md["target"]["kind"], "llvm");
  EXPECT_EQ(md["compiler_version"], "0.1.0");
  EXPECT_EQ(md["kv_cache"], Json::parse(R"({"num_hidden_layers":2,"num_attention_heads":4,
                                            "num_key_value_heads":2,"head_dim":16})"));
  // Params in MLC's order with MLC's fused names.
  std::vector<std::string> names;
  for (const auto& p : md["params"]) names.push_back(p["name"]);
  ASSERT_EQ(names.size(), 1u + 2 * 6 + 1 + 1);
  EXPECT_EQ(names[0], "model.embed_tokens.weight");
  EXPECT_EQ(names[1], "model.layers.0.self_attn.qkv_proj.weight");
  EXPECT_EQ(names[2], "model.layers.0.self_attn.o_proj.weight");
  EXPECT_EQ(names[3], "model.layers.0.mlp.gate_up_proj.weight");
  EXPECT_EQ(names[4], "model.layers.0.mlp.down_proj.weight");
  EXPECT_EQ(names[5], "model.layers.0.input_layernorm.weight");
  EXPECT_EQ(names[6], "model.layers.0.post_attention_layernorm.weight");
  EXPECT_EQ(names.back(), "lm_head.weight");
  EXPECT_EQ(md["params"][0]["shape"], Json::parse(R"(["vocab_size", 64])"));
  EXPECT_EQ(md["params"][1]["shape"], Json::parse("[128, 64]"));
  EXPECT_EQ(md["params"][1]["dtype"], "float16");
  EXPECT_EQ(md["params"][3]["shape"], Json::parse("[192, 64]"));
  for (const char* fn : {"embed", "prefill", "decode", "batch_prefill", "batch_decode",
                         "batch_verify", "get_logits", "batch_select_last_hidden_states"}) {
    EXPECT_TRUE(md["memory_usage"].contains(fn)) << fn;
    EXPECT_NE(lib.find(fn), nullptr) << fn;
  }
  // batch_prefill's estimate covers at least its logits output: batch_size(1) x vocab f32.
  EXPECT_GE(md["memory_usage"]["batch_prefill"].get<int64_t>(), 97 * 4);
}

TEST(StaticLibrary, TarPrefixesEveryExportedSymbol) {
  auto m = compile_model(*find_preset("tiny_llama"), "q0f32", "model.tar", "tiny_q0f32_");
  fs::path dir = m->dir.path();
  ASSERT_EQ(std::system(("tar -xf " + m->lib.string() + " -C " + dir.string()).c_str()), 0);
  fs::path obj = dir / "lib0.o", syms = dir / "syms.txt";
  ASSERT_TRUE(fs::exists(obj));
  ASSERT_EQ(std::system(("nm -g --defined-only " + obj.string() + " > " + syms.string()).c_str()),
            0);
  std::string text = read_file(syms);
  int exported = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::string name = line.substr(line.rfind(' ') + 1);
    if (name.empty()) continue;
    // Kernel template instances may be weak (W/V/u) but must not be global strong definitions
    // without the prefix.
    char kind = line.size() > 17 ? line[17] : '?';
    if (kind == 'T' || kind == 'D' || kind == 'B' || kind == 'R') {
      EXPECT_EQ(name.rfind("tiny_q0f32_", 0), 0u) << line;
      ++exported;
    }
  }
  EXPECT_GE(exported, 6);
  // Link it into a program and call it through the prefixed names.
  fs::path main_cc = dir / "main.cc", exe = dir / "main";
  write_file_atomic(main_cc, R"(#include <cstdio>
#include <cstdint>
extern "C" uint32_t tiny_q0f32_llmcc_abi_version(void);
extern "C" const char* tiny_q0f32_llmcc_metadata(void);
int main() { std::printf("%u %.21s\n", tiny_q0f32_llmcc_abi_version(), tiny_q0f32_llmcc_metadata()); }
)");
  std::string cmd = "c++ " + main_cc.string() + " " + obj.string() + " -fopenmp -o " +
                    exe.string() + " && " + exe.string() + " > " + (dir / "out.txt").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(read_file(dir / "out.txt"),
            std::to_string(LLMCC_ABI_VERSION) + " {\"model_type\":\"llama\"\n");
}

}  // namespace
}  // namespace llmcc

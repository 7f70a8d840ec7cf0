// Config, override, flag, registry and target parsing, with every error case of the compiler-core
// issue.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "compile/optimization_flags.h"
#include "config/config_source.h"
#include "config/model_config_override.h"
#include "config/presets.h"
#include "models/gemma_config.h"
#include "models/llama_config.h"
#include "models/model.h"
#include "quant/quantization.h"
#include "support/error.h"
#include "support/files.h"
#include "targets/backend.h"
#include "targets/cpu/toolchain.h"
#include "targets/target.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;

Json tiny() { return *find_preset("tiny_llama"); }

TEST(OptimizationFlags, Presets) {
  EXPECT_EQ(OptimizationFlags::from_str("O0").repr(),
            "flashinfer=0;cublas_gemm=0;faster_transformer=0;cudagraph=0;cutlass=0;"
            "ipc_allreduce_strategy=NONE");
  EXPECT_EQ(OptimizationFlags::from_str("O1").repr(),
            "flashinfer=0;cublas_gemm=1;faster_transformer=1;cudagraph=0;cutlass=1;"
            "ipc_allreduce_strategy=NONE");
  EXPECT_EQ(OptimizationFlags::from_str("O2").repr(),
            "flashinfer=1;cublas_gemm=1;faster_transformer=0;cudagraph=1;cutlass=1;"
            "ipc_allreduce_strategy=NONE");
  EXPECT_EQ(OptimizationFlags::from_str("O3").repr(),
            "flashinfer=1;cublas_gemm=1;faster_transformer=1;cudagraph=1;cutlass=1;"
            "ipc_allreduce_strategy=AUTO");
}

TEST(OptimizationFlags, KeyValueFormDefaultsFlashinferOn) {
  OptimizationFlags f = OptimizationFlags::from_str("cublas_gemm=1");
  EXPECT_TRUE(f.flashinfer);
  EXPECT_TRUE(f.cublas_gemm);
  EXPECT_FALSE(f.faster_transformer);
  EXPECT_FALSE(f.cudagraph);
  EXPECT_FALSE(f.cutlass);
  EXPECT_EQ(OptimizationFlags::from_str("").repr(),
            "flashinfer=1;cublas_gemm=0;faster_transformer=0;cudagraph=0;cutlass=0;"
            "ipc_allreduce_strategy=NONE");
  f = OptimizationFlags::from_str("flashinfer=0;;ipc_allreduce_strategy=TWOSHOT;cutlass=1");
  EXPECT_FALSE(f.flashinfer);
  EXPECT_TRUE(f.cutlass);
  EXPECT_EQ(f.ipc_allreduce_strategy, IPCAllReduceStrategy::kTwoShot);
  // argparse accepts unambiguous prefixes, so MLC does too.
  EXPECT_TRUE(OptimizationFlags::from_str("cuda=1").cudagraph);
}

TEST(OptimizationFlags, Errors) {
  EXPECT_THROW(OptimizationFlags::from_str("flashinfer=2"), UserError);
  EXPECT_THROW(OptimizationFlags::from_str("flashinfer=true"), UserError);
  EXPECT_THROW(OptimizationFlags::from_str("bogus=1"), UserError);
  EXPECT_THROW(OptimizationFlags::from_str("c=1"), UserError);  // ambiguous
  EXPECT_THROW(OptimizationFlags::from_str("ipc_allreduce_strategy=MAYBE"), UserError);
  EXPECT_THROW(OptimizationFlags::from_str("O4"), UserError);
  EXPECT_THROW(OptimizationFlags::from_str("flashinfer"), UserError);
}

TEST(OptimizationFlags, CpuTargetDisablesGpuFlags) {
  OptimizationFlags f = OptimizationFlags::from_str("O3");
  f.update(Target::from_device("cpu"), Quantization::from_name("q0f16"));
  EXPECT_EQ(f.repr(),
            "flashinfer=0;cublas_gemm=0;faster_transformer=0;cudagraph=0;cutlass=0;"
            "ipc_allreduce_strategy=AUTO");
  // cuBLAS is kept on CUDA only for unquantized or fp8 schemes.
  Target cuda;
  cuda.kind = "cuda";
  cuda.cuda_arch = 75;
  OptimizationFlags g = OptimizationFlags::from_str("O2");
  g.update(cuda, Quantization::from_name("q4f16_1"));
  EXPECT_FALSE(g.cublas_gemm);
  EXPECT_FALSE(g.flashinfer);  // arch < 80
  EXPECT_TRUE(g.cudagraph);
  OptimizationFlags h = OptimizationFlags::from_str("O2");
  h.update(cuda, Quantization::from_name("q0f16"));
  EXPECT_TRUE(h.cublas_gemm);
}

TEST(ModelConfigOverride, ParsesAllEightFields) {
  auto o = ModelConfigOverride::from_str(
      "context_window_size=4096;sliding_window_size=1024;prefill_chunk_size=512;"
      "attention_sink_size=4;max_batch_size=8;tensor_parallel_shards=2;"
      "pipeline_parallel_stages=1;disaggregation=yes");
  EXPECT_EQ(o.context_window_size, 4096);
  EXPECT_EQ(o.sliding_window_size, 1024);
  EXPECT_EQ(o.prefill_chunk_size, 512);
  EXPECT_EQ(o.attention_sink_size, 4);
  EXPECT_EQ(o.max_batch_size, 8);
  EXPECT_EQ(o.tensor_parallel_shards, 2);
  EXPECT_EQ(o.pipeline_parallel_stages, 1);
  EXPECT_EQ(o.disaggregation, true);
  EXPECT_EQ(ModelConfigOverride::from_str("").repr(),
            "context_window_size=None;sliding_window_size=None;prefill_chunk_size=None;"
            "attention_sink_size=None;max_batch_size=None;tensor_parallel_shards=None;"
            "pipeline_parallel_stages=None;disaggregation=None");
  EXPECT_EQ(ModelConfigOverride::from_str("disaggregation=no").disaggregation, false);
  EXPECT_EQ(ModelConfigOverride::from_str("disaggregation=TRUE").disaggregation, true);
}

TEST(ModelConfigOverride, Errors) {
  EXPECT_THROW(ModelConfigOverride::from_str("context_window_size=big"), UserError);
  EXPECT_THROW(ModelConfigOverride::from_str("context_window_size=12x"), UserError);
  EXPECT_THROW(ModelConfigOverride::from_str("no_such_field=1"), UserError);
  EXPECT_THROW(ModelConfigOverride::from_str("=4"), UserError);
}

TEST(ModelConfigOverride, ApplyRecomputesDerivedValues) {
  auto c = LlamaConfig::from_dict(*find_preset("llama2_7b"), "test");
  EXPECT_EQ(c->prefill_chunk_size(), 2048);
  auto o = ModelConfigOverride::from_str("context_window_size=1024;sliding_window_size=64");
  // sliding_window_size is not a Llama field: warned about and skipped.
  Json d = o.apply(c->asdict(), c->class_name());
  EXPECT_FALSE(d.contains("sliding_window_size"));
  auto c2 = LlamaConfig::from_dict(d, "test");
  EXPECT_EQ(c2->context_window_size(), 1024);
  EXPECT_EQ(c2->prefill_chunk_size(), 1024);  // clamped to the new context window
  EXPECT_EQ(c2->head_dim, 128);
}

TEST(LlamaConfig, DerivesMissingValues) {
  Json d = tiny();
  auto c = LlamaConfig::from_dict(d, "tiny");
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_EQ(c->num_key_value_heads, 2);
  EXPECT_EQ(c->context_window_size(), 128);  // from max_position_embeddings
  EXPECT_EQ(c->prefill_chunk_size(), 32);
  EXPECT_EQ(c->position_embedding_base, 10000.0);
  EXPECT_FALSE(c->kwargs.contains("rope_theta"));  // consumed
  EXPECT_TRUE(c->kwargs.contains("architectures"));
  d.erase("num_key_value_heads");
  d.erase("rope_theta");
  d.erase("prefill_chunk_size");
  d["head_dim"] = 24;
  c = LlamaConfig::from_dict(d, "tiny");
  EXPECT_EQ(c->num_key_value_heads, 4);
  EXPECT_EQ(c->head_dim, 24);
  EXPECT_EQ(c->prefill_chunk_size(), 128);
  EXPECT_EQ(c->position_embedding_base, 10000.0);
  Json asdict = c->asdict();
  EXPECT_EQ(asdict.begin().key(), "hidden_size");
  EXPECT_EQ(asdict["max_batch_size"], 1);
}

TEST(LlamaConfig, RopeScaling) {
  Json d = *find_preset("llama3_1_8b");
  auto c = LlamaConfig::from_dict(d, "llama3.1");
  EXPECT_EQ(c->rope_scaling["rope_type"], "llama3");
  // The legacy "type" key counts, as in transformers (MLC drops such a scaling; HF defines the
  // model).
  d["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  EXPECT_EQ(LlamaConfig::from_dict(d, "x")->rope_scaling,
            Json({{"rope_type", "linear"}, {"factor", 2.0}}));
  d["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 2.0}};
  EXPECT_EQ(LlamaConfig::from_dict(d, "x")->rope_scaling["original_max_position_embeddings"],
            d["max_position_embeddings"]);
  d["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 2.0}};
  EXPECT_THROW(LlamaConfig::from_dict(d, "x"), NotImplementedError);
  // Partial rotary from the top level or transformers 5's rope_parameters; an odd count of
  // rotated dims is refused.
  d.erase("rope_scaling");
  d["partial_rotary_factor"] = 0.5;
  EXPECT_EQ(LlamaConfig::from_dict(d, "x")->rotary_dim(), 64);
  d.erase("partial_rotary_factor");
  d["rope_parameters"] = {{"rope_theta", 1e4}, {"partial_rotary_factor", 0.25}};
  EXPECT_EQ(LlamaConfig::from_dict(d, "x")->rotary_dim(), 32);
  d["rope_parameters"]["partial_rotary_factor"] = 0.3;  // 38.4 -> 38 dims, even: fine
  EXPECT_EQ(LlamaConfig::from_dict(d, "x")->rotary_dim(), 38);
  d["rope_parameters"]["partial_rotary_factor"] = 1.5;
  EXPECT_THROW(LlamaConfig::from_dict(d, "x"), UserError);
}

TEST(LlamaConfig, ErrorsNameTheField) {
  Json d = tiny();
  d.erase("hidden_size");
  try {
    LlamaConfig::from_dict(d, "my/config.json");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("my/config.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("hidden_size"), std::string::npos);
  }
  d = tiny();
  d["vocab_size"] = "many";
  EXPECT_THROW(LlamaConfig::from_dict(d, "x"), UserError);
  d = tiny();
  d.erase("max_position_embeddings");
  EXPECT_THROW(LlamaConfig::from_dict(d, "x"), UserError);
  d = tiny();
  d["num_key_value_heads"] = 3;  // 4 heads
  EXPECT_THROW(LlamaConfig::from_dict(d, "x"), UserError);
  d = tiny();
  d["tensor_parallel_shards"] = 3;  // does not divide 96
  try {
    LlamaConfig::from_dict(d, "x");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("tensor_parallel_shards=3"), std::string::npos);
  }
  d["tensor_parallel_shards"] = 4;  // divides 96 but not the 2 KV heads
  EXPECT_THROW(LlamaConfig::from_dict(d, "x"), UserError);
  d = tiny();
  d["pipeline_parallel_stages"] = 3;  // 2 layers
  EXPECT_THROW(LlamaConfig::from_dict(d, "x"), UserError);
}

TEST(ConfigSource, NestedModelConfigTopLevelWins) {
  Json chat = {{"model_type", "llama"},
               {"quantization", "q0f32"},
               {"context_window_size", 64},
               {"active_vocab_size", 90},
               {"model_config", tiny()}};
  chat["model_config"]["context_window_size"] = 128;
  std::optional<int64_t> active;
  Json flat = flatten_model_config(chat, &active);
  EXPECT_EQ(active, 90);
  EXPECT_EQ(flat["context_window_size"], 64);
  EXPECT_EQ(flat["hidden_size"], 64);
  EXPECT_FALSE(flat.contains("active_vocab_size"));
  EXPECT_FALSE(flat.contains("model_config"));
}

TEST(ConfigSource, FindsFilesFoldersAndPresets) {
  TempPath dir = make_temp_dir("llmcc-config-test");
  write_file_atomic(dir.path() / "config.json", tiny().dump());
  ConfigSource s = load_config_source(dir.path().string());
  EXPECT_EQ(s.dict["hidden_size"], 64);
  EXPECT_EQ(detect_model_type("auto", s), "llama");
  EXPECT_THROW(detect_quantization("", s), UserError);
  EXPECT_EQ(detect_quantization("q0f16", s), "q0f16");
  Json chat = {{"quantization", "q0f32"}, {"model_config", tiny()}};
  chat["model_config"].erase("model_type");
  chat["model_config"]["model_type"] = "llama";
  write_file_atomic(dir.path() / "mlc-chat-config.json", chat.dump());
  s = load_config_source(dir.path().string());  // mlc-chat-config.json is preferred
  EXPECT_EQ(detect_quantization("", s), "q0f32");
  EXPECT_EQ(detect_model_type("auto", s), "llama");
  EXPECT_EQ(load_config_source("tinyllama_1b").dict["hidden_size"], 2048);
  EXPECT_THROW(load_config_source((dir.path() / "missing.json").string()), UserError);
  fs::create_directory(dir.path() / "empty");
  EXPECT_THROW(load_config_source((dir.path() / "empty").string()), UserError);
  write_file_atomic(dir.path() / "bad.json", "{not json");
  EXPECT_THROW(load_config_source((dir.path() / "bad.json").string()), UserError);
}

TEST(Registries, EveryMlcQuantizationIsKnown) {
  for (const char* name :
       {"q0f16", "q0bf16", "q0f32", "q3f16_0", "q3f16_1", "q4f16_0", "q4f16_1", "q4bf16_0",
        "q4bf16_1", "q4f32_1", "q4f16_2", "q4f16_autoawq", "q4f16_ft", "e5m2_e5m2_f16",
        "e4m3_e4m3_f16", "e4m3_e4m3_f16_max_calibrate", "fp8_e4m3fn_bf16_block_scale",
        "fp8_e4m3fn_bf16_block_scale_static_activation"})
    EXPECT_EQ(Quantization::from_name(name).name, name);
  EXPECT_EQ(Quantization::from_name("q4f16_0").linear_weight_layout, "KN");
  EXPECT_THROW(Quantization::from_name("q5f16_1"), UserError);
  try {
    Quantization::from_name("q4f16_autoawq").require_implemented();
    FAIL();
  } catch (const NotImplementedError& e) {
    EXPECT_NE(std::string(e.what()).find("implemented: q0f16, q0bf16, q0f32, q3f16_0, q3f16_1"),
              std::string::npos);
  }
}

TEST(Registries, FamiliesReadTheirConfigsAndRefuseWhatTheyCannotBuild) {
  const Json base = {{"hidden_size", 64},
                     {"intermediate_size", 128},
                     {"num_attention_heads", 4},
                     {"num_hidden_layers", 2},
                     {"rms_norm_eps", 1e-6},
                     {"vocab_size", 256},
                     {"max_position_embeddings", 128}};
  auto config = [&](const char* type, const Json& extra) {
    Json d = base;
    d.update(extra);
    return Model::from_name(type).config_from_dict(d, "config.json");
  };
  // Mistral and Phi-3 read HF's sliding_window; Qwen ignores it unless use_sliding_window.
  EXPECT_EQ(config("mistral", {{"sliding_window", 4096}})->sliding_window_size(), 4096);
  EXPECT_EQ(config("mistral", {{"sliding_window", nullptr}})->sliding_window_size(), -1);
  EXPECT_EQ(config("phi3", {{"sliding_window", 2047}})->sliding_window_size(), 2047);
  EXPECT_EQ(config("qwen2", {{"sliding_window", 32768}})->sliding_window_size(), -1);
  EXPECT_THROW(config("qwen2", {{"use_sliding_window", true}}), NotImplementedError);
  // Phi-3 reads longrope (also as "su" or "yarn", as transformers' Phi3Config) and partial rotary.
  const Json longrope = {
      {"type", "yarn"}, {"short_factor", {1, 1, 1, 1}}, {"long_factor", {2, 2, 2, 2}}};
  auto phi3 = config("phi3", {{"rope_scaling", longrope},
                              {"partial_rotary_factor", 0.5},
                              {"original_max_position_embeddings", 32}});
  const auto& llama = dynamic_cast<const LlamaConfig&>(*phi3);
  EXPECT_EQ(llama.rope_scaling["rope_type"], "longrope");
  EXPECT_EQ(llama.rope_scaling["original_max_position_embeddings"], 32);
  EXPECT_EQ(llama.rotary_dim(), 8);
  EXPECT_THROW(config("phi3", {{"rope_scaling", {{"type", "longrope"}}}}), UserError);
  // The family from the HF class when model_type is missing.
  ConfigSource source;
  source.dict = {{"architectures", {"Qwen2ForCausalLM"}}};
  EXPECT_EQ(detect_model_type("auto", source), "qwen2");
  source.dict = {{"architectures", {"Transformer9000"}}};
  EXPECT_THROW(detect_model_type("auto", source), UserError);
}

TEST(GemmaConfig, LayerPatternsDefaultsAndRoundTrip) {
  const Json base = {{"hidden_size", 64},
                     {"intermediate_size", 128},
                     {"num_attention_heads", 4},
                     {"num_hidden_layers", 7},
                     {"rms_norm_eps", 1e-6},
                     {"vocab_size", 256},
                     {"max_position_embeddings", 128}};
  auto read = [&](const char* type, const Json& extra) {
    Json d = base;
    d.update(extra);
    auto c = Model::from_name(type).config_from_dict(d, "config.json");
    return std::unique_ptr<GemmaConfig>(dynamic_cast<GemmaConfig*>(c.release()));
  };
  // Gemma: head_dim 256 unless set, the scale from head_dim, no window, hidden_act ignored.
  auto g1 = read("gemma", {{"hidden_act", "gelu"}});
  EXPECT_EQ(g1->head_dim, 256);
  EXPECT_EQ(g1->query_pre_attn_scalar, 256);
  EXPECT_EQ(g1->hidden_activation, "gelu_pytorch_tanh");
  EXPECT_FALSE(g1->is_sliding(0));
  // Gemma 2: transformers' defaults, even layers slide.
  auto g2 = read("gemma2", {{"head_dim", 16}});
  EXPECT_EQ(g2->attn_logit_softcapping, 50);
  EXPECT_EQ(g2->final_logit_softcapping, 30);
  EXPECT_EQ(g2->sliding_window, 4096);
  EXPECT_TRUE(g2->is_sliding(0));
  EXPECT_FALSE(g2->is_sliding(1));
  EXPECT_EQ(read("gemma2", {{"final_logit_softcapping", nullptr}})->final_logit_softcapping, 0);
  // Gemma 3: five of six layers slide; transformers 5's per-type rope_parameters.
  auto g3 =
      read("gemma3_text",
           {{"rope_parameters",
             {{"full_attention", {{"rope_type", "linear"}, {"factor", 8.0}, {"rope_theta", 1e6}}},
              {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 1e4}}}}}});
  for (int i = 0; i < 7; ++i) EXPECT_EQ(g3->is_sliding(i), i != 5) << i;
  EXPECT_EQ(g3->position_embedding_base, 1e6);
  EXPECT_EQ(g3->rope_local_base_freq, 1e4);
  EXPECT_EQ(g3->rope_scaling["rope_type"], "linear");
  EXPECT_EQ(g3->class_name(), "Gemma3Config");
  // mlc-chat-config.json's model_config reads back to the same config.
  auto again = read("gemma3_text", g3->asdict());
  EXPECT_EQ(again->asdict(), g3->asdict());
  // Errors name the field.
  auto message = [&](const char* type, const Json& extra) {
    try {
      read(type, extra);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message("gemma", {{"hidden_activation", "relu"}}).find("hidden_activation"),
            std::string::npos);
  EXPECT_NE(message("gemma2", {{"layer_types", {"full_attention"}}}).find("layer_types"),
            std::string::npos);
  EXPECT_NE(message("gemma2", {{"sliding_window", nullptr}}).find("sliding_window"),
            std::string::npos);
  // Gemma 3 4B's config.json as the hub has it: a text_config that leaves most fields to
  // transformers' defaults.
  auto mm = Model::from_name("gemma3").config_from_dict(
      {{"architectures", {"Gemma3ForConditionalGeneration"}},
       {"model_type", "gemma3"},
       {"text_config",
        {{"hidden_size", 2560},
         {"intermediate_size", 10240},
         {"model_type", "gemma3_text"},
         {"num_hidden_layers", 34},
         {"rope_scaling", {{"factor", 8.0}, {"rope_type", "linear"}}},
         {"sliding_window", 1024}}},
       {"vision_config", {{"model_type", "siglip_vision_model"}}}},
      "config.json");
  const auto& g4 = dynamic_cast<const GemmaConfig&>(*mm);
  EXPECT_EQ(g4.vocab_size, 262208);
  EXPECT_EQ(g4.num_attention_heads, 8);
  EXPECT_EQ(g4.num_key_value_heads, 4);
  EXPECT_EQ(g4.head_dim, 256);
  EXPECT_EQ(g4.query_pre_attn_scalar, 256);
  EXPECT_EQ(g4.context_window_size(), 131072);
  EXPECT_EQ(g4.position_embedding_base, 1e6);
  EXPECT_EQ(g4.rope_scaling["factor"], 8.0);
  EXPECT_EQ(g4.sliding_window, 1024);
  EXPECT_TRUE(g4.tie_word_embeddings);
  for (int i = 0; i < 34; ++i) EXPECT_EQ(g4.is_sliding(i), i % 6 != 5) << i;
  EXPECT_THROW(read("gemma2", {{"text_config", Json::object()}}), NotImplementedError);
  EXPECT_THROW(read("gemma", {{"attention_bias", true}}), NotImplementedError);
}

TEST(Registries, EveryMlcModelTypeIsKnown) {
  for (const char* name : {"llama", "mistral", "gemma", "gemma2", "gpt2", "phi3", "qwen2", "qwen3",
                           "rwkv6", "medusa", "bert", "qwen3_5"})
    EXPECT_EQ(Model::from_name(name).name, name);
  EXPECT_EQ(Model::from_name("mixformer-sequential").name, "phi-msft");
  EXPECT_EQ(Model::from_name("rwkv5").kv_state_kind(), "rnn_state");
  EXPECT_EQ(Model::from_name("medusa").kv_state_kind(), "none");
  EXPECT_EQ(Model::from_name("qwen3_5").kv_state_kind(), "hybrid");
  EXPECT_EQ(Model::from_name("llama").kv_state_kind(), "kv_cache");
  EXPECT_EQ(Model::from_name("bert").model_task, "embedding");
  EXPECT_EQ(Model::from_name("bert").kv_state_kind(), "none");
  EXPECT_THROW(Model::from_name("transformer9000"), UserError);
  EXPECT_THROW(Model::from_name("gpt_bigcode").require_implemented(), NotImplementedError);
  EXPECT_NO_THROW(Model::from_name("gpt2").require_implemented());
  EXPECT_NO_THROW(Model::from_name("llama").require_implemented());
}

TEST(Target, ParsesDevices) {
  Target t = Target::from_device("cpu");
  EXPECT_EQ(t.kind, "llvm");
  EXPECT_EQ(t.mcpu, "native");
  t = Target::from_device("llvm -mcpu=znver3 -mattr=+avx2,-avx512f");
  EXPECT_EQ(t.mcpu, "znver3");
  ASSERT_EQ(t.mattr.size(), 2u);
  EXPECT_EQ(t.mattr[1], "-avx512f");
  EXPECT_EQ(Target::from_device("auto").kind, "llvm");
  EXPECT_EQ(Target::from_device("cpu", "aarch64-linux-gnu").mtriple, "aarch64-linux-gnu");
  EXPECT_THROW(Target::from_device("cuda"), NotImplementedError);
  EXPECT_THROW(Target::from_device("cuda:0"), NotImplementedError);
  EXPECT_THROW(Target::from_device("toaster"), UserError);
  EXPECT_THROW(Target::from_device("llvm -mfoo=1"), UserError);
  EXPECT_THROW(Target::from_device("llvm -mattr=avx2"), UserError);
  EXPECT_THROW(Target::from_device(""), UserError);
}

// Another architecture: a generic CPU unless one is named, never "native"; GCC's spelling of the
// extensions, on an Armv8.2-A base where the intrinsics need one; one registry entry each.
TEST(Target, CrossTargetsAndTheirCompilerFlags) {
  const Target arm = Target::from_device("llvm -mtriple=aarch64-linux-gnu");
  EXPECT_EQ(arm.mcpu, "generic");
  EXPECT_EQ(cpu::cpu_flags(arm), std::vector<std::string>{"-march=armv8-a"});
  EXPECT_EQ(cpu::compiler_for(arm), "aarch64-linux-gnu-g++");
  EXPECT_EQ(cpu::cpu_flags(Target::from_device("llvm -mtriple=aarch64-linux-gnu -mattr=+dotprod")),
            std::vector<std::string>{"-march=armv8.2-a+dotprod"});
  EXPECT_EQ(cpu::cpu_flags(Target::from_device(
                "llvm -mtriple=aarch64-linux-gnu -mcpu=neoverse-n1 -mattr=+neon,-crc")),
            std::vector<std::string>{"-mcpu=neoverse-n1+simd+nocrc"});
  EXPECT_THROW(Target::from_device("llvm -mtriple=aarch64-linux-gnu -mcpu=native"), UserError);
  EXPECT_THROW(Target::from_device("llvm -mtriple=riscv64-linux-gnu"), UserError);
  EXPECT_EQ(make_backend(arm)->name(), "aarch64 CPU");
  EXPECT_EQ(make_backend(Target::from_device("cpu"))->name(), "x86-64 CPU");
  EXPECT_EQ(target_entries().size(), 2u);
}

}  // namespace
}  // namespace llmcc

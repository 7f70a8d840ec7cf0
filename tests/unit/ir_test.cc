// The IR's text form round-trips, and the parser and verifier reject broken IR with a reason.
#include <gtest/gtest.h>

#include "config/presets.h"
#include "ir/op_registry.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/rope.h"
#include "ir/verifier.h"
#include "models/llama.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "support/error.h"

namespace llmcc::ir {
namespace {

Module tiny_llama(const std::string& quantization = "q0f32") {
  auto config = LlamaConfig::from_dict(*find_preset("tiny_llama"), "tiny");
  return build_llama(*config, Quantization::from_name(quantization));
}

std::string error_of(const std::string& text) {
  try {
    parse_module(text);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(IrText, BuiltModelRoundTrips) {
  for (const char* q : {"q0f32", "q0f16"}) {
    Module m = tiny_llama(q);
    std::string text = print_module(m);
    Module parsed = parse_module(text);
    EXPECT_EQ(print_module(parsed), text);
    EXPECT_TRUE(verify_module(parsed).empty());
  }
}

TEST(IrText, OptimizedModelRoundTrips) {
  Module m = tiny_llama();
  make_pipeline().run(m);
  std::string text = print_module(m);
  EXPECT_NE(text.find("\"ws_offset\""), std::string::npos);
  EXPECT_EQ(print_module(parse_module(text)), text);
}

// The family op set (norm variants, LayerNorm, GELU, gated GELU, scale) prints and parses back,
// and fuse-swiglu turns gelu-times-up into geglu with the same approximation.
TEST(IrText, FamilyOpsRoundTripAndFuse) {
  const std::string text = R"(module
param @w : f32[8]
param @b : f32[8]

func @f(%x: f32[n, 8]) -> (f32[n, 4]) {
  %0 = layer_norm(%x, @w, @b) {"eps":1e-05} : f32[n, 8]
  %1 = rms_norm(%0, @w) {"eps":1e-06,"round_before_weight":false,"weight_offset":1.0} : f32[n, 8]
  %2 = scale(%1) {"factor":2.8284271247461903} : f32[n, 8]
  %3 = slice_last(%2) {"begin":0,"end":4} : f32[n, 4]
  %4 = slice_last(%2) {"begin":4,"end":8} : f32[n, 4]
  %5 = gelu(%3) {"approximate":"tanh"} : f32[n, 4]
  %6 = mul(%5, %4) : f32[n, 4]
  return %6
}
)";
  Module m = parse_module(text);
  EXPECT_EQ(print_module(m), text);
  EXPECT_TRUE(verify_module(m).empty());
  passes::fuse_swiglu(m);
  const std::string fused = print_module(m);
  EXPECT_NE(fused.find("= geglu(%2) {\"approximate\":\"tanh\"} : f32[n, 4]"), std::string::npos)
      << fused;
  EXPECT_EQ(fused.find("gelu("), std::string::npos);
  // Attribute checks.
  EXPECT_NE(
      error_of(std::string(text).replace(text.find("\"tanh\""), 6, "\"fast\"")).find("approximate"),
      std::string::npos);
  EXPECT_NE(error_of(std::string(text).replace(text.find("\"weight_offset\":1.0"), 19,
                                               "\"weight_offset\":\"one\""))
                .find("weight_offset"),
            std::string::npos);
  EXPECT_NE(
      error_of(std::string(text).replace(text.find("@w, @b"), 6, "@w, @w, @b")).find("layer_norm"),
      std::string::npos);
}

TEST(IrText, PrintsReadableForm) {
  Module m = tiny_llama();
  std::string text = print_module(m);
  EXPECT_NE(text.find("param @model.layers.0.self_attn.qkv_proj.weight : f32[128, 64]"),
            std::string::npos);
  EXPECT_NE(text.find("func @embed(%input_ids: i32[seq_len]) -> (f32[seq_len, 64]) {"),
            std::string::npos);
  EXPECT_NE(text.find("= take(@model.embed_tokens.weight, %input_ids) : f32[seq_len, 64]"),
            std::string::npos);
}

const char* kSmall = R"(module
param @w : f32[8, 4]

func @f(%x: f32[n, 4]) -> (f32[n, 8]) {
  %0 = linear(%x, @w) : f32[n, 8]
  return %0
}
)";

TEST(IrText, ParserErrorsGiveLineAndReason) {
  EXPECT_EQ(print_module(parse_module(kSmall)), kSmall);
  std::string text = kSmall;
  EXPECT_NE(
      error_of(std::string(text).replace(text.find("(%x, @w)"), 8, "(%y, @w)")).find("line 5"),
      std::string::npos);
  EXPECT_NE(error_of(std::string(text).replace(text.find("f32[n, 8]\n  return"), 9, "f32[n, 9]"))
                .find("declared type"),
            std::string::npos);
  EXPECT_NE(
      error_of(std::string(text).replace(text.find("linear"), 6, "linearr")).find("unknown op"),
      std::string::npos);
  EXPECT_NE(error_of(std::string(text).replace(text.find("@w)"), 3, "@v)")).find("unknown param"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(text).replace(text.find("f32[8, 4]"), 9, "f99[8, 4]"))
                .find("unknown dtype"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(text) + "param @w : f32[1]\n").find("declared twice"),
            std::string::npos);
}

TEST(IrVerifier, FindsBrokenModules) {
  Module m = parse_module(kSmall);
  EXPECT_TRUE(verify_module(m).empty());
  auto problems = verify_module(m, {.require_bounds = true});
  ASSERT_EQ(problems.size(), 2u);  // %x and %0 mention n
  EXPECT_NE(problems[0].find("symbol 'n' has no upper bound"), std::string::npos);
  m.functions[0].attrs["tir_var_upper_bound"] = {{"n", 16}};
  EXPECT_TRUE(verify_module(m, {.require_bounds = true}).empty());

  Module broken = parse_module(kSmall);
  broken.functions[0].ops[0].operands[0] = Operand::value(1);  // its own result
  EXPECT_FALSE(verify_module(broken).empty());
  broken = parse_module(kSmall);
  broken.functions[0].values[1].type = Type::tensor(DType::kF16, {Dim::sym("n"), Dim::constant(8)});
  EXPECT_NE(verify_module(broken)[0].find("but the op gives"), std::string::npos);
  broken = parse_module(kSmall);
  broken.params.push_back(broken.params[0]);
  EXPECT_NE(verify_module(broken)[0].find("declared twice"), std::string::npos);
  EXPECT_THROW(verify_or_throw(broken), UserError);
}

TEST(IrOps, TypingRules) {
  auto f32 = [](std::vector<Dim> s) { return Type::tensor(DType::kF32, std::move(s)); };
  Dim n = Dim::sym("n");
  EXPECT_EQ(infer_op_type("swiglu", {f32({n, Dim::constant(6)})}, Json::object()),
            f32({n, Dim::constant(3)}));
  EXPECT_THROW(infer_op_type("swiglu", {f32({n, Dim::constant(5)})}, Json::object()), UserError);
  EXPECT_THROW(
      infer_op_type("slice_last", {f32({n, Dim::constant(6)})}, {{"begin", 4}, {"end", 7}}),
      UserError);
  Json attn = {{"layer", 0},
               {"num_q_heads", 4},
               {"num_kv_heads", 2},
               {"head_dim", 8},
               {"sm_scale", 0.35},
               {"causal", true},
               {"rope", make_rope_attr("rotate_half", 8, 1e4, Json())}};
  const std::vector<Type> qkv = {f32({n, Dim::constant(64)}), Type::kv_cache()};
  EXPECT_EQ(infer_op_type("attention", qkv, attn), f32({n, Dim::constant(32)}));
  EXPECT_THROW(infer_op_type("attention", {f32({n, Dim::constant(63)}), Type::kv_cache()}, attn),
               UserError);
  // Each attribute is checked, with the field named.
  auto attention_error = [&](const char* key, const Json& value) {
    Json a = attn;
    if (value.is_null())
      a.erase(key);
    else
      a[key] = value;
    try {
      infer_op_type("attention", qkv, a);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(attention_error("causal", Json()).find("causal"), std::string::npos);
  EXPECT_NE(attention_error("logit_softcap", -1.0).find("logit_softcap"), std::string::npos);
  EXPECT_NE(attention_error("sliding_window", -2).find("sliding_window"), std::string::npos);
  EXPECT_NE(attention_error("rope", Json()).find("rope"), std::string::npos);
  EXPECT_NE(
      attention_error("rope", make_rope_attr("rotate_half", 10, 1e4, Json())).find("rotary_dim"),
      std::string::npos);
  EXPECT_NE(attention_error("rope", make_rope_attr("sideways", 8, 1e4, Json())).find("mode"),
            std::string::npos);
  EXPECT_NE(attention_error("rope", make_rope_attr("rotate_half", 8, 1e4,
                                                   {{"rope_type", "longrope"},
                                                    {"short_factor", {1, 1, 1}},
                                                    {"long_factor", {1, 1, 1, 1}},
                                                    {"original_max_position_embeddings", 4},
                                                    {"attention_factor", 1.1}}))
                .find("short_factor"),
            std::string::npos);
  EXPECT_NE(attention_error("rope", make_rope_attr("rotate_half", 8, 1e4,
                                                   {{"rope_type", "dynamic"}, {"factor", 2}}))
                .find("rope_type"),
            std::string::npos);
  EXPECT_EQ(attention_error("rope", make_rope_attr("none", 0, 0, Json())), "");
  EXPECT_EQ(
      infer_op_type("linear", {f32({n, Dim::constant(4)}), f32({Dim::sym("v"), Dim::constant(4)})},
                    {{"out_dtype", "f32"}}),
      f32({n, Dim::sym("v")}));
}

}  // namespace
}  // namespace llmcc::ir

// Each pass on printed IR: input text in, expected text (or property) out.
#include "passes/passes.h"

#include <gtest/gtest.h>

#include "config/presets.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "models/llama.h"
#include "passes/pipeline.h"
#include "support/error.h"
#include "targets/cpu/kernel_selection.h"

namespace llmcc {
namespace {

std::string run(const std::string& text, void (*pass)(ir::Module&)) {
  ir::Module m = ir::parse_module(text);
  pass(m);
  return ir::print_module(m);
}

TEST(FuseSwiglu, RewritesTheGatedActivation) {
  const char* in = R"(module
func @f(%x: f32[n, 6]) -> (f32[n, 3]) {
  %0 = slice_last(%x) {"begin":0,"end":3} : f32[n, 3]
  %1 = slice_last(%x) {"begin":3,"end":6} : f32[n, 3]
  %2 = silu(%0) : f32[n, 3]
  %3 = mul(%2, %1) : f32[n, 3]
  return %3
}
)";
  const char* out = R"(module

func @f(%x: f32[n, 6]) -> (f32[n, 3]) {
  %0 = swiglu(%x) : f32[n, 3]
  return %0
}
)";
  EXPECT_EQ(run(in, passes::fuse_swiglu), out);
}

TEST(FuseSwiglu, LeavesOtherSlicesAlone) {
  // The up half is not the second half, so this is not a swiglu.
  const char* in = R"(module

func @f(%x: f32[n, 6]) -> (f32[n, 2]) {
  %0 = slice_last(%x) {"begin":0,"end":2} : f32[n, 2]
  %1 = slice_last(%x) {"begin":4,"end":6} : f32[n, 2]
  %2 = silu(%0) : f32[n, 2]
  %3 = mul(%2, %1) : f32[n, 2]
  return %3
}
)";
  EXPECT_EQ(run(in, passes::fuse_swiglu), in);
}

TEST(FuseResidualAdd, MovesTheAddIntoTheMatmul) {
  const char* in = R"(module
param @w : f32[4, 4]
func @f(%x: f32[n, 4], %r: f32[n, 4]) -> (f32[n, 4]) {
  %0 = linear(%x, @w) : f32[n, 4]
  %1 = add(%r, %0) : f32[n, 4]
  return %1
}
)";
  const char* out = R"(module
param @w : f32[4, 4]

func @f(%x: f32[n, 4], %r: f32[n, 4]) -> (f32[n, 4]) {
  %0 = linear(%x, @w, %r) {"epilogue":["residual"]} : f32[n, 4]
  return %0
}
)";
  EXPECT_EQ(run(in, passes::fuse_residual_add), out);
}

TEST(FuseResidualAdd, ReadsTheBiasByNameAndAddsTheResidualAfterIt) {
  const char* in = R"(module
param @w : f32[4, 4]
param @b : f32[4]
func @f(%x: f32[n, 4], %r: f32[n, 4]) -> (f32[n, 4]) {
  %0 = linear(%x, @w, @b) {"epilogue":["bias"]} : f32[n, 4]
  %1 = add(%0, %r) : f32[n, 4]
  return %1
}
)";
  const char* out = R"(module
param @w : f32[4, 4]
param @b : f32[4]

func @f(%x: f32[n, 4], %r: f32[n, 4]) -> (f32[n, 4]) {
  %0 = linear(%x, @w, @b, %r) {"epilogue":["bias","residual"]} : f32[n, 4]
  return %0
}
)";
  EXPECT_EQ(run(in, passes::fuse_residual_add), out);
}

// The parser's (verifier's) complaint about `text`, or "no error".
std::string error_of_parsing(const std::string& text) {
  try {
    ir::parse_module(text);
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SelectKernels, RecordsThePathEachOpTakesForTheTargetsIsa) {
  const char* text = R"(module {"quantization":"q4f16_1"}
param @w : f16[8, 64]
param @wt : f16[8, 64]
func @f(%x: f16[n, 64]) -> (f16[n, 8]) {
  %0 = linear(%x, @w) : f16[n, 8]
  %1 = add(%0, %0) : f16[n, 8]
  return %1
}
)";
  auto kernels = [&](const char* scheme, cpu::CpuIsa isa) {
    ir::Module m = ir::parse_module(text);
    m.attrs["quantization"] = scheme;
    passes::quantize(m);
    cpu::select_kernels(m, isa);
    return m.functions[0].ops[0].attrs["kernel"].get<std::string>() + " " +
           m.functions[0].ops[1].attrs["kernel"].get<std::string>();
  };
  const cpu::CpuIsa portable{}, avx2{.avx2 = true, .fma = true, .f16c = true},
      vnni{.avx2 = true, .fma = true, .f16c = true, .avx512_vnni = true};
  // An int4 weight param takes the 8-column tile layout on AVX2, the 16-column one on VNNI.
  EXPECT_EQ(kernels("q4f16_1", avx2), "linear_int4_tile8/avx2 add");
  EXPECT_EQ(kernels("q8f16_1", avx2), "linear_int8_dot<8>/avx2 add");
  EXPECT_EQ(kernels("q4f16_1", vnni), "linear_int4_tile16/avx512-vnni add");
  EXPECT_EQ(kernels("q8f16_1", vnni), "linear_int8_dot<8>/avx512-vnni add");
  EXPECT_EQ(kernels("q4f16_1", portable), "linear_q<4,32>/f32-dequant/portable add");
  // aarch64: NEON for the f32 paths, SDOT (-mattr=+dotprod) for MLC's q4/q8 layout, no tiles.
  const cpu::CpuIsa neon{.neon = true}, dotprod{.neon = true, .dotprod = true};
  EXPECT_EQ(kernels("q4f16_1", neon), "linear_q<4,32>/f32-dequant/neon add");
  EXPECT_EQ(kernels("q4f16_1", dotprod), "linear_int8_dot<4>/neon-dotprod add");
  EXPECT_EQ(kernels("q8f16_1", dotprod), "linear_int8_dot<8>/neon-dotprod add");
  EXPECT_EQ(kernels("q4f16_0", dotprod), "linear_q<4,32>/f32-dequant/neon add");
  // The int8 kernel takes NK weights with f16 scales only.
  EXPECT_EQ(kernels("q4f16_0", vnni), "linear_q<4,32>/f32-dequant/avx2-fma add");
  EXPECT_EQ(kernels("q4f32_1", vnni), "linear_q<4,32>/f32-dequant/avx2-fma add");
  EXPECT_EQ(kernels("q3f16_1", avx2), "linear_q<3,40>/f32-dequant/avx2-fma add");
  EXPECT_EQ(kernels("q0f16", avx2), "linear/f32-accumulate/avx2-fma add");
}

TEST(SelectKernels, TilesOnlyTheInt4WeightsThatNothingElseReads) {
  // @emb is tied: the embedding lookup reads it in MLC's layout, so its matmul keeps the row
  // kernel and the metadata asks for no repacking; @w is read by its matmul only.
  const char* text = R"(module {"quantization":"q4f16_1"}
param @emb : f16[16, 64]
param @w : f16[64, 64]
func @f(%ids: i32[n]) -> (f16[n, 16]) {
  %0 = take(@emb, %ids) : f16[n, 64]
  %1 = linear(%0, @w) : f16[n, 64]
  %2 = linear(%1, @emb) : f16[n, 16]
  return %2
}
)";
  for (bool vnni : {false, true}) {
    ir::Module m = ir::parse_module(text);
    m.attrs["metadata"] = Json::object();
    passes::quantize(m);
    passes::attach_param_metadata(m);
    cpu::select_kernels(m, {.avx2 = true, .fma = true, .f16c = true, .avx512_vnni = vnni});
    const auto& ops = m.functions[0].ops;
    EXPECT_EQ(ops[1].attrs["kernel"],
              vnni ? "linear_int4_tile16/avx512-vnni" : "linear_int4_tile8/avx2");
    EXPECT_EQ(ops[2].attrs["kernel"],
              vnni ? "linear_int8_dot<4>/avx512-vnni" : "linear_int8_dot<4>/avx2");
    std::map<std::string, Json> params;
    for (const Json& p : m.attrs["metadata"]["params"]) params[p["name"]] = p;
    ASSERT_TRUE(params.count("w.q_weight")) << m.attrs["metadata"]["params"].dump();
    EXPECT_EQ(params["w.q_weight"].value("layout", ""), vnni ? "int4-tile16" : "int4-tile8");
    EXPECT_EQ(params["w.q_weight"].value("layout_scale", ""), "w.q_scale");
    EXPECT_FALSE(params["w.q_scale"].contains("layout"));
    EXPECT_FALSE(params["emb.q_weight"].contains("layout"));
  }
}

TEST(QkRmsNorm, ChecksTheFusedLayoutAndWeights) {
  auto parse_error = [](const std::string& op) {
    return error_of_parsing(
        "module\nparam @q : f32[8]\nparam @k : f32[8]\nparam @bad : f32[6]\n"
        "func @f(%x: f32[n, 48]) -> (f32[n, 48]) {\n  %0 = " +
        op + " : f32[n, 48]\n  return %0\n}\n");
  };
  // 4 q heads and 1 kv head of 8: (4 + 2) * 8 = 48.
  const std::string attrs = R"({"num_q_heads":4,"num_kv_heads":1,"head_dim":8,"eps":1e-6})";
  EXPECT_EQ(parse_error("qk_rms_norm(%x, @q, @k) " + attrs), "no error");
  EXPECT_NE(parse_error("qk_rms_norm(%x, @q, @bad) " + attrs).find("must be [8]"),
            std::string::npos);
  EXPECT_NE(parse_error(R"(qk_rms_norm(%x, @q, @k) {"num_q_heads":2,"num_kv_heads":1,)"
                        R"("head_dim":8,"eps":1e-6})")
                .find("not a fused qkv"),
            std::string::npos);
}

TEST(LinearEpilogue, OperandsMustBeNamedAndFitTheResult) {
  auto parse_error = [](const std::string& op) {
    return error_of_parsing(
        "module\nparam @w : f32[4, 4]\nparam @b : f32[4]\nparam @b3 : f32[3]\n"
        "func @f(%x: f32[n, 4], %r: f32[n, 4]) -> (f32[n, 4]) {\n  %0 = " +
        op + " : f32[n, 4]\n  return %0\n}\n");
  };
  EXPECT_EQ(parse_error(R"(linear(%x, @w, @b) {"epilogue":["bias"]})"), "no error");
  EXPECT_NE(parse_error("linear(%x, @w, %r)").find("named by 'epilogue'"), std::string::npos);
  EXPECT_NE(parse_error(R"(linear(%x, @w, @b3) {"epilogue":["bias"]})").find("bias f32[3]"),
            std::string::npos);
  EXPECT_NE(parse_error(R"(linear(%x, @w, %r, @b) {"epilogue":["residual","bias"]})")
                .find("bias, then residual"),
            std::string::npos);
  EXPECT_NE(parse_error(R"(linear(%x, @w, @b) {"epilogue":["scale"]})").find("'bias' and"),
            std::string::npos);
}

TEST(FuseResidualAdd, KeepsAMatmulWithOtherUses) {
  const char* in = R"(module
param @w : f32[4, 4]

func @f(%x: f32[n, 4], %r: f32[n, 4]) -> (f32[n, 4]) {
  %0 = linear(%x, @w) : f32[n, 4]
  %1 = add(%r, %0) : f32[n, 4]
  %2 = mul(%1, %0) : f32[n, 4]
  return %2
}
)";
  EXPECT_EQ(run(in, passes::fuse_residual_add), in);
}

TEST(DeadCodeElimination, RemovesChainsOfUnusedOps) {
  const char* in = R"(module
func @f(%x: f32[n, 4]) -> (f32[n, 4]) {
  %0 = silu(%x) : f32[n, 4]
  %1 = mul(%0, %0) : f32[n, 4]
  %2 = add(%x, %x) : f32[n, 4]
  return %2
}
)";
  const char* out = R"(module

func @f(%x: f32[n, 4]) -> (f32[n, 4]) {
  %0 = add(%x, %x) : f32[n, 4]
  return %0
}
)";
  EXPECT_EQ(run(in, passes::dead_code_elimination), out);
}

TEST(AttachVariableBounds, FollowsMlcRules) {
  const char* in =
      R"(module {"model_config":{"context_window_size":512,"prefill_chunk_size":64,"max_batch_size":4}}
func @f(%x: f32[seq_len, 4]) -> (f32[seq_len, 4]) {
  %0 = silu(%x) : f32[seq_len, 4]
  return %0
}
)";
  ir::Module m = ir::parse_module(in);
  passes::attach_variable_bounds(m);
  EXPECT_EQ(m.functions[0].attrs["tir_var_upper_bound"].dump(),
            R"({"seq_len":64,"batch_size":4,"total_seq_len":512})");
  EXPECT_EQ(m.functions[0].attrs["tir_non_negative_var"].dump(), R"(["vocab_size"])");
  // Sliding-window models bound the rolling cache instead; bounds <= 0 are dropped.
  m.attrs["model_config"]["sliding_window_size"] = -1;
  passes::attach_variable_bounds(m);
  EXPECT_EQ(m.functions[0].attrs["tir_var_upper_bound"].dump(),
            R"({"seq_len":64,"batch_size":4,"kv_seq_len":63})");
}

TEST(PlanMemory, ReusesDeadStorage) {
  const char* in = R"(module
func @f(%x: f32[n, 16]) -> (f32[n, 16]) {"tir_var_upper_bound":{"n":4}} {
  %0 = silu(%x) : f32[n, 16]
  %1 = silu(%0) : f32[n, 16]
  %2 = silu(%1) : f32[n, 16]
  %3 = silu(%2) : f32[n, 16]
  return %3
}
)";
  ir::Module m = ir::parse_module(in);
  passes::plan_memory(m);
  std::string text = ir::print_module(m);
  // 4x16 f32 = 256 bytes per value; two live at once, so two slots alternate.
  EXPECT_NE(text.find(R"(%0 = silu(%x) {"ws_offset":0})"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(%1 = silu(%0) {"ws_offset":256})"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(%2 = silu(%1) {"ws_offset":0})"), std::string::npos) << text;
  EXPECT_NE(text.find("%3 = silu(%2) : f32[n, 16]"), std::string::npos) << text;  // the output
  EXPECT_EQ(m.functions[0].attrs["workspace_bytes"], 512);
  EXPECT_EQ(m.attrs["memory_usage"]["f"], 512 + 256);
}

int64_t bytes(const ir::Module& m, const ir::Function& f, const ir::Type& t) {
  int64_t n = ir::dtype_bytes(t.dtype);
  for (const auto& d : t.shape)
    n *= d.is_symbolic() ? ir::symbol_upper_bound(m, f, d.symbol) : d.value;
  return n;
}

TEST(PlanMemory, NeverOverlapsLiveValues) {
  // Every pair of values live at the same time must occupy disjoint byte ranges.
  auto config = LlamaConfig::from_dict(*find_preset("tiny_llama"), "tiny");
  ir::Module m = build_llama(*config, Quantization::from_name("q0f32"));
  make_pipeline().run(m);
  for (const auto& f : m.functions) {
    std::vector<int> last(f.values.size(), -1), def(f.values.size(), -1);
    for (size_t i = 0; i < f.ops.size(); ++i) {
      def[f.ops[i].result] = static_cast<int>(i);
      for (const auto& o : f.ops[i].operands)
        if (o.kind == ir::Operand::Kind::kValue) last[o.index] = static_cast<int>(i);
    }
    for (size_t a = 0; a < f.ops.size(); ++a)
      for (size_t b = a + 1; b < f.ops.size(); ++b) {
        const auto &oa = f.ops[a], &ob = f.ops[b];
        if (!oa.attrs.contains("ws_offset") || !ob.attrs.contains("ws_offset")) continue;
        if (last[oa.result] < static_cast<int>(b)) continue;  // a is dead before b is made
        int64_t a0 = oa.attrs["ws_offset"], b0 = ob.attrs["ws_offset"];
        int64_t a1 = a0 + bytes(m, f, f.values[oa.result].type);
        int64_t b1 = b0 + bytes(m, f, f.values[ob.result].type);
        EXPECT_FALSE(a0 < b1 && b0 < a1) << f.name << " ops " << a << " and " << b;
      }
  }
}

TEST(Pipeline, FusesTheLlamaGraph) {
  auto config = LlamaConfig::from_dict(*find_preset("tiny_llama"), "tiny");
  ir::Module m = build_llama(*config, Quantization::from_name("q0f32"));
  make_pipeline().run(m);
  std::string text = ir::print_module(m);
  for (const char* gone : {"= silu(", "= mul(", "= add(", "= slice_last("})
    EXPECT_EQ(text.find(gone), std::string::npos) << gone;
  EXPECT_NE(text.find("= swiglu("), std::string::npos);
  EXPECT_NE(text.find("@model.layers.1.self_attn.o_proj.weight, %"), std::string::npos);
  EXPECT_TRUE(m.attrs["memory_usage"].contains("batch_prefill"));
}

}  // namespace
}  // namespace llmcc

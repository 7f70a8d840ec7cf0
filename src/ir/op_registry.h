// The op set of the graph IR and each op's typing rule. Builders, the parser and the verifier all
// go through infer_op_type, so an op means the same thing wherever it appears.
//
//   take(table[V,H], ids i32[...])            -> table.dtype[..., H]     embedding lookup
//   rms_norm(x[...,H], w[H]) {eps, weight_offset? (0), round_before_weight? (true)}   -> x
//     Llama: w * round(norm(x)); Gemma (weight_offset 1, round_before_weight false):
//     round(norm(x) * (1 + w)) in f32
//   layer_norm(x[...,H], w[H], b[H]) {eps}    -> x                       statistics in f32
//   linear(x[...,K], w[N,K], epilogue...) {out_dtype?, epilogue?}
//                                             -> [..., N]   x @ w^T (+ bias[N]) (+ residual)
//   linear_q(x[...,K], q_weight u32, q_scale, epilogue...) {bits, group_size, in_features,
//            layout NK|KN, out_dtype?, epilogue?}  -> [..., N]   group-dequantizing matmul
//     `epilogue` names the operands after the weights, in order: ["bias"], ["residual"] or
//     ["bias", "residual"]; a fusion reads an operand by its name, never by its position.
//   take_q(q_weight u32[V,*], q_scale[V,*], ids) {bits, group_size, in_features}
//                                             -> q_scale.dtype[..., in_features]
//   qk_rms_norm(qkv[..., (hq+2hkv)*d], q_w[d], k_w[d]) {num_q_heads, num_kv_heads, head_dim, eps,
//               weight_offset?, round_before_weight?}
//                                             -> qkv   per-head RMSNorm of q and k (Qwen3)
//   add(a, b), mul(a, b)                      -> a                       elementwise
//   silu(a), gelu(a) {approximate? none|tanh} -> a
//   scale(a) {factor}                         -> a        a * round(factor) (embedding scale)
//   softcap(a) {cap}                          -> a        cap * tanh(a / cap) (Gemma 2's logits)
//   slice_last(x) {begin, end}                -> x[..., begin:end]
//   swiglu(x[..., 2I])                        -> [..., I]                silu(x[:I]) * x[I:]
//   geglu(x[..., 2I]) {approximate?}          -> [..., I]                gelu(x[:I]) * x[I:]
//   attention(qkv, kv_cache) {layer, num_q_heads, num_kv_heads, head_dim, sm_scale, causal,
//             sliding_window? (0: none), logit_softcap? (0: none), rope (ir/rope.h)}
//                                             -> [..., num_q_heads*head_dim]
//             RoPE, KV append and paged attention, as MLC's attention_with_fused_qkv; scores are
//             q.k * sm_scale, then softcap * tanh(score / softcap) when logit_softcap > 0
//   gather_rows(x[..., n, H], idx i32[b])     -> [..., b, H]
//   last_row(x[..., n, H])                    -> [..., 1, H]
//   cast(x) {dtype}                           -> dtype
#pragma once

#include <string>
#include <vector>

#include "ir/type.h"
#include "support/json.h"

namespace llmcc::ir {

// The index of `linear`/`linear_q`'s epilogue operand `name` ("bias" or "residual"), or -1.
int epilogue_operand(const std::string& op_name, const Json& attrs, const std::string& name);

bool is_known_op(const std::string& name);
// Throws UserError with the op name and the broken rule when the operands do not fit.
Type infer_op_type(const std::string& name, const std::vector<Type>& operands, const Json& attrs);
// Ops whose result may be computed in place over their first operand's storage.
bool is_elementwise_op(const std::string& name);

}  // namespace llmcc::ir

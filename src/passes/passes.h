// Every pass, one per file. pipeline.cc arranges them into the compiler.
#pragma once

#include "ir/module.h"

namespace llmcc::passes {

// quantize: swaps the weights for the packed form of the scheme attrs.quantization names (group
// quantization: X.weight -> X.q_weight + X.q_scale, linear -> linear_q, take -> take_q).
void quantize(ir::Module& m);

// annotate: MLC's variable bounds (§7) on every function: seq_len <= prefill_chunk_size,
// batch_size <= max_batch_size, total_seq_len <= context_window_size (or the sliding-window
// variants), dropping bounds <= 0. Reads attrs.model_config.
void attach_variable_bounds(ir::Module& m);

// annotate: records the KV-cache shape in attrs.metadata.kv_cache, as MLC's
// DispatchKVCacheCreation does when the model creates a paged KV cache.
void attach_kv_cache_metadata(ir::Module& m);

// graph: slice_last(x,[0,I)) -> silu (gelu), times slice_last(x,[I,2I)) becomes swiglu(x)
// (geglu(x) with gelu's approximation).
void fuse_swiglu(ir::Module& m);

// graph: add(r, linear(x, w)) with a single-use linear becomes linear(x, w, r) (likewise for
// linear_q), so the residual
// add happens in the matmul epilogue instead of a separate pass over memory.
void fuse_residual_add(ir::Module& m);

// graph: removes ops whose results nothing uses.
void dead_code_elimination(ir::Module& m);

// lower: records every param (name, shape, dtype) in attrs.metadata.params, MLC's list of what
// the library expects from the weights, as they are after quantization.
void attach_param_metadata(ir::Module& m);

// lower: static memory plan. Sizes every intermediate under the function's upper bounds, reuses
// storage once a value is dead, records each op's workspace offset (attrs.ws_offset) and the
// function's workspace_bytes, and fills module attrs.memory_usage (workspace plus outputs, per
// function), which is also MLC's metadata.memory_usage.
void plan_memory(ir::Module& m);

}  // namespace llmcc::passes

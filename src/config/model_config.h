// The base of every architecture's config. Each architecture parses its fields from a dict with
// MLC's semantics (known keys to fields, the rest to kwargs) and derives missing values.
#pragma once

#include <string>

#include "support/json.h"

namespace llmcc {

class ModelConfig {
 public:
  virtual ~ModelConfig() = default;
  // Every field in declaration order, without kwargs (MLC's dataclasses.asdict minus kwargs).
  virtual Json asdict() const = 0;
  // The class name used in messages, e.g. "LlamaConfig".
  virtual std::string class_name() const = 0;

  // Fields every compiled model has; used by compile, metadata and memory estimation.
  virtual int64_t context_window_size() const = 0;
  virtual int64_t prefill_chunk_size() const = 0;
  virtual int64_t max_batch_size() const = 0;
  virtual int64_t tensor_parallel_shards() const = 0;
  virtual int64_t pipeline_parallel_stages() const = 0;
  virtual bool disaggregation() const = 0;
  // -1 when the architecture has no such field.
  virtual int64_t sliding_window_size() const { return -1; }
  virtual int64_t attention_sink_size() const { return -1; }
  virtual bool has_sliding_window_field() const { return false; }

  Json kwargs = Json::object();  // keys the architecture does not know
};

}  // namespace llmcc

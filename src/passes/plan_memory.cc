#include <algorithm>
#include <map>

#include "ir/verifier.h"
#include "passes/passes.h"
#include "support/error.h"

namespace llmcc::passes {

namespace {

constexpr int64_t kAlignment = 64;

int64_t align_up(int64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

int64_t bytes_under_bounds(const ir::Module& m, const ir::Function& f, const ir::Type& t) {
  int64_t n = ir::dtype_bytes(t.dtype);
  for (const auto& d : t.shape) {
    int64_t v = d.is_symbolic() ? ir::symbol_upper_bound(m, f, d.symbol) : d.value;
    if (v < 0)
      internal_error("@{}: no upper bound for '{}'; run attach_variable_bounds first", f.name,
                     d.symbol);
    n *= v;
  }
  return n;
}

// First-fit-by-size allocator over a growing arena; freed blocks are merged with neighbours.
class Arena {
 public:
  int64_t allocate(int64_t size) {
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (it->second >= size && (best == free_.end() || it->second < best->second)) best = it;
    if (best != free_.end()) {
      int64_t offset = best->first, remaining = best->second - size;
      free_.erase(best);
      if (remaining > 0) free_[offset + size] = remaining;
      return offset;
    }
    // Grow, reusing a free block that ends at the top.
    int64_t offset = end_;
    if (!free_.empty()) {
      auto last = std::prev(free_.end());
      if (last->first + last->second == end_) {
        offset = last->first;
        free_.erase(last);
      }
    }
    end_ = offset + size;
    return offset;
  }

  void release(int64_t offset, int64_t size) {
    auto it = free_.emplace(offset, size).first;
    auto next = std::next(it);
    if (next != free_.end() && it->first + it->second == next->first) {
      it->second += next->second;
      free_.erase(next);
    }
    if (it != free_.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        free_.erase(it);
      }
    }
  }

  int64_t size() const { return end_; }

 private:
  std::map<int64_t, int64_t> free_;  // offset -> size
  int64_t end_ = 0;
};

}  // namespace

void plan_memory(ir::Module& m) {
  Json usage = Json::object();
  for (auto& f : m.functions) {
    std::vector<bool> is_output(f.values.size(), false);
    for (int r : f.results) is_output[r] = true;
    std::vector<int> last_use(f.values.size(), -1);
    for (size_t i = 0; i < f.ops.size(); ++i)
      for (const auto& o : f.ops[i].operands)
        if (o.kind == ir::Operand::Kind::kValue) last_use[o.index] = static_cast<int>(i);

    Arena arena;
    std::vector<int64_t> offset(f.values.size(), -1), size(f.values.size(), 0);
    int64_t output_bytes = 0;
    for (int r : f.results) output_bytes += bytes_under_bounds(m, f, f.values[r].type);
    for (size_t i = 0; i < f.ops.size(); ++i) {
      ir::Op& op = f.ops[i];
      op.attrs.erase("ws_offset");
      if (!is_output[op.result]) {
        size[op.result] = align_up(bytes_under_bounds(m, f, f.values[op.result].type));
        offset[op.result] = arena.allocate(size[op.result]);
        op.attrs["ws_offset"] = offset[op.result];
      }
      // Operands dying here are freed only after the op ran: results never alias inputs.
      for (const auto& o : op.operands)
        if (o.kind == ir::Operand::Kind::kValue && last_use[o.index] == static_cast<int>(i) &&
            offset[o.index] >= 0) {
          arena.release(offset[o.index], size[o.index]);
          offset[o.index] = -1;
        }
    }
    f.attrs["workspace_bytes"] = arena.size();
    usage[f.name] = arena.size() + output_bytes;
  }
  m.attrs["memory_usage"] = usage;
  if (m.attrs.contains("metadata")) m.attrs["metadata"]["memory_usage"] = usage;
}

}  // namespace llmcc::passes

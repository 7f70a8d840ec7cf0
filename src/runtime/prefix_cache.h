// The prefix cache: a radix tree over token ids whose edges are full KV-cache pages. A request
// whose prompt starts with a cached prefix shares those pages instead of computing them again
// (a shared system prompt, the earlier turns of a chat). Pages are shared by reference count
// through PagedKVCache; those that only the cache still holds are evicted least recently used
// first when pages run short.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "runtime/paged_kv_cache.h"

namespace llmcc {

class PrefixCache {
 public:
  explicit PrefixCache(PagedKVCache& kv);
  ~PrefixCache();  // releases every page the cache holds
  PrefixCache(const PrefixCache&) = delete;
  PrefixCache& operator=(const PrefixCache&) = delete;

  // The pages holding the longest cached prefix of `tokens`, at most `max_pages` of them; they
  // count as just used.
  std::vector<int32_t> match(const std::vector<int32_t>& tokens, int64_t max_pages);
  // Records that page i of `pages` holds tokens [i * page_size, (i + 1) * page_size) of `tokens`
  // (every page full). A prefix already cached under other pages keeps those.
  void insert(const std::vector<int32_t>& tokens, const std::vector<int32_t>& pages);

  // Pages that only the cache holds, which evict() can free.
  int64_t evictable_pages() const;
  // Frees up to `n` pages that no sequence holds, least recently used first (a page before its
  // descendants); returns how many.
  int64_t evict(int64_t n);
  int64_t cached_pages() const { return num_nodes_; }
  int64_t evicted_pages() const { return evicted_; }

 private:
  struct Node {
    int32_t page = -1;
    uint64_t last_used = 0;
    Node* parent = nullptr;
    std::vector<int32_t> key;  // the page's tokens
    std::map<std::vector<int32_t>, std::unique_ptr<Node>> children;
  };
  std::vector<int32_t> block(const std::vector<int32_t>& tokens, int64_t page) const;
  void release_all(Node& node);

  PagedKVCache& kv_;
  Node root_;
  uint64_t clock_ = 0;
  int64_t num_nodes_ = 0, evicted_ = 0;
};

}  // namespace llmcc

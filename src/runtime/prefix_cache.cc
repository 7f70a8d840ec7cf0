#include "runtime/prefix_cache.h"

#include <queue>

#include "support/error.h"

namespace llmcc {

PrefixCache::PrefixCache(PagedKVCache& kv) : kv_(kv) {}

PrefixCache::~PrefixCache() { release_all(root_); }

void PrefixCache::release_all(Node& node) {
  for (auto& [key, child] : node.children) {
    release_all(*child);
    kv_.release_page(child->page);
  }
  node.children.clear();
}

std::vector<int32_t> PrefixCache::block(const std::vector<int32_t>& tokens, int64_t page) const {
  const int64_t ps = kv_.page_size();
  return std::vector<int32_t>(tokens.begin() + page * ps, tokens.begin() + (page + 1) * ps);
}

std::vector<int32_t> PrefixCache::match(const std::vector<int32_t>& tokens, int64_t max_pages) {
  const uint64_t now = ++clock_;
  const int64_t full = std::min<int64_t>(max_pages, tokens.size() / kv_.page_size());
  std::vector<int32_t> pages;
  Node* node = &root_;
  for (int64_t p = 0; p < full; ++p) {
    auto it = node->children.find(block(tokens, p));
    if (it == node->children.end()) break;
    node = it->second.get();
    node->last_used = now;
    pages.push_back(node->page);
  }
  return pages;
}

void PrefixCache::insert(const std::vector<int32_t>& tokens, const std::vector<int32_t>& pages) {
  if (static_cast<int64_t>(tokens.size()) < static_cast<int64_t>(pages.size()) * kv_.page_size())
    internal_error("prefix cache: {} pages but {} tokens", pages.size(), tokens.size());
  const uint64_t now = ++clock_;
  Node* node = &root_;
  for (size_t p = 0; p < pages.size(); ++p) {
    auto key = block(tokens, static_cast<int64_t>(p));
    auto it = node->children.find(key);
    if (it == node->children.end()) {
      auto child = std::make_unique<Node>();
      child->page = pages[p];
      child->parent = node;
      child->key = key;
      kv_.retain_page(pages[p]);
      ++num_nodes_;
      it = node->children.emplace(std::move(key), std::move(child)).first;
    }
    node = it->second.get();
    node->last_used = now;
  }
}

int64_t PrefixCache::evictable_pages() const {
  // A sequence that holds a cached page holds its ancestors too, so the pages only the cache
  // holds form whole subtrees, and all of them can go.
  int64_t n = 0;
  std::vector<const Node*> stack = {&root_};
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    for (const auto& [key, child] : node->children) {
      if (kv_.page_refs(child->page) == 1) ++n;
      stack.push_back(child.get());
    }
  }
  return n;
}

int64_t PrefixCache::evict(int64_t n) {
  auto older = [](const Node* a, const Node* b) { return a->last_used > b->last_used; };
  std::priority_queue<Node*, std::vector<Node*>, decltype(older)> leaves(older);
  std::vector<Node*> stack = {&root_};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (auto& [key, child] : node->children) {
      if (child->children.empty() && kv_.page_refs(child->page) == 1) leaves.push(child.get());
      stack.push_back(child.get());
    }
  }
  int64_t freed = 0;
  while (freed < n && !leaves.empty()) {
    Node* leaf = leaves.top();
    leaves.pop();
    Node* parent = leaf->parent;
    kv_.release_page(leaf->page);
    const std::vector<int32_t> key = leaf->key;
    parent->children.erase(key);  // destroys leaf
    --num_nodes_;
    ++freed;
    if (parent != &root_ && parent->children.empty() && kv_.page_refs(parent->page) == 1)
      leaves.push(parent);
  }
  evicted_ += freed;
  return freed;
}

}  // namespace llmcc

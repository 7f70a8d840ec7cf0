#include "runtime/paged_kv_cache.h"

#include "support/error.h"

namespace llmcc {

PagedKVCache::PagedKVCache(llmcc_kv_cache* kv, CopyPage copy_page)
    : kv_(kv), copy_page_(std::move(copy_page)), refs_(kv->num_pages, 0) {
  // Hand out low page numbers first.
  for (int64_t p = kv->num_pages; p-- > 0;) free_pages_.push_back(static_cast<int32_t>(p));
}

PagedKVCache::Sequence& PagedKVCache::sequence(int64_t seq_id) {
  auto it = sequences_.find(seq_id);
  if (it == sequences_.end()) user_error("KV cache: sequence {} does not exist", seq_id);
  return it->second;
}

void PagedKVCache::add_sequence(int64_t seq_id) {
  if (sequences_.count(seq_id)) user_error("KV cache: sequence {} already exists", seq_id);
  if (static_cast<int64_t>(sequences_.size()) >= kv_->max_batch_size)
    user_error("KV cache: at most {} sequences fit", kv_->max_batch_size);
  sequences_[seq_id] = Sequence{};
}

int32_t PagedKVCache::take_page() {
  if (free_pages_.empty()) user_error("KV cache is full: no free page left");
  int32_t page = free_pages_.back();
  free_pages_.pop_back();
  refs_[page] = 1;
  return page;
}

void PagedKVCache::drop_page(int32_t page) {
  if (--refs_[page] == 0) free_pages_.push_back(page);
}

void PagedKVCache::remove_sequence(int64_t seq_id) {
  Sequence& s = sequence(seq_id);
  for (auto it = s.pages.rbegin(); it != s.pages.rend(); ++it) drop_page(*it);
  sequences_.erase(seq_id);
}

void PagedKVCache::truncate_sequence(int64_t seq_id, int64_t length) {
  Sequence& s = sequence(seq_id);
  if (length < 0 || length > s.length)
    internal_error("truncate_sequence: {} is outside [0, {}]", length, s.length);
  const size_t pages = static_cast<size_t>((length + kv_->page_size - 1) / kv_->page_size);
  while (s.pages.size() > pages) {
    drop_page(s.pages.back());
    s.pages.pop_back();
  }
  s.length = length;
}

void PagedKVCache::fork_sequence(int64_t parent, int64_t child) {
  const Sequence& p = sequence(parent);
  add_sequence(child);
  Sequence& c = sequences_[child];
  c.length = p.length;
  const bool partial_last = p.length % kv_->page_size != 0;
  for (size_t i = 0; i < p.pages.size(); ++i) {
    if (partial_last && i + 1 == p.pages.size()) {
      int32_t copy = take_page();
      copy_page_(p.pages[i], copy);
      c.pages.push_back(copy);
    } else {
      ++refs_[p.pages[i]];
      c.pages.push_back(p.pages[i]);
    }
  }
}

int64_t PagedKVCache::sequence_length(int64_t seq_id) const {
  auto it = sequences_.find(seq_id);
  if (it == sequences_.end()) user_error("KV cache: sequence {} does not exist", seq_id);
  return it->second.length;
}

void PagedKVCache::begin_forward(const std::vector<int64_t>& seq_ids,
                                 const std::vector<int64_t>& lengths) {
  if (seq_ids.size() != lengths.size() || seq_ids.empty())
    internal_error("begin_forward: {} sequences but {} lengths", seq_ids.size(), lengths.size());
  qo_indptr_ = {0};
  prev_lengths_.clear();
  page_indptr_ = {0};
  page_indices_.clear();
  for (size_t i = 0; i < seq_ids.size(); ++i) {
    Sequence& s = sequence(seq_ids[i]);
    int64_t needed = (s.length + lengths[i] + kv_->page_size - 1) / kv_->page_size;
    while (static_cast<int64_t>(s.pages.size()) < needed) {
      if (free_pages_.empty())
        user_error("KV cache is full: sequence {} needs {} tokens", seq_ids[i],
                   s.length + lengths[i]);
      s.pages.push_back(take_page());
    }
    qo_indptr_.push_back(static_cast<int32_t>(qo_indptr_.back() + lengths[i]));
    prev_lengths_.push_back(static_cast<int32_t>(s.length));
    page_indices_.insert(page_indices_.end(), s.pages.begin(), s.pages.end());
    page_indptr_.push_back(static_cast<int32_t>(page_indices_.size()));
  }
  pending_ids_ = seq_ids;
  pending_lengths_ = lengths;
  kv_->num_seqs = static_cast<int32_t>(seq_ids.size());
  kv_->qo_indptr = qo_indptr_.data();
  kv_->prev_lengths = prev_lengths_.data();
  kv_->page_indptr = page_indptr_.data();
  kv_->page_indices = page_indices_.data();
}

void PagedKVCache::end_forward() {
  for (size_t i = 0; i < pending_ids_.size(); ++i)
    sequence(pending_ids_[i]).length += pending_lengths_[i];
  pending_ids_.clear();
  pending_lengths_.clear();
  kv_->num_seqs = 0;
}

}  // namespace llmcc

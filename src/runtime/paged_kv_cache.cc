#include "runtime/paged_kv_cache.h"

#include <algorithm>
#include <utility>

#include "support/error.h"

namespace llmcc {

PagedKVCache::PagedKVCache(llmcc_kv_cache* kv, CopyPage copy_page, int64_t sliding_window)
    : kv_(kv),
      copy_page_(std::move(copy_page)),
      sliding_window_(std::max<int64_t>(sliding_window, 0)),
      refs_(kv->num_pages, 0) {
  // Hand out low page numbers first.
  for (int64_t p = kv->num_pages; p-- > 0;) free_pages_.push_back(static_cast<int32_t>(p));
}

PagedKVCache::PagedKVCache(llmcc_kv_cache* kv, CopyPage copy_page, CopyPage copy_local_page,
                           int64_t local_window)
    : PagedKVCache(kv, std::move(copy_page)) {
  if (kv->local == nullptr) internal_error("KV cache: the library made no local layer group");
  if (local_window <= 0) internal_error("KV cache: the local layer group needs a window");
  local_ = std::make_unique<PagedKVCache>(kv->local, std::move(copy_local_page), local_window);
}

const PagedKVCache::Sequence& PagedKVCache::sequence(int64_t seq_id) const {
  auto it = sequences_.find(seq_id);
  if (it == sequences_.end()) user_error("KV cache: sequence {} does not exist", seq_id);
  return it->second;
}

PagedKVCache::Sequence& PagedKVCache::sequence(int64_t seq_id) {
  return const_cast<Sequence&>(std::as_const(*this).sequence(seq_id));
}

int64_t PagedKVCache::first_visible_page(int64_t pos) const {
  if (sliding_window_ == 0) return 0;
  return std::max<int64_t>(0, pos - sliding_window_ + 1) / kv_->page_size;
}

void PagedKVCache::release_out_of_window(Sequence& s) {
  // The next query sits at position `length`; nothing before its window is read again.
  const int64_t keep_from = first_visible_page(s.length);
  size_t drop = 0;
  while (s.first_page + static_cast<int64_t>(drop) < keep_from && drop < s.pages.size())
    drop_page(s.pages[drop++]);
  s.pages.erase(s.pages.begin(), s.pages.begin() + static_cast<std::ptrdiff_t>(drop));
  s.first_page += static_cast<int64_t>(drop);
}

void PagedKVCache::check_can_add(int64_t seq_id) const {
  if (sequences_.count(seq_id)) user_error("KV cache: sequence {} already exists", seq_id);
  if (static_cast<int64_t>(sequences_.size()) >= kv_->max_batch_size)
    user_error("KV cache: at most {} sequences fit", kv_->max_batch_size);
}

void PagedKVCache::add_sequence(int64_t seq_id) {
  check_can_add(seq_id);
  if (local_) local_->add_sequence(seq_id);
  sequences_[seq_id] = Sequence{};
}

void PagedKVCache::add_sequence_with_prefix(int64_t seq_id, const std::vector<int32_t>& pages) {
  if (local_ && !pages.empty())
    internal_error("KV cache: a prefix cannot be shared with sliding layers' pages");
  add_sequence(seq_id);
  Sequence& s = sequences_[seq_id];
  for (int32_t p : pages) {
    if (p < 0 || p >= kv_->num_pages || refs_[p] == 0)
      internal_error("KV cache: prefix page {} is not a live page", p);
    ++refs_[p];
    s.pages.push_back(p);
  }
  s.length = static_cast<int64_t>(pages.size()) * kv_->page_size;
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
  if (local_) local_->remove_sequence(seq_id);
}

int64_t PagedKVCache::truncate_sequence(int64_t seq_id, int64_t length) {
  Sequence& s = sequence(seq_id);
  if (length < 0 || length > s.length)
    internal_error("truncate_sequence: {} is outside [0, {}]", length, s.length);
  if (first_visible_page(length) < s.first_page) length = 0;       // its window is gone
  if (local_) length = local_->truncate_sequence(seq_id, length);  // 0 if the local one is
  const size_t pages =
      length == 0
          ? 0
          : static_cast<size_t>((length + kv_->page_size - 1) / kv_->page_size - s.first_page);
  while (s.pages.size() > pages) {
    drop_page(s.pages.back());
    s.pages.pop_back();
  }
  if (s.pages.empty()) s.first_page = 0;
  s.length = length;
  return length;
}

void PagedKVCache::fork_sequence(int64_t parent, int64_t child) {
  const Sequence& p = sequence(parent);
  check_can_add(child);
  if (local_) local_->fork_sequence(parent, child);
  Sequence& c = sequences_[child];
  c.length = p.length;
  c.first_page = p.first_page;
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

int64_t PagedKVCache::sequence_length(int64_t seq_id) const { return sequence(seq_id).length; }

int64_t PagedKVCache::sequence_pages(int64_t seq_id) const {
  return static_cast<int64_t>(sequence(seq_id).pages.size());
}

const std::vector<int32_t>& PagedKVCache::sequence_page_ids(int64_t seq_id) const {
  return sequence(seq_id).pages;
}

int64_t PagedKVCache::sequence_first_page(int64_t seq_id) const {
  return sequence(seq_id).first_page;
}

int64_t PagedKVCache::pages_needed(const std::vector<int64_t>& seq_ids,
                                   const std::vector<int64_t>& lengths) const {
  int64_t total = 0;
  for (size_t i = 0; i < seq_ids.size(); ++i) {
    const Sequence& s = sequence(seq_ids[i]);
    if (lengths[i] == 0) continue;
    const int64_t needed =
        (s.length + lengths[i] + kv_->page_size - 1) / kv_->page_size - s.first_page;
    total += std::max<int64_t>(0, needed - static_cast<int64_t>(s.pages.size()));
    const int64_t write_page = s.length / kv_->page_size - s.first_page;
    if (write_page >= 0 && write_page < static_cast<int64_t>(s.pages.size()) &&
        refs_[s.pages[write_page]] > 1)
      ++total;
  }
  return total;
}

void PagedKVCache::begin_forward(const std::vector<int64_t>& seq_ids,
                                 const std::vector<int64_t>& lengths) {
  if (seq_ids.size() != lengths.size() || seq_ids.empty())
    internal_error("begin_forward: {} sequences but {} lengths", seq_ids.size(), lengths.size());
  qo_indptr_ = {0};
  prev_lengths_.clear();
  page_indptr_ = {0};
  page_indices_.clear();
  first_pages_.clear();
  for (size_t i = 0; i < seq_ids.size(); ++i) {
    Sequence& s = sequence(seq_ids[i]);
    int64_t needed = (s.length + lengths[i] + kv_->page_size - 1) / kv_->page_size - s.first_page;
    // Copy-on-write: the page the first new token lands in may be shared (a fork, or a
    // truncation back into a page that a fork still holds); it gets a private copy first.
    const int64_t write_page = s.length / kv_->page_size - s.first_page;
    if (lengths[i] > 0 && write_page >= 0 && write_page < static_cast<int64_t>(s.pages.size()) &&
        refs_[s.pages[write_page]] > 1) {
      if (free_pages_.empty())
        user_error("KV cache is full: sequence {} needs a page to copy", seq_ids[i]);
      const int32_t shared = s.pages[write_page], copy = take_page();
      copy_page_(shared, copy);
      drop_page(shared);
      s.pages[write_page] = copy;
    }
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
    first_pages_.push_back(static_cast<int32_t>(s.first_page));
  }
  if (local_) local_->begin_forward(seq_ids, lengths);
  pending_ids_ = seq_ids;
  pending_lengths_ = lengths;
  kv_->num_seqs = static_cast<int32_t>(seq_ids.size());
  kv_->qo_indptr = qo_indptr_.data();
  kv_->prev_lengths = prev_lengths_.data();
  kv_->page_indptr = page_indptr_.data();
  kv_->page_indices = page_indices_.data();
  kv_->first_pages = first_pages_.data();
}

void PagedKVCache::end_forward() {
  for (size_t i = 0; i < pending_ids_.size(); ++i) {
    Sequence& s = sequence(pending_ids_[i]);
    s.length += pending_lengths_[i];
    release_out_of_window(s);
  }
  pending_ids_.clear();
  pending_lengths_.clear();
  kv_->num_seqs = 0;
  if (local_) local_->end_forward();
}

void PagedKVCache::cancel_forward() {
  pending_ids_.clear();
  pending_lengths_.clear();
  kv_->num_seqs = 0;
  if (local_) local_->cancel_forward();
}

}  // namespace llmcc

// The runtime's half of the paged KV cache: which pages each sequence owns. The library owns the
// storage (llmcc_kv_cache); before each forward, begin_forward() writes the batch description
// that the library's attention reads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "llmcc/model_abi.h"

namespace llmcc {

class PagedKVCache {
 public:
  // Copies one page's contents (the library's llmcc_kv_cache_copy_page).
  using CopyPage = std::function<void(int64_t src, int64_t dst)>;

  // Takes ownership of nothing: `kv` stays the library's, freed by its llmcc_free_kv_cache.
  // With a `sliding_window` W > 0 (the model attends to the last W positions), pages that no
  // later query can see are released after each forward, so a sequence holds about W tokens of
  // pages however long it grows.
  PagedKVCache(llmcc_kv_cache* kv, CopyPage copy_page, int64_t sliding_window = 0);
  // A model whose sliding layers live in kv->local (model_abi.h): those pages are managed by a
  // second PagedKVCache with the layers' window, which every sequence operation here also
  // applies to, so the sliding layers hold only their window. `copy_local_page` copies a page of
  // kv->local.
  PagedKVCache(llmcc_kv_cache* kv, CopyPage copy_page, CopyPage copy_local_page,
               int64_t local_window);

  void add_sequence(int64_t seq_id);
  // A new sequence whose first tokens are already in `pages` (full pages, from the prefix
  // cache): it shares them, holding a reference each, and starts at length pages * page_size.
  // Not with a local group, whose pages do not stay whole.
  void add_sequence_with_prefix(int64_t seq_id, const std::vector<int32_t>& pages);
  void remove_sequence(int64_t seq_id);
  // `child` starts as a copy of `parent`: full pages are shared (they never change again), the
  // partly filled last page is copied, since both sequences will write into it.
  void fork_sequence(int64_t parent, int64_t child);
  // Keeps the first `length` tokens of a sequence (MLC's popn), freeing pages past them, and
  // returns `length`; or, when the window has already released pages that the next query would
  // need, empties the sequence and returns 0.
  int64_t truncate_sequence(int64_t seq_id, int64_t length);
  int64_t sequence_length(int64_t seq_id) const;
  // Pages the sequence holds now (after any released by the window).
  int64_t sequence_pages(int64_t seq_id) const;
  // The pages a sequence holds, in logical order from its first held page.
  const std::vector<int32_t>& sequence_page_ids(int64_t seq_id) const;
  // Pages released from the front of the sequence by the sliding window.
  int64_t sequence_first_page(int64_t seq_id) const;
  int64_t free_pages() const { return static_cast<int64_t>(free_pages_.size()); }
  int64_t num_pages() const { return kv_->num_pages; }
  int64_t page_size() const { return kv_->page_size; }
  int64_t num_sequences() const { return static_cast<int64_t>(sequences_.size()); }
  bool has_sequence(int64_t seq_id) const { return sequences_.count(seq_id) != 0; }

  // References held by others than sequences (the prefix cache). A page returns to the free
  // list when its last reference goes.
  void retain_page(int32_t page) { ++refs_.at(page); }
  void release_page(int32_t page) { drop_page(page); }
  int32_t page_refs(int32_t page) const { return refs_.at(page); }

  // New pages that begin_forward(seq_ids, lengths) would take: the pages the lengths grow into
  // and the copies of shared pages about to be written.
  int64_t pages_needed(const std::vector<int64_t>& seq_ids,
                       const std::vector<int64_t>& lengths) const;

  // Describes a forward over `seq_ids` appending `lengths[i]` tokens each (rows grouped in that
  // order), allocating pages as needed; a shared page about to be written is copied first.
  // Throws UserError when pages run out.
  void begin_forward(const std::vector<int64_t>& seq_ids, const std::vector<int64_t>& lengths);
  // Commits the appended lengths.
  void end_forward();
  // Drops a described forward that failed: lengths stay as they were (pages it took stay with
  // their sequences and are written again by the next forward).
  void cancel_forward();

  llmcc_kv_cache* raw() { return kv_; }
  // The sliding layers' pages (kv->local), or null when the model keeps every layer here.
  const PagedKVCache* local() const { return local_.get(); }

 private:
  struct Sequence {
    std::vector<int32_t> pages;  // logical pages first_page, first_page + 1, ...
    int64_t first_page = 0;      // pages before it were released (out of the window)
    int64_t length = 0;
  };
  Sequence& sequence(int64_t seq_id);
  // UserError unless a sequence `seq_id` can be added (a new id, and room for one more).
  void check_can_add(int64_t seq_id) const;
  const Sequence& sequence(int64_t seq_id) const;
  // The first logical page that a query at position `pos` reads.
  int64_t first_visible_page(int64_t pos) const;
  void release_out_of_window(Sequence& s);
  int32_t take_page();
  void drop_page(int32_t page);

  llmcc_kv_cache* kv_;
  CopyPage copy_page_;
  int64_t sliding_window_;
  std::vector<int32_t> refs_;  // sequences holding each page
  std::vector<int32_t> free_pages_;
  std::map<int64_t, Sequence> sequences_;
  std::vector<int64_t> pending_ids_, pending_lengths_;
  std::vector<int32_t> qo_indptr_, prev_lengths_, page_indptr_, page_indices_, first_pages_;
  std::unique_ptr<PagedKVCache> local_;
};

}  // namespace llmcc

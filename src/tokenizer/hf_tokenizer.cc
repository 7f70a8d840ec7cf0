// Hugging Face tokenizer.json: added tokens, normalizers, pre-tokenizers, the BPE model,
// decoders and the post-processor, following the `tokenizers` library's semantics.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <queue>
#include <unordered_map>

#include "support/error.h"
#include "support/json.h"
#include "support/strings.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/regex_split.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/wordpiece_tokenizer.h"

namespace llmcc {

namespace {

// GPT-2's pre-tokenization pattern, used by ByteLevel(use_regex=true).
const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

[[noreturn]] void unsupported(const std::string& file, const std::string& what,
                              const UnorderedJson& j) {
  user_error("tokenizer '{}': {} {} is not supported by llmcc", file, what,
             j.contains("type") ? j["type"].dump() : j.dump());
}

SplitBehavior parse_behavior(const std::string& b, const std::string& file) {
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  user_error("tokenizer '{}': unknown split behavior '{}'", file, b);
}

// A pattern object {"String": s} or {"Regex": r}, as a regex.
std::string pattern_regex(const UnorderedJson& p) {
  if (p.contains("Regex")) return p["Regex"].get<std::string>();
  std::string s = p.at("String").get<std::string>(), out;
  for (char c : s) {
    if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

struct Normalizer {
  enum class Kind { kPrepend, kReplaceString, kReplaceRegex, kLowercase, kStrip } kind;
  std::string a, b;
  bool left = false, right = false;
  std::shared_ptr<Regex> regex;
};

struct PreTokenizer {
  enum class Kind { kByteLevel, kSplit, kMetaspace, kDigits, kWhitespaceSplit } kind;
  bool add_prefix_space = false, use_regex = true, invert = false, individual_digits = false;
  bool split = true;
  std::string replacement, prepend_scheme = "always";
  SplitBehavior behavior = SplitBehavior::kIsolated;
  std::shared_ptr<Regex> regex;
};

struct Decoder {
  enum class Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip, kMetaspace } kind;
  std::string a, b;
  int start = 0, stop = 0;
  std::string prepend_scheme = "always";
};

struct AddedToken {
  int32_t id;
  std::string content;
  bool special, lstrip, rstrip, single_word;
};

class HfTokenizer : public Tokenizer {
 public:
  HfTokenizer(const UnorderedJson& j, const std::string& file) : file_(file) {
    parse_model(j.at("model"));
    if (j.contains("added_tokens"))
      for (const auto& t : j["added_tokens"]) {
        AddedToken a{t.at("id").get<int32_t>(), t.at("content").get<std::string>(),
                     t.value("special", false), t.value("lstrip", false),
                     t.value("rstrip", false),  t.value("single_word", false)};
        added_.push_back(a);
        added_by_id_[a.id] = added_.size() - 1;
        added_by_content_[a.content] = a.id;
      }
    // Longest first, so matching is leftmost-longest.
    for (size_t i = 0; i < added_.size(); ++i) added_order_.push_back(i);
    std::sort(added_order_.begin(), added_order_.end(), [&](size_t x, size_t y) {
      return added_[x].content.size() > added_[y].content.size();
    });
    if (j.contains("normalizer") && !j["normalizer"].is_null()) parse_normalizer(j["normalizer"]);
    if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null())
      parse_pre_tokenizer(j["pre_tokenizer"]);
    if (j.contains("decoder") && !j["decoder"].is_null()) parse_decoder(j["decoder"]);
    if (j.contains("post_processor") && !j["post_processor"].is_null())
      parse_post_processor(j["post_processor"]);
  }

  std::vector<int32_t> encode(const std::string& text, bool add_special_tokens) const override {
    std::vector<int32_t> ids;
    for (const auto& seg : split_added(text)) {
      if (seg.added >= 0) {
        ids.push_back(seg.added);
        continue;
      }
      std::string normalized = normalize(seg.text);
      for (const auto& piece : pre_tokenize(normalized, seg.first)) bpe(piece, ids);
    }
    if (add_special_tokens) {
      std::vector<int32_t> out = prefix_ids_;
      out.insert(out.end(), ids.begin(), ids.end());
      out.insert(out.end(), suffix_ids_.begin(), suffix_ids_.end());
      return out;
    }
    return ids;
  }

  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override {
    return utf8_lossy(decode_raw(ids, skip_special));
  }

  std::string decode_bytes(const std::vector<int32_t>& ids) const override {
    return decode_raw(ids, false);
  }

  int64_t vocab_size() const override {
    int64_t n = static_cast<int64_t>(id_to_token_.size());
    for (const auto& a : added_) n = std::max<int64_t>(n, a.id + 1);
    return n;
  }

  std::optional<int32_t> token_to_id(const std::string& token) const override {
    if (auto it = added_by_content_.find(token); it != added_by_content_.end()) return it->second;
    if (auto it = vocab_.find(token); it != vocab_.end()) return it->second;
    return std::nullopt;
  }

  std::string id_to_token(int32_t id) const override {
    if (auto it = added_by_id_.find(id); it != added_by_id_.end())
      return added_[it->second].content;
    if (id >= 0 && id < static_cast<int32_t>(id_to_token_.size())) return id_to_token_[id];
    return "";
  }

  bool is_special(int32_t id) const override {
    auto it = added_by_id_.find(id);
    return it != added_by_id_.end() && added_[it->second].special;
  }

 private:
  struct Segment {
    std::string text;
    int32_t added = -1;  // the added token's id, or -1 for plain text
    bool first = false;  // starts at offset 0 of the input
  };

  // Splits out added tokens, leftmost-longest.
  std::vector<Segment> split_added(const std::string& text) const {
    std::vector<Segment> out;
    size_t plain_start = 0, i = 0;
    auto flush = [&](size_t end) {
      if (end > plain_start)
        out.push_back({text.substr(plain_start, end - plain_start), -1, plain_start == 0});
    };
    while (i < text.size()) {
      const AddedToken* hit = nullptr;
      for (size_t k : added_order_) {
        const AddedToken& a = added_[k];
        if (a.content.empty() || text.compare(i, a.content.size(), a.content) != 0) continue;
        if (a.single_word) {
          auto word = [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
          };
          if ((i > 0 && word(text[i - 1])) ||
              (i + a.content.size() < text.size() && word(text[i + a.content.size()])))
            continue;
        }
        hit = &a;
        break;
      }
      if (!hit) {
        ++i;
        continue;
      }
      size_t begin = i, end = i + hit->content.size();
      if (hit->lstrip)
        while (begin > plain_start && std::isspace(static_cast<unsigned char>(text[begin - 1])))
          --begin;
      if (hit->rstrip)
        while (end < text.size() && std::isspace(static_cast<unsigned char>(text[end]))) ++end;
      flush(begin);
      out.push_back({"", hit->id, begin == 0});
      plain_start = i = end;
    }
    flush(text.size());
    return out;
  }

  std::string normalize(std::string s) const {
    for (const auto& n : normalizers_) {
      switch (n.kind) {
        case Normalizer::Kind::kPrepend:
          if (!s.empty()) s = n.a + s;
          break;
        case Normalizer::Kind::kReplaceString:
          s = replace_all(s, n.a, n.b);
          break;
        case Normalizer::Kind::kReplaceRegex: {
          std::string out;
          size_t prev = 0;
          for (auto [b, e] : n.regex->find_all(s)) {
            out += s.substr(prev, b - prev) + n.b;
            prev = e;
          }
          s = out + s.substr(prev);
          break;
        }
        case Normalizer::Kind::kLowercase:
          for (auto& c : s)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
          break;
        case Normalizer::Kind::kStrip: {
          size_t b = 0, e = s.size();
          if (n.left)
            while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
          if (n.right)
            while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
          s = s.substr(b, e - b);
          break;
        }
      }
    }
    return s;
  }

  std::vector<std::string> pre_tokenize(const std::string& text, bool first) const {
    std::vector<std::string> pieces = {text};
    for (const auto& p : pre_tokenizers_) {
      std::vector<std::string> next;
      for (size_t idx = 0; idx < pieces.size(); ++idx) {
        const std::string& piece = pieces[idx];
        switch (p.kind) {
          case PreTokenizer::Kind::kByteLevel: {
            std::string s = piece;
            if (p.add_prefix_space && !s.empty() && s[0] != ' ') s = " " + s;
            std::vector<std::string> parts =
                p.use_regex ? split_by(s, *p.regex, SplitBehavior::kIsolated, false)
                            : std::vector<std::string>{s};
            for (const auto& part : parts) next.push_back(byte_level::encode(part));
            break;
          }
          case PreTokenizer::Kind::kSplit:
          case PreTokenizer::Kind::kDigits:
          case PreTokenizer::Kind::kWhitespaceSplit:
            for (auto& part : split_by(piece, *p.regex, p.behavior, p.invert)) next.push_back(part);
            break;
          case PreTokenizer::Kind::kMetaspace: {
            std::string s = replace_all(piece, " ", p.replacement);
            bool prepend =
                p.prepend_scheme == "always" || (p.prepend_scheme == "first" && first && idx == 0);
            if (prepend && !starts_with(s, p.replacement)) s = p.replacement + s;
            if (!p.split) {
              next.push_back(s);
            } else {
              for (auto& part : split_by(s, *p.regex, SplitBehavior::kMergedWithNext, false))
                next.push_back(part);
            }
            break;
          }
        }
      }
      pieces.swap(next);
    }
    std::vector<std::string> out;
    for (auto& piece : pieces)
      if (!piece.empty()) out.push_back(std::move(piece));
    return out;
  }

  // Applies the merges to `symbols` (a word's characters) until none applies: always the pair of
  // lowest rank, the leftmost of equals, as tokenizers' Word::merge_all. A heap of candidate pairs
  // keeps this O(n log n): SentencePiece-style vocabularies have no pre-tokenizer, so a whole
  // prompt is one word (20K characters took 8.6 s with a rescan per merge).
  std::vector<std::string> merge_pairs(std::vector<std::string> symbols) const {
    const int n = static_cast<int>(symbols.size());
    std::vector<int> prev(n), next(n);
    for (int i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
    struct Candidate {
      int rank, left, right;  // the pair (left, right) as it was when pushed
      size_t left_size, right_size;
      bool operator>(const Candidate& o) const {
        return rank != o.rank ? rank > o.rank : left > o.left;
      }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
    auto push = [&](int left) {
      const int right = left >= 0 ? next[left] : -1;
      if (left < 0 || right < 0) return;
      auto it = merges_.find(symbols[left] + ' ' + symbols[right]);
      if (it != merges_.end())
        heap.push({it->second, left, right, symbols[left].size(), symbols[right].size()});
    };
    for (int i = 0; i + 1 < n; ++i) push(i);
    while (!heap.empty()) {
      const Candidate c = heap.top();
      heap.pop();
      // Stale when either side has been merged into something else since.
      if (symbols[c.left].size() != c.left_size || next[c.left] != c.right ||
          symbols[c.right].size() != c.right_size)
        continue;
      symbols[c.left] += symbols[c.right];
      symbols[c.right].clear();
      next[c.left] = next[c.right];
      if (next[c.right] >= 0) prev[next[c.right]] = c.left;
      push(prev[c.left]);
      push(c.left);
    }
    std::vector<std::string> out;
    for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) out.push_back(std::move(symbols[i]));
    return out;
  }

  // Byte-pair encoding of one pre-tokenized word, appended to `ids`.
  void bpe(const std::string& word, std::vector<int32_t>& ids) const {
    {
      std::lock_guard lock(cache_mutex_);
      if (auto it = cache_.find(word); it != cache_.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<int32_t> out;
    if (ignore_merges_ && vocab_.count(word)) {
      out.push_back(vocab_.at(word));
    } else {
      const std::vector<std::string> symbols = merge_pairs(utf8::chars(word));
      bool last_unk = false;
      for (const auto& s : symbols) {
        if (auto it = vocab_.find(s); it != vocab_.end()) {
          out.push_back(it->second);
          last_unk = false;
          continue;
        }
        if (byte_fallback_) {
          bool all = true;
          std::vector<int32_t> bytes;
          for (unsigned char b : s) {
            auto it = vocab_.find(fmt::format("<0x{:02X}>", b));
            if (it == vocab_.end()) {
              all = false;
              break;
            }
            bytes.push_back(it->second);
          }
          if (all) {
            out.insert(out.end(), bytes.begin(), bytes.end());
            last_unk = false;
            continue;
          }
        }
        if (!unk_id_)
          user_error("tokenizer '{}': '{}' is not in the vocabulary and there is no unk token",
                     file_, s);
        if (!(fuse_unk_ && last_unk)) out.push_back(*unk_id_);
        last_unk = true;
      }
    }
    ids.insert(ids.end(), out.begin(), out.end());
    std::lock_guard lock(cache_mutex_);
    // Short words only: a SentencePiece-style vocabulary's "word" is a whole prompt.
    if (cache_.size() < 100000 && word.size() <= 256) cache_[word] = std::move(out);
  }

  std::string decode_raw(const std::vector<int32_t>& ids, bool skip_special) const {
    std::vector<std::string> tokens;
    for (int32_t id : ids) {
      if (skip_special && is_special(id)) continue;
      tokens.push_back(id_to_token(id));
    }
    // Each decoder maps the list of token strings to a new list (tokenizers' decode_chain).
    for (const auto& d : decoders_) {
      switch (d.kind) {
        case Decoder::Kind::kByteLevel: {
          std::string all;
          for (auto& t : tokens) all += t;
          tokens = {byte_level::decode(all)};
          break;
        }
        case Decoder::Kind::kReplace:
          for (auto& t : tokens) t = replace_all(t, d.a, d.b);
          break;
        case Decoder::Kind::kByteFallback: {
          std::vector<std::string> out;
          std::string bytes;
          for (auto& t : tokens) {
            if (t.size() == 6 && starts_with(t, "<0x") && t[5] == '>') {
              bytes += static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16));
              continue;
            }
            if (!bytes.empty()) out.push_back(std::exchange(bytes, ""));
            out.push_back(t);
          }
          if (!bytes.empty()) out.push_back(bytes);
          tokens.swap(out);
          break;
        }
        case Decoder::Kind::kFuse: {
          std::string all;
          for (auto& t : tokens) all += t;
          tokens = {all};
          break;
        }
        case Decoder::Kind::kStrip:
          for (auto& t : tokens) {
            std::vector<std::string> cs = utf8::chars(t);
            size_t b = 0, e = cs.size();
            while (b < e && static_cast<int>(b) < d.start && cs[b] == d.a) ++b;
            while (e > b && static_cast<int>(cs.size() - e) < d.stop && cs[e - 1] == d.a) --e;
            std::string s;
            for (size_t i = b; i < e; ++i) s += cs[i];
            t = s;
          }
          break;
        case Decoder::Kind::kMetaspace:
          for (size_t i = 0; i < tokens.size(); ++i) {
            tokens[i] = replace_all(tokens[i], d.a, " ");
            if (i == 0 && d.prepend_scheme != "never" && starts_with(tokens[i], " "))
              tokens[i].erase(0, 1);
          }
          break;
      }
    }
    std::string out;
    for (auto& t : tokens) out += t;
    return out;
  }

  void parse_model(const UnorderedJson& m) {
    if (m.value("type", "BPE") != "BPE") unsupported(file_, "model", m);
    if (!m.value("continuing_subword_prefix", UnorderedJson()).is_null() &&
        !m["continuing_subword_prefix"].get<std::string>().empty())
      unsupported(file_, "BPE continuing_subword_prefix", m["continuing_subword_prefix"]);
    for (const auto& [token, id] : m.at("vocab").items()) {
      int32_t i = id.get<int32_t>();
      vocab_[token] = i;
      if (i >= static_cast<int32_t>(id_to_token_.size())) id_to_token_.resize(i + 1);
      id_to_token_[i] = token;
    }
    int rank = 0;
    for (const auto& merge : m.at("merges")) {
      std::string key;
      if (merge.is_string())
        key = merge.get<std::string>();
      else
        key = merge.at(0).get<std::string>() + " " + merge.at(1).get<std::string>();
      merges_.emplace(key, rank++);
    }
    byte_fallback_ = m.value("byte_fallback", false);
    fuse_unk_ = m.value("fuse_unk", false);
    ignore_merges_ = m.value("ignore_merges", false);
    if (m.contains("unk_token") && m["unk_token"].is_string()) {
      auto it = vocab_.find(m["unk_token"].get<std::string>());
      if (it != vocab_.end()) unk_id_ = it->second;
    }
  }

  void parse_normalizer(const UnorderedJson& n) {
    const std::string type = n.at("type");
    if (type == "Sequence") {
      for (const auto& x : n.at("normalizers")) parse_normalizer(x);
    } else if (type == "Prepend") {
      normalizers_.push_back(
          {Normalizer::Kind::kPrepend, n.at("prepend"), "", false, false, nullptr});
    } else if (type == "Replace") {
      const UnorderedJson& p = n.at("pattern");
      if (p.contains("String"))
        normalizers_.push_back({Normalizer::Kind::kReplaceString, p["String"], n.at("content"),
                                false, false, nullptr});
      else
        normalizers_.push_back({Normalizer::Kind::kReplaceRegex, "", n.at("content"), false, false,
                                std::make_shared<Regex>(p.at("Regex").get<std::string>())});
    } else if (type == "Lowercase") {
      normalizers_.push_back({Normalizer::Kind::kLowercase, "", "", false, false, nullptr});
    } else if (type == "Strip") {
      normalizers_.push_back({Normalizer::Kind::kStrip, "", "", n.value("strip_left", true),
                              n.value("strip_right", true), nullptr});
    } else if (type == "NFC" || type == "NFKC") {
      // Composed forms are what UTF-8 text nearly always carries already; decomposing
      // normalizers would change ids, so those stay unsupported.
    } else {
      unsupported(file_, "normalizer", n);
    }
  }

  void parse_pre_tokenizer(const UnorderedJson& p) {
    const std::string type = p.at("type");
    PreTokenizer t{};
    if (type == "Sequence") {
      for (const auto& x : p.at("pretokenizers")) parse_pre_tokenizer(x);
      return;
    } else if (type == "ByteLevel") {
      t.kind = PreTokenizer::Kind::kByteLevel;
      t.add_prefix_space = p.value("add_prefix_space", false);
      t.use_regex = p.value("use_regex", true);
      t.regex = std::make_shared<Regex>(kGpt2Pattern);
    } else if (type == "Split") {
      t.kind = PreTokenizer::Kind::kSplit;
      t.regex = std::make_shared<Regex>(pattern_regex(p.at("pattern")));
      t.behavior = parse_behavior(p.at("behavior"), file_);
      t.invert = p.value("invert", false);
    } else if (type == "Digits") {
      t.kind = PreTokenizer::Kind::kDigits;
      t.regex =
          std::make_shared<Regex>(p.value("individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)");
      t.behavior = SplitBehavior::kIsolated;
    } else if (type == "WhitespaceSplit") {
      t.kind = PreTokenizer::Kind::kWhitespaceSplit;
      t.regex = std::make_shared<Regex>(R"(\s+)");
      t.behavior = SplitBehavior::kRemoved;
    } else if (type == "Metaspace") {
      t.kind = PreTokenizer::Kind::kMetaspace;
      t.replacement = p.value("replacement", "\u2581");
      if (p.contains("prepend_scheme"))
        t.prepend_scheme = p["prepend_scheme"];
      else
        t.prepend_scheme = p.value("add_prefix_space", true) ? "always" : "never";
      t.split = p.value("split", true);
      t.regex = std::make_shared<Regex>(pattern_regex({{"String", t.replacement}}));
    } else {
      unsupported(file_, "pre-tokenizer", p);
    }
    pre_tokenizers_.push_back(t);
  }

  void parse_decoder(const UnorderedJson& d) {
    const std::string type = d.at("type");
    Decoder t{};
    if (type == "Sequence") {
      for (const auto& x : d.at("decoders")) parse_decoder(x);
      return;
    } else if (type == "ByteLevel") {
      t.kind = Decoder::Kind::kByteLevel;
    } else if (type == "Replace") {
      t.kind = Decoder::Kind::kReplace;
      if (!d.at("pattern").contains("String")) unsupported(file_, "regex Replace decoder", d);
      t.a = d["pattern"]["String"];
      t.b = d.at("content");
    } else if (type == "ByteFallback") {
      t.kind = Decoder::Kind::kByteFallback;
    } else if (type == "Fuse") {
      t.kind = Decoder::Kind::kFuse;
    } else if (type == "Strip") {
      t.kind = Decoder::Kind::kStrip;
      t.a = d.at("content");
      t.start = d.value("start", 0);
      t.stop = d.value("stop", 0);
    } else if (type == "Metaspace") {
      t.kind = Decoder::Kind::kMetaspace;
      t.a = d.value("replacement", "\u2581");
      if (d.contains("prepend_scheme"))
        t.prepend_scheme = d["prepend_scheme"];
      else
        t.prepend_scheme = d.value("add_prefix_space", true) ? "always" : "never";
    } else {
      unsupported(file_, "decoder", d);
    }
    decoders_.push_back(t);
  }

  void parse_post_processor(const UnorderedJson& p) {
    const std::string type = p.at("type");
    if (type == "Sequence") {
      for (const auto& x : p.at("processors")) parse_post_processor(x);
    } else if (type == "ByteLevel") {
      // Offsets only; ids are unchanged.
    } else if (type == "TemplateProcessing") {
      bool after = false;
      for (const auto& item : p.at("single")) {
        if (item.contains("Sequence")) {
          after = true;
          continue;
        }
        std::string name = item.at("SpecialToken").at("id");
        for (const auto& id : p.at("special_tokens").at(name).at("ids"))
          (after ? suffix_ids_ : prefix_ids_).push_back(id.get<int32_t>());
      }
    } else {
      unsupported(file_, "post-processor", p);
    }
  }

  std::string file_;
  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, int> merges_;
  bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
  std::optional<int32_t> unk_id_;
  std::vector<AddedToken> added_;
  std::vector<size_t> added_order_;
  std::map<int32_t, size_t> added_by_id_;
  std::map<std::string, int32_t> added_by_content_;
  std::vector<Normalizer> normalizers_;
  std::vector<PreTokenizer> pre_tokenizers_;
  std::vector<Decoder> decoders_;
  std::vector<int32_t> prefix_ids_, suffix_ids_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_json_file(const std::filesystem::path& file) {
  UnorderedJson j = read_unordered_json_file(file);
  try {
    if (is_wordpiece_tokenizer(j)) return make_wordpiece_tokenizer(j, file.string());
    return std::make_unique<HfTokenizer>(j, file.string());
  } catch (const UnorderedJson::exception& e) {
    user_error("tokenizer '{}' is malformed: {}", file.string(), e.what());
  }
}

}  // namespace llmcc

// WordPiece tokenizer.json, following the `tokenizers` library step by step: added tokens are
// split out of the raw text (normalized ones out of each normalized segment), the rest is
// normalized, pre-tokenized into words, and each word is split greedily into the longest
// vocabulary entries. The text is handled as code points, as the library's Rust chars.
#include "tokenizer/wordpiece_tokenizer.h"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "support/error.h"
#include "support/strings.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

namespace llmcc {

namespace {

// An invalid byte becomes U+FFFD (which clean_text drops): `tokenizers` only sees valid UTF-8.
std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80             ? 1
                     : (b & 0xE0) == 0xC0 ? 2
                     : (b & 0xF0) == 0xE0 ? 3
                     : (b & 0xF8) == 0xF0 ? 4
                                          : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (!ok) {
      out += U'\uFFFD';
      ++i;
      continue;
    }
    char32_t cp = n == 1 ? b : b & (0xFF >> (n + 1));
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out += cp;
    i += n;
  }
  return out;
}

std::string encode_utf8(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) utf8::append(out, c);
  return out;
}

[[noreturn]] void unsupported(const std::string& file, const std::string& field,
                              const UnorderedJson& value) {
  user_error("tokenizer '{}': {} = {} is not supported by llmcc", file, field, value.dump());
}

// Unknown fields could change the ids, so they are refused rather than ignored.
void check_fields(const UnorderedJson& j, std::initializer_list<std::string_view> known,
                  const std::string& file, const std::string& where) {
  if (!j.is_object()) user_error("tokenizer '{}': {} must be an object", file, where);
  for (const auto& [key, value] : j.items())
    if (std::find(known.begin(), known.end(), key) == known.end())
      unsupported(file, where + "." + key, value);
}

bool flag(const UnorderedJson& j, const char* key, bool fallback, const std::string& file,
          const std::string& where) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_boolean())
    user_error("tokenizer '{}': {}.{} must be true or false, not {}", file, where, key,
               j[key].dump());
  return j[key].get<bool>();
}

std::string text_field(const UnorderedJson& j, const char* key, const std::string& fallback,
                       const std::string& file, const std::string& where) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_string())
    user_error("tokenizer '{}': {}.{} must be a string, not {}", file, where, key, j[key].dump());
  return j[key].get<std::string>();
}

// tokenizers' SplitDelimiterBehavior.
enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Splits `piece` around each character for which `is_delimiter` holds (each one its own match),
// appending the non-empty parts, as NormalizedString::split with a char predicate.
void split_on(const std::u32string& piece, bool (*is_delimiter)(char32_t), Behavior behavior,
              std::vector<std::u32string>& out) {
  struct Span {
    size_t begin, end;
    bool match;
  };
  std::vector<Span> spans;
  size_t last = 0;
  for (size_t i = 0; i < piece.size(); ++i) {
    if (!is_delimiter(piece[i])) continue;
    if (last < i) spans.push_back({last, i, false});
    spans.push_back({i, i + 1, true});
    last = i + 1;
  }
  if (last < piece.size()) spans.push_back({last, piece.size(), false});
  std::vector<Span> parts;
  bool previous = false;
  switch (behavior) {
    case Behavior::kRemoved:
      for (const Span& s : spans)
        if (!s.match) parts.push_back(s);
      break;
    case Behavior::kIsolated:
      parts = spans;
      break;
    case Behavior::kContiguous:
    case Behavior::kMergedWithPrevious:
      for (const Span& s : spans) {
        const bool merge =
            behavior == Behavior::kContiguous ? s.match == previous : s.match && !previous;
        if (merge && !parts.empty())
          parts.back().end = s.end;
        else
          parts.push_back(s);
        previous = s.match;
      }
      break;
    case Behavior::kMergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->match && !previous && !parts.empty())
          parts.back().begin = it->begin;
        else
          parts.push_back(*it);
        previous = it->match;
      }
      std::reverse(parts.begin(), parts.end());
      break;
  }
  for (const Span& s : parts)
    if (s.end > s.begin) out.push_back(piece.substr(s.begin, s.end - s.begin));
}

Behavior parse_behavior(const UnorderedJson& b, const std::string& file, const std::string& field) {
  if (b == "Removed") return Behavior::kRemoved;
  if (b == "Isolated") return Behavior::kIsolated;
  if (b == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return Behavior::kMergedWithNext;
  if (b == "Contiguous") return Behavior::kContiguous;
  unsupported(file, field, b);
}

// BertNormalizer's steps (Lowercase is the lowercase step alone).
struct Normalizer {
  bool clean_text = false, chinese_chars = false, strip_accents = false, lowercase = false;
};

struct PreTokenizer {
  enum class Kind { kBert, kWhitespaceSplit, kPunctuation } kind;
  Behavior behavior = Behavior::kIsolated;
};

struct AddedToken {
  int32_t id;
  std::string content;
  bool special, lstrip, rstrip, single_word, normalized;
  std::u32string pattern;  // what is matched: the content, normalized if `normalized`
};

// Rust regex's \w (single_word tokens), approximated: beyond ASCII, anything but whitespace,
// punctuation and controls counts, so symbols such as emoji do too (unlike \w).
bool is_word_char(char32_t c) {
  if (c < 0x80)
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_';
  return !unicode::is_whitespace(c) && !unicode::is_bert_punctuation(c) &&
         !unicode::is_bert_control(c);
}

class WordPieceTokenizer : public Tokenizer {
 public:
  WordPieceTokenizer(const UnorderedJson& j, const std::string& file) : file_(file) {
    parse_model(j.at("model"));
    if (j.contains("normalizer") && !j["normalizer"].is_null())
      parse_normalizer(j["normalizer"], "normalizer");
    if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null())
      parse_pre_tokenizer(j["pre_tokenizer"], "pre_tokenizer");
    if (j.contains("post_processor") && !j["post_processor"].is_null())
      parse_post_processor(j["post_processor"], "post_processor");
    if (j.contains("decoder") && !j["decoder"].is_null()) parse_decoder(j["decoder"]);
    if (j.contains("added_tokens")) parse_added_tokens(j["added_tokens"]);
  }
  // raw_tokens_ and normalized_tokens_ point into added_.
  WordPieceTokenizer(const WordPieceTokenizer&) = delete;
  WordPieceTokenizer& operator=(const WordPieceTokenizer&) = delete;

  std::vector<int32_t> encode(const std::string& text, bool add_special_tokens) const override {
    std::vector<int32_t> ids;
    if (add_special_tokens) ids = prefix_ids_;
    for (const auto& [raw, raw_id] : split_added(decode_utf8(text), raw_tokens_)) {
      if (raw_id >= 0) {
        ids.push_back(raw_id);
        continue;
      }
      for (const auto& [segment, id] : split_added(normalize(raw), normalized_tokens_)) {
        if (id >= 0) {
          ids.push_back(id);
          continue;
        }
        for (const auto& word : pre_tokenize(segment)) wordpiece(word, ids);
      }
    }
    if (add_special_tokens) ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
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
    if (auto it = added_by_id_.find(id); it != added_by_id_.end()) {
      // The library gives a normalized added token back in its normalized form.
      const AddedToken& a = added_[it->second];
      return a.normalized ? encode_utf8(a.pattern) : a.content;
    }
    if (id >= 0 && id < static_cast<int32_t>(id_to_token_.size())) return id_to_token_[id];
    return "";
  }

  bool is_special(int32_t id) const override {
    auto it = added_by_id_.find(id);
    return it != added_by_id_.end() && added_[it->second].special;
  }

 private:
  // Pieces of `text`, each plain text (id -1) or an added token (its id): leftmost-longest
  // matches of `tokens` (longest first), as the library's Aho-Corasick automaton finds them.
  std::vector<std::pair<std::u32string, int32_t>> split_added(
      const std::u32string& text, const std::vector<const AddedToken*>& tokens) const {
    std::vector<std::pair<std::u32string, int32_t>> out;
    size_t plain = 0, i = 0;
    while (i < text.size()) {
      const AddedToken* hit = nullptr;
      for (const AddedToken* a : tokens)
        if (text.compare(i, a->pattern.size(), a->pattern) == 0) {
          hit = a;
          break;
        }
      if (!hit) {
        ++i;
        continue;
      }
      size_t begin = i, end = i + hit->pattern.size();
      i = end;  // a match that is not taken still hides what it covers, as in the library
      if (hit->single_word && ((begin > 0 && is_word_char(text[begin - 1])) ||
                               (end < text.size() && is_word_char(text[end]))))
        continue;
      if (hit->lstrip)
        while (begin > plain && unicode::is_whitespace(text[begin - 1])) --begin;
      if (hit->rstrip)
        while (end < text.size() && unicode::is_whitespace(text[end])) ++end;
      if (begin > plain) out.emplace_back(text.substr(plain, begin - plain), -1);
      out.emplace_back(std::u32string(), hit->id);
      plain = i = end;
    }
    if (plain < text.size() || out.empty()) out.emplace_back(text.substr(plain), -1);
    return out;
  }

  // Each BertNormalizer step is a map from a character to characters; only NFD's reordering of
  // combining marks is not (see unicode_tables.cc).
  std::u32string normalize(std::u32string s) const {
    for (const Normalizer& n : normalizers_) {
      std::u32string out;
      out.reserve(s.size());
      if (n.clean_text) {
        for (char32_t c : s)
          if (!unicode::is_bert_control(c)) out += unicode::is_whitespace(c) ? U' ' : c;
        s.swap(out);
        out.clear();
      }
      if (n.chinese_chars) {
        for (char32_t c : s) {
          if (!unicode::is_chinese_char(c)) {
            out += c;
            continue;
          }
          out += U' ';
          out += c;
          out += U' ';
        }
        s.swap(out);
        out.clear();
      }
      if (n.strip_accents) {
        for (char32_t c : s) unicode::append_stripped(c, out);
        s.swap(out);
        out.clear();
      }
      if (n.lowercase) {
        for (char32_t c : s) unicode::append_lowercase(c, out);
        s.swap(out);
      }
    }
    return s;
  }

  std::vector<std::u32string> pre_tokenize(const std::u32string& text) const {
    std::vector<std::u32string> pieces, next;
    if (!text.empty()) pieces.push_back(text);
    for (const PreTokenizer& p : pre_tokenizers_) {
      next.clear();
      for (const auto& piece : pieces) {
        if (p.kind == PreTokenizer::Kind::kPunctuation) {
          split_on(piece, unicode::is_bert_punctuation, p.behavior, next);
          continue;
        }
        std::vector<std::u32string> words;
        split_on(piece, unicode::is_whitespace, Behavior::kRemoved, words);
        if (p.kind == PreTokenizer::Kind::kWhitespaceSplit) {
          next.insert(next.end(), words.begin(), words.end());
          continue;
        }
        for (const auto& w : words)
          split_on(w, unicode::is_bert_punctuation, Behavior::kIsolated, next);
      }
      pieces.swap(next);
    }
    return pieces;
  }

  int32_t unk_id() const {
    if (!unk_id_)
      user_error("tokenizer '{}': model.unk_token '{}' is not in the vocabulary", file_,
                 unk_token_);
    return *unk_id_;
  }

  // Greedy longest-match-first; a word with any unmatched rest, or too long, is one unk token.
  void wordpiece(const std::u32string& word, std::vector<int32_t>& ids) const {
    if (word.size() > max_chars_) {
      ids.push_back(unk_id());
      return;
    }
    std::vector<size_t> offsets = {0};  // byte offset of each character, then the end
    std::string bytes;
    for (char32_t c : word) {
      utf8::append(bytes, c);
      offsets.push_back(bytes.size());
    }
    const size_t n = word.size(), mark = ids.size();
    std::string key;
    for (size_t start = 0; start < n;) {
      size_t end = n;
      const size_t prefix = start > 0 ? prefix_.size() : 0;
      for (; end > start; --end) {
        const size_t length = offsets[end] - offsets[start];
        if (prefix + length > max_token_bytes_) continue;  // longer than any vocabulary entry
        key.assign(start > 0 ? prefix_ : "");
        key.append(bytes, offsets[start], length);
        if (auto it = vocab_.find(key); it != vocab_.end()) {
          ids.push_back(it->second);
          break;
        }
      }
      if (end == start) {
        ids.resize(mark);
        ids.push_back(unk_id());
        return;
      }
      start = end;
    }
  }

  std::string decode_raw(const std::vector<int32_t>& ids, bool skip_special) const {
    std::vector<std::string> tokens;
    for (int32_t id : ids) {
      if (skip_special && is_special(id)) continue;
      // Ids that name no token are dropped, as the library does.
      if (added_by_id_.count(id) || (id >= 0 && id < static_cast<int32_t>(id_to_token_.size())))
        tokens.push_back(id_to_token(id));
    }
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string t = tokens[i];
      if (!wordpiece_decoder_) {
        out += (i > 0 ? " " : "") + t;  // no decoder: the library joins the tokens with spaces
        continue;
      }
      if (i > 0) t = starts_with(t, decoder_prefix_) ? t.substr(decoder_prefix_.size()) : " " + t;
      if (cleanup_) t = cleanup(t);
      out += t;
    }
    return out;
  }

  // The WordPiece decoder's cleanup of tokenization artifacts, in the library's order.
  static std::string cleanup(std::string s) {
    static const std::pair<const char*, const char*> kRules[] = {
        {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
        {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
        {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : kRules) s = replace_all(s, from, to);
    return s;
  }

  void parse_model(const UnorderedJson& m) {
    check_fields(
        m, {"type", "unk_token", "continuing_subword_prefix", "max_input_chars_per_word", "vocab"},
        file_, "model");
    unk_token_ = text_field(m, "unk_token", "[UNK]", file_, "model");
    prefix_ = text_field(m, "continuing_subword_prefix", "##", file_, "model");
    if (m.contains("max_input_chars_per_word")) {
      if (!m["max_input_chars_per_word"].is_number_unsigned())
        unsupported(file_, "model.max_input_chars_per_word", m["max_input_chars_per_word"]);
      max_chars_ = m["max_input_chars_per_word"].get<size_t>();
    }
    for (const auto& [token, id] : m.at("vocab").items()) {
      const int32_t i = id.get<int32_t>();
      if (i < 0) unsupported(file_, "model.vocab." + token, id);
      vocab_[token] = i;
      if (i >= static_cast<int32_t>(id_to_token_.size())) id_to_token_.resize(i + 1);
      id_to_token_[i] = token;
      max_token_bytes_ = std::max(max_token_bytes_, token.size());
    }
    if (auto it = vocab_.find(unk_token_); it != vocab_.end()) unk_id_ = it->second;
  }

  void parse_normalizer(const UnorderedJson& n, const std::string& where) {
    const std::string type = n.value("type", "");
    Normalizer step;
    if (type == "Sequence") {
      check_fields(n, {"type", "normalizers"}, file_, where);
      for (size_t i = 0; i < n.at("normalizers").size(); ++i)
        parse_normalizer(n["normalizers"][i], where + ".normalizers[" + std::to_string(i) + "]");
      return;
    } else if (type == "BertNormalizer") {
      check_fields(n, {"type", "clean_text", "handle_chinese_chars", "strip_accents", "lowercase"},
                   file_, where);
      step.clean_text = flag(n, "clean_text", true, file_, where);
      step.chinese_chars = flag(n, "handle_chinese_chars", true, file_, where);
      step.lowercase = flag(n, "lowercase", true, file_, where);
      // null (the default) follows lowercase, as in the original BERT.
      step.strip_accents = n.contains("strip_accents") && !n["strip_accents"].is_null()
                               ? flag(n, "strip_accents", false, file_, where)
                               : step.lowercase;
    } else if (type == "Lowercase") {
      check_fields(n, {"type"}, file_, where);
      step.lowercase = true;
    } else {
      // NFD and friends would need full Unicode decomposition data, which llmcc does not carry.
      unsupported(file_, where + ".type", n.value("type", UnorderedJson()));
    }
    normalizers_.push_back(step);
  }

  void parse_pre_tokenizer(const UnorderedJson& p, const std::string& where) {
    const std::string type = p.value("type", "");
    PreTokenizer step{PreTokenizer::Kind::kBert};
    if (type == "Sequence") {
      check_fields(p, {"type", "pretokenizers"}, file_, where);
      for (size_t i = 0; i < p.at("pretokenizers").size(); ++i)
        parse_pre_tokenizer(p["pretokenizers"][i],
                            where + ".pretokenizers[" + std::to_string(i) + "]");
      return;
    } else if (type == "BertPreTokenizer") {
      check_fields(p, {"type"}, file_, where);
    } else if (type == "WhitespaceSplit") {
      check_fields(p, {"type"}, file_, where);
      step.kind = PreTokenizer::Kind::kWhitespaceSplit;
    } else if (type == "Punctuation") {
      check_fields(p, {"type", "behavior"}, file_, where);
      step.kind = PreTokenizer::Kind::kPunctuation;
      if (p.contains("behavior"))
        step.behavior = parse_behavior(p["behavior"], file_, where + ".behavior");
    } else {
      unsupported(file_, where + ".type", p.value("type", UnorderedJson()));
    }
    pre_tokenizers_.push_back(step);
  }

  // The special tokens of the single-sequence case, before and after the text.
  void parse_post_processor(const UnorderedJson& p, const std::string& where) {
    const std::string type = p.value("type", "");
    auto pair_token = [&](const char* key) {
      const UnorderedJson& t = p.at(key);  // ["[CLS]", 101]
      if (!t.is_array() || t.size() != 2 || !t[1].is_number_integer())
        unsupported(file_, where + "." + key, t);
      return t[1].get<int32_t>();
    };
    if (type == "Sequence") {
      check_fields(p, {"type", "processors"}, file_, where);
      for (size_t i = 0; i < p.at("processors").size(); ++i)
        parse_post_processor(p["processors"][i], where + ".processors[" + std::to_string(i) + "]");
    } else if (type == "TemplateProcessing") {
      check_fields(p, {"type", "single", "pair", "special_tokens"}, file_, where);
      std::vector<int32_t> before, after;
      int sequences = 0;
      for (const auto& item : p.at("single")) {
        if (item.contains("Sequence")) {
          if (item["Sequence"].value("id", "") != "A" || sequences++)
            unsupported(file_, where + ".single", p["single"]);
          continue;
        }
        const std::string name = item.at("SpecialToken").at("id");
        const UnorderedJson& special = p.at("special_tokens");
        if (!special.contains(name))
          user_error("tokenizer '{}': {}.special_tokens has no '{}'", file_, where, name);
        for (const auto& id : special[name].at("ids"))
          (sequences ? after : before).push_back(id.get<int32_t>());
      }
      prefix_ids_.insert(prefix_ids_.end(), before.begin(), before.end());
      suffix_ids_.insert(suffix_ids_.end(), after.begin(), after.end());
    } else if (type == "BertProcessing" || type == "RobertaProcessing") {
      // RoBERTa's extra fields only move offsets.
      if (type == "BertProcessing") check_fields(p, {"type", "sep", "cls"}, file_, where);
      prefix_ids_.push_back(pair_token("cls"));
      suffix_ids_.push_back(pair_token("sep"));
    } else if (type != "ByteLevel") {  // ByteLevel only moves offsets
      unsupported(file_, where + ".type", p.value("type", UnorderedJson()));
    }
  }

  void parse_decoder(const UnorderedJson& d) {
    if (d.value("type", "") != "WordPiece")
      unsupported(file_, "decoder.type", d.value("type", UnorderedJson()));
    check_fields(d, {"type", "prefix", "cleanup"}, file_, "decoder");
    wordpiece_decoder_ = true;
    decoder_prefix_ = text_field(d, "prefix", "##", file_, "decoder");
    cleanup_ = flag(d, "cleanup", true, file_, "decoder");
  }

  void parse_added_tokens(const UnorderedJson& list) {
    for (const auto& t : list) {
      AddedToken a{t.at("id").get<int32_t>(),   t.at("content").get<std::string>(),
                   t.value("special", false),   t.value("lstrip", false),
                   t.value("rstrip", false),    t.value("single_word", false),
                   t.value("normalized", true), {}};
      a.pattern = decode_utf8(a.content);
      if (a.normalized) a.pattern = normalize(a.pattern);
      added_.push_back(a);
      added_by_id_[a.id] = added_.size() - 1;
      added_by_content_[a.content] = a.id;
    }
    for (const AddedToken& a : added_)
      if (!a.pattern.empty()) (a.normalized ? normalized_tokens_ : raw_tokens_).push_back(&a);
    for (auto* tokens : {&raw_tokens_, &normalized_tokens_})
      std::stable_sort(tokens->begin(), tokens->end(),
                       [](const AddedToken* x, const AddedToken* y) {
                         return x->pattern.size() > y->pattern.size();
                       });
  }

  std::string file_;
  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::string unk_token_, prefix_;
  std::optional<int32_t> unk_id_;
  size_t max_chars_ = 100, max_token_bytes_ = 0;
  std::vector<Normalizer> normalizers_;
  std::vector<PreTokenizer> pre_tokenizers_;
  std::vector<int32_t> prefix_ids_, suffix_ids_;
  bool wordpiece_decoder_ = false, cleanup_ = false;
  std::string decoder_prefix_;
  std::vector<AddedToken> added_;  // not resized after parsing: the pointers below stay valid
  std::vector<const AddedToken*> raw_tokens_, normalized_tokens_;  // longest first
  std::map<int32_t, size_t> added_by_id_;
  std::map<std::string, int32_t> added_by_content_;
};

}  // namespace

bool is_wordpiece_tokenizer(const UnorderedJson& j) {
  return j.is_object() && j.contains("model") && j["model"].is_object() &&
         j["model"].value("type", "") == "WordPiece";
}

std::unique_ptr<Tokenizer> make_wordpiece_tokenizer(const UnorderedJson& j,
                                                    const std::string& file) {
  return std::make_unique<WordPieceTokenizer>(j, file);
}

}  // namespace llmcc

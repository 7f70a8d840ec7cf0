#include "runtime/json_schema_matcher.h"

#include <algorithm>
#include <map>
#include <set>

#include "support/error.h"

namespace llmcc {

namespace {

constexpr int64_t kMaxIntegerDigits = 15, kMaxFractionDigits = 15, kMaxExponentDigits = 2;
constexpr size_t kMaxProperties = 64, kMaxLiterals = 64;

const std::vector<std::string> kBooleanLiterals = {"true", "false"};
const std::vector<std::string> kNullLiteral = {"null"};
const std::vector<std::string> kAnyLiterals = {"true", "false", "null"};

bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
bool is_hex(uint8_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Number phases: what the text so far ends with.
enum NumberPhase : uint8_t {
  kStart,         // nothing
  kMinus,         // "-"
  kZero,          // "0" or "-0": the integer part is done
  kInteger,       // integer digits
  kDot,           // "."
  kFraction,      // fraction digits
  kExponent,      // "e" or "E"
  kExponentSign,  // "e+" or "e-"
  kExponentDigits
};
bool number_accepting(uint8_t phase) {
  return phase == kZero || phase == kInteger || phase == kFraction || phase == kExponentDigits;
}

// Object phases.
enum ObjectPhase : uint8_t {
  kFirstKey,   // after '{': a key or '}'
  kColon,      // after a key
  kValue,      // after ':'
  kAfterValue  // ',' or '}'
  ,
  kNextKey  // after ',': a key
};
// Array phases.
enum ArrayPhase : uint8_t { kFirstItem, kAfterItem, kNextItem };
// String phases: plain, after a backslash, then 1..4 hex digits of \u escapes seen.
enum StringPhase : uint8_t { kPlain, kEscape, kHex1, kHex2, kHex3, kHex4 };

}  // namespace

std::shared_ptr<const JsonSchema> JsonSchema::compile(const Json& schema, const std::string& where,
                                                      const std::string& prefix,
                                                      const std::string& suffix) {
  auto s = std::make_shared<JsonSchema>();
  s->prefix_ = prefix;
  s->suffix_ = suffix;
  s->add(schema, where);
  s->add_any_nodes();
  return s;
}

void JsonSchema::add_any_nodes() {
  any_value_ = static_cast<int>(nodes_.size());
  nodes_.emplace_back();  // kAny
  any_object_ = any_value_ + 1;
  nodes_.emplace_back();
  nodes_.back().kind = JsonSchemaNode::kObject;
  nodes_.back().any_keys = true;
  any_array_ = any_value_ + 2;
  nodes_.emplace_back();
  nodes_.back().kind = JsonSchemaNode::kArray;
}

std::shared_ptr<const JsonSchema> JsonSchema::any_object() {
  auto s = std::make_shared<JsonSchema>();
  s->nodes_.emplace_back();
  s->nodes_.back().kind = JsonSchemaNode::kObject;
  s->nodes_.back().any_keys = true;
  s->add_any_nodes();
  return s;
}

int JsonSchema::add(const Json& given, const std::string& where) {
  const Json schema = given.is_boolean() && given.get<bool>() ? Json::object() : given;
  if (!schema.is_object())
    user_error("{}: a schema must be an object, got {}", where, schema.dump());
  static const std::set<std::string> kIgnored = {
      "title", "description",          "default", "examples", "$schema",
      "$id",   "additionalProperties", "$comment"};
  static const std::set<std::string> kHandled = {"type",     "properties", "required",
                                                 "items",    "enum",       "const",
                                                 "minItems", "maxItems",   "maxLength"};
  for (const auto& [key, value] : schema.items())
    if (!kIgnored.count(key) && !kHandled.count(key))
      user_error(
          "{}: the JSON schema keyword '{}' is not supported for constrained decoding (supported: "
          "type, properties, required, items, enum, const, minItems, maxItems, maxLength)",
          where, key);
  const int index = static_cast<int>(nodes_.size());
  nodes_.emplace_back();
  JsonSchemaNode node;
  auto count = [&](const char* key) -> int64_t {
    if (!schema.contains(key)) return -1;
    const Json& v = schema[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      user_error("{}.{}: expected a non-negative integer, got {}", where, key, v.dump());
    return v.get<int64_t>();
  };
  if (schema.contains("enum") || schema.contains("const")) {
    node.kind = JsonSchemaNode::kEnum;
    const Json values = schema.contains("const") ? Json::array({schema["const"]}) : schema["enum"];
    if (!values.is_array() || values.empty())
      user_error("{}.enum: expected a non-empty array", where);
    if (values.size() > kMaxLiterals)
      user_error("{}.enum: at most {} values are supported, got {}", where, kMaxLiterals,
                 values.size());
    for (const Json& v : values) node.literals.push_back(v.dump());
    nodes_[index] = node;
    return index;
  }
  const std::string type = schema.contains("type")
                               ? (schema["type"].is_string() ? schema["type"].get<std::string>()
                                                             : std::string("<not a string>"))
                               : std::string("");
  if (type.empty()) {
    node.kind = JsonSchemaNode::kAny;
  } else if (type == "object") {
    node.kind = JsonSchemaNode::kObject;
    const Json props = schema.value("properties", Json::object());
    if (!props.is_object()) user_error("{}.properties: expected an object", where);
    if (props.size() > kMaxProperties)
      user_error("{}.properties: at most {} properties are supported, got {}", where,
                 kMaxProperties, props.size());
    node.any_keys = props.empty();
    std::map<std::string, size_t> position;
    for (const auto& [name, sub] : props.items()) {
      position[name] = node.keys.size();
      node.keys.push_back(Json(name).dump());
      node.values.push_back(add(sub, where + ".properties." + name));
    }
    if (schema.contains("required")) {
      const Json& req = schema["required"];
      if (!req.is_array()) user_error("{}.required: expected an array of names", where);
      for (const Json& r : req) {
        if (!r.is_string() || !position.count(r.get<std::string>()))
          user_error("{}.required: {} is not one of the properties", where, r.dump());
        node.required |= uint64_t{1} << position[r.get<std::string>()];
      }
    }
  } else if (type == "array") {
    node.kind = JsonSchemaNode::kArray;
    if (schema.contains("items")) node.items = add(schema["items"], where + ".items");
    node.min_items = std::max<int64_t>(0, count("minItems"));
    node.max_items = count("maxItems");
    if (node.max_items >= 0 && node.max_items < node.min_items)
      user_error("{}: maxItems {} is below minItems {}", where, node.max_items, node.min_items);
  } else if (type == "string") {
    node.kind = JsonSchemaNode::kString;
    node.max_length = count("maxLength");
  } else if (type == "integer") {
    node.kind = JsonSchemaNode::kInteger;
  } else if (type == "number") {
    node.kind = JsonSchemaNode::kNumber;
  } else if (type == "boolean") {
    node.kind = JsonSchemaNode::kBoolean;
  } else if (type == "null") {
    node.kind = JsonSchemaNode::kNull;
  } else {
    user_error(
        "{}.type: {} is not supported (one of object, array, string, integer, number, boolean, "
        "null)",
        where, schema["type"].dump());
  }
  nodes_[index] = node;
  return index;
}

JsonSchemaMatcher& JsonSchemaMatcher::operator=(const JsonSchemaMatcher& other) {
  schema_ = other.schema_;
  depth_ = other.depth_;
  done_ = other.done_;
  prefix_matched_ = other.prefix_matched_;
  suffix_matched_ = other.suffix_matched_;
  std::copy(other.frames_, other.frames_ + other.depth_, frames_);
  return *this;
}

JsonSchemaMatcher::JsonSchemaMatcher(const JsonSchema& schema) : schema_(&schema) {
  frames_[0] = Frame{};  // a value of the root node
  depth_ = 1;
}

const std::vector<std::string>& JsonSchemaMatcher::candidates(const Frame& f) const {
  const JsonSchemaNode& n = schema_->nodes()[f.node];
  if (f.is_key) return n.keys;
  if (n.kind == JsonSchemaNode::kEnum) return n.literals;
  if (n.kind == JsonSchemaNode::kBoolean) return kBooleanLiterals;
  if (n.kind == JsonSchemaNode::kNull) return kNullLiteral;
  return kAnyLiterals;
}

bool JsonSchemaMatcher::object_may_close(const Frame& f) const {
  const JsonSchemaNode& n = schema_->nodes()[f.node];
  return n.any_keys || (f.mask & n.required) == n.required;
}

bool JsonSchemaMatcher::object_has_more(const Frame& f) const {
  const JsonSchemaNode& n = schema_->nodes()[f.node];
  if (n.any_keys) return true;
  const uint64_t all = n.keys.size() == 64 ? ~uint64_t{0} : (uint64_t{1} << n.keys.size()) - 1;
  return (f.mask & all) != all;
}

bool JsonSchemaMatcher::ends_implicitly(const Frame& f) const {
  if (f.type == Frame::kNumber) return number_accepting(f.phase);
  if (f.type != Frame::kLiteral) return false;
  const auto& c = candidates(f);
  for (size_t i = 0; i < c.size(); ++i)
    if ((f.mask >> i & 1) && static_cast<int64_t>(c[i].size()) == f.count) return true;
  return false;
}

bool JsonSchemaMatcher::push(Frame frame) {
  if (depth_ >= kMaxDepth) return false;
  frames_[depth_++] = frame;
  return true;
}

void JsonSchemaMatcher::finish_top() {
  const Frame done = frames_[--depth_];
  if (depth_ == 0) {
    done_ = true;
    return;
  }
  Frame& parent = frames_[depth_ - 1];
  if (parent.type == Frame::kObject) {
    if (parent.phase == kFirstKey || parent.phase == kNextKey) {
      // A declared key: remember which property comes next in `count` until its value is done.
      if (done.type == Frame::kLiteral) {
        const auto& keys = schema_->nodes()[parent.node].keys;
        for (size_t i = 0; i < keys.size(); ++i)
          if ((done.mask >> i & 1) && static_cast<int64_t>(keys[i].size()) == done.count)
            parent.count = static_cast<int64_t>(i);
      }
      parent.phase = kColon;
    } else {  // a property's value
      if (!schema_->nodes()[parent.node].any_keys) parent.mask |= uint64_t{1} << parent.count;
      parent.phase = kAfterValue;
    }
    parent.spaced = false;
  } else if (parent.type == Frame::kArray) {
    ++parent.count;
    parent.phase = kAfterItem;
    parent.spaced = false;
  }
}

bool JsonSchemaMatcher::start_value(int node, uint8_t c) {
  const JsonSchemaNode& n = schema_->nodes()[node];
  Frame f{};
  f.node = node;
  using K = JsonSchemaNode::Kind;
  K kind = n.kind;
  if (kind == K::kAny) {  // the first byte says what the value is
    if (c == '{') return start_value(schema_->any_object_node(), c);
    if (c == '[') return start_value(schema_->any_array_node(), c);
    if (c == '"') kind = K::kString;
    if (c == '-' || is_digit(c)) kind = K::kNumber;
    if (c == 't' || c == 'f' || c == 'n') {
      f.type = Frame::kLiteral;
      f.mask = 0b111;  // true, false, null
      return push(f) && step(c);
    }
  }
  switch (kind) {
    case K::kObject:
      if (c != '{') return false;
      f.type = Frame::kObject;
      f.phase = kFirstKey;
      return push(f);
    case K::kArray:
      if (c != '[') return false;
      f.type = Frame::kArray;
      f.phase = kFirstItem;
      return push(f);
    case K::kString:
      if (c != '"') return false;
      f.type = Frame::kString;
      return push(f);
    case K::kInteger:
    case K::kNumber:
      f.type = Frame::kNumber;
      f.phase = kStart;
      f.integer = kind == K::kInteger;
      return push(f) && step(c);
    case K::kBoolean:
    case K::kNull:
    case K::kEnum: {
      f.type = Frame::kLiteral;
      const size_t n_candidates = candidates(f).size();
      f.mask = n_candidates == 64 ? ~uint64_t{0} : (uint64_t{1} << n_candidates) - 1;
      return push(f) && step(c);
    }
    case K::kAny:
      return false;
  }
  return false;
}

bool JsonSchemaMatcher::step(uint8_t c) {
  const std::string& prefix = schema_->prefix();
  if (prefix_matched_ < prefix.size()) {
    if (static_cast<uint8_t>(prefix[prefix_matched_]) != c) return false;
    ++prefix_matched_;
    return true;
  }
  if (done_) {
    const std::string& suffix = schema_->suffix();
    if (suffix_matched_ >= suffix.size() || static_cast<uint8_t>(suffix[suffix_matched_]) != c)
      return false;
    ++suffix_matched_;
    return true;
  }
  if (depth_ == 0) return false;
  Frame& f = frames_[depth_ - 1];
  switch (f.type) {
    case Frame::kValue: {  // replaced by the value's own frame (feed restores on failure)
      const int node = f.node;
      --depth_;
      return start_value(node, c);
    }
    case Frame::kLiteral: {
      const auto& cands = candidates(f);
      uint64_t next = 0;
      for (size_t i = 0; i < cands.size(); ++i)
        if ((f.mask >> i & 1) && static_cast<int64_t>(cands[i].size()) > f.count &&
            static_cast<uint8_t>(cands[i][f.count]) == c)
          next |= uint64_t{1} << i;
      if (next) {
        f.mask = next;
        ++f.count;
        // A literal ends by itself once no candidate is longer than what has matched.
        bool longer = false;
        for (size_t i = 0; i < cands.size(); ++i)
          if ((next >> i & 1) && static_cast<int64_t>(cands[i].size()) > f.count) longer = true;
        if (!longer) finish_top();
        return true;
      }
      if (!ends_implicitly(f)) return false;
      finish_top();
      return step(c);
    }
    case Frame::kNumber: {
      const bool integer = f.integer;
      uint8_t next = 0xFF;
      switch (f.phase) {
        case kStart:
          next = c == '-' ? kMinus : c == '0' ? kZero : is_digit(c) ? kInteger : 0xFF;
          break;
        case kMinus:
          next = c == '0' ? kZero : is_digit(c) ? kInteger : 0xFF;
          break;
        case kZero:
        case kInteger:
          if (is_digit(c) && f.phase == kInteger && f.count < kMaxIntegerDigits) next = kInteger;
          if (!integer && c == '.') next = kDot;
          if (!integer && (c == 'e' || c == 'E')) next = kExponent;
          break;
        case kDot:
        case kFraction:
          if (is_digit(c) && (f.phase == kDot || f.count < kMaxFractionDigits)) next = kFraction;
          if (f.phase == kFraction && (c == 'e' || c == 'E')) next = kExponent;
          break;
        case kExponent:
          next = c == '+' || c == '-' ? kExponentSign : is_digit(c) ? kExponentDigits : 0xFF;
          break;
        case kExponentSign:
        case kExponentDigits:
          if (is_digit(c) && (f.phase == kExponentSign || f.count < kMaxExponentDigits))
            next = kExponentDigits;
          break;
      }
      if (next != 0xFF) {
        f.count = next == f.phase ? f.count + 1 : is_digit(c) ? 1 : 0;
        f.phase = next;
        return true;
      }
      if (!number_accepting(f.phase)) return false;
      finish_top();
      return step(c);
    }
    case Frame::kString: {  // node -1: an object's key
      const JsonSchemaNode* n = f.node >= 0 ? &schema_->nodes()[f.node] : nullptr;
      const int64_t max_length = n && n->kind == JsonSchemaNode::kString ? n->max_length : -1;
      switch (f.phase) {
        case kPlain: {
          // UTF-8 is checked as JSON parsers check it: `mask` holds the continuation bytes still
          // due (bits 0-7) and the range the next one must fall in (bits 8-15, 16-23).
          const uint64_t pending = f.mask & 0xFF;
          if (pending) {
            if (c < (f.mask >> 8 & 0xFF) || c > (f.mask >> 16 & 0xFF)) return false;
            f.mask = pending == 1 ? 0 : (pending - 1) | uint64_t{0x80} << 8 | uint64_t{0xBF} << 16;
            return true;
          }
          if (c == '"') {
            finish_top();
            return true;
          }
          if (c < 0x20 || (c >= 0x80 && c < 0xC2) || c > 0xF4) return false;
          if (max_length >= 0 && f.count >= max_length) return false;
          ++f.count;
          if (c >= 0xC2) {  // a lead byte: 1-3 continuations, the first one's range by lead
            const uint64_t due = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
            const uint64_t lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
            const uint64_t hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
            f.mask = due | lo << 8 | hi << 16;
          }
          if (c == '\\') f.phase = kEscape;
          return true;
        }
        case kEscape:
          if (c == 'u') {
            f.phase = kHex1;
            return true;
          }
          if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
              c == 't') {
            f.phase = kPlain;
            return true;
          }
          return false;
        default:  // \u hex digits
          if (!is_hex(c)) return false;
          f.phase = f.phase == kHex4 ? kPlain : f.phase + 1;
          return true;
      }
    }
    case Frame::kObject: {
      const JsonSchemaNode* n = &schema_->nodes()[f.node];
      const bool any_keys = n->any_keys;
      auto start_key = [&]() {
        if (c != '"') return false;
        Frame key{};
        key.is_key = true;
        key.node = f.node;
        if (any_keys) {
          key.type = Frame::kString;
          key.node = -1;
          return push(key);
        }
        key.type = Frame::kLiteral;
        const uint64_t all =
            n->keys.size() == 64 ? ~uint64_t{0} : (uint64_t{1} << n->keys.size()) - 1;
        key.mask = all & ~f.mask;
        if (!key.mask || !push(key)) return false;
        return step(c);
      };
      switch (f.phase) {
        case kFirstKey:
          if (c == '}' && object_may_close(f)) {
            finish_top();
            return true;
          }
          return start_key();
        case kNextKey:
          if (c == ' ' && !f.spaced) return f.spaced = true;
          return start_key();
        case kColon:
          if (c != ':') return false;
          f.phase = kValue;
          f.spaced = false;
          return true;
        case kValue: {
          if (c == ' ' && !f.spaced) return f.spaced = true;
          const int value = any_keys ? schema_->any_value_node() : n->values[f.count];
          Frame v{};
          v.type = Frame::kValue;
          v.node = value;
          return push(v) && step(c);
        }
        case kAfterValue:
          if (c == '}' && object_may_close(f)) {
            finish_top();
            return true;
          }
          if (c == ',' && object_has_more(f)) {
            f.phase = kNextKey;
            f.spaced = false;
            return true;
          }
          return false;
      }
      return false;
    }
    case Frame::kArray: {
      const JsonSchemaNode* n = &schema_->nodes()[f.node];
      const int64_t min_items = n->min_items, max_items = n->max_items;
      auto item = [&]() {
        Frame v{};
        v.type = Frame::kValue;
        v.node = n->items >= 0 ? n->items : schema_->any_value_node();
        return push(v) && step(c);
      };
      switch (f.phase) {
        case kFirstItem:
          if (c == ']' && min_items == 0) {
            finish_top();
            return true;
          }
          if (max_items == 0) return false;
          return item();
        case kAfterItem:
          if (c == ']' && f.count >= min_items) {
            finish_top();
            return true;
          }
          if (c == ',' && (max_items < 0 || f.count < max_items)) {
            f.phase = kNextItem;
            f.spaced = false;
            return true;
          }
          return false;
        case kNextItem:
          if (c == ' ' && !f.spaced) return f.spaced = true;
          return item();
      }
      return false;
    }
  }
  return false;
}

bool JsonSchemaMatcher::feed(uint8_t byte) {
  JsonSchemaMatcher saved = *this;
  if (step(byte)) return true;
  *this = saved;
  return false;
}

bool JsonSchemaMatcher::feed(const std::string& bytes) {
  JsonSchemaMatcher saved = *this;
  for (char c : bytes)
    if (!step(static_cast<uint8_t>(c))) {
      *this = saved;
      return false;
    }
  return true;
}

bool JsonSchemaMatcher::complete() const {
  if (done_) return suffix_matched_ == schema_->suffix().size();
  // A top-level number or literal ends with the text (when no suffix must follow).
  return prefix_matched_ == schema_->prefix().size() && schema_->suffix().empty() && depth_ == 1 &&
         ends_implicitly(frames_[0]);
}

TokenTrie::TokenTrie(const std::vector<std::string>& token_bytes)
    : token_bytes_(token_bytes), vocab_size_(static_cast<int64_t>(token_bytes.size())) {
  // Built as a sorted list of (bytes, id): each node's children are the distinct next bytes of a
  // contiguous run of that list.
  std::vector<int32_t> order;
  for (size_t i = 0; i < token_bytes.size(); ++i)
    if (!token_bytes[i].empty()) order.push_back(static_cast<int32_t>(i));
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return token_bytes[a] < token_bytes[b]; });
  struct Pending {
    uint32_t node;
    size_t begin, end, depth;
  };
  nodes_.emplace_back();
  std::vector<Pending> stack = {{0, 0, order.size(), 0}};
  while (!stack.empty()) {
    const Pending p = stack.back();
    stack.pop_back();
    size_t i = p.begin;
    nodes_[p.node].first_token = static_cast<uint32_t>(tokens_.size());
    while (i < p.end && token_bytes[order[i]].size() == p.depth) tokens_.push_back(order[i++]);
    nodes_[p.node].token_count = static_cast<uint32_t>(tokens_.size()) - nodes_[p.node].first_token;
    nodes_[p.node].first_child = static_cast<uint32_t>(edges_.size());
    std::vector<Pending> children;
    while (i < p.end) {
      const uint8_t byte = static_cast<uint8_t>(token_bytes[order[i]][p.depth]);
      size_t j = i;
      while (j < p.end && static_cast<uint8_t>(token_bytes[order[j]][p.depth]) == byte) ++j;
      const uint32_t child = static_cast<uint32_t>(nodes_.size());
      nodes_.emplace_back();
      edges_.push_back({byte, child});
      children.push_back({child, i, j, p.depth + 1});
      i = j;
    }
    nodes_[p.node].child_count = static_cast<uint32_t>(edges_.size()) - nodes_[p.node].first_child;
    stack.insert(stack.end(), children.begin(), children.end());
  }
}

void TokenTrie::walk(uint32_t node, const JsonSchemaMatcher& matcher,
                     std::vector<bool>& allowed) const {
  const Node& n = nodes_[node];
  for (uint32_t e = n.first_child; e < n.first_child + n.child_count; ++e) {
    JsonSchemaMatcher next = matcher;
    if (!next.step(edges_[e].byte)) continue;
    const Node& child = nodes_[edges_[e].node];
    for (uint32_t t = child.first_token; t < child.first_token + child.token_count; ++t)
      allowed[tokens_[t]] = true;
    walk(edges_[e].node, next, allowed);
  }
}

void TokenTrie::allowed(const JsonSchemaMatcher& matcher, std::vector<bool>& allowed) const {
  allowed.assign(static_cast<size_t>(vocab_size_), false);
  walk(0, matcher, allowed);
}

}  // namespace llmcc

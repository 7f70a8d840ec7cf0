// Constrained decoding for OpenAI's response_format: a byte-level matcher of JSON text that a
// JSON schema accepts, and the token masks it implies over a vocabulary. The decoder asks which
// tokens may come next (every byte of a token must keep the text inside the schema), samples
// among those, and feeds the chosen token back; the end of sequence is allowed only once the
// value is complete. The result parses as JSON and validates against the schema.
//
// The schema subset: "type" object (properties, required; no other keys are ever written, so
// additionalProperties is moot), array (items, minItems, maxItems), string (maxLength), integer,
// number, boolean, null; "enum" and "const" of any JSON values. Annotations (title,
// description, default, examples, $schema) are ignored. Anything else (pattern, format, anyOf,
// $ref, minimum, ...) is refused with a UserError naming the keyword and where it is, because
// ignoring it would produce output that does not validate. json_object mode is the schema {}:
// any JSON object.
//
// The text is written compactly: no whitespace except one optional space after ':' and ','. This
// keeps a model from spending its tokens on blank space, and the JSON is no less valid for it.
// Numbers have at most 15 integer digits (exactly representable as doubles), 15 fraction digits
// and 2 exponent digits (so that every number a parser reads is finite).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/json.h"

namespace llmcc {

// A schema compiled into nodes (index 0 is the root).
struct JsonSchemaNode {
  enum Kind { kAny, kObject, kArray, kString, kInteger, kNumber, kBoolean, kNull, kEnum };
  Kind kind = kAny;
  std::vector<std::string> keys;  // object: the properties' names as JSON strings ("\"name\"")
  std::vector<int> values;        // object: each property's node
  uint64_t required = 0;          // object: bit i set if keys[i] must appear
  bool any_keys = false;          // object without properties: any keys, any values
  int items = -1;                 // array: the items' node (-1: any value)
  int64_t min_items = 0, max_items = -1, max_length = -1;
  std::vector<std::string> literals;  // enum: each allowed value as compact JSON text
};

class JsonSchema {
 public:
  // `where` names the schema in errors (e.g. "response_format.json_schema.schema"). The text
  // may have to start with `prefix` and end with `suffix` around the JSON value (a tool call's
  // tags).
  static std::shared_ptr<const JsonSchema> compile(const Json& schema, const std::string& where,
                                                   const std::string& prefix = "",
                                                   const std::string& suffix = "");
  // Any JSON object (response_format json_object).
  static std::shared_ptr<const JsonSchema> any_object();
  const std::vector<JsonSchemaNode>& nodes() const { return nodes_; }
  // Nodes every schema has, for the parts that take any JSON: a value, an object, an array.
  int any_value_node() const { return any_value_; }
  int any_object_node() const { return any_object_; }
  int any_array_node() const { return any_array_; }
  const std::string& prefix() const { return prefix_; }
  const std::string& suffix() const { return suffix_; }

 private:
  int add(const Json& schema, const std::string& where);
  void add_any_nodes();
  std::vector<JsonSchemaNode> nodes_;
  int any_value_ = -1, any_object_ = -1, any_array_ = -1;
  std::string prefix_, suffix_;
};

// Where the text is inside the schema. Copyable and small (a copy takes only the open frames):
// the token mask copies it at every step of its walk over the vocabulary. `schema` must outlive
// the matcher and its copies.
class JsonSchemaMatcher {
 public:
  explicit JsonSchemaMatcher(const JsonSchema& schema);
  JsonSchemaMatcher(const JsonSchemaMatcher& other) { *this = other; }
  JsonSchemaMatcher& operator=(const JsonSchemaMatcher& other);
  // Takes one byte; false (and the matcher unchanged) if the schema does not allow it here.
  bool feed(uint8_t byte);
  bool feed(const std::string& bytes);  // all or nothing
  // Whether the text so far is a complete value of the schema (the sequence may end here).
  bool complete() const;

  // How deep values may nest; deeper text is refused.
  static constexpr int kMaxDepth = 24;

 private:
  // Trivial, so that a copy of the matcher leaves its unused frames alone; Frame{} is the start.
  struct Frame {
    enum Type : uint8_t { kValue, kObject, kArray, kString, kLiteral, kNumber };
    Type type;
    uint8_t phase;
    bool spaced;    // the one optional space of this gap was written
    bool is_key;    // a string or literal that is an object's key
    bool integer;   // a number without fraction or exponent
    int32_t node;   // the schema node (for a key: the object's)
    int64_t count;  // array items, string characters, number digits, literal bytes
    uint64_t mask;  // object: properties written; literal: candidates still matching; string:
                    // UTF-8 continuation bytes due
  };
  bool step(uint8_t byte);
  bool start_value(int node, uint8_t byte);
  bool push(Frame frame);
  void finish_top();  // pops the top frame, a complete value, and advances its parent
  bool ends_implicitly(const Frame& f) const;  // a number or literal that may stop here
  const std::vector<std::string>& candidates(const Frame& f) const;
  bool object_may_close(const Frame& f) const;
  bool object_has_more(const Frame& f) const;

  friend class TokenTrie;  // steps copies it throws away, without restoring them on failure
  const JsonSchema* schema_;
  Frame frames_[kMaxDepth];
  int depth_ = 0;
  bool done_ = false;
  uint32_t prefix_matched_ = 0, suffix_matched_ = 0;  // bytes of the schema's prefix and suffix
};

// Every token's bytes in a trie, so that a mask walks each shared prefix once.
class TokenTrie {
 public:
  // token_bytes[id]: the bytes token id decodes to; empty ones (special tokens) never match.
  explicit TokenTrie(const std::vector<std::string>& token_bytes);
  // allowed[id] = whether all of token id's bytes are accepted from `matcher`'s state.
  void allowed(const JsonSchemaMatcher& matcher, std::vector<bool>& allowed) const;
  int64_t vocab_size() const { return vocab_size_; }
  const std::string& bytes(int32_t id) const { return token_bytes_[id]; }

 private:
  struct Node {
    uint32_t first_child = 0, child_count = 0;  // into edges_
    uint32_t first_token = 0, token_count = 0;  // into tokens_: the tokens ending here
  };
  struct Edge {
    uint8_t byte;
    uint32_t node;
  };
  void walk(uint32_t node, const JsonSchemaMatcher& matcher, std::vector<bool>& allowed) const;
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::vector<int32_t> tokens_;
  std::vector<std::string> token_bytes_;
  int64_t vocab_size_ = 0;
};

// What a request's output must be: JSON text of `schema`, over the vocabulary in `trie`. The
// engine masks every token that would leave the schema and allows the end of sequence (the
// request's stop tokens) only once the value is complete.
struct JsonConstraint {
  std::shared_ptr<const JsonSchema> schema;
  std::shared_ptr<const TokenTrie> trie;
};

}  // namespace llmcc

#include "ir/parser.h"

#include <cctype>
#include <map>

#include "ir/op_registry.h"
#include "support/error.h"

namespace llmcc::ir {

namespace {

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  Module parse() {
    skip_space();
    expect_word("module");
    skip_inline_space();
    if (peek() == '{') module_.attrs = json();
    while (true) {
      skip_space();
      if (at_end()) break;
      std::string word = ident();
      if (word == "param")
        parse_param();
      else if (word == "func")
        parse_function();
      else
        fail("expected 'param' or 'func', got '" + word + "'");
    }
    return std::move(module_);
  }

 private:
  [[noreturn]] void fail(const std::string& why) {
    int line = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) line += text_[i] == '\n';
    user_error("IR parse error at line {}: {}", line, why);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void skip_inline_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t')) ++pos_;
  }
  void skip_space() {
    while (!at_end()) {
      if (std::isspace(static_cast<unsigned char>(peek())))
        ++pos_;
      else if (peek() == '#')
        while (!at_end() && peek() != '\n') ++pos_;
      else
        break;
    }
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "'" + context());
    ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  std::string context() {
    size_t end = text_.find('\n', pos_);
    return " near '" + text_.substr(pos_, std::min<size_t>(end - pos_, 40)) + "'";
  }
  static bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  }
  std::string ident() {
    skip_space();
    size_t start = pos_;
    while (!at_end() && ident_char(peek())) ++pos_;
    if (start == pos_) fail("expected a name" + context());
    return text_.substr(start, pos_ - start);
  }
  void expect_word(const std::string& w) {
    std::string got = ident();
    if (got != w) fail("expected '" + w + "', got '" + got + "'");
  }
  Json json() {
    skip_space();
    size_t start = pos_;
    int depth = 0;
    bool in_string = false;
    for (; !at_end(); ++pos_) {
      char c = peek();
      if (in_string) {
        if (c == '\\')
          ++pos_;
        else if (c == '"')
          in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++pos_;
          break;
        }
      }
    }
    try {
      return Json::parse(text_.substr(start, pos_ - start));
    } catch (const std::exception& e) {
      fail(std::string("bad attribute JSON: ") + e.what());
    }
  }
  Type type() {
    std::string word = ident();
    if (word == "kv_cache") return Type::kv_cache();
    auto dtype = dtype_from_short_name(word);
    if (!dtype) fail("unknown dtype '" + word + "'");
    expect('[');
    std::vector<Dim> shape;
    if (!accept(']')) {
      do {
        std::string d = ident();
        if (std::isdigit(static_cast<unsigned char>(d[0]))) {
          try {
            shape.push_back(Dim::constant(std::stoll(d)));
          } catch (const std::exception&) {
            fail("bad dimension '" + d + "'");
          }
        } else {
          shape.push_back(Dim::sym(d));
        }
      } while (accept(','));
      expect(']');
    }
    return Type::tensor(*dtype, std::move(shape));
  }

  void parse_param() {
    expect('@');
    std::string name = ident();
    expect(':');
    if (module_.find_param(name) >= 0) fail("param @" + name + " is declared twice");
    module_.params.push_back(Param{name, type()});
  }

  Operand operand(Function& f, const std::map<std::string, int>& names) {
    skip_space();
    if (accept('@')) {
      std::string name = ident();
      int i = module_.find_param(name);
      if (i < 0) fail("unknown param @" + name);
      return Operand::param(i);
    }
    expect('%');
    std::string name = ident();
    auto it = names.find(name);
    if (it == names.end()) fail("use of undefined value %" + name);
    return Operand::value(it->second);
  }

  void parse_function() {
    Function f;
    expect('@');
    f.name = ident();
    if (module_.find_function(f.name)) fail("function @" + f.name + " is defined twice");
    std::map<std::string, int> names;
    expect('(');
    if (!accept(')')) {
      do {
        expect('%');
        std::string name = ident();
        expect(':');
        if (names.count(name)) fail("argument %" + name + " is declared twice");
        int v = f.add_value(type(), name);
        f.args.push_back(v);
        names[name] = v;
      } while (accept(','));
      expect(')');
    }
    expect('-');
    expect('>');
    expect('(');
    std::vector<Type> declared_results;
    if (!accept(')')) {
      do declared_results.push_back(type());
      while (accept(','));
      expect(')');
    }
    skip_space();
    // Function attributes are a JSON object ({"...), the body a bare brace.
    if (text_.compare(pos_, 2, "{\"") == 0) f.attrs = json();
    expect('{');
    while (true) {
      skip_space();
      if (accept('}')) break;
      if (peek() == 'r') {
        expect_word("return");
        skip_inline_space();
        if (peek() != '\n' && peek() != '}') {
          do {
            Operand o = operand(f, names);
            if (o.kind != Operand::Kind::kValue) fail("a function cannot return a param");
            f.results.push_back(o.index);
          } while (accept(','));
        }
        continue;
      }
      expect('%');
      std::string result_name = ident();
      if (names.count(result_name)) fail("value %" + result_name + " is defined twice");
      expect('=');
      Op op;
      op.name = ident();
      if (!is_known_op(op.name)) fail("unknown op '" + op.name + "'");
      expect('(');
      if (!accept(')')) {
        do op.operands.push_back(operand(f, names));
        while (accept(','));
        expect(')');
      }
      skip_inline_space();
      if (peek() == '{') op.attrs = json();
      expect(':');
      Type declared = type();
      std::vector<Type> operand_types;
      for (const auto& o : op.operands) operand_types.push_back(f.type_of(o, module_));
      Type inferred = infer_op_type(op.name, operand_types, op.attrs);
      if (!(inferred == declared))
        fail("%" + result_name + ": declared type " + declared.str() + " but " + op.name +
             " gives " + inferred.str());
      op.result = f.add_value(declared);
      names[result_name] = op.result;
      f.ops.push_back(std::move(op));
    }
    if (declared_results.size() != f.results.size())
      fail("@" + f.name + " declares " + std::to_string(declared_results.size()) +
           " results but returns " + std::to_string(f.results.size()));
    for (size_t i = 0; i < f.results.size(); ++i)
      if (!(f.values[f.results[i]].type == declared_results[i]))
        fail("@" + f.name + " result " + std::to_string(i) + " has type " +
             f.values[f.results[i]].type.str() + ", declared " + declared_results[i].str());
    module_.functions.push_back(std::move(f));
  }

  const std::string& text_;
  size_t pos_ = 0;
  Module module_;
};

}  // namespace

Module parse_module(const std::string& text) { return Parser(text).parse(); }

}  // namespace llmcc::ir

// The graph IR: a module of weights (params) and functions in SSA form. Every op has one result.
// Function arguments and op results are values, numbered per function; params are module-wide and
// referenced by name (@model.norm.weight). Attributes are JSON, which keeps printing stable.
#pragma once

#include <string>
#include <vector>

#include "ir/type.h"
#include "support/json.h"

namespace llmcc::ir {

struct Value {
  std::string name;  // argument names are kept; op results print as %0, %1, ...
  Type type;
};

struct Operand {
  enum class Kind { kValue, kParam };
  Kind kind = Kind::kValue;
  int index = 0;  // into Function::values or Module::params
  static Operand value(int i) { return {Kind::kValue, i}; }
  static Operand param(int i) { return {Kind::kParam, i}; }
  bool operator==(const Operand&) const = default;
};

struct Op {
  std::string name;
  std::vector<Operand> operands;
  int result = -1;  // index into Function::values
  Json attrs = Json::object();
};

struct Param {
  std::string name;
  Type type;
};

struct Function {
  std::string name;
  std::vector<Value> values;
  std::vector<int> args;  // value indices, in call order
  std::vector<Op> ops;
  std::vector<int> results;  // value indices returned
  Json attrs = Json::object();

  int add_value(Type type, std::string name = "");
  const Type& type_of(const Operand& o, const struct Module& m) const;
};

struct Module {
  Json attrs = Json::object();
  std::vector<Param> params;
  std::vector<Function> functions;

  int find_param(const std::string& name) const;  // -1 if absent
  Function* find_function(const std::string& name);
  const Function* find_function(const std::string& name) const;
};

// Appends ops to a function, inferring each result type from the op registry.
class FunctionBuilder {
 public:
  FunctionBuilder(Module& module, std::string name);
  Operand arg(const std::string& name, Type type);
  Operand param(const std::string& name) const;  // a param that the module already declares
  Operand op(const std::string& name, std::vector<Operand> operands, Json attrs = Json::object());
  // Finishes the function and appends it to the module.
  void ret(std::vector<Operand> results, Json attrs = Json::object());

 private:
  Module& module_;
  Function fn_;
};

}  // namespace llmcc::ir

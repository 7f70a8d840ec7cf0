#include "ir/module.h"

#include "ir/op_registry.h"
#include "support/error.h"

namespace llmcc::ir {

int Function::add_value(Type type, std::string name) {
  values.push_back(Value{std::move(name), std::move(type)});
  return static_cast<int>(values.size()) - 1;
}

const Type& Function::type_of(const Operand& o, const Module& m) const {
  if (o.kind == Operand::Kind::kParam) return m.params.at(o.index).type;
  return values.at(o.index).type;
}

int Module::find_param(const std::string& name) const {
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].name == name) return static_cast<int>(i);
  return -1;
}

Function* Module::find_function(const std::string& name) {
  for (auto& f : functions)
    if (f.name == name) return &f;
  return nullptr;
}

const Function* Module::find_function(const std::string& name) const {
  for (const auto& f : functions)
    if (f.name == name) return &f;
  return nullptr;
}

FunctionBuilder::FunctionBuilder(Module& module, std::string name) : module_(module) {
  fn_.name = std::move(name);
}

Operand FunctionBuilder::arg(const std::string& name, Type type) {
  int v = fn_.add_value(std::move(type), name);
  fn_.args.push_back(v);
  return Operand::value(v);
}

Operand FunctionBuilder::param(const std::string& name) const {
  int i = module_.find_param(name);
  if (i < 0) internal_error("function {} uses undeclared param @{}", fn_.name, name);
  return Operand::param(i);
}

Operand FunctionBuilder::op(const std::string& name, std::vector<Operand> operands, Json attrs) {
  std::vector<Type> types;
  for (const auto& o : operands) types.push_back(fn_.type_of(o, module_));
  Type result = infer_op_type(name, types, attrs);
  Op op{name, std::move(operands), fn_.add_value(result), std::move(attrs)};
  fn_.ops.push_back(std::move(op));
  return Operand::value(fn_.ops.back().result);
}

void FunctionBuilder::ret(std::vector<Operand> results, Json attrs) {
  for (const auto& r : results) {
    if (r.kind != Operand::Kind::kValue)
      internal_error("function {} returns a param directly", fn_.name);
    fn_.results.push_back(r.index);
  }
  fn_.attrs = std::move(attrs);
  module_.functions.push_back(std::move(fn_));
}

}  // namespace llmcc::ir

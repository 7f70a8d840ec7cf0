#include "ir/printer.h"

#include <fmt/format.h>

#include <map>

namespace llmcc::ir {

namespace {

class FunctionPrinter {
 public:
  FunctionPrinter(const Module& m, const Function& f) : m_(m), f_(f) {
    for (int a : f.args) names_[a] = "%" + f.values[a].name;
    int next = 0;
    for (const auto& op : f.ops) names_[op.result] = "%" + std::to_string(next++);
  }

  std::string operand(const Operand& o) {
    if (o.kind == Operand::Kind::kParam) return "@" + m_.params[o.index].name;
    return names_.at(o.index);
  }

  std::string print() {
    std::string out = fmt::format("func @{}(", f_.name);
    for (size_t i = 0; i < f_.args.size(); ++i) {
      const Value& v = f_.values[f_.args[i]];
      out += fmt::format("{}%{}: {}", i ? ", " : "", v.name, v.type.str());
    }
    out += ") -> (";
    for (size_t i = 0; i < f_.results.size(); ++i)
      out += (i ? ", " : "") + f_.values[f_.results[i]].type.str();
    out += ")";
    if (!f_.attrs.empty()) out += " " + f_.attrs.dump();
    out += " {\n";
    for (const auto& op : f_.ops) {
      out += fmt::format("  {} = {}(", names_.at(op.result), op.name);
      for (size_t i = 0; i < op.operands.size(); ++i)
        out += (i ? ", " : "") + operand(op.operands[i]);
      out += ")";
      if (!op.attrs.empty()) out += " " + op.attrs.dump();
      out += " : " + f_.values[op.result].type.str() + "\n";
    }
    out += "  return";
    for (size_t i = 0; i < f_.results.size(); ++i)
      out += (i ? ", " : " ") + names_.at(f_.results[i]);
    out += "\n}\n";
    return out;
  }

 private:
  const Module& m_;
  const Function& f_;
  std::map<int, std::string> names_;
};

}  // namespace

std::string print_function(const Module& m, const Function& f) {
  return FunctionPrinter(m, f).print();
}

std::string print_module(const Module& m) {
  std::string out = "module";
  if (!m.attrs.empty()) out += " " + m.attrs.dump();
  out += "\n";
  for (const auto& p : m.params) out += fmt::format("param @{} : {}\n", p.name, p.type.str());
  for (const auto& f : m.functions) out += "\n" + print_function(m, f);
  return out;
}

}  // namespace llmcc::ir

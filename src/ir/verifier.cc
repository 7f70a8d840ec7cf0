#include "ir/verifier.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "ir/op_registry.h"
#include "support/error.h"

namespace llmcc::ir {

int64_t symbol_upper_bound(const Module& m, const Function& f, const std::string& symbol) {
  auto bounds = f.attrs.find("tir_var_upper_bound");
  if (bounds != f.attrs.end() && bounds->contains(symbol)) return (*bounds)[symbol].get<int64_t>();
  auto consts = m.attrs.find("symbol_values");
  if (consts != m.attrs.end() && consts->contains(symbol)) return (*consts)[symbol].get<int64_t>();
  return -1;
}

std::vector<std::string> verify_module(const Module& m, const VerifyOptions& options) {
  std::vector<std::string> problems;
  std::set<std::string> param_names, function_names;
  for (const auto& p : m.params) {
    if (!param_names.insert(p.name).second)
      problems.push_back("param @" + p.name + " declared twice");
    if (!p.type.is_tensor()) problems.push_back("param @" + p.name + " must be a tensor");
  }
  for (const auto& f : m.functions) {
    auto where = [&](const std::string& what) { return "@" + f.name + ": " + what; };
    if (!function_names.insert(f.name).second) problems.push_back(where("defined twice"));
    std::vector<bool> defined(f.values.size(), false);
    auto check_symbols = [&](const Type& t) {
      if (!options.require_bounds) return;
      for (const auto& d : t.shape)
        if (d.is_symbolic() && symbol_upper_bound(m, f, d.symbol) < 0)
          problems.push_back(where("symbol '" + d.symbol + "' has no upper bound"));
    };
    for (int a : f.args) {
      if (a < 0 || a >= static_cast<int>(f.values.size())) {
        problems.push_back(where("argument index out of range"));
        continue;
      }
      defined[a] = true;
      check_symbols(f.values[a].type);
    }
    for (size_t i = 0; i < f.ops.size(); ++i) {
      const Op& op = f.ops[i];
      std::string at = where(fmt::format("op #{} ({})", i, op.name));
      bool operands_ok = true;
      std::vector<Type> types;
      for (const auto& o : op.operands) {
        if (o.kind == Operand::Kind::kParam) {
          if (o.index < 0 || o.index >= static_cast<int>(m.params.size())) {
            problems.push_back(at + ": param index out of range");
            operands_ok = false;
          } else {
            types.push_back(m.params[o.index].type);
          }
        } else if (o.index < 0 || o.index >= static_cast<int>(f.values.size()) ||
                   !defined[o.index]) {
          problems.push_back(at + ": uses a value before it is defined");
          operands_ok = false;
        } else {
          types.push_back(f.values[o.index].type);
        }
      }
      if (op.result < 0 || op.result >= static_cast<int>(f.values.size()) || defined[op.result]) {
        problems.push_back(at + ": result slot is invalid or defined twice");
        continue;
      }
      defined[op.result] = true;
      check_symbols(f.values[op.result].type);
      if (!operands_ok) continue;
      try {
        Type inferred = infer_op_type(op.name, types, op.attrs);
        if (!(inferred == f.values[op.result].type))
          problems.push_back(at + ": result type " + f.values[op.result].type.str() +
                             " but the op gives " + inferred.str());
      } catch (const UserError& e) {
        problems.push_back(at + ": " + e.what());
      }
    }
    for (int r : f.results)
      if (r < 0 || r >= static_cast<int>(f.values.size()) || !defined[r])
        problems.push_back(where("returns an undefined value"));
  }
  return problems;
}

void verify_or_throw(const Module& m, const VerifyOptions& options) {
  auto problems = verify_module(m, options);
  if (!problems.empty()) user_error("IR verification failed:\n  {}", fmt::join(problems, "\n  "));
}

}  // namespace llmcc::ir

// Argument checking at the library boundary: dtype, rank, and each dimension against a constant
// or a symbol that is bound on first sight and checked against its upper bound.
#pragma once

#include <initializer_list>

#include "common.h"
#include "llmcc/model_abi.h"

namespace llmcc::cpu_kernels {

struct DimSpec {
  int64_t value;        // the constant, when symbol is null
  int64_t* symbol;      // the symbol's slot, -1 while unbound
  int64_t upper_bound;  // for symbols; -1 for none
  const char* name;     // the symbol's name, for messages
};

inline int bind_tensor(const llmcc_tensor& t, int32_t dtype, std::initializer_list<DimSpec> dims,
                       const char* fn, const char* arg) {
  if (t.data == nullptr) return fail("%s: %s has no data", fn, arg);
  if (t.dtype != dtype) return fail("%s: %s has dtype %d, expected %d", fn, arg, t.dtype, dtype);
  if (t.ndim != static_cast<int32_t>(dims.size()))
    return fail("%s: %s has %d dimensions, expected %d", fn, arg, t.ndim,
                static_cast<int>(dims.size()));
  int i = 0;
  for (const DimSpec& d : dims) {
    const long long got = t.shape[i];
    if (d.symbol == nullptr) {
      if (got != d.value)
        return fail("%s: %s dimension %d is %lld, expected %lld", fn, arg, i, got,
                    static_cast<long long>(d.value));
    } else if (*d.symbol < 0) {
      if (got < 1 || (d.upper_bound >= 0 && got > d.upper_bound))
        return fail("%s: %s = %lld (dimension %d of %s) is outside [1, %lld]", fn, d.name, got, i,
                    arg, static_cast<long long>(d.upper_bound));
      *d.symbol = got;
    } else if (got != *d.symbol) {
      return fail("%s: %s dimension %d is %lld but %s is %lld elsewhere", fn, arg, i, got, d.name,
                  static_cast<long long>(*d.symbol));
    }
    ++i;
  }
  return 0;
}

}  // namespace llmcc::cpu_kernels

#include "models/rope_config.h"

#include <cmath>

#include "support/error.h"

namespace llmcc {

namespace {

double positive_number(const Json& j, const char* key, const std::string& ctx) {
  if (!j.contains(key) || !j[key].is_number() || j[key].get<double>() <= 0)
    user_error("{}: rope scaling needs a positive number '{}', got {}", ctx, key,
               j.contains(key) ? j[key].dump() : "nothing");
  return j[key].get<double>();
}

bool has_number(const Json& j, const char* key) { return j.contains(key) && j[key].is_number(); }

// The pretraining context: Phi-3 keeps it at the top level (and transformers prefers that one),
// others inside the scaling object; transformers falls back to max_position_embeddings.
double original_context(const Json& s, const Json& config, bool top_level_first,
                        const std::string& ctx) {
  if (top_level_first && has_number(config, "original_max_position_embeddings"))
    return positive_number(config, "original_max_position_embeddings", ctx);
  if (has_number(s, "original_max_position_embeddings"))
    return positive_number(s, "original_max_position_embeddings", ctx);
  if (has_number(config, "max_position_embeddings"))
    return positive_number(config, "max_position_embeddings", ctx);
  user_error("{}: rope scaling '{}' needs original_max_position_embeddings", ctx,
             s.value("rope_type", ""));
}

// `factor`, or (as transformers, when absent) max_position_embeddings / original.
double factor_or_ratio(const Json& s, const Json& config, double original, const std::string& ctx) {
  if (s.contains("factor") && !s["factor"].is_null()) return positive_number(s, "factor", ctx);
  if (!has_number(config, "max_position_embeddings"))
    user_error("{}: rope scaling needs 'factor' or max_position_embeddings", ctx);
  return positive_number(config, "max_position_embeddings", ctx) / original;
}

double yarn_mscale(double scale, double mscale) {
  return scale <= 1 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

}  // namespace

Json resolve_rope_scaling(const Json& raw, const Json& config, const std::string& ctx) {
  if (raw.is_null()) return Json();
  if (!raw.is_object()) user_error("{}: rope_scaling must be an object or null", ctx);
  std::string type = raw.value("rope_type", raw.value("type", std::string("default")));
  if (type == "su") type = "longrope";  // its old name
  const std::string where = ctx + " rope_scaling";
  if (type == "default") return Json();
  if (type == "linear")
    return {{"rope_type", type}, {"factor", positive_number(raw, "factor", where)}};
  if (type == "llama3") {
    Json s = {{"rope_type", type}};
    for (const char* key : {"factor", "low_freq_factor", "high_freq_factor"})
      s[key] = positive_number(raw, key, where);
    s["original_max_position_embeddings"] = original_context(raw, config, false, where);
    if (s["high_freq_factor"].get<double>() <= s["low_freq_factor"].get<double>())
      user_error("{}: llama3 needs high_freq_factor > low_freq_factor", where);
    return s;
  }
  if (type == "yarn") {
    const double original = original_context(raw, config, false, where);
    const double factor = factor_or_ratio(raw, config, original, where);
    double attention_factor;
    if (has_number(raw, "attention_factor")) {
      attention_factor = positive_number(raw, "attention_factor", where);
    } else if (has_number(raw, "mscale") && has_number(raw, "mscale_all_dim") &&
               raw["mscale"].get<double>() != 0 && raw["mscale_all_dim"].get<double>() != 0) {
      attention_factor = yarn_mscale(factor, raw["mscale"].get<double>()) /
                         yarn_mscale(factor, raw["mscale_all_dim"].get<double>());
    } else {
      attention_factor = yarn_mscale(factor, 1.0);
    }
    auto or_default = [&](const char* key, double fallback) {
      return raw.contains(key) && !raw[key].is_null() && raw[key].get<double>() != 0
                 ? positive_number(raw, key, where)
                 : fallback;
    };
    bool truncate = true;
    if (raw.contains("truncate") && !raw["truncate"].is_null()) {
      if (!raw["truncate"].is_boolean()) user_error("{}: 'truncate' must be true or false", where);
      truncate = raw["truncate"].get<bool>();
    }
    return {{"rope_type", type},
            {"factor", factor},
            {"original_max_position_embeddings", original},
            {"beta_fast", or_default("beta_fast", 32)},
            {"beta_slow", or_default("beta_slow", 1)},
            {"attention_factor", attention_factor},
            {"truncate", truncate}};
  }
  if (type == "longrope") {
    const double original = original_context(raw, config, true, where);
    double attention_factor;
    if (has_number(raw, "attention_factor")) {
      attention_factor = positive_number(raw, "attention_factor", where);
    } else {
      const double factor = factor_or_ratio(raw, config, original, where);
      attention_factor = factor <= 1 ? 1.0 : std::sqrt(1 + std::log(factor) / std::log(original));
    }
    for (const char* key : {"short_factor", "long_factor"})
      if (!raw.contains(key) || !raw[key].is_array() || raw[key].empty())
        user_error("{}: longrope needs the list '{}'", where, key);
    return {{"rope_type", type},
            {"short_factor", raw["short_factor"]},
            {"long_factor", raw["long_factor"]},
            {"original_max_position_embeddings", original},
            {"attention_factor", attention_factor}};
  }
  throw NotImplementedError(fmt::format(
      "{}: rope scaling type '{}' is not supported; supported: linear, llama3, yarn, longrope",
      where, type));
}

}  // namespace llmcc

#include "ir/rope.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "support/error.h"

namespace llmcc::ir {

namespace {

[[noreturn]] void bad(const std::string& op, const std::string& why) {
  user_error("op '{}': rope: {}", op, why);
}

double number(const std::string& op, const Json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number())
    bad(op, fmt::format("scaling needs the number '{}'", key));
  return j[key].get<double>();
}

void factor_list(const std::string& op, const Json& s, const char* key, int64_t pairs) {
  if (!s.contains(key) || !s[key].is_array() || static_cast<int64_t>(s[key].size()) != pairs)
    bad(op, fmt::format("longrope's '{}' must list {} numbers (rotary_dim / 2)", key, pairs));
  for (const Json& v : s[key])
    if (!v.is_number() || v.get<double>() <= 0)
      bad(op, fmt::format("longrope's '{}' must hold positive numbers, got {}", key, v.dump()));
}

// theta^(2i/R) in f32, as transformers computes it.
float theta_power(double theta, int64_t i, int64_t R) {
  return std::pow(static_cast<float>(theta), static_cast<float>(2 * i) / static_cast<float>(R));
}

std::vector<float> base_inv_freq(double theta, int64_t R) {
  std::vector<float> inv(R / 2);
  for (int64_t i = 0; i < R / 2; ++i) inv[i] = 1.0f / theta_power(theta, i, R);
  return inv;
}

// Llama 3.1: long wavelengths slow down by `factor`, short ones stay, the band between blends.
void apply_llama3(const Json& s, std::vector<float>& inv) {
  const float pi = 3.14159265358979323846f;
  const float factor = s["factor"].get<float>(), low = s["low_freq_factor"].get<float>(),
              high = s["high_freq_factor"].get<float>(),
              original = s["original_max_position_embeddings"].get<float>();
  const float low_wavelen = original / low, high_wavelen = original / high;
  for (float& f : inv) {
    const float wavelen = 2.0f * pi / f;
    float scaled = wavelen > low_wavelen ? f / factor : f;
    if (!(wavelen < high_wavelen) && !(wavelen > low_wavelen)) {
      const float smooth = (original / wavelen - low) / (high - low);
      scaled = (1.0f - smooth) * scaled / factor + smooth * scaled;
    }
    f = scaled;
  }
}

// YaRN: interpolate the low frequencies by `factor`, keep the high ones, ramp between the dims
// that turn beta_fast and beta_slow times over the original context.
void apply_yarn(const Json& s, double theta, int64_t R, std::vector<float>& inv) {
  // inv starts as 1 / theta^(2i/R), the extrapolated frequencies.
  const double factor = s["factor"].get<double>();
  const double original = s["original_max_position_embeddings"].get<double>();
  const bool truncate = s["truncate"].get<bool>();
  auto correction_dim = [&](double rotations) {
    return R * std::log(original / (rotations * 2 * M_PI)) / (2 * std::log(theta));
  };
  double low = correction_dim(s["beta_fast"].get<double>());
  double high = correction_dim(s["beta_slow"].get<double>());
  if (truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(R - 1));
  if (low == high) high += 0.001;  // as transformers, against a zero-width ramp
  const float lo = static_cast<float>(low), span = static_cast<float>(high - low);
  for (int64_t i = 0; i < R / 2; ++i) {
    const float p = theta_power(theta, i, R);
    const float extrapolation = inv[i];
    const float interpolation = 1.0f / (static_cast<float>(factor) * p);
    const float ramp = std::clamp((static_cast<float>(i) - lo) / span, 0.0f, 1.0f);
    const float keep = 1.0f - ramp;
    inv[i] = interpolation * (1.0f - keep) + extrapolation * keep;
  }
}

}  // namespace

Json make_rope_attr(const std::string& mode, int64_t rotary_dim, double theta,
                    const Json& scaling) {
  return {{"mode", mode},
          {"rotary_dim", rotary_dim},
          {"theta", theta},
          {"scaling", scaling.is_object() ? scaling : Json()}};
}

void verify_rope_attr(const std::string& op, const Json& rope, int64_t head_dim) {
  if (!rope.is_object()) bad(op, "the attribute 'rope' must be an object");
  const std::string mode = rope.value("mode", std::string());
  if (mode != "rotate_half" && mode != "interleaved" && mode != "none")
    bad(op,
        "mode must be rotate_half, interleaved or none, got " + rope.value("mode", Json()).dump());
  if (mode == "none") return;
  if (!rope.contains("rotary_dim") || !rope["rotary_dim"].is_number_integer())
    bad(op, "needs the integer 'rotary_dim'");
  const int64_t R = rope["rotary_dim"].get<int64_t>();
  if (R <= 0 || R % 2 || R > head_dim)
    bad(op, fmt::format("rotary_dim must be even and in (0, head_dim={}], got {}", head_dim, R));
  if (number(op, rope, "theta") <= 0) bad(op, "theta must be positive");
  const Json& s = rope.value("scaling", Json());
  if (s.is_null()) return;
  if (!s.is_object()) bad(op, "scaling must be null or an object");
  const std::string type = s.value("rope_type", std::string());
  auto positive = [&](const char* key) {
    if (number(op, s, key) <= 0) bad(op, fmt::format("scaling '{}' must be positive", key));
  };
  if (type == "linear") {
    positive("factor");
  } else if (type == "llama3") {
    for (const char* k :
         {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
      positive(k);
    if (number(op, s, "high_freq_factor") <= number(op, s, "low_freq_factor"))
      bad(op, "llama3 needs high_freq_factor > low_freq_factor");
  } else if (type == "yarn") {
    for (const char* k : {"factor", "original_max_position_embeddings", "beta_fast", "beta_slow",
                          "attention_factor"})
      positive(k);
    if (!s.contains("truncate") || !s["truncate"].is_boolean())
      bad(op, "yarn needs the boolean 'truncate'");
  } else if (type == "longrope") {
    positive("original_max_position_embeddings");
    positive("attention_factor");
    factor_list(op, s, "short_factor", R / 2);
    factor_list(op, s, "long_factor", R / 2);
  } else {
    bad(op, "scaling rope_type must be linear, llama3, yarn or longrope, got " +
                s.value("rope_type", Json()).dump());
  }
}

RopeTables rope_tables(const Json& rope) {
  RopeTables t;
  t.mode = rope["mode"].get<std::string>();
  if (t.mode == "none") return t;
  t.rotary_dim = rope["rotary_dim"].get<int64_t>();
  const double theta = rope["theta"].get<double>();
  t.inv_freq = base_inv_freq(theta, t.rotary_dim);
  const Json& s = rope.value("scaling", Json());
  if (s.is_null()) return t;
  const std::string type = s["rope_type"].get<std::string>();
  if (type == "linear") {
    for (float& f : t.inv_freq) f /= s["factor"].get<float>();
  } else if (type == "llama3") {
    apply_llama3(s, t.inv_freq);
  } else if (type == "yarn") {
    apply_yarn(s, theta, t.rotary_dim, t.inv_freq);
    t.attention_factor = s["attention_factor"].get<float>();
  } else if (type == "longrope") {
    // 1 / (factor_i * theta^(2i/R)): the product in f32, then the reciprocal.
    t.long_inv_freq = t.inv_freq;
    for (int64_t i = 0; i < t.rotary_dim / 2; ++i) {
      const float base = theta_power(theta, i, t.rotary_dim);
      t.inv_freq[i] = 1.0f / (s["short_factor"][i].get<float>() * base);
      t.long_inv_freq[i] = 1.0f / (s["long_factor"][i].get<float>() * base);
    }
    t.long_after = s["original_max_position_embeddings"].get<int64_t>();
    t.attention_factor = s["attention_factor"].get<float>();
  } else {
    internal_error("rope_tables: unverified scaling type '{}'", type);
  }
  return t;
}

}  // namespace llmcc::ir

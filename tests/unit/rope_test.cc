// RoPE's frequency tables against transformers' formulas (in double), and the reading of each
// checkpoint format's rope settings into the resolved form the IR carries.
#include "ir/rope.h"

#include <gtest/gtest.h>

#include <cmath>

#include "models/rope_config.h"
#include "support/error.h"

namespace llmcc {
namespace {

double base_inv(double theta, int i, int R) { return 1.0 / std::pow(theta, 2.0 * i / R); }

void expect_close(const std::vector<float>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 2e-6 * want[i] + 1e-12) << "pair " << i;
}

TEST(RopeTables, Plain) {
  auto t = ir::rope_tables(ir::make_rope_attr("rotate_half", 12, 10000, Json()));
  std::vector<double> want;
  for (int i = 0; i < 6; ++i) want.push_back(base_inv(10000, i, 12));
  expect_close(t.inv_freq, want);
  EXPECT_TRUE(t.long_inv_freq.empty());
  EXPECT_EQ(t.attention_factor, 1.0f);
}

TEST(RopeTables, Linear) {
  auto t = ir::rope_tables(
      ir::make_rope_attr("rotate_half", 16, 10000, {{"rope_type", "linear"}, {"factor", 2.5}}));
  std::vector<double> want;
  for (int i = 0; i < 8; ++i) want.push_back(base_inv(10000, i, 16) / 2.5);
  expect_close(t.inv_freq, want);
}

TEST(RopeTables, Llama3) {
  const Json s = {{"rope_type", "llama3"},
                  {"factor", 8},
                  {"low_freq_factor", 1},
                  {"high_freq_factor", 4},
                  {"original_max_position_embeddings", 8192}};
  const int d = 128;
  auto t = ir::rope_tables(ir::make_rope_attr("rotate_half", d, 500000, s));
  std::vector<double> want;
  for (int i = 0; i < d / 2; ++i) {
    double base = base_inv(500000, i, d), wavelen = 2 * M_PI / base;
    if (wavelen < 8192.0 / 4) {
      want.push_back(base);
    } else if (wavelen > 8192.0) {
      want.push_back(base / 8);
    } else {
      double smooth = (8192.0 / wavelen - 1) / (4 - 1);
      want.push_back((1 - smooth) * base / 8 + smooth * base);
    }
  }
  expect_close(t.inv_freq, want);
}

TEST(RopeTables, Yarn) {
  const Json raw = {
      {"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 32}};
  const Json s = resolve_rope_scaling(raw, {{"max_position_embeddings", 128}}, "test");
  EXPECT_EQ(s["beta_fast"], 32);
  EXPECT_EQ(s["beta_slow"], 1);
  EXPECT_EQ(s["truncate"], true);
  EXPECT_NEAR(s["attention_factor"].get<double>(), 0.1 * std::log(4.0) + 1, 1e-12);
  const int R = 16;
  auto t = ir::rope_tables(ir::make_rope_attr("rotate_half", R, 10000, s));
  // transformers' find_correction_range with truncation, then a linear ramp between.
  auto dim = [&](double rotations) {
    return R * std::log(32 / (rotations * 2 * M_PI)) / (2 * std::log(10000.0));
  };
  const double low = std::max(0.0, std::floor(dim(32))),
               high = std::min(R - 1.0, std::ceil(dim(1)));
  std::vector<double> want;
  for (int i = 0; i < R / 2; ++i) {
    double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0), keep = 1 - ramp;
    double extrapolation = base_inv(10000, i, R);
    want.push_back(extrapolation / 4 * (1 - keep) + extrapolation * keep);
  }
  expect_close(t.inv_freq, want);
  EXPECT_FLOAT_EQ(t.attention_factor, 0.1f * std::log(4.0f) + 1);
}

TEST(RopeTables, LongropeSwitchesOnTheOriginalContext) {
  // Phi-3's layout: original_max_position_embeddings at the top level, factor from the ratio.
  const Json config = {{"max_position_embeddings", 128}, {"original_max_position_embeddings", 32}};
  const Json raw = {{"type", "su"}, {"short_factor", {1.0, 2.0}}, {"long_factor", {3.0, 5.0}}};
  const Json s = resolve_rope_scaling(raw, config, "test");
  EXPECT_EQ(s["rope_type"], "longrope");
  EXPECT_NEAR(s["attention_factor"].get<double>(), std::sqrt(1 + std::log(4.0) / std::log(32.0)),
              1e-12);
  // Resolving the resolved form again changes nothing (mlc-chat-config.json round trip), even
  // without max_position_embeddings.
  EXPECT_EQ(resolve_rope_scaling(s, Json::object(), "again"), s);
  auto t = ir::rope_tables(ir::make_rope_attr("rotate_half", 4, 10000, s));
  expect_close(t.inv_freq, {1.0, base_inv(10000, 1, 4) / 2});
  expect_close(t.long_inv_freq, {1.0 / 3, base_inv(10000, 1, 4) / 5});
  EXPECT_EQ(t.long_after, 32);
}

TEST(RopeConfig, RefusesWhatItCannotBuild) {
  EXPECT_THROW(resolve_rope_scaling({{"rope_type", "dynamic"}, {"factor", 2}}, Json::object(), "c"),
               NotImplementedError);
  EXPECT_THROW(resolve_rope_scaling({{"rope_type", "linear"}}, Json::object(), "c"), UserError);
  EXPECT_THROW(resolve_rope_scaling({{"rope_type", "longrope"}, {"short_factor", {1}}},
                                    {{"max_position_embeddings", 8}}, "c"),
               UserError);
  try {
    resolve_rope_scaling({{"rope_type", "llama3"}, {"factor", -1}}, Json::object(), "cfg.json");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("factor"), std::string::npos);
  }
  EXPECT_TRUE(resolve_rope_scaling({{"rope_type", "default"}}, Json::object(), "c").is_null());
}

}  // namespace
}  // namespace llmcc

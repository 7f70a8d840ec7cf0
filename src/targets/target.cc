#include "targets/target.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sstream>

#include "support/error.h"
#include "support/host_arch.h"
#include "support/logging.h"
#include "targets/registry.h"

namespace llmcc {

namespace {

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

Target Target::from_device(const std::string& device, const std::string& host) {
  std::vector<std::string> words = split_words(device);
  if (words.empty()) user_error("--device is empty; use cpu, llvm or auto");
  std::string head = words[0];
  std::string base = head.substr(0, head.find(':'));

  if (head == "auto") {
    log_info("Device auto-detected: cpu (the only target this build implements)");
    base = "cpu";
  }
  if (base != "cpu" && base != "llvm") {
    if (is_known_unimplemented_device(base))
      throw NotImplementedError(
          fmt::format("target '{}' is not implemented in llmcc yet; implemented: {}", device,
                      fmt::join(implemented_device_names(), ", ")));
    user_error("Invalid target: '{}'; implemented devices: {}", device,
               fmt::join(implemented_device_names(), ", "));
  }

  Target t;
  t.kind = "llvm";
  t.device = device;
  t.mcpu = "native";
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    auto value_of = [&](const char* flag) -> std::optional<std::string> {
      std::string prefix = std::string(flag) + "=";
      if (w.rfind(prefix, 0) == 0) return w.substr(prefix.size());
      return std::nullopt;
    };
    if (auto v = value_of("-mcpu"))
      t.mcpu = *v, t.mcpu_given = true;
    else if (auto v = value_of("-mtriple"))
      t.mtriple = *v;
    else if (auto v = value_of("-mattr"))
      t.mattr = split_commas(*v);
    else if (w == "-keys=cpu" || w.rfind("-num-cores=", 0) == 0)
      continue;  // TVM noise we accept
    else
      user_error("--device '{}': unknown option '{}'; accepted: -mcpu=, -mtriple=, -mattr=", device,
                 w);
  }
  if (t.mcpu.empty()) user_error("--device '{}': -mcpu= needs a CPU name", device);
  for (const auto& a : t.mattr)
    if (a.size() < 2 || (a[0] != '+' && a[0] != '-'))
      user_error("--device '{}': -mattr entries look like +avx2 or -avx512f, got '{}'", device, a);
  if (host != "auto" && !host.empty()) t.mtriple = host;
  if (t.mtriple.empty()) t.mtriple = host_triple();
  const std::string arch = t.mtriple.substr(0, t.mtriple.find('-'));
  if (arch != "x86_64" && arch != "aarch64")
    user_error(
        "--device '{}': -mtriple={} is not a CPU llmcc builds for; use x86_64-linux-gnu or "
        "aarch64-linux-gnu",
        device, t.mtriple);
  if (arch != host_arch()) {
    if (t.mcpu_given && t.mcpu == "native")
      user_error(
          "--device '{}': -mcpu=native names this {} machine, not a {} one; name the CPU "
          "(e.g. -mcpu=cortex-a76) or leave -mcpu out",
          device, host_arch(), arch);
    if (!t.mcpu_given) t.mcpu = "generic";  // the architecture's baseline
  }
  return t;
}

Json Target::to_json() const {
  Json j;
  j["kind"] = kind;
  j["device"] = device;
  j["mcpu"] = mcpu;
  j["mtriple"] = mtriple;
  j["mattr"] = mattr;
  return j;
}

}  // namespace llmcc

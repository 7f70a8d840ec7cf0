#include "convert/checkpoint.h"

#include <fmt/format.h>

#include <map>

#include "convert/gguf_import.h"
#include "support/error.h"
#include "support/logging.h"
#include "weights/safetensors.h"

namespace llmcc {

namespace {

class SafetensorsSource : public Checkpoint {
 public:
  explicit SafetensorsSource(const std::filesystem::path& path)
      : ckpt_(SafetensorsCheckpoint::open(path)) {}
  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& [name, _] : ckpt_.tensors()) out.push_back(name);
    return out;
  }
  bool contains(const std::string& name) const override { return ckpt_.find(name) != nullptr; }
  TensorView load(const std::string& name) const override {
    const SafetensorsTensor& t = *ckpt_.find(name);
    TensorView v;
    v.name = name;
    v.dtype = t.dtype;
    v.shape = t.shape;
    v.data = t.data;
    v.nbytes = t.nbytes;
    v.file = t.file.string();
    return v;
  }
  void release(const TensorView& v) const override { ckpt_.release(*ckpt_.find(v.name)); }

 private:
  SafetensorsCheckpoint ckpt_;
};

// The language model inside a multimodal checkpoint (Gemma 3 4B-27B): its tensors under the
// names of the text-only model, the vision tower and projector left out. transformers writes the
// language model as language_model.model.* (and language_model.lm_head), or model.language_model.*.
class LanguageModelView : public Checkpoint {
 public:
  LanguageModelView(std::unique_ptr<Checkpoint> inner, const std::string& prefix)
      : inner_(std::move(inner)) {
    size_t hidden = 0;
    for (const auto& name : inner_->names()) {
      if (name.rfind(prefix, 0) == 0)
        to_inner_["model." + name.substr(prefix.size())] = name;
      else if (name == "language_model.lm_head.weight" || name == "lm_head.weight")
        to_inner_["lm_head.weight"] = name;
      else
        ++hidden;
    }
    log_info(
        "multimodal checkpoint: converting its language model ({} tensors under {}), not "
        "the other {} (vision tower, projector)",
        to_inner_.size(), prefix, hidden);
  }
  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& [name, _] : to_inner_) out.push_back(name);
    return out;
  }
  bool contains(const std::string& name) const override { return to_inner_.count(name) > 0; }
  TensorView load(const std::string& name) const override {
    TensorView v = inner_->load(to_inner_.at(name));
    v.name = name;
    return v;
  }
  void release(const TensorView& v) const override {
    TensorView inner = v;
    inner.name = to_inner_.at(v.name);
    inner_->release(inner);
  }

 private:
  std::unique_ptr<Checkpoint> inner_;
  std::map<std::string, std::string> to_inner_;
};

std::unique_ptr<Checkpoint> language_model_of(std::unique_ptr<Checkpoint> ckpt) {
  if (ckpt->contains("model.embed_tokens.weight")) return ckpt;
  for (const char* prefix : {"language_model.model.", "model.language_model."})
    if (ckpt->contains(std::string(prefix) + "embed_tokens.weight"))
      return std::make_unique<LanguageModelView>(std::move(ckpt), prefix);
  return ckpt;
}

}  // namespace

bool is_gguf_path(const std::filesystem::path& path) {
  return std::filesystem::is_regular_file(path) && path.extension() == ".gguf";
}

std::unique_ptr<Checkpoint> open_checkpoint(const std::filesystem::path& path,
                                            const std::string& format) {
  if (format == "gguf" || (format == "auto" && is_gguf_path(path)))
    return open_gguf_checkpoint(path);
  if (format == "auto" || format == "huggingface-safetensor")
    return language_model_of(std::make_unique<SafetensorsSource>(path));
  throw NotImplementedError(fmt::format(
      "--source-format {} is not implemented; implemented: auto, huggingface-safetensor, gguf",
      format));
}

}  // namespace llmcc

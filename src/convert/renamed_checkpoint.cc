#include "convert/renamed_checkpoint.h"

#include "support/logging.h"
#include "support/strings.h"

namespace llmcc {

namespace {

class RenamedCheckpoint : public Checkpoint {
 public:
  RenamedCheckpoint(std::unique_ptr<Checkpoint> inner, const PrefixAlias& alias)
      : inner_(std::move(inner)) {
    for (const auto& stored : inner_->names()) {
      std::string name = stored;
      if (starts_with(stored, alias.second))
        name = alias.first + stored.substr(alias.second.size());
      to_stored_[name] = stored;
      names_.push_back(name);
    }
  }
  std::vector<std::string> names() const override { return names_; }
  bool contains(const std::string& name) const override { return to_stored_.count(name) > 0; }
  TensorView load(const std::string& name) const override {
    auto it = to_stored_.find(name);
    return inner_->load(it == to_stored_.end() ? name : it->second);
  }
  void release(const TensorView& t) const override { inner_->release(t); }

 private:
  std::unique_ptr<Checkpoint> inner_;
  std::map<std::string, std::string> to_stored_;
  std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<Checkpoint> with_expected_names(std::unique_ptr<Checkpoint> ckpt,
                                                const std::string& probe,
                                                const std::vector<PrefixAlias>& aliases) {
  if (ckpt->contains(probe)) return ckpt;
  for (const auto& a : aliases) {
    if (!starts_with(probe, a.first)) continue;
    const std::string stored = a.second + probe.substr(a.first.size());
    if (!ckpt->contains(stored)) continue;
    log_info("Reading the checkpoint's '{}X' tensors as '{}X'", a.second, a.first);
    return std::make_unique<RenamedCheckpoint>(std::move(ckpt), a);
  }
  return ckpt;
}

}  // namespace llmcc

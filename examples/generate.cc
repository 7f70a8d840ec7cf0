// Embeds llmcc's runtime: loads a compiled model and its weights, then streams a greedy
// continuation of a prompt given as token ids. With a third file argument it also writes every
// step's token and logits as JSON, which the tests compare with Hugging Face's goldens.
//
//   generate <model_lib.so> <model_dir> <id,id,...> [max_tokens] [steps.json]
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "llmcc/runtime.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s <model_lib.so> <model_dir> <id,id,...> [max_tokens] [steps.json]\n",
                 argv[0]);
    return 2;
  }
  std::vector<int32_t> prompt;
  for (const char* p = argv[3]; *p;) {
    char* end = nullptr;
    prompt.push_back(static_cast<int32_t>(std::strtol(p, &end, 10)));
    if (end == p) return std::fprintf(stderr, "bad token id list '%s'\n", argv[3]), 2;
    p = *end == ',' ? end + 1 : end;
  }
  llmcc::GenerateOptions options;
  options.max_tokens = argc > 4 ? std::atoi(argv[4]) : 16;
  FILE* steps = argc > 5 ? std::fopen(argv[5], "w") : nullptr;
  if (argc > 5 && !steps) return std::fprintf(stderr, "cannot write '%s'\n", argv[5]), 1;
  try {
    auto model = llmcc::Model::load(argv[1], argv[2]);
    if (steps) std::fputs("{\"steps\": [", steps);
    bool first = true;
    model->generate(prompt, options, [&](int32_t token, const std::vector<float>& logits) {
      std::printf("%d ", token);
      std::fflush(stdout);
      if (steps) {
        std::fprintf(steps, "%s\n{\"token\": %d, \"logits\": [", first ? "" : ",", token);
        for (size_t i = 0; i < logits.size(); ++i)
          std::fprintf(steps, "%s%.9g", i ? ", " : "", logits[i]);
        std::fputs("]}", steps);
      }
      first = false;
      return true;
    });
    std::printf("\n");
    if (steps) std::fputs("]}\n", steps), std::fclose(steps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

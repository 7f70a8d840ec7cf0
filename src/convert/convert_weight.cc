#include "convert/convert_weight.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "convert/checkpoint.h"
#include "convert/renamed_checkpoint.h"
#include "ir/module.h"
#include "models/model_quantization.h"
#include "quant/group_quantize.h"
#include "support/error.h"
#include "support/files.h"
#include "support/logging.h"
#include "support/progress.h"
#include "support/strings.h"
#include "weights/convert_dtype.h"
#include "weights/tensor_cache.h"

namespace llmcc {

namespace fs = std::filesystem;

namespace {

fs::path resolve_source(const ConfigSource& config, const ConvertWeightOptions& options) {
  if (!options.source.empty()) return options.source;
  if (!config.file)
    user_error("{} has no folder to find weights in; pass --source", config.context);
  if (is_gguf_path(*config.file)) return *config.file;
  return config.file->parent_path();
}

std::vector<int64_t> resolve_shape(const ir::Type& type, const Json& symbols) {
  std::vector<int64_t> shape;
  for (const auto& d : type.shape)
    shape.push_back(d.is_symbolic() ? symbols.at(d.symbol).get<int64_t>() : d.value);
  return shape;
}

std::string shape_str(const std::vector<int64_t>& s) {
  return fmt::format("[{}]", fmt::join(s, ", "));
}

// Concatenates the checkpoint tensors of MLC param `name` along axis 0 into `out`, converted to
// `dtype`, checking each against `shape`.
void gather_sources(const Checkpoint& ckpt, const Model& model, const std::string& name,
                    const std::vector<int64_t>& shape, const std::string& dtype,
                    std::vector<uint8_t>& out) {
  const int elem = mlc_dtype_bytes(dtype);
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  out.resize(static_cast<size_t>(count) * elem);
  const int64_t total_rows = shape.empty() ? 1 : shape[0];
  const int64_t row_elems = count / std::max<int64_t>(total_rows, 1);
  int64_t rows = 0;
  if (model.hf_transposed && model.hf_transposed(name)) {
    // Stored [in, out] (GPT-2's Conv1D): converted, then transposed to MLC's [out, in].
    const TensorView t = ckpt.load(model.hf_sources(name).at(0));
    if (shape.size() != 2 || t.shape != std::vector<int64_t>{shape[1], shape[0]})
      user_error("tensor '{}' in '{}' has shape {}, which does not fit {} {} stored [in, out]",
                 t.name, t.file, shape_str(t.shape), name, shape_str(shape));
    std::vector<uint8_t> converted(out.size());
    convert_elements(t.data, t.dtype, converted.data(), dtype, static_cast<size_t>(count));
    for (int64_t r = 0; r < shape[1]; ++r)
      for (int64_t c = 0; c < shape[0]; ++c)
        std::memcpy(out.data() + (c * shape[1] + r) * elem,
                    converted.data() + (r * shape[0] + c) * elem, elem);
    ckpt.release(t);
    return;
  }
  for (const auto& src_name : model.hf_sources(name)) {
    const TensorView t = ckpt.load(src_name);
    bool fits = !t.shape.empty() && t.shape.size() == shape.size();
    for (size_t d = 1; fits && d < shape.size(); ++d) fits = t.shape[d] == shape[d];
    const int64_t t_rows = fits ? t.shape[0] : 0;
    if (!fits || rows + t_rows > total_rows)
      user_error("tensor '{}' in '{}' has shape {} and dtype {}, which does not fit {} {} {}",
                 src_name, t.file, shape_str(t.shape), t.dtype, name, shape_str(shape), dtype);
    const double offset = model.hf_offset ? model.hf_offset(name) : 0.0;
    uint8_t* dst = out.data() + rows * row_elems * elem;
    const size_t n = static_cast<size_t>(t_rows * row_elems);
    if (offset == 0) {
      convert_elements(t.data, t.dtype, dst, dtype, n);
    } else {  // add in f32, then round once to the model dtype
      std::vector<float> f32(n);
      convert_elements(t.data, t.dtype, reinterpret_cast<uint8_t*>(f32.data()), "float32", n);
      for (float& v : f32) v = static_cast<float>(v + offset);
      convert_elements(reinterpret_cast<const uint8_t*>(f32.data()), "F32", dst, dtype, n);
    }
    rows += t_rows;
    ckpt.release(t);
  }
  if (rows != total_rows)
    user_error("the tensors for {} give {} rows, expected shape {}", name, rows, shape_str(shape));
}

struct QuantizedTensor {
  std::vector<uint8_t> weight, scale;
};

// Group-quantizes w [N, K] (model dtype `dtype`) on every core.
template <typename T>
void quantize_parallel(const T* w, const GroupQuantLayout& L, uint32_t* qw, T* qs) {
  const int64_t threads = std::max(1u, std::thread::hardware_concurrency());
  const int64_t chunk = (L.rows + threads - 1) / threads;
  std::vector<std::thread> pool;
  for (int64_t begin = 0; begin < L.rows; begin += chunk)
    pool.emplace_back(
        [=] { group_quantize_rows(w, L, begin, std::min(L.rows, begin + chunk), qw, qs); });
  for (auto& t : pool) t.join();
}

template <typename T>
std::vector<uint8_t> transpose(const std::vector<uint8_t>& bytes, int64_t rows, int64_t cols) {
  std::vector<uint8_t> out(bytes.size());
  const T* in = reinterpret_cast<const T*>(bytes.data());
  T* o = reinterpret_cast<T*>(out.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) o[c * rows + r] = in[r * cols + c];
  return out;
}

QuantizedTensor group_quantize(const uint8_t* w, const std::string& dtype,
                               const GroupQuantLayout& L, bool transposed) {
  QuantizedTensor q;
  q.weight.resize(static_cast<size_t>(L.rows * L.words_per_row()) * 4);
  const int elem = mlc_dtype_bytes(dtype);
  q.scale.resize(static_cast<size_t>(L.rows * L.num_groups()) * elem);
  auto* qw = reinterpret_cast<uint32_t*>(q.weight.data());
  if (dtype == "float16")
    quantize_parallel(reinterpret_cast<const cpu_kernels::half*>(w), L, qw,
                      reinterpret_cast<cpu_kernels::half*>(q.scale.data()));
  else if (dtype == "bfloat16")
    quantize_parallel(reinterpret_cast<const cpu_kernels::bfloat16*>(w), L, qw,
                      reinterpret_cast<cpu_kernels::bfloat16*>(q.scale.data()));
  else if (dtype == "float32")
    quantize_parallel(reinterpret_cast<const float*>(w), L, qw,
                      reinterpret_cast<float*>(q.scale.data()));
  else
    internal_error("cannot group-quantize {} weights", dtype);
  if (transposed) {
    q.weight = transpose<uint32_t>(q.weight, L.rows, L.words_per_row());
    q.scale = elem == 4 ? transpose<uint32_t>(q.scale, L.rows, L.num_groups())
                        : transpose<uint16_t>(q.scale, L.rows, L.num_groups());
  }
  return q;
}

// Moves the finished files into place. A new output folder appears whole (one rename). Into an
// existing folder (which may hold mlc-chat-config.json and the tokenizer) the shards move first
// and tensor-cache.json last, so the index never points at missing shards; stale shards go after.
void install_folder(const fs::path& built, const fs::path& output) {
  std::error_code ec;
  if (!fs::exists(output)) {
    fs::rename(built, output, ec);
    if (ec)
      user_error("cannot move the converted weights to '{}': {}", output.string(), ec.message());
    return;
  }
  if (!fs::is_directory(output))
    user_error("output '{}' exists and is not a folder", output.string());
  std::set<std::string> fresh;
  for (const auto& e : fs::directory_iterator(built)) fresh.insert(e.path().filename().string());
  for (const auto& name : fresh) {
    if (name == "tensor-cache.json") continue;
    fs::rename(built / name, output / name, ec);
    if (ec) user_error("cannot write '{}': {}", (output / name).string(), ec.message());
  }
  fs::rename(built / "tensor-cache.json", output / "tensor-cache.json", ec);
  if (ec)
    user_error("cannot write '{}': {}", (output / "tensor-cache.json").string(), ec.message());
  for (const auto& e : fs::directory_iterator(output)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("params_shard_", 0) == 0 && !fresh.count(name)) fs::remove(e.path(), ec);
  }
  fs::remove_all(built, ec);
}

}  // namespace

ConvertWeightStats convert_weight(const ConfigSource& config, const Quantization& quantization,
                                  const Model& model, const ConvertWeightOptions& options) {
  model.require_implemented();
  quantization.require_implemented();
  if (options.output.empty()) user_error("convert_weight needs an output folder (-o)");
  fs::path output = fs::absolute(options.output).lexically_normal();
  if (!fs::is_directory(output.parent_path()))
    user_error("the folder of output '{}' does not exist", output.string());

  std::optional<int64_t> active_vocab_size;
  Json flat = flatten_model_config(config.dict, &active_vocab_size);
  auto model_config = model.config_from_dict(flat, config.context);
  if (model_config->tensor_parallel_shards() > 1 && quantization.kind == "ft-quant")
    throw NotImplementedError("NotImplementedError: q4f16_ft does not support tensor parallelism");
  ir::Module base = model.build(*model_config, quantization);  // unquantized params
  ir::Module module = build_quantized_model(model, *model_config, quantization);
  const Json symbols = module.attrs["symbol_values"];
  fs::path source = resolve_source(config, options);
  log_info("Loading weights from {}", source.string());
  std::unique_ptr<Checkpoint> checkpoint = open_checkpoint(source, options.source_format);
  if (!model.hf_prefix_aliases.empty() && !base.params.empty())
    checkpoint =
        with_expected_names(std::move(checkpoint), model.hf_sources(base.params[0].name).at(0),
                            model.hf_prefix_aliases);
  const Checkpoint& ckpt = *checkpoint;

  // Every checkpoint tensor must be used exactly once or be known to be unused.
  std::set<std::string> used;
  for (const auto& p : base.params)
    for (const auto& src : model.hf_sources(p.name)) {
      if (!ckpt.contains(src))
        user_error("checkpoint '{}' lacks tensor '{}' (needed for {})", source.string(), src,
                   p.name);
      if (!used.insert(src).second) internal_error("tensor {} is mapped twice", src);
    }
  for (const auto& name : ckpt.names())
    if (!used.count(name) && !model.hf_ignored(name, *model_config))
      user_error("checkpoint '{}' has tensor '{}', which the {} model does not use",
                 source.string(), name, model.name);

  TempPath building(output.parent_path() /
                    ("." + output.filename().string() + ".tmp-" + std::to_string(::getpid())));
  fs::remove_all(building.path());
  fs::create_directories(building.path());
  TensorCacheWriter writer(building.path());
  ProgressBar progress("convert_weight", static_cast<int64_t>(base.params.size()));
  std::vector<uint8_t> buffer;
  for (size_t i = 0; i < base.params.size(); ++i) {
    const ir::Param& p = base.params[i];
    std::vector<int64_t> shape = resolve_shape(p.type, symbols);
    const std::string dtype = ir::dtype_mlc_name(p.type.dtype);
    gather_sources(ckpt, model, p.name, shape, dtype, buffer);
    // Only X.weight can have become X.q_weight and X.q_scale; biases and norms stay as they are.
    const bool is_weight = ends_with(p.name, ".weight");
    const std::string stem =
        is_weight ? p.name.substr(0, p.name.size() - std::string(".weight").size()) : p.name;
    int qw = is_weight ? module.find_param(stem + ".q_weight") : -1;
    if (qw < 0) {
      writer.add(p.name, shape, dtype, buffer.data(), buffer.size());
    } else {
      const ir::Param& q_weight = module.params[qw];
      const ir::Param& q_scale = module.params[qw + 1];
      GroupQuantLayout layout{group_quant_bits(quantization), quantization.group_size, shape[0],
                              shape[1]};
      // KN stores both tensors transposed: [words, N] rather than [N, words].
      bool transposed = module.attrs["quantized_layout"][stem] == "KN";
      QuantizedTensor qt = group_quantize(buffer.data(), dtype, layout, transposed);
      writer.add(q_weight.name, resolve_shape(q_weight.type, symbols), "uint32", qt.weight.data(),
                 qt.weight.size());
      writer.add(q_scale.name, resolve_shape(q_scale.type, symbols), dtype, qt.scale.data(),
                 qt.scale.size());
    }
    progress.update(static_cast<int64_t>(i + 1), p.name);
  }
  progress.finish();
  // MLC counts parameters before quantization, so BitsPerParam reads 4.5 for q4f16_1.
  int64_t params = 0;
  for (const auto& p : base.params) {
    int64_t n = 1;
    for (int64_t d : resolve_shape(p.type, symbols)) n *= d;
    params += n;
  }
  const double bytes = static_cast<double>(writer.total_bytes());
  writer.finish({{"ParamSize", params},
                 {"BitsPerParam", 8.0 * bytes / std::max<int64_t>(params, 1)},
                 {"quantization", quantization.name},
                 {"model_type", model.name}});
  ConvertWeightStats stats{static_cast<int64_t>(module.params.size()), params, bytes};
  install_folder(building.path(), output);
  building.release();
  log_info("Parameter size after quantization: {:.3f} GB", stats.bytes / (1 << 30));
  log_info("Total parameters: {}", stats.num_elements);
  log_info("Bits per parameter: {:.3f}",
           8.0 * stats.bytes / std::max<int64_t>(stats.num_elements, 1));
  log_info("Saved to directory: {}", output.string());
  return stats;
}

}  // namespace llmcc

#include "formats/weights_matching.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace fedhub::formats {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Our name of a state_dict name ("x.weight" -> "x/kernel", "x.bias" -> "x/bias").
std::string from_torch_name(const std::string& n) {
  if (ends_with(n, ".weight")) return n.substr(0, n.size() - 7) + "/kernel";
  if (ends_with(n, ".bias")) return n.substr(0, n.size() - 5) + "/bias";
  return n;
}

std::string to_torch_name(const std::string& n) {
  if (ends_with(n, "/kernel")) return n.substr(0, n.size() - 7) + ".weight";
  if (ends_with(n, "/bias")) return n.substr(0, n.size() - 5) + ".bias";
  return n;
}

std::string shape_text(const std::vector<int64_t>& s) { return shape_to_string(s); }

// A kernel of ours (shape `ours`) from its PyTorch layout, or the reverse.
Tensor from_torch(const Tensor& t, const std::vector<int64_t>& ours) {
  Tensor out;
  out.name = t.name;
  out.shape = ours;
  out.values.resize(t.values.size());
  if (ours.size() == 2) {  // torch [out, in] -> ours [in, out]
    const int64_t in = ours[0], o = ours[1];
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < o; ++j)
        out.values[static_cast<size_t>(i * o + j)] = t.values[static_cast<size_t>(j * in + i)];
  } else {  // torch [O, I, H, W] -> ours [H, W, I, O]
    const int64_t h = ours[0], w = ours[1], in = ours[2], o = ours[3];
    for (int64_t a = 0; a < h; ++a)
      for (int64_t b = 0; b < w; ++b)
        for (int64_t c = 0; c < in; ++c)
          for (int64_t d = 0; d < o; ++d)
            out.values[static_cast<size_t>(((a * w + b) * in + c) * o + d)] =
                t.values[static_cast<size_t>(((d * in + c) * h + a) * w + b)];
  }
  return out;
}

std::vector<int64_t> torch_shape(const std::vector<int64_t>& ours) {
  if (ours.size() == 2) return {ours[1], ours[0]};
  if (ours.size() == 4) return {ours[3], ours[2], ours[0], ours[1]};
  return ours;
}

bool is_kernel(const std::string& name, const std::vector<int64_t>& shape) {
  return ends_with(name, "/kernel") && (shape.size() == 2 || shape.size() == 4);
}

}  // namespace

KernelLayout parse_kernel_layout(const std::string& name) {
  if (name == "keras") return KernelLayout::keras;
  if (name == "torch") return KernelLayout::torch;
  throw std::invalid_argument("a kernel layout is keras or torch, not '" + name + "'");
}

Weights match_weights(std::vector<Tensor> file, std::span<const TensorSpec> layout, KernelLayout kind) {
  std::map<std::string, size_t> by_name;
  std::vector<std::string> problems;
  for (size_t i = 0; i < file.size(); ++i) {
    std::string n = file[i].name;
    if (kind == KernelLayout::torch) n = from_torch_name(n);
    if (!by_name.emplace(n, i).second) problems.push_back("tensor '" + file[i].name + "' appears twice");
  }
  Weights out;
  std::vector<bool> used(file.size(), false);
  for (const auto& spec : layout) {
    auto it = by_name.find(spec.name);
    if (it == by_name.end()) {
      problems.push_back("missing '" + spec.name + "' " + shape_text(spec.shape) +
                         (kind == KernelLayout::torch ? " (or '" + to_torch_name(spec.name) + "')" : ""));
      continue;
    }
    used[it->second] = true;
    const Tensor& t = file[it->second];
    const bool kernel = is_kernel(spec.name, spec.shape);
    const auto expected = kind == KernelLayout::torch && kernel ? torch_shape(spec.shape) : spec.shape;
    if (t.shape != expected) {
      problems.push_back(
          "'" + t.name + "' is " + shape_text(t.shape) + ", the architecture needs " + shape_text(expected) +
          (kind == KernelLayout::torch && kernel ? " (PyTorch's layout of " + shape_text(spec.shape) + ")" : ""));
      continue;
    }
    Tensor w = kind == KernelLayout::torch && kernel ? from_torch(t, spec.shape) : t;
    w.name = spec.name;
    w.shape = spec.shape;
    out.push_back(std::move(w));
  }
  for (size_t i = 0; i < file.size(); ++i)
    if (!used[i])
      problems.push_back("extra '" + file[i].name + "' " + shape_text(file[i].shape) + " (not in the architecture)");
  if (!problems.empty()) {
    std::string text = "the weights do not fit the architecture:";
    for (const auto& p : problems) text += "\n  " + p;
    throw std::runtime_error(text);
  }
  return out;
}

std::vector<Tensor> export_weights(const Weights& weights, KernelLayout kind) {
  std::vector<Tensor> out;
  for (const auto& w : weights) {
    if (kind == KernelLayout::keras || !is_kernel(w.name, w.shape)) {
      Tensor t = w;
      if (kind == KernelLayout::torch) t.name = to_torch_name(w.name);
      out.push_back(std::move(t));
      continue;
    }
    // The inverse of from_torch: ours -> torch.
    Tensor t;
    t.name = to_torch_name(w.name);
    t.shape = torch_shape(w.shape);
    t.values.resize(w.values.size());
    if (w.shape.size() == 2) {
      const int64_t in = w.shape[0], o = w.shape[1];
      for (int64_t i = 0; i < in; ++i)
        for (int64_t j = 0; j < o; ++j)
          t.values[static_cast<size_t>(j * in + i)] = w.values[static_cast<size_t>(i * o + j)];
    } else {
      const int64_t h = w.shape[0], wd = w.shape[1], in = w.shape[2], o = w.shape[3];
      for (int64_t a = 0; a < h; ++a)
        for (int64_t b = 0; b < wd; ++b)
          for (int64_t c = 0; c < in; ++c)
            for (int64_t d = 0; d < o; ++d)
              t.values[static_cast<size_t>(((d * in + c) * h + a) * wd + b)] =
                  w.values[static_cast<size_t>(((a * wd + b) * in + c) * o + d)];
    }
    out.push_back(std::move(t));
  }
  return out;
}

namespace {

// Moves the (c, h, w)-ordered blocks of `inner` values in each of `outer`
// groups of c*h*w blocks to (h, w, c) order (to_hwc) or back.
void permute_chw(const float* src, float* dst, int64_t outer, int64_t c, int64_t h, int64_t w, int64_t inner,
                 bool to_hwc) {
  const int64_t n = c * h * w;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t hi = 0; hi < h; ++hi)
        for (int64_t wi = 0; wi < w; ++wi) {
          const int64_t chw = o * n + (ci * h + hi) * w + wi, hwc = o * n + (hi * w + wi) * c + ci;
          const int64_t from = to_hwc ? chw : hwc, to = to_hwc ? hwc : chw;
          std::copy(src + from * inner, src + (from + 1) * inner, dst + to * inner);
        }
}

}  // namespace

Tensor reorder_flattened_inputs(const Tensor& t, int64_t c, int64_t h, int64_t w, bool to_hwc) {
  if (t.shape.size() != 2 || c <= 0 || h <= 0 || w <= 0 || t.shape[1] != c * h * w ||
      t.values.size() != static_cast<size_t>(t.shape[0] * t.shape[1]))
    throw std::invalid_argument("'" + t.name + "' " + shape_text(t.shape) + " is not a dense weight [out, " +
                                std::to_string(c) + "*" + std::to_string(h) + "*" + std::to_string(w) + "]");
  Tensor out = t;
  permute_chw(t.values.data(), out.values.data(), t.shape[0], c, h, w, 1, to_hwc);
  return out;
}

std::vector<int64_t> flattened_image_of(const Architecture& arch, size_t i) {
  if (i >= arch.layers.size() || arch.layers[i].type != LayerType::dense) return {};
  while (i > 0 && (arch.layers[i - 1].type == LayerType::relu || arch.layers[i - 1].type == LayerType::dropout)) --i;
  if (i == 0 || arch.layers[i - 1].type != LayerType::flatten || arch.layers[i - 1].input_shape.size() != 3) return {};
  return arch.layers[i - 1].input_shape;
}

void reorder_torch_flatten_rows(Weights& w, const Architecture& arch, bool to_fedhub) {
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const auto image = flattened_image_of(arch, i);
    if (image.empty()) continue;
    const std::string name = arch.layers[i].name + "/kernel";
    for (auto& t : w) {
      if (t.name != name) continue;
      const int64_t h = image[0], wd = image[1], c = image[2];
      if (t.shape.size() != 2 || t.shape[0] != h * wd * c)
        throw std::invalid_argument("'" + name + "' " + shape_text(t.shape) + " does not read " + shape_text(image));
      std::vector<float> out(t.values.size());
      permute_chw(t.values.data(), out.data(), 1, c, h, wd, t.shape[1], to_fedhub);
      t.values = std::move(out);
    }
  }
}

}  // namespace fedhub::formats

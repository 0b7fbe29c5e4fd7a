#include "formats/weights_matching.hpp"

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

Tensor reorder_flattened_inputs(const Tensor& t, int64_t c, int64_t h, int64_t w, bool to_hwc) {
  if (t.shape.size() != 2 || c <= 0 || h <= 0 || w <= 0 || t.shape[1] != c * h * w ||
      t.values.size() != static_cast<size_t>(t.shape[0] * t.shape[1]))
    throw std::invalid_argument("'" + t.name + "' " + shape_text(t.shape) + " is not a dense weight [out, " +
                                std::to_string(c) + "*" + std::to_string(h) + "*" + std::to_string(w) + "]");
  Tensor out = t;
  const int64_t in = t.shape[1];
  for (int64_t o = 0; o < t.shape[0]; ++o) {
    const float* src = t.values.data() + o * in;
    float* dst = out.values.data() + o * in;
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t hi = 0; hi < h; ++hi)
        for (int64_t wi = 0; wi < w; ++wi) {
          const int64_t chw = (ci * h + hi) * w + wi, hwc = (hi * w + wi) * c + ci;
          if (to_hwc)
            dst[hwc] = src[chw];
          else
            dst[chw] = src[hwc];
        }
  }
  return out;
}

}  // namespace fedhub::formats

#include "formats/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "formats/tensor_conversion.hpp"

namespace fedhub::formats {

namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

[[noreturn]] void bad(const std::string& what) { throw std::runtime_error("safetensors file: " + what); }

Dtype dtype_of(const std::string& name, const std::string& tensor) {
  if (name == "F32") return Dtype::f32;
  if (name == "F64") return Dtype::f64;
  if (name == "F16") return Dtype::f16;
  if (name == "BF16") return Dtype::bf16;
  bad("tensor '" + tensor + "' has dtype " + name + "; weights are F32, F64, F16 or BF16");
}

uint64_t unsigned_of(const json& v, const std::string& what) {
  if (!v.is_number_unsigned()) bad(what + " is not a non-negative integer");
  return v.get<uint64_t>();
}

}  // namespace

std::vector<Tensor> read_safetensors(std::span<const char> file) {
  if (file.size() < 8) bad("shorter than its 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(file[static_cast<size_t>(i)]);
  if (n > kMaxHeaderBytes) bad("a header of " + std::to_string(n) + " bytes (at most 100 MB)");
  if (n > file.size() - 8)
    bad("a header of " + std::to_string(n) + " bytes in a file of " + std::to_string(file.size()));
  json header;
  try {
    header = json::parse(file.begin() + 8, file.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const json::exception& e) {
    bad(std::string("its header is not JSON: ") + e.what());
  }
  if (!header.is_object()) bad("its header is not a JSON object");
  const auto data = file.subspan(8 + n);
  struct Entry {
    std::string name;
    Dtype dtype;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string what = "tensor '" + it.key() + "'";
    const auto& t = *it;
    if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets"))
      bad(what + " lacks dtype, shape or data_offsets");
    if (!t["dtype"].is_string()) bad(what + ": dtype is not a string");
    Entry e{it.key(), dtype_of(t["dtype"].get<std::string>(), it.key()), {}, 0, 0};
    if (!t["shape"].is_array() || t["shape"].size() > 8) bad(what + ": shape is not a list of at most 8 sizes");
    for (const auto& d : t["shape"]) {
      const uint64_t v = unsigned_of(d, what + "'s shape");
      if (v > static_cast<uint64_t>(INT64_MAX)) bad(what + ": a dimension overflows");
      e.shape.push_back(static_cast<int64_t>(v));
    }
    const auto& off = t["data_offsets"];
    if (!off.is_array() || off.size() != 2) bad(what + ": data_offsets is not [begin, end]");
    e.begin = unsigned_of(off[0], what + "'s data_offsets");
    e.end = unsigned_of(off[1], what + "'s data_offsets");
    if (e.begin > e.end || e.end > data.size())
      bad(what + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
          ") lie outside the data section of " + std::to_string(data.size()) + " bytes");
    const uint64_t count = checked_elements(e.shape, data.size(), what);
    if (count * dtype_size(e.dtype) != e.end - e.begin)
      bad(what + ": its shape and dtype make " + std::to_string(count * dtype_size(e.dtype)) + " bytes, its offsets " +
          std::to_string(e.end - e.begin));
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < entries.size(); ++i)
    if (entries[i].begin < entries[i - 1].end)
      bad("tensors '" + entries[i - 1].name + "' and '" + entries[i].name + "' overlap");
  std::vector<Tensor> out;
  for (auto& e : entries) {
    Tensor t;
    t.name = e.name;
    t.values = decode_floats(data.data() + e.begin, (e.end - e.begin) / dtype_size(e.dtype), e.dtype,
                             "safetensors tensor '" + e.name + "'");
    t.shape = std::move(e.shape);
    out.push_back(std::move(t));
  }
  return out;
}

Buffer write_safetensors(const std::vector<Tensor>& tensors, const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  uint64_t at = 0;
  for (const auto& t : tensors) {
    const uint64_t bytes = t.values.size() * 4;
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {at, at + bytes}}};
    at += bytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');  // the data section 8-byte aligned
  Buffer out(8 + text.size() + at);
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  std::memcpy(out.data() + 8, text.data(), text.size());
  char* p = out.data() + 8 + text.size();
  for (const auto& t : tensors) {
    std::memcpy(p, t.values.data(), t.values.size() * 4);
    p += t.values.size() * 4;
  }
  return out;
}

}  // namespace fedhub::formats

#include "messages/tensors.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "messages/checksum.hpp"

namespace fedhub {

namespace {

// The index of the first non-finite value, or values.size(). Blocks are
// scanned branch-free (vectorised) first, so a finite section costs one pass.
size_t first_non_finite(std::span<const float> values) {
  constexpr size_t kBlock = 1024;
  for (size_t begin = 0; begin < values.size(); begin += kBlock) {
    const size_t end = std::min(values.size(), begin + kBlock);
    uint32_t bad = 0;
    for (size_t i = begin; i < end; ++i)
      bad |= static_cast<uint32_t>((std::bit_cast<uint32_t>(values[i]) & 0x7f800000u) == 0x7f800000u);
    if (bad)
      for (size_t i = begin; i < end; ++i)
        if (!std::isfinite(values[i])) return i;
  }
  return values.size();
}

uint64_t checked_element_count(const TensorSpec& spec) {
  for (int64_t d : spec.shape)
    if (d < 0)
      throw RequestError(ErrorCode::bad_shape,
                         "tensor '" + spec.name + "' has a negative dimension: " + shape_to_string(spec.shape));
  uint64_t n = 1;
  for (int64_t d : spec.shape)
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
      throw RequestError(ErrorCode::bad_shape, "tensor '" + spec.name + "' of shape " + shape_to_string(spec.shape) +
                                                   " has too many elements");
  return n;
}

}  // namespace

flatbuffers::Offset<FbTensors> build_tensor_infos(flatbuffers::FlatBufferBuilder& fbb,
                                                  std::span<const TensorSpec> layout) {
  std::vector<flatbuffers::Offset<fb::Tensor>> offsets;
  offsets.reserve(layout.size());
  for (const auto& spec : layout) {
    auto name = fbb.CreateString(spec.name);
    auto shape = fbb.CreateVector(spec.shape);
    offsets.push_back(fb::CreateTensor(fbb, name, shape, fb::DType::float32));
  }
  return fbb.CreateVector(offsets);
}

std::vector<TensorSpec> layout_of(const FbTensors* tensors) {
  std::vector<TensorSpec> layout;
  if (!tensors) return layout;
  layout.reserve(tensors->size());
  for (const fb::Tensor* t : *tensors) {
    if (!scalars_aligned(t->shape()))
      throw RequestError(ErrorCode::bad_request, "tensor '" + t->name()->str() +
                                                     "': its shape is not 8-byte aligned (the buffer was not "
                                                     "written by a FlatBuffers builder)");
    layout.push_back({t->name()->str(), copy_scalars(t->shape())});
  }
  return layout;
}

void check_tensor_infos(const FbTensors* tensors, std::span<const TensorSpec> layout) {
  if (!tensors) throw RequestError(ErrorCode::bad_shape, "the header lists no tensors");
  if (tensors->size() != layout.size())
    throw RequestError(ErrorCode::bad_shape, "expected " + std::to_string(layout.size()) + " tensors, got " +
                                                 std::to_string(tensors->size()));
  for (flatbuffers::uoffset_t i = 0; i < tensors->size(); ++i) {
    const fb::Tensor* t = tensors->Get(i);
    const auto& spec = layout[i];
    const std::string name = t->name()->str();
    if (name != spec.name)
      throw RequestError(ErrorCode::bad_shape,
                         "tensor " + std::to_string(i) + " is named '" + name + "', expected '" + spec.name + "'");
    const std::vector<int64_t> shape = copy_scalars(t->shape());
    if (shape != spec.shape)
      throw RequestError(ErrorCode::bad_shape, "tensor '" + name + "' has shape " + shape_to_string(shape) +
                                                   ", expected " + shape_to_string(spec.shape));
    if (t->dtype() != fb::DType::float32) {
      const char* dtype = fb::EnumNameDType(t->dtype());
      throw RequestError(ErrorCode::bad_dtype,
                         "tensor '" + name + "' has dtype " +
                             (*dtype ? std::string(dtype) : std::to_string(static_cast<int>(t->dtype()))) +
                             ", only float32 is accepted");
    }
  }
}

uint64_t data_bytes_of(std::span<const TensorSpec> layout) {
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t total = 0;
  for (const auto& spec : layout) {
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(checked_element_count(spec), uint64_t{sizeof(float)}, &bytes) ||
        __builtin_add_overflow(total, bytes, &total) || total > kMax)
      throw RequestError(ErrorCode::bad_shape, "the tensors up to '" + spec.name +
                                                   "' need more than 2^63 bytes of data (shape " +
                                                   shape_to_string(spec.shape) + ")");
  }
  return total;
}

std::span<const float> data_values(std::span<const char> data) {
  if (data.size() % sizeof(float) != 0)
    throw RequestError(ErrorCode::bad_request, "a data section of " + std::to_string(data.size()) +
                                                   " bytes does not hold whole float32 values");
  if (reinterpret_cast<uintptr_t>(data.data()) % alignof(float) != 0)
    throw RequestError(ErrorCode::bad_request, "the data section is not 4-byte aligned in memory");
  return {reinterpret_cast<const float*>(data.data()), data.size() / sizeof(float)};
}

void check_finite(std::span<const float> values, std::span<const TensorSpec> layout, uint64_t first_index) {
  const uint64_t total = data_bytes_of(layout) / sizeof(float);
  if (first_index > total || values.size() > total - first_index)
    throw RequestError(ErrorCode::bad_shape, "values [" + std::to_string(first_index) + ", " +
                                                 std::to_string(first_index + values.size()) +
                                                 ") reach past the layout's " + std::to_string(total) + " values");
  const size_t bad = first_non_finite(values);
  if (bad == values.size()) return;
  // Which tensor holds element first_index + bad of the data section.
  uint64_t at = first_index + bad;
  for (const auto& spec : layout) {
    const uint64_t n = checked_element_count(spec);
    if (at < n)
      throw RequestError(ErrorCode::non_finite, "tensor '" + spec.name + "' holds " + std::to_string(values[bad]) +
                                                    " at index " + std::to_string(at));
    at -= n;
  }
}

Weights weights_from_data(std::span<const TensorSpec> layout, std::span<const char> data) {
  const uint64_t need = data_bytes_of(layout);
  if (data.size() != need)
    throw RequestError(ErrorCode::bad_shape, "the data section holds " + std::to_string(data.size()) + " bytes, the " +
                                                 std::to_string(layout.size()) + " tensors need " +
                                                 std::to_string(need));
  Weights w;
  w.reserve(layout.size());
  size_t pos = 0;
  for (const auto& spec : layout) {
    const auto n = static_cast<size_t>(checked_element_count(spec));
    Tensor t{spec.name, spec.shape, std::vector<float>(n)};
    if (n) std::memcpy(t.values.data(), data.data() + pos, n * sizeof(float));
    pos += n * sizeof(float);
    w.push_back(std::move(t));
  }
  return w;
}

uint64_t data_hash_of(const Weights& w) {
  DataHasher hasher;
  for (const auto& t : w) hasher.update(data_bytes(t.values));
  return hasher.digest();
}

void append_data(Buffer& out, const Weights& w) {
  for (const auto& t : w) {
    const auto bytes = data_bytes(t.values);
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
}

}  // namespace fedhub

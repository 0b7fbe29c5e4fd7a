#include "messages/tensors.hpp"

#include <cmath>
#include <cstring>

namespace fedhub {

flatbuffers::Offset<fb::Tensor> build_tensor(flatbuffers::FlatBufferBuilder& fbb, const Tensor& t) {
  auto data = create_aligned_bytes(
      fbb, std::span<const char>(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float)));
  auto name = fbb.CreateString(t.name);
  auto shape = fbb.CreateVector(t.shape);
  return fb::CreateTensor(fbb, name, shape, fb::DType::float32, data);
}

flatbuffers::Offset<FbTensors> build_tensors(flatbuffers::FlatBufferBuilder& fbb, const Weights& w) {
  std::vector<flatbuffers::Offset<fb::Tensor>> offsets;
  offsets.reserve(w.size());
  for (const auto& t : w) offsets.push_back(build_tensor(fbb, t));
  return fbb.CreateVector(offsets);
}

void check_tensors(const FbTensors* tensors, std::span<const TensorSpec> layout, bool check_finite) {
  if (!tensors) throw RequestError(ErrorCode::bad_shape, "the buffer holds no tensors");
  if (tensors->size() != layout.size())
    throw RequestError(ErrorCode::bad_shape, "expected " + std::to_string(layout.size()) + " tensors, got " +
                                                 std::to_string(tensors->size()));
  for (flatbuffers::uoffset_t i = 0; i < tensors->size(); ++i) {
    const fb::Tensor* t = tensors->Get(i);
    const auto& spec = layout[i];
    std::string name = t->name()->str();
    if (name != spec.name)
      throw RequestError(ErrorCode::bad_shape,
                         "tensor " + std::to_string(i) + " is named '" + name + "', expected '" + spec.name + "'");
    std::vector<int64_t> shape(t->shape()->begin(), t->shape()->end());
    if (shape != spec.shape)
      throw RequestError(ErrorCode::bad_shape, "tensor '" + name + "' has shape " + shape_to_string(shape) +
                                                   ", expected " + shape_to_string(spec.shape));
    if (t->dtype() != fb::DType::float32)
      throw RequestError(ErrorCode::bad_dtype, "tensor '" + name + "' has dtype " + fb::EnumNameDType(t->dtype()) +
                                                   ", only float32 is accepted");
    const auto expected_bytes = static_cast<uint64_t>(element_count(shape)) * sizeof(float);
    if (t->data()->size() != expected_bytes)
      throw RequestError(ErrorCode::bad_shape, "tensor '" + name + "' holds " + std::to_string(t->data()->size()) +
                                                   " bytes, its shape needs " + std::to_string(expected_bytes));
    if (check_finite) {
      auto values = tensor_values(*t);
      for (size_t j = 0; j < values.size(); ++j)
        if (!std::isfinite(values[j]))
          throw RequestError(ErrorCode::non_finite, "tensor '" + name + "' holds " + std::to_string(values[j]) +
                                                        " at index " + std::to_string(j));
    }
  }
}

std::span<const float> tensor_values(const fb::Tensor& t) {
  const auto* data = t.data();
  if (reinterpret_cast<uintptr_t>(data->data()) % alignof(float) != 0)
    throw RequestError(ErrorCode::bad_request, "tensor '" + t.name()->str() + "' data is not 4-byte aligned");
  return {reinterpret_cast<const float*>(data->data()), data->size() / sizeof(float)};
}

Weights read_weights(const FbTensors* tensors) {
  Weights w;
  w.reserve(tensors->size());
  for (const fb::Tensor* t : *tensors) {
    auto values = tensor_values(*t);
    w.push_back({t->name()->str(), std::vector<int64_t>(t->shape()->begin(), t->shape()->end()),
                 std::vector<float>(values.begin(), values.end())});
  }
  return w;
}

}  // namespace fedhub

#include "messages/model_package.hpp"

#include "messages/errors.hpp"
#include "messages/tensors.hpp"

namespace fedhub {

namespace {

Buffer finish_version(flatbuffers::FlatBufferBuilder& fbb, const VersionMeta& meta,
                      flatbuffers::Offset<FbTensors> tensors) {
  auto model = fbb.CreateString(meta.model);
  auto contributors = fbb.CreateVectorOfStrings(meta.contributors);
  auto aggregator = fbb.CreateString(meta.aggregator);
  auto root = fb::CreateModelVersion(fbb, model, meta.version, tensors, meta.created_at_ms, meta.base_version,
                                     contributors, meta.total_samples, aggregator);
  fbb.Finish(root, fb::ModelVersionIdentifier());
  return to_buffer(fbb);
}

}  // namespace

Buffer build_model_version(const VersionMeta& meta, const Weights& weights) {
  flatbuffers::FlatBufferBuilder fbb(static_cast<size_t>(parameter_count(weights)) * sizeof(float) + 4096);
  auto tensors = build_tensors(fbb, weights);
  return finish_version(fbb, meta, tensors);
}

Buffer build_model_version(const VersionMeta& meta, std::span<const TensorSpec> layout, std::span<const float> flat) {
  flatbuffers::FlatBufferBuilder fbb(flat.size() * sizeof(float) + 4096);
  std::vector<flatbuffers::Offset<fb::Tensor>> offsets;
  size_t at = 0;
  for (const auto& spec : layout) {
    const auto n = static_cast<size_t>(element_count(spec.shape));
    if (at + n > flat.size())
      throw std::invalid_argument("build_model_version: the flat vector is shorter than the layout");
    auto data = create_aligned_bytes(
        fbb, std::span<const char>(reinterpret_cast<const char*>(flat.data() + at), n * sizeof(float)));
    auto name = fbb.CreateString(spec.name);
    auto shape = fbb.CreateVector(spec.shape);
    offsets.push_back(fb::CreateTensor(fbb, name, shape, fb::DType::float32, data));
    at += n;
  }
  if (at != flat.size()) throw std::invalid_argument("build_model_version: the flat vector is longer than the layout");
  auto tensors = fbb.CreateVector(offsets);
  return finish_version(fbb, meta, tensors);
}

const fb::ModelVersion* verify_model_version(std::span<const char> data) {
  std::string why;
  const auto* v = verify_root<fb::ModelVersion>(data, fb::ModelVersionIdentifier(), &why);
  if (!v) throw RequestError(ErrorCode::bad_request, "model version: " + why);
  return v;
}

ModelSpec parse_model_spec(const fb::ModelSpec& s) {
  std::vector<std::string> labels;
  for (const auto* l : *s.labels()) labels.push_back(l->str());
  try {
    return make_model_spec(s.name()->str(), s.architecture_json()->str(), labels, s.recipe_json()->str());
  } catch (const std::exception& e) {
    throw RequestError(ErrorCode::invalid_model, e.what());
  }
}

Buffer build_model_package(const fb::ModelSpecT& spec, std::span<const char> version_buffer) {
  flatbuffers::FlatBufferBuilder fbb(version_buffer.size() + 4096);
  auto version = create_aligned_bytes(fbb, version_buffer);
  auto s = fb::CreateModelSpec(fbb, &spec);
  fbb.Finish(fb::CreateModelPackage(fbb, s, version), fb::ModelPackageIdentifier());
  return to_buffer(fbb);
}

LoadedModel read_model_package(std::span<const char> data) {
  std::string why;
  const auto* p = verify_root<fb::ModelPackage>(data, fb::ModelPackageIdentifier(), &why);
  if (!p) throw RequestError(ErrorCode::bad_request, "model package: " + why);
  LoadedModel m;
  p->spec()->UnPackTo(&m.spec_fields);
  m.spec = parse_model_spec(*p->spec());
  const auto* v = verify_model_version(as_span(p->version()));
  if (v->model()->str() != m.spec.name)
    throw RequestError(ErrorCode::bad_request,
                       "model package: the version belongs to '" + v->model()->str() + "', not '" + m.spec.name + "'");
  const auto layout = m.spec.architecture.parameters();
  check_tensors(v->tensors(), layout);
  m.version = v->version();
  m.weights = read_weights(v->tensors());
  return m;
}

}  // namespace fedhub

#include "messages/model_package.hpp"

#include <stdexcept>

#include "messages/checksum.hpp"
#include "messages/contribution_generated.h"
#include "messages/errors.hpp"
#include "messages/framed.hpp"
#include "messages/tensors.hpp"

namespace fedhub {

namespace {

constexpr const char* kWhat = "model package";

[[noreturn]] void fail(ErrorCode code, const std::string& problem) {
  throw RequestError(code, std::string(kWhat) + ": " + problem);
}

}  // namespace

VersionMeta version_meta(const fb::ModelVersion& v) {
  VersionMeta m;
  m.model = v.model()->str();
  m.version = v.version();
  m.created_at_ms = v.created_at_ms();
  m.base_version = v.base_version();
  if (v.contributors())
    for (const auto* c : *v.contributors()) m.contributors.push_back(c->str());
  m.total_samples = v.total_samples();
  m.aggregator = v.aggregator() ? v.aggregator()->str() : std::string();
  return m;
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

Buffer package_prefix(const fb::ModelSpecT& spec, const VersionMeta& meta, std::span<const TensorSpec> layout,
                      uint64_t data_hash) {
  const uint64_t data_bytes = data_bytes_of(layout);
  flatbuffers::FlatBufferBuilder fbb(4096);
  auto tensors = build_tensor_infos(fbb, layout);
  auto model = fbb.CreateString(meta.model);
  auto contributors = fbb.CreateVectorOfStrings(meta.contributors);
  auto aggregator = fbb.CreateString(meta.aggregator);
  auto version = fb::CreateModelVersion(fbb, model, meta.version, tensors, meta.created_at_ms, meta.base_version,
                                        contributors, meta.total_samples, aggregator);
  auto s = fb::CreateModelSpec(fbb, &spec);
  fbb.Finish(fb::CreateModelPackage(fbb, s, version, data_bytes, data_hash), fb::ModelPackageIdentifier());
  return frame_prefix(fbb);
}

Buffer build_model_package(const fb::ModelSpecT& spec, const VersionMeta& meta, const Weights& weights) {
  Buffer out = package_prefix(spec, meta, layout_of(weights), data_hash_of(weights));
  out.reserve(out.size() + static_cast<size_t>(parameter_count(weights)) * sizeof(float));
  append_data(out, weights);
  return out;
}

Buffer build_model_package(const fb::ModelSpecT& spec, const VersionMeta& meta, std::span<const TensorSpec> layout,
                           std::span<const float> flat) {
  const uint64_t need = data_bytes_of(layout) / sizeof(float);
  if (flat.size() != need)
    throw std::invalid_argument("build_model_package: the flat vector has " + std::to_string(flat.size()) +
                                " values, the layout needs " + std::to_string(need));
  const auto bytes = data_bytes(flat);
  Buffer out = package_prefix(spec, meta, layout, data_hash(bytes));
  out.reserve(out.size() + bytes.size());
  out.insert(out.end(), bytes.begin(), bytes.end());
  return out;
}

PackageHeader read_package_header(std::span<const char> prefix) {
  const FramePrefix frame = read_frame_prefix(prefix, kWhat);
  if (buffer_identifier(frame.header) == fb::ContributionIdentifier())
    fail(ErrorCode::bad_request, "this is a training result (FHCT), not a model package");
  std::string why;
  const auto* root = verify_root<fb::ModelPackage>(frame.header, fb::ModelPackageIdentifier(), &why);
  if (!root) fail(ErrorCode::bad_request, "the header: " + why);
  if (root->version()->model()->str() != root->spec()->name()->str())
    fail(ErrorCode::bad_request,
         "the version belongs to '" + root->version()->model()->str() + "', not '" + root->spec()->name()->str() + "'");
  const uint64_t need = data_bytes_of(layout_of(root->version()->tensors()));
  if (root->data_bytes() != need)
    fail(ErrorCode::bad_request, "the header declares " + std::to_string(root->data_bytes()) +
                                     " bytes of data, its tensors need " + std::to_string(need));
  return {root, frame.data_offset, frame.data_offset + need};
}

PackageView view_model_package(std::span<const char> whole, bool check_hash) {
  PackageView v;
  v.header = read_package_header(whole);
  v.data = split_frame(whole, v.header.root->data_bytes(), kWhat).data;
  if (check_hash) {
    const uint64_t got = data_hash(v.data);
    if (got != v.header.root->data_hash())
      fail(ErrorCode::bad_checksum, "the data section hashes to " + hash_to_string(got) + ", the header says " +
                                        hash_to_string(v.header.root->data_hash()) + ": the package is damaged");
  }
  return v;
}

LoadedModel read_model_package(std::span<const char> whole) {
  const PackageView v = view_model_package(whole);
  const fb::ModelPackage* p = v.header.root;
  LoadedModel m;
  p->spec()->UnPackTo(&m.spec_fields);
  m.spec = parse_model_spec(*p->spec());
  const auto layout = m.spec.architecture.parameters();
  check_tensor_infos(p->version()->tensors(), layout);
  check_finite(data_values(v.data), layout);
  m.version = p->version()->version();
  m.data_hash = p->data_hash();
  m.weights = weights_from_data(layout, v.data);
  return m;
}

}  // namespace fedhub

#include "messages/contribution.hpp"

#include <cmath>

#include "messages/checksum.hpp"
#include "messages/errors.hpp"
#include "messages/framed.hpp"
#include "messages/model_package_generated.h"
#include "messages/tensors.hpp"

namespace fedhub {

namespace {

[[noreturn]] void fail(const char* what, ErrorCode code, const std::string& problem) {
  throw RequestError(code, std::string(what) + ": " + problem);
}

// Verifies a header given alone or taken out of a frame.
const fb::Contribution* verify_header(std::span<const char> header, const char* what) {
  if (buffer_identifier(header) == fb::ModelPackageIdentifier())
    fail(what, ErrorCode::bad_request, "this is a model package (FHMP), not a training result (FHCT)");
  std::string why;
  const auto* c = verify_root<fb::Contribution>(header, fb::ContributionIdentifier(), &why);
  if (!c) fail(what, ErrorCode::bad_request, why);
  const uint64_t need = data_bytes_of(layout_of(c->tensors()));
  if (c->data_bytes() != need)
    fail(what, ErrorCode::bad_request,
         "the header declares " + std::to_string(c->data_bytes()) + " bytes of data, its tensors need " +
             std::to_string(need));
  return c;
}

}  // namespace

Buffer contribution_header(const ContributionMeta& meta, std::span<const TensorSpec> layout, uint64_t data_hash) {
  const uint64_t data_bytes = data_bytes_of(layout);
  flatbuffers::FlatBufferBuilder fbb(1024);
  auto tensors = build_tensor_infos(fbb, layout);
  std::vector<flatbuffers::Offset<fb::Metric>> metrics;
  for (const auto& [name, value] : meta.metrics)
    metrics.push_back(fb::CreateMetric(fbb, fbb.CreateString(name), value));
  auto metrics_vec = fbb.CreateVector(metrics);
  auto model = fbb.CreateString(meta.model);
  auto participant = fbb.CreateString(meta.participant);
  fbb.Finish(fb::CreateContribution(fbb, model, meta.base_version, participant, meta.num_samples, metrics_vec, tensors,
                                    data_bytes, data_hash),
             fb::ContributionIdentifier());
  return to_buffer(fbb);
}

Buffer build_contribution(const ContributionMeta& meta, const Weights& weights) {
  const Buffer header = contribution_header(meta, layout_of(weights), data_hash_of(weights));
  Buffer out = frame_prefix(header);
  out.reserve(out.size() + static_cast<size_t>(parameter_count(weights)) * sizeof(float));
  append_data(out, weights);
  return out;
}

const fb::Contribution* verify_contribution_header(std::span<const char> flatbuffer) {
  constexpr const char* what = "contribution header";
  if (has_frame_magic(flatbuffer))
    fail(what, ErrorCode::bad_request,
         "this is a framed buffer (a contribution file), not a bare header: send the file's header "
         "(read_contribution(file).header_bytes) and its data in parts");
  return verify_header(flatbuffer, what);
}

ContributionView read_contribution(std::span<const char> framed, bool check_hash) {
  constexpr const char* what = "contribution";
  if (!has_frame_magic(framed) && buffer_identifier(framed) == fb::ContributionIdentifier())
    fail(what, ErrorCode::bad_request,
         "this is a bare contribution header (FHCT) without its data, not a contribution file");
  const FramePrefix prefix = read_frame_prefix(framed, what);
  ContributionView v;
  v.header = verify_header(prefix.header, what);
  v.header_bytes = prefix.header;
  v.data = split_frame(framed, v.header->data_bytes(), what).data;
  if (check_hash) {
    const uint64_t got = data_hash(v.data);
    if (got != v.header->data_hash())
      fail(what, ErrorCode::bad_checksum,
           "the data section hashes to " + hash_to_string(got) + ", the header says " +
               hash_to_string(v.header->data_hash()) + ": the file is damaged");
  }
  return v;
}

std::vector<std::pair<std::string, double>> read_metrics(
    const flatbuffers::Vector<flatbuffers::Offset<fb::Metric>>* m) {
  std::vector<std::pair<std::string, double>> out;
  if (m)
    for (const auto* x : *m) out.emplace_back(x->name()->str(), x->value());
  return out;
}

std::string check_metrics(std::span<const std::pair<std::string, double>> metrics) {
  if (metrics.size() > kMaxMetrics)
    return "the contribution reports " + std::to_string(metrics.size()) + " metrics; at most " +
           std::to_string(kMaxMetrics) + " are taken";
  for (size_t i = 0; i < metrics.size(); ++i) {
    const auto& [name, value] = metrics[i];
    const std::string which = "metric " + std::to_string(i);
    if (name.empty()) return which + " has an empty name";
    if (name.size() > kMaxMetricNameBytes)
      return which + " has a name of " + std::to_string(name.size()) + " bytes ('" + name.substr(0, 16) +
             "...'); at most " + std::to_string(kMaxMetricNameBytes) + " are taken";
    for (char c : name)
      if (c < 0x20 || c > 0x7e)
        return which + "'s name holds byte " + std::to_string(static_cast<unsigned char>(c)) +
               ": names are printable ASCII";
    if (!std::isfinite(value)) return "metric '" + name + "' is " + std::to_string(value) + ": values must be finite";
    for (size_t j = 0; j < i; ++j)
      if (metrics[j].first == name) return "metric '" + name + "' is reported twice";
  }
  return {};
}

}  // namespace fedhub

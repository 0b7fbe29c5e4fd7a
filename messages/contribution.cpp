#include "messages/contribution.hpp"

#include "messages/errors.hpp"
#include "messages/tensors.hpp"

namespace fedhub {

Buffer build_contribution(const ContributionMeta& meta, const Weights& weights) {
  flatbuffers::FlatBufferBuilder fbb(static_cast<size_t>(parameter_count(weights)) * sizeof(float) + 4096);
  auto tensors = build_tensors(fbb, weights);
  std::vector<flatbuffers::Offset<fb::Metric>> metrics;
  for (const auto& [name, value] : meta.metrics)
    metrics.push_back(fb::CreateMetric(fbb, fbb.CreateString(name), value));
  auto metrics_vec = fbb.CreateVector(metrics);
  auto model = fbb.CreateString(meta.model);
  auto participant = fbb.CreateString(meta.participant);
  fbb.Finish(fb::CreateContribution(fbb, model, meta.base_version, participant, meta.num_samples, metrics_vec, tensors),
             fb::ContributionIdentifier());
  return to_buffer(fbb);
}

const fb::Contribution* verify_contribution(std::span<const char> data) {
  std::string why;
  const auto* c = verify_root<fb::Contribution>(data, fb::ContributionIdentifier(), &why);
  if (!c) throw RequestError(ErrorCode::bad_request, "contribution: " + why);
  return c;
}

std::vector<std::pair<std::string, double>> read_metrics(
    const flatbuffers::Vector<flatbuffers::Offset<fb::Metric>>* m) {
  std::vector<std::pair<std::string, double>> out;
  if (m)
    for (const auto* x : *m) out.emplace_back(x->name()->str(), x->value());
  return out;
}

}  // namespace fedhub

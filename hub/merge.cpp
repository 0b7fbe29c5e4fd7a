#include "hub/merge.hpp"

#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "messages/records.hpp"
#include "messages/tensors.hpp"

namespace fedhub {

namespace {

// x_base as one flat vector, read from the stored version.
std::vector<float> load_flat(const Store& store, const ModelState& model, uint64_t version) {
  auto buf = store.version(model.spec.name, version);
  if (!buf) throw RequestError(ErrorCode::unknown_version, "version " + std::to_string(version) + " is not stored");
  const auto* v = verify_model_version(*buf);
  check_tensors(v->tensors(), model.layout, false);
  std::vector<float> flat;
  size_t total = 0;
  for (const auto& t : model.layout) total += static_cast<size_t>(element_count(t.shape));
  flat.reserve(total);
  for (const auto* t : *v->tensors()) {
    auto values = tensor_values(*t);
    flat.insert(flat.end(), values.begin(), values.end());
  }
  return flat;
}

}  // namespace

MergeResult run_merge(Store& store, const ModelState& model, uint64_t base) {
  const auto& name = model.spec.name;
  if (base != model.current_version)
    throw RequestError(ErrorCode::base_not_current, "cannot merge version " + std::to_string(base) + " of '" + name +
                                                        "': the current version is " +
                                                        std::to_string(model.current_version));
  std::vector<float> x = load_flat(store, model, base);
  const auto n = static_cast<int64_t>(x.size());
  federation::ServerState state;
  if (!model.server_state.empty()) state = federation::ServerState::deserialize(model.server_state);
  auto aggregator = federation::make_aggregator(model.policy.aggregator, n, state);

  MergeResult result;
  std::vector<float> delta(x.size());
  store.for_each_contribution(name, base, [&](std::span<const char> bytes) {
    const auto* record = records::verify_contribution_record(bytes);
    const auto* c = verify_contribution(as_span(record->contribution()));
    check_tensors(c->tensors(), model.layout, true);
    size_t at = 0;
    for (const auto* t : *c->tensors()) {
      auto values = tensor_values(*t);
      for (size_t i = 0; i < values.size(); ++i, ++at) delta[at] = values[i] - x[at];
    }
    aggregator->add(delta, static_cast<double>(c->num_samples()), 1.0);
    result.peak_held_bytes = std::max(result.peak_held_bytes, aggregator->held_bytes());
    result.contributors.push_back(record->participant()->str());
    result.total_samples += c->num_samples();
  });
  const uint32_t needed = model.spec_fields.min_contributions;
  if (result.contributors.size() < needed)
    throw RequestError(ErrorCode::not_enough_contributions,
                       "version " + std::to_string(base) + " of '" + name + "' has " +
                           std::to_string(result.contributors.size()) + " contribution(s), the model needs " +
                           std::to_string(needed) + " to merge");
  aggregator->apply(x, state);
  result.server_state = state.serialize();
  result.new_version = base + 1;

  VersionMeta meta;
  meta.model = name;
  meta.version = result.new_version;
  meta.created_at_ms = now_ms();
  meta.base_version = base;
  meta.contributors = result.contributors;
  meta.total_samples = result.total_samples;
  meta.aggregator = aggregator->name();
  result.version_record = build_model_version(meta, model.layout, x);

  fb::VersionInfoT info;
  info.version = result.new_version;
  info.created_at_ms = meta.created_at_ms;
  info.base_version = base;
  info.contributions = static_cast<uint32_t>(result.contributors.size());
  info.total_samples = result.total_samples;
  info.aggregator = meta.aggregator;

  auto record = model.record();
  record.current_version = result.new_version;
  record.server_state.assign(result.server_state.begin(), result.server_state.end());
  store.commit_version(name, result.new_version, result.version_record, records::version_info(info),
                       records::model_record(record));
  return result;
}

}  // namespace fedhub

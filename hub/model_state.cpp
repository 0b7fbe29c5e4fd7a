#include "hub/model_state.hpp"

#include "messages/errors.hpp"
#include "messages/records.hpp"
#include "messages/tensors.hpp"

namespace fedhub {

ModelState ModelState::load(const Store& store, const std::string& name, bool with_package) {
  auto rec_buf = store.model(name);
  if (!rec_buf) throw RequestError(ErrorCode::unknown_model, "there is no model named '" + name + "'");
  const auto* rec = records::verify_model_record(*rec_buf);
  ModelState m;
  rec->spec()->UnPackTo(&m.spec_fields);
  m.spec = parse_model_spec(*rec->spec());
  m.layout = m.spec.architecture.parameters();
  m.current_version = rec->current_version();
  m.created_at_ms = rec->created_at_ms();
  try {
    m.policy = MergePolicy::from_json(rec->policy_json() ? rec->policy_json()->str() : std::string());
  } catch (const std::exception& e) {
    throw RequestError(ErrorCode::internal, "stored merge policy of '" + name + "': " + e.what());
  }
  if (rec->server_state())
    m.server_state.assign(as_span(rec->server_state()).begin(), as_span(rec->server_state()).end());
  auto version = store.version(name, m.current_version);
  if (!version)
    throw RequestError(ErrorCode::internal,
                       "the store lacks version " + std::to_string(m.current_version) + " of '" + name + "'");
  const auto* v = verify_model_version(*version);
  check_tensors(v->tensors(), m.layout, false);
  if (with_package) m.package = build_model_package(m.spec_fields, *version);
  return m;
}

fb::ModelSummaryT ModelState::summary(uint32_t pending, bool merging) const {
  fb::ModelSummaryT s;
  s.name = spec.name;
  s.current_version = current_version;
  s.pending_contributions = pending;
  s.min_contributions = spec_fields.min_contributions;
  s.parameters = 0;
  for (const auto& t : layout) s.parameters += static_cast<uint64_t>(element_count(t.shape));
  s.labels = static_cast<uint32_t>(spec.labels.size());
  s.created_at_ms = created_at_ms;
  s.merging = merging;
  s.policy_json = policy.to_json();
  return s;
}

fb::ModelRecordT ModelState::record() const {
  fb::ModelRecordT r;
  r.spec = std::make_unique<fb::ModelSpecT>(spec_fields);
  r.current_version = current_version;
  r.created_at_ms = created_at_ms;
  r.policy_json = policy.to_json();
  r.server_state.assign(server_state.begin(), server_state.end());
  return r;
}

ModelState create_model(Store& store, const fb::CreateModel& request) {
  ModelState m;
  request.spec()->UnPackTo(&m.spec_fields);
  m.spec = parse_model_spec(*request.spec());
  if (m.spec_fields.min_contributions < 1)
    throw RequestError(ErrorCode::invalid_model, "min_contributions must be at least 1");
  if (store.model(m.spec.name))
    throw RequestError(ErrorCode::model_exists, "a model named '" + m.spec.name + "' exists already");
  try {
    m.policy = MergePolicy::from_json(request.policy_json() ? request.policy_json()->str() : std::string());
  } catch (const std::exception& e) {
    throw RequestError(ErrorCode::invalid_model, e.what());
  }
  m.layout = m.spec.architecture.parameters();
  check_tensors(request.tensors(), m.layout, true);
  m.created_at_ms = now_ms();
  VersionMeta meta;
  meta.model = m.spec.name;
  meta.created_at_ms = m.created_at_ms;
  meta.aggregator = "initial";
  Buffer version = build_model_version(meta, read_weights(request.tensors()));
  fb::VersionInfoT info;
  info.created_at_ms = m.created_at_ms;
  info.aggregator = "initial";
  store.create_model(m.spec.name, records::model_record(m.record()), version, records::version_info(info));
  m.package = build_model_package(m.spec_fields, version);
  return m;
}

Buffer load_package(const Store& store, const ModelState& model, uint64_t version) {
  if (version == model.current_version) return model.package;
  if (version > model.current_version)
    throw RequestError(ErrorCode::unknown_version, "model '" + model.spec.name + "' has no version " +
                                                       std::to_string(version) +
                                                       " (current: " + std::to_string(model.current_version) + ")");
  auto buf = store.version(model.spec.name, version);
  if (!buf)
    throw RequestError(ErrorCode::unknown_version,
                       "the weights of version " + std::to_string(version) + " of '" + model.spec.name +
                           "' were pruned (the model keeps the last " +
                           std::to_string(model.policy.versions_to_keep()) + " versions; see fl-manager policy)");
  verify_model_version(*buf);
  return build_model_package(model.spec_fields, *buf);
}

Buffer pack_summary(const fb::ModelSummaryT& summary) {
  flatbuffers::FlatBufferBuilder fbb(256);
  fbb.Finish(fb::CreateModelSummary(fbb, &summary));
  return to_buffer(fbb);
}

fb::ModelSummaryT unpack_summary(std::span<const char> data) {
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  if (!v.VerifyBuffer<fb::ModelSummary>(nullptr))
    throw RequestError(ErrorCode::internal, "a model actor sent a malformed summary");
  fb::ModelSummaryT s;
  flatbuffers::GetRoot<fb::ModelSummary>(data.data())->UnPackTo(&s);
  return s;
}

}  // namespace fedhub

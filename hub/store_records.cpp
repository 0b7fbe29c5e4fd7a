#include "hub/store_records.hpp"

#include <algorithm>

#include "messages/checksum.hpp"
#include "messages/errors.hpp"
#include "messages/framed.hpp"
#include "messages/model_package.hpp"
#include "messages/records.hpp"

namespace fedhub::stored {

bool read_model_archived(std::span<const char> record) { return records::verify_model_record(record)->archived(); }

Buffer model_record(const ModelDefinition& d, const MergePolicy& policy, bool archived) {
  fb::ModelRecordT r;
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(d.spec.data()), d.spec.size());
  if (!v.VerifyBuffer<fb::ModelSpec>(nullptr)) throw RequestError(ErrorCode::internal, "the model spec is malformed");
  r.spec = std::make_unique<fb::ModelSpecT>();
  flatbuffers::GetRoot<fb::ModelSpec>(d.spec.data())->UnPackTo(r.spec.get());
  r.created_at_ms = d.created_at_ms;
  r.policy_json = policy.to_json();
  r.archived = archived;
  return records::model_record(r);
}

std::pair<ModelDefinition, MergePolicy> read_model_record(std::span<const char> record) {
  const auto* r = records::verify_model_record(record);
  ModelDefinition d;
  fb::ModelSpecT spec;
  r->spec()->UnPackTo(&spec);
  const auto parsed = parse_model_spec(*r->spec());
  d.name = parsed.name;
  set_layout(d, parsed.architecture);
  d.labels = static_cast<uint32_t>(parsed.labels.size());
  d.min_contributions = spec.min_contributions;
  d.created_at_ms = r->created_at_ms();
  flatbuffers::FlatBufferBuilder fbb(1024);
  fbb.Finish(fb::CreateModelSpec(fbb, &spec));
  d.spec = to_buffer(fbb);
  MergePolicy policy;
  try {
    policy = MergePolicy::from_json(r->policy_json() ? r->policy_json()->str() : std::string());
  } catch (const std::exception& e) {
    throw RequestError(ErrorCode::internal, "the stored merge policy of '" + d.name + "' is damaged: " + e.what());
  }
  return {std::move(d), std::move(policy)};
}

fb::ContributionSummaryT summary_of(const ContributionNote& n) {
  fb::ContributionSummaryT s;
  s.participant = n.participant;
  s.base_version = n.base_version;
  s.num_samples = n.num_samples;
  s.received_at_ms = n.received_at_ms;
  s.staleness = n.staleness();
  s.round_base = n.round_base;
  s.factor = n.factor;
  s.upload_id = n.upload_id;
  for (const auto& [name, value] : n.metrics) {
    auto m = std::make_unique<fb::MetricT>();
    m->name = name;
    m->value = value;
    s.metrics.push_back(std::move(m));
  }
  return s;
}

fb::VersionInfoT info_of(const VersionNote& n, uint32_t piece_bytes) {
  fb::VersionInfoT i;
  i.version = n.version;
  i.created_at_ms = n.created_at_ms;
  i.base_version = n.base_version;
  i.contributions = n.contributions;
  i.total_samples = n.total_samples;
  i.aggregator = n.aggregator;
  i.package_bytes = n.package_bytes;
  i.piece_bytes = piece_bytes;
  i.data_hash = n.data_hash;
  i.rolled_back_from = n.rolled_back_from;
  return i;
}

Buffer contribution_summary(const ContributionNote& n) { return records::contribution_summary(summary_of(n)); }

ContributionNote read_contribution_summary(std::span<const char> summary) {
  const auto* s = records::verify_contribution_summary(summary);
  ContributionNote n;
  n.participant = s->participant()->str();
  n.base_version = s->base_version();
  n.num_samples = s->num_samples();
  n.received_at_ms = s->received_at_ms();
  n.round_base = s->round_base();
  if (n.round_base < n.base_version) n.round_base = n.base_version + s->staleness();
  n.factor = s->factor();
  n.upload_id = s->upload_id();
  if (s->metrics())
    for (const auto* m : *s->metrics()) n.metrics.emplace_back(m->name()->str(), m->value());
  return n;
}

Buffer contribution_record(const ContributionNote& n, std::span<const char> header, uint64_t data_bytes) {
  return records::contribution_record(n.participant, n.received_at_ms, header, n.upload_id, data_bytes);
}

Buffer upload_record(const UploadSession& s) {
  return records::upload_record(s.note.participant, s.note.base_version, s.last_activity_ms, s.data_bytes);
}

Buffer version_info(const VersionNote& n, uint32_t piece_bytes) {
  return records::version_info(info_of(n, piece_bytes));
}

VersionNote read_version_info(std::span<const char> info) {
  const auto* i = records::verify_version_info(info);
  VersionNote n;
  n.version = i->version();
  n.created_at_ms = i->created_at_ms();
  n.base_version = i->base_version();
  n.contributions = i->contributions();
  n.total_samples = i->total_samples();
  n.aggregator = i->aggregator() ? i->aggregator()->str() : std::string();
  n.package_bytes = i->package_bytes();
  n.data_hash = i->data_hash();
  n.rolled_back_from = i->rolled_back_from();
  return n;
}

bool store_version_pieces(Store& store, const std::string& model, const VersionImage& image) {
  Buffer piece;
  const uint64_t size = image.size();
  const bool unlogged = size >= kUnloggedWeightBytes;
  for (uint32_t i = 0; static_cast<uint64_t>(i) * kPieceBytes < size; ++i) {
    const uint64_t at = static_cast<uint64_t>(i) * kPieceBytes;
    piece.resize(std::min<uint64_t>(kPieceBytes, size - at));
    image.copy(at, piece);
    StoreBatch b;
    b.put_version_piece(model, image.version, i, piece);
    if (unlogged)
      store.write_unlogged(b);
    else
      store.commit(b, false);
  }
  return unlogged;
}

SharedImage read_version_image(const Store& store, const ModelDefinition& def, uint64_t version) {
  const std::string which = "version " + std::to_string(version) + " of '" + def.name + "'";
  auto damaged = [&](const std::string& what) -> RequestError {
    return RequestError(ErrorCode::internal, "the stored " + which + " is damaged: " + what);
  };
  char first[8];
  if (!store.read_version(def.name, version, 0, first)) return nullptr;
  const auto prefix_size = frame_prefix_size(first);
  if (!prefix_size) throw damaged("it has no header");
  auto image = std::make_shared<VersionImage>();
  image->version = version;
  image->prefix.resize(*prefix_size);
  store.read_version(def.name, version, 0, image->prefix);
  const auto header = read_package_header(image->prefix);
  image->weights = AlignedFloats(def.parameters);
  if (header.total_size != image->prefix.size() + image->weights.bytes() ||
      header.root->version()->version() != version)
    throw damaged("it does not fit the model's layout");
  store.read_version(def.name, version, image->prefix.size(), image->weights.as_writable_bytes());
  image->data_hash = header.root->data_hash();
  if (data_hash(image->weights.as_bytes()) != image->data_hash) throw damaged("its weights do not match their hash");
  return image;
}

}  // namespace fedhub::stored

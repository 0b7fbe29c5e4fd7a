#include "actors/wire.hpp"

#include "hub/store_records.hpp"
#include "messages/errors.hpp"
#include "messages/events.hpp"
#include "messages/provenance.hpp"
#include "messages/responses.hpp"

namespace fedhub::wire {

fb::ModelSummaryT summary(const ModelSummaryInfo& s, fb::Availability availability, const std::string& problem) {
  fb::ModelSummaryT out;
  out.name = s.name;
  out.current_version = s.current_version;
  out.pending_contributions = s.pending;
  out.min_contributions = s.min_contributions;
  out.parameters = s.parameters;
  out.labels = s.labels;
  out.created_at_ms = s.created_at_ms;
  out.merging = s.merging;
  out.policy_json = s.policy_json;
  out.availability = availability;
  out.problem = problem;
  out.archived = s.archived;
  out.oldest_retained = s.oldest_retained;
  out.open_uploads = s.open_uploads;
  return out;
}

fb::ModelSummaryT summary_of_absent(const std::string& name, fb::Availability availability,
                                    const std::string& problem) {
  ModelSummaryInfo s;
  s.name = name;
  return summary(s, availability, problem);
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

std::unique_ptr<fb::ContributionSummaryT> contribution(const ContributionNote& n) {
  return std::make_unique<fb::ContributionSummaryT>(stored::summary_of(n));
}

std::unique_ptr<fb::VersionInfoT> version(const VersionNote& n) {
  return std::make_unique<fb::VersionInfoT>(stored::info_of(n));
}

namespace {

std::vector<std::unique_ptr<fb::MergedContributionT>> merged(const MergeOutcome& o) {
  std::vector<std::unique_ptr<fb::MergedContributionT>> out;
  for (const auto& m : o.merged) {
    auto c = std::make_unique<fb::MergedContributionT>();
    c->participant = m.participant;
    c->base_version = m.base_version;
    c->staleness = m.staleness;
    c->num_samples = m.num_samples;
    c->weight = m.weight;
    c->clipped = m.clipped;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> contributors(const MergeOutcome& o) {
  std::vector<std::string> out;
  for (const auto& m : o.merged) out.push_back(m.participant);
  return out;
}

}  // namespace

Buffer merge_receipt(const std::string& model, const MergeOutcome& o) {
  fb::MergeReceiptT r;
  r.model = model;
  r.base_version = o.note.base_version;
  r.new_version = o.note.version;
  r.contributors = contributors(o);
  r.total_samples = o.note.total_samples;
  r.contributions = merged(o);
  r.dropped = 0;  // acceptance is final: nothing accepted is dropped at merge time
  return responses::make(std::move(r));
}

Buffer version_published(const std::string& model, const MergeOutcome& o) {
  fb::VersionPublishedT ev;
  ev.model = model;
  ev.version = o.note.version;
  ev.base_version = o.note.base_version;
  ev.contributors = contributors(o);
  ev.total_samples = o.note.total_samples;
  ev.aggregator = o.note.aggregator;
  ev.contributions = merged(o);
  ev.dropped = 0;
  ev.rolled_back_from = o.note.rolled_back_from;
  return events::version_published(std::move(ev));
}

Buffer contribution_accepted(const std::string& model, const ContributionNote& n, uint32_t contributions) {
  fb::ContributionAcceptedT ev;
  ev.model = model;
  ev.base_version = n.base_version;
  ev.participant = n.participant;
  ev.num_samples = n.num_samples;
  ev.contributions = contributions;
  return events::contribution_accepted(std::move(ev));
}

Buffer version_evaluated(const std::string& model, const Buffer& record) {
  const auto s = read_scores(record);
  fb::VersionEvaluatedT ev;
  ev.model = model;
  ev.version = s.version;
  ev.evaluated = s.evaluated;
  ev.samples = s.samples;
  ev.loss = s.loss;
  ev.accuracy = s.accuracy;
  ev.per_class_accuracy = s.per_class_accuracy;
  ev.note = s.note;
  ev.scores.assign(record.begin(), record.end());
  return events::version_evaluated(std::move(ev));
}

Buffer upload_receipt(const std::string& model, const ContributionNote& n, uint32_t contributions) {
  fb::UploadReceiptT r;
  r.model = model;
  r.base_version = n.base_version;
  r.participant = n.participant;
  r.contributions = contributions;
  return responses::make(std::move(r));
}

}  // namespace fedhub::wire

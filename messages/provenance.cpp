#include "messages/provenance.hpp"

#include "messages/errors.hpp"

namespace fedhub {

Buffer provenance_record(const fb::ProvenanceT& provenance) {
  flatbuffers::FlatBufferBuilder fbb(1024 + 256 * provenance.members.size());
  fbb.Finish(fb::CreateProvenance(fbb, &provenance), fb::ProvenanceIdentifier());
  return to_buffer(fbb);
}

fb::ProvenanceT read_provenance(std::span<const char> record) {
  std::string why;
  const auto* p = verify_root<fb::Provenance>(record, fb::ProvenanceIdentifier(), &why);
  if (!p) throw RequestError(ErrorCode::internal, "a stored provenance record is damaged: " + why);
  for (const auto* digest : {p->state_before_sha256(), p->state_after_sha256(), p->weights_sha256()})
    if (digest && digest->size() != 0 && digest->size() != 32)
      throw RequestError(ErrorCode::internal, "a stored provenance record is damaged: a digest of " +
                                                  std::to_string(digest->size()) + " bytes");
  fb::ProvenanceT out;
  p->UnPackTo(&out);
  return out;
}

Buffer scores_record(const fb::VersionScoresT& scores) {
  flatbuffers::FlatBufferBuilder fbb(512 + 64 * scores.contributions.size() + 16 * scores.per_class_accuracy.size());
  fbb.Finish(fb::CreateVersionScores(fbb, &scores), fb::VersionScoresIdentifier());
  return to_buffer(fbb);
}

fb::VersionScoresT read_scores(std::span<const char> record) {
  std::string why;
  const auto* p = verify_root<fb::VersionScores>(record, fb::VersionScoresIdentifier(), &why);
  if (!p) throw RequestError(ErrorCode::internal, "a stored scores record is damaged: " + why);
  fb::VersionScoresT out;
  // 8-byte vector elements are copied out (messages/buffer.hpp, copy_scalars).
  out.version = p->version();
  out.evaluated = p->evaluated();
  if (p->eval_data()) out.eval_data = p->eval_data()->str();
  out.samples = p->samples();
  out.loss = p->loss();
  out.accuracy = p->accuracy();
  out.per_class_accuracy = copy_scalars(p->per_class_accuracy());
  out.per_class_count = copy_scalars(p->per_class_count());
  if (p->note()) out.note = p->note()->str();
  if (p->contributions())
    for (const auto* c : *p->contributions()) {
      auto s = std::make_unique<fb::ContributionScoreT>();
      c->UnPackTo(s.get());
      out.contributions.push_back(std::move(s));
    }
  out.scored_at_ms = p->scored_at_ms();
  out.seconds = p->seconds();
  return out;
}

}  // namespace fedhub

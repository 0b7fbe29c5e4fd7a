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

}  // namespace fedhub

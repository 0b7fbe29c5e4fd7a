// The provenance record of a version (schemas/provenance.fbs): what went
// into it, written by the merger in the same synced batch as the version.
#pragma once

#include <span>

#include "messages/buffer.hpp"
#include "messages/provenance_generated.h"
#include "messages/scores_generated.h"

namespace fedhub {

Buffer provenance_record(const fb::ProvenanceT& provenance);
// Verifies the stored buffer (identifier "FHPV", digests of 32 bytes or
// none) and unpacks it. Throws RequestError(internal) naming what is
// damaged.
fb::ProvenanceT read_provenance(std::span<const char> record);

// The scores record of a version (schemas/scores.fbs), verified the same way.
Buffer scores_record(const fb::VersionScoresT& scores);
fb::VersionScoresT read_scores(std::span<const char> record);

}  // namespace fedhub

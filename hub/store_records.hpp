// The hub's own types as the records it stores (messages/schemas/), and
// back: the one place where hub/ logic meets the stored FlatBuffers. Every
// read verifies the record first; a damaged one is RequestError(internal)
// naming it.
#pragma once

#include <span>
#include <string>

#include "hub/merge_policy.hpp"
#include "hub/model_core.hpp"
#include "messages/buffer.hpp"
#include "messages/common_generated.h"
#include "messages/version_info_generated.h"
#include "persistence/store.hpp"

namespace fedhub::stored {

// ---- models (column family `models`)
// `archived`: read-only (fl-manager archive), kept with the record.
Buffer model_record(const ModelDefinition& definition, const MergePolicy& policy, bool archived = false);
// Whether a verified model record says the model is archived.
bool read_model_archived(std::span<const char> record);
// The definition and policy of a stored model record. Throws
// RequestError(internal) for a damaged record or policy.
std::pair<ModelDefinition, MergePolicy> read_model_record(std::span<const char> record);

// ---- the object-API forms (also what clients get in responses, actors/wire)
fb::ContributionSummaryT summary_of(const ContributionNote& note);
fb::VersionInfoT info_of(const VersionNote& note, uint32_t piece_bytes = 0);

// ---- contributions
// The filter and pending record (ContributionSummary) of a note.
Buffer contribution_summary(const ContributionNote& note);
ContributionNote read_contribution_summary(std::span<const char> summary);
// The contribution record: the participant's header as received.
Buffer contribution_record(const ContributionNote& note, std::span<const char> header, uint64_t data_bytes);
Buffer upload_record(const UploadSession& session);

// ---- versions
Buffer version_info(const VersionNote& note, uint32_t piece_bytes);
VersionNote read_version_info(std::span<const char> info);
// Weights of at least this many bytes (a version, an upload) are written
// without RocksDB's log, so that they reach the disk once; the synced batch
// that makes them visible persists their family first (StoreBatch::persist_first).
inline constexpr uint64_t kUnloggedWeightBytes = 1u << 20;

// Writes the pieces of a version image, each on its own (a large version
// never sits whole in one batch): unsynced, or without the log when the
// image is large. The caller's synced batch adds the version's info, and
// must persist_first(Family::versions) when this returns true.
bool store_version_pieces(Store& store, const std::string& model, const VersionImage& image);
// A stored version read whole into an image (prefix and weights), or
// nullptr when its weights are not stored. Throws RequestError(internal)
// naming what is damaged (a missing header, a size that does not fit the
// model's layout, another version's header, weights that do not match their
// hash).
SharedImage read_version_image(const Store& store, const ModelDefinition& definition, uint64_t version);

}  // namespace fedhub::stored

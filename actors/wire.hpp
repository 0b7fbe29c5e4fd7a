// The hub's own types (hub/) as the FlatBuffers responses and events
// clients receive (messages/schemas/): conversion at the edge, in one place.
#pragma once

#include <string>

#include "hub/model_core.hpp"
#include "messages/buffer.hpp"
#include "messages/event_generated.h"
#include "messages/response_generated.h"

namespace fedhub::wire {

fb::ModelSummaryT summary(const ModelSummaryInfo& s, fb::Availability availability = fb::Availability::ready,
                          const std::string& problem = {});
// A summary of a model that is not ready (loading, or unavailable and why).
fb::ModelSummaryT summary_of_absent(const std::string& name, fb::Availability availability, const std::string& problem);
// A ModelSummary as a root buffer without identifier (between the hub's
// actors), and back.
Buffer pack_summary(const fb::ModelSummaryT& summary);
fb::ModelSummaryT unpack_summary(std::span<const char> data);

std::unique_ptr<fb::ContributionSummaryT> contribution(const ContributionNote& note);
std::unique_ptr<fb::VersionInfoT> version(const VersionNote& note);

Buffer merge_receipt(const std::string& model, const MergeOutcome& outcome);
Buffer version_published(const std::string& model, const MergeOutcome& outcome);
Buffer contribution_accepted(const std::string& model, const ContributionNote& note, uint32_t contributions);
// The event of a scored version: its scores record (messages/provenance.hpp).
Buffer version_evaluated(const std::string& model, const Buffer& scores_record);
Buffer upload_receipt(const std::string& model, const ContributionNote& note, uint32_t contributions);

}  // namespace fedhub::wire

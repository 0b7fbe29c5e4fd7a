// The records the hub stores in RocksDB (schemas/model_record.fbs,
// contribution_record.fbs, upload_record.fbs, key_record.fbs, common.fbs,
// version_info.fbs). Each read verifies
// the stored buffer first: a damaged record is RequestError(internal) naming
// the record, never a crash.
#pragma once

#include <array>
#include <span>
#include <string>

#include "messages/buffer.hpp"
#include "messages/common_generated.h"
#include "messages/contribution_record_generated.h"
#include "messages/key_record_generated.h"
#include "messages/model_record_generated.h"
#include "messages/upload_record_generated.h"
#include "messages/version_info_generated.h"

namespace fedhub::records {

Buffer model_record(const fb::ModelRecordT& record);
const fb::ModelRecord* verify_model_record(std::span<const char> data);

// An accepted contribution: its bare header (as UploadBegin carried it,
// nested 16-byte aligned) with the authenticated name, the upload whose
// chunks hold its data section and that section's size.
Buffer contribution_record(const std::string& participant, uint64_t received_at_ms, std::span<const char> header,
                           uint64_t upload_id, uint64_t data_bytes);
// Verifies the record and its nested header (identifier "FHCT" included).
const fb::ContributionRecord* verify_contribution_record(std::span<const char> data);

// An upload session in progress.
Buffer upload_record(const std::string& participant, uint64_t base_version, uint64_t started_at_ms,
                     uint64_t data_bytes);
const fb::UploadRecord* verify_upload_record(std::span<const char> data);

Buffer contribution_summary(const fb::ContributionSummaryT& summary);
const fb::ContributionSummary* verify_contribution_summary(std::span<const char> data);

Buffer version_info(const fb::VersionInfoT& info);
const fb::VersionInfo* verify_version_info(std::span<const char> data);

using Sha256 = std::array<uint8_t, 32>;
Buffer key_record(const std::string& name, fb::Role role, const Sha256& hash, uint64_t created_at_ms, bool revoked);
const fb::KeyRecord* verify_key_record(std::span<const char> data);

}  // namespace fedhub::records

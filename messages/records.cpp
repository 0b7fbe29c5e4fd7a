#include "messages/records.hpp"

#include "messages/errors.hpp"

namespace fedhub::records {

namespace {

template <class T>
const T* verified(std::span<const char> data, const char* identifier, const char* what) {
  std::string why;
  const auto* r = verify_root<T>(data, identifier, &why);
  if (!r) throw RequestError(ErrorCode::internal, std::string("stored ") + what + " is damaged: " + why);
  return r;
}

}  // namespace

Buffer model_record(const fb::ModelRecordT& record) {
  flatbuffers::FlatBufferBuilder fbb(1024);
  fbb.Finish(fb::CreateModelRecord(fbb, &record), fb::ModelRecordIdentifier());
  return to_buffer(fbb);
}

const fb::ModelRecord* verify_model_record(std::span<const char> data) {
  return verified<fb::ModelRecord>(data, fb::ModelRecordIdentifier(), "model record");
}

Buffer contribution_record(const std::string& participant, uint64_t received_at_ms, std::span<const char> header,
                           uint64_t upload_id, uint64_t data_bytes) {
  flatbuffers::FlatBufferBuilder fbb(header.size() + participant.size() + 256);
  auto bytes = create_aligned_bytes(fbb, header);
  auto name = fbb.CreateString(participant);
  fbb.Finish(fb::CreateContributionRecord(fbb, name, received_at_ms, bytes, upload_id, data_bytes),
             fb::ContributionRecordIdentifier());
  return to_buffer(fbb);
}

const fb::ContributionRecord* verify_contribution_record(std::span<const char> data) {
  const auto* r = verified<fb::ContributionRecord>(data, fb::ContributionRecordIdentifier(), "contribution record");
  // The generated verifier checks the nested header's structure, not its
  // identifier.
  std::string why;
  if (!verify_root<fb::Contribution>(as_span(r->header()), fb::ContributionIdentifier(), &why))
    throw RequestError(ErrorCode::internal, "stored contribution record is damaged: its header: " + why);
  return r;
}

Buffer upload_record(const std::string& participant, uint64_t base_version, uint64_t started_at_ms,
                     uint64_t data_bytes) {
  flatbuffers::FlatBufferBuilder fbb(participant.size() + 128);
  auto name = fbb.CreateString(participant);
  fbb.Finish(fb::CreateUploadRecord(fbb, name, base_version, started_at_ms, data_bytes), fb::UploadRecordIdentifier());
  return to_buffer(fbb);
}

const fb::UploadRecord* verify_upload_record(std::span<const char> data) {
  return verified<fb::UploadRecord>(data, fb::UploadRecordIdentifier(), "upload record");
}

Buffer contribution_summary(const fb::ContributionSummaryT& summary) {
  flatbuffers::FlatBufferBuilder fbb(256);
  fbb.Finish(fb::CreateContributionSummary(fbb, &summary), fb::ContributionSummaryIdentifier());
  return to_buffer(fbb);
}

const fb::ContributionSummary* verify_contribution_summary(std::span<const char> data) {
  return verified<fb::ContributionSummary>(data, fb::ContributionSummaryIdentifier(), "contribution summary");
}

Buffer version_info(const fb::VersionInfoT& info) {
  flatbuffers::FlatBufferBuilder fbb(256);
  fbb.Finish(fb::CreateVersionInfo(fbb, &info), fb::VersionInfoIdentifier());
  return to_buffer(fbb);
}

const fb::VersionInfo* verify_version_info(std::span<const char> data) {
  return verified<fb::VersionInfo>(data, fb::VersionInfoIdentifier(), "version info");
}

Buffer key_record(const std::string& name, fb::Role role, const Sha256& hash, uint64_t created_at_ms, bool revoked) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto n = fbb.CreateString(name);
  auto h = fbb.CreateVector(hash.data(), hash.size());
  fbb.Finish(fb::CreateKeyRecord(fbb, n, role, h, created_at_ms, revoked), fb::KeyRecordIdentifier());
  return to_buffer(fbb);
}

const fb::KeyRecord* verify_key_record(std::span<const char> data) {
  const auto* k = verified<fb::KeyRecord>(data, fb::KeyRecordIdentifier(), "key record");
  if (k->sha256()->size() != 32) throw RequestError(ErrorCode::internal, "stored key record has a bad hash length");
  return k;
}

}  // namespace fedhub::records

// Building requests: one function per request type of
// messages/schemas/request.fbs, each returning a complete RequestEnvelope
// buffer carrying the caller's API key. The hub verifies them with
// messages/requests.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "messages/buffer.hpp"
#include "messages/model_spec_generated.h"
#include "messages/request_generated.h"
#include "model/tensor.hpp"

namespace fedhub::requests {

Buffer list_models(const std::string& key);
Buffer download(const std::string& key, const std::string& model, int64_t version, uint64_t offset, uint64_t max_bytes);

// ---- uploads (schemas/request.fbs describes the session)
// Begins an upload with a bare contribution header (contribution_header(),
// or read_contribution(file).header_bytes).
Buffer upload_begin(const std::string& key, std::span<const char> header);
// Bytes [offset, offset + data.size()) of the data section; computes the
// part's hash. The data is 16-byte aligned inside the request.
Buffer upload_part(const std::string& key, const std::string& model, uint64_t upload_id, uint64_t offset,
                   std::span<const char> data);
Buffer upload_commit(const std::string& key, const std::string& model, uint64_t upload_id);
Buffer upload_resume(const std::string& key, const std::string& model, uint64_t upload_id);
Buffer upload_abort(const std::string& key, const std::string& model, uint64_t upload_id);

Buffer status(const std::string& key, const std::string& model, int64_t version);
Buffer merge(const std::string& key, const std::string& model, uint64_t base_version);
// `initial`: every parameter in the architecture's order (a data section's
// layout); empty: the hub initialises version 0 with init_seed.
Buffer create_model(const std::string& key, const fb::ModelSpecT& spec, std::span<const float> initial,
                    uint64_t init_seed = 1, const std::string& policy_json = {});
Buffer add_key(const std::string& key, const std::string& name, fb::Role role);
Buffer list_keys(const std::string& key);
Buffer revoke_key(const std::string& key, const std::string& name);
Buffer subscribe(const std::string& key, const std::string& model);
Buffer unsubscribe(const std::string& key, const std::string& model);
Buffer whoami(const std::string& key);
// A consistent copy of the hub's data directory into `directory` (a new,
// absolute path on the hub's machine).
Buffer backup(const std::string& key, const std::string& directory);
// Shows a model's merge policy, or changes the settings named in policy_json.
Buffer policy(const std::string& key, const std::string& model, const std::string& policy_json = {});

// ---- the model registry (managers; schemas/request.fbs)
Buffer delete_model(const std::string& key, const std::string& model);
// archived = false: unarchive.
Buffer archive_model(const std::string& key, const std::string& model, bool archived);
Buffer rollback(const std::string& key, const std::string& model, uint64_t to_version);
// The provenance of versions first..last (-1: the current one).
Buffer history(const std::string& key, const std::string& model, uint64_t first = 0, int64_t last = -1);
// Replays the merge that produced `version` and compares it with the stored one.
Buffer verify(const std::string& key, const std::string& model, uint64_t version);
// The model's leaderboard (a participant's key: its own row).
Buffer leaderboard(const std::string& key, const std::string& model);
// An import's first request: the spec (its name is the model's), the policy,
// every version's info (oldest first) and the versions whose packages the
// parts carry.
Buffer import_begin(const std::string& key, const fb::ModelSpecT& spec, const std::string& policy_json,
                    const std::vector<fb::VersionInfoT>& versions, const std::vector<uint64_t>& with_weights);
// Bytes [offset, offset + data.size()) of the concatenated packages; computes
// the part's hash.
Buffer import_part(const std::string& key, const std::string& model, uint64_t import_id, uint64_t offset,
                   std::span<const char> data);
Buffer import_commit(const std::string& key, const std::string& model, uint64_t import_id);

}  // namespace fedhub::requests

// Building requests (clients) and verifying them (hub). One function per
// request type of schemas/request.fbs; each returns a complete
// RequestEnvelope buffer carrying the caller's API key.
#pragma once

#include <span>
#include <string>

#include "messages/buffer.hpp"
#include "messages/model_spec_generated.h"
#include "messages/request_generated.h"
#include "model/tensor.hpp"

namespace fedhub::requests {

Buffer list_models(const std::string& key);
Buffer download(const std::string& key, const std::string& model, int64_t version, uint64_t offset, uint64_t max_bytes);
Buffer upload(const std::string& key, std::span<const char> contribution);
Buffer status(const std::string& key, const std::string& model, int64_t version);
Buffer merge(const std::string& key, const std::string& model, uint64_t base_version);
Buffer create_model(const std::string& key, const fb::ModelSpecT& spec, const Weights& initial,
                    const std::string& policy_json = {});
Buffer add_key(const std::string& key, const std::string& name, fb::Role role);
Buffer list_keys(const std::string& key);
Buffer revoke_key(const std::string& key, const std::string& name);
Buffer subscribe(const std::string& key, const std::string& model);
Buffer unsubscribe(const std::string& key, const std::string& model);
Buffer whoami(const std::string& key);
// Shows a model's merge policy, or changes the settings named in policy_json.
Buffer policy(const std::string& key, const std::string& model, const std::string& policy_json = {});

// Verifies a received request (including a nested contribution); throws
// RequestError(bad_request) naming the defect.
const fb::RequestEnvelope* verify(std::span<const char> data);

// The model a request is about, or "" for hub-wide requests.
std::string model_of(const fb::RequestEnvelope& request);

}  // namespace fedhub::requests

// Who may talk to the hub: API keys with roles, kept hashed in the store and
// cached in memory. Not thread-safe: the hub actor owns it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/common_generated.h"
#include "messages/response_generated.h"
#include "persistence/store.hpp"
#include "security/api_keys.hpp"

namespace fedhub {

struct Identity {
  std::string name;
  fb::Role role = fb::Role::participant;
  bool is_manager() const { return role == fb::Role::manager; }
};

class KeyRegistry {
 public:
  // Loads every key record from the store. Throws on damaged records.
  explicit KeyRegistry(Store& store);

  // The identity of a key; throws RequestError(unauthorized) for a missing,
  // unknown or revoked key.
  Identity authenticate(const std::string& key) const;

  // Creates a key and stores its hash before returning it (the only copy).
  // Throws RequestError(key_exists) or (bad_request) for a bad name.
  std::string add(const std::string& name, fb::Role role);

  // Revokes a key for good. Throws RequestError(unknown_key).
  void revoke(const std::string& name);

  std::vector<fb::KeyInfoT> list() const;

  // When no manager key exists yet, creates one named `name` and returns it.
  std::optional<std::string> ensure_manager_key(const std::string& name = "manager");

 private:
  struct Entry {
    fb::Role role;
    KeyHash hash;
    uint64_t created_at_ms;
    bool revoked;
  };
  Store& store_;
  std::map<std::string, Entry> by_name_;
  std::map<KeyHash, std::string> by_hash_;
};

}  // namespace fedhub

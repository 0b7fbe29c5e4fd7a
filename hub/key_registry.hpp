// Who may talk to the hub: API keys with roles, kept hashed in the store and
// in memory. The registry decides; it does not write: a change is prepared
// (its StoreBatch), written by the caller (the hub's journal, synced), and
// only then applied, so that no key works before it is durable. Not
// thread-safe: the hub actor owns it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "persistence/store.hpp"
#include "security/api_keys.hpp"

namespace fedhub {

enum class Role { participant, manager };

struct Identity {
  std::string name;
  Role role = Role::participant;
  bool is_manager() const { return role == Role::manager; }
};

struct KeyInfo {
  std::string name;
  Role role = Role::participant;
  uint64_t created_at_ms = 0;
  bool revoked = false;
};

class KeyRegistry {
 public:
  // Loads every key record from the store. Throws RequestError(internal)
  // on a damaged record.
  explicit KeyRegistry(const Store& store);

  // The identity of a key; throws RequestError(unauthorized) for a missing,
  // unknown or revoked key.
  Identity authenticate(const std::string& key) const;

  struct Change {
    KeyInfo info;
    KeyHash hash{};
    std::string key;  // a new key: its only copy
    StoreBatch batch;
  };
  // A new key. Throws RequestError(key_exists) or (bad_request) for a bad
  // name. Nothing changes until apply().
  Change prepare_add(const std::string& name, Role role) const;
  // Revoking a key for good. Throws RequestError(unknown_key), and
  // (bad_request) for the last manager key that is not revoked (the hub
  // could never be managed again). Revoking a revoked key changes nothing.
  Change prepare_revoke(const std::string& name) const;
  // The change is durable: it takes effect.
  void apply(const Change& change);

  std::vector<KeyInfo> list() const;

  // When no manager key that works exists, creates one named `name`
  // (writing it synced to `store`) and returns it. For start-up, before the
  // actors run.
  std::optional<std::string> ensure_manager_key(Store& store, const std::string& name = "manager");

 private:
  struct Entry {
    Role role;
    KeyHash hash;
    uint64_t created_at_ms;
    bool revoked;
  };
  std::map<std::string, Entry> by_name_;
  std::map<KeyHash, std::string> by_hash_;
};

}  // namespace fedhub

#include "hub/key_registry.hpp"

#include <algorithm>

#include "messages/errors.hpp"
#include "messages/records.hpp"

namespace fedhub {

namespace {

fb::Role to_fb(Role r) { return r == Role::manager ? fb::Role::manager : fb::Role::participant; }

}  // namespace

KeyRegistry::KeyRegistry(const Store& store) {
  for (const auto& buf : store.keys()) {
    const auto* r = records::verify_key_record(buf);
    Entry e{r->role() == fb::Role::manager ? Role::manager : Role::participant, {}, r->created_at_ms(), r->revoked()};
    if (r->sha256()->size() != e.hash.size())
      throw RequestError(ErrorCode::internal, "the stored key '" + r->name()->str() + "' is damaged");
    std::copy(r->sha256()->begin(), r->sha256()->end(), e.hash.begin());
    by_hash_[e.hash] = r->name()->str();
    by_name_[r->name()->str()] = e;
  }
}

Identity KeyRegistry::authenticate(const std::string& key) const {
  if (key.empty()) throw RequestError(ErrorCode::unauthorized, "no API key given: pass --key or --key-file");
  auto it = by_hash_.find(hash_api_key(key));
  if (it == by_hash_.end()) throw RequestError(ErrorCode::unauthorized, "the API key is not known to this hub");
  const auto& e = by_name_.at(it->second);
  if (e.revoked) throw RequestError(ErrorCode::unauthorized, "the API key '" + it->second + "' has been revoked");
  return {it->second, e.role};
}

KeyRegistry::Change KeyRegistry::prepare_add(const std::string& name, Role role) const {
  if (auto why = check_key_name(name); !why.empty())
    throw RequestError(ErrorCode::bad_request, "key name '" + name + "': " + why);
  if (by_name_.count(name))
    throw RequestError(ErrorCode::key_exists, "a key named '" + name + "' exists already (names are never reused)");
  Change c;
  c.key = generate_api_key();
  c.hash = hash_api_key(c.key);
  c.info = {name, role, now_ms(), false};
  c.batch.put_key(name, records::key_record(name, to_fb(role), c.hash, c.info.created_at_ms, false));
  return c;
}

KeyRegistry::Change KeyRegistry::prepare_revoke(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) throw RequestError(ErrorCode::unknown_key, "there is no key named '" + name + "'");
  const auto& e = it->second;
  Change c;
  c.info = {name, e.role, e.created_at_ms, true};
  c.hash = e.hash;
  if (e.revoked) return c;  // nothing to write
  if (e.role == Role::manager) {
    const auto working = std::count_if(by_name_.begin(), by_name_.end(), [](const auto& kv) {
      return kv.second.role == Role::manager && !kv.second.revoked;
    });
    if (working <= 1)
      throw RequestError(ErrorCode::bad_request, "'" + name +
                                                     "' is the last manager key: add another manager key before "
                                                     "revoking it");
  }
  c.batch.put_key(name, records::key_record(name, to_fb(e.role), e.hash, e.created_at_ms, true));
  return c;
}

void KeyRegistry::apply(const Change& c) {
  if (c.info.revoked) {
    if (auto it = by_name_.find(c.info.name); it != by_name_.end()) it->second.revoked = true;
    return;
  }
  by_hash_[c.hash] = c.info.name;
  by_name_[c.info.name] = Entry{c.info.role, c.hash, c.info.created_at_ms, false};
}

std::vector<KeyInfo> KeyRegistry::list() const {
  std::vector<KeyInfo> out;
  for (const auto& [name, e] : by_name_) out.push_back({name, e.role, e.created_at_ms, e.revoked});
  return out;
}

std::optional<std::string> KeyRegistry::ensure_manager_key(Store& store, const std::string& name) {
  for (const auto& [n, e] : by_name_)
    if (e.role == Role::manager && !e.revoked) return std::nullopt;
  std::string candidate = name;
  for (int i = 1; by_name_.count(candidate); ++i) candidate = name + "-" + std::to_string(i);
  auto change = prepare_add(candidate, Role::manager);
  store.commit(change.batch, true);
  apply(change);
  return change.key;
}

}  // namespace fedhub

#include "hub/key_registry.hpp"

#include <algorithm>

#include "messages/errors.hpp"
#include "messages/records.hpp"

namespace fedhub {

KeyRegistry::KeyRegistry(Store& store) : store_(store) {
  for (const auto& buf : store_.keys()) {
    const auto* r = records::verify_key_record(buf);
    Entry e{r->role(), {}, r->created_at_ms(), r->revoked()};
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

std::string KeyRegistry::add(const std::string& name, fb::Role role) {
  if (auto why = check_key_name(name); !why.empty())
    throw RequestError(ErrorCode::bad_request, "key name '" + name + "': " + why);
  if (by_name_.count(name))
    throw RequestError(ErrorCode::key_exists, "a key named '" + name + "' exists already (names are never reused)");
  std::string key = generate_api_key();
  Entry e{role, hash_api_key(key), now_ms(), false};
  store_.put_key(name, records::key_record(name, role, e.hash, e.created_at_ms, false));
  by_hash_[e.hash] = name;
  by_name_[name] = e;
  return key;
}

void KeyRegistry::revoke(const std::string& name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) throw RequestError(ErrorCode::unknown_key, "there is no key named '" + name + "'");
  auto& e = it->second;
  if (e.revoked) return;
  store_.put_key(name, records::key_record(name, e.role, e.hash, e.created_at_ms, true));
  e.revoked = true;
}

std::vector<fb::KeyInfoT> KeyRegistry::list() const {
  std::vector<fb::KeyInfoT> out;
  for (const auto& [name, e] : by_name_) {
    fb::KeyInfoT k;
    k.name = name;
    k.role = e.role;
    k.created_at_ms = e.created_at_ms;
    k.revoked = e.revoked;
    out.push_back(std::move(k));
  }
  return out;
}

std::optional<std::string> KeyRegistry::ensure_manager_key(const std::string& name) {
  for (const auto& [n, e] : by_name_)
    if (e.role == fb::Role::manager && !e.revoked) return std::nullopt;
  std::string candidate = name;
  for (int i = 1; by_name_.count(candidate); ++i) candidate = name + "-" + std::to_string(i);
  return add(candidate, fb::Role::manager);
}

}  // namespace fedhub

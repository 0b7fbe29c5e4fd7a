#include "hub/upload_quota.hpp"

#include <algorithm>

#include "messages/errors.hpp"

namespace fedhub {

UploadQuota::Ledger& UploadQuota::expire(const std::string& key, uint64_t now_ms) {
  Ledger& l = keys_[key];
  while (!l.charges.empty() && l.charges.front().at_ms + kWindowMs <= now_ms) {
    l.total -= l.charges.front().bytes;
    l.charges.pop_front();
  }
  return l;
}

uint64_t UploadQuota::charge(const std::string& key, uint64_t bytes, uint64_t now_ms) {
  if (!enabled()) return 0;
  if (bytes > limit_)
    throw RequestError(ErrorCode::quota_exceeded,
                       "an upload of " + std::to_string(bytes) + " bytes is larger than the hub's quota of " +
                           std::to_string(limit_) +
                           " bytes per minute per key (quota_upload_bytes_per_minute): the operator must raise it");
  Ledger& l = expire(key, now_ms);
  if (l.total + bytes > limit_) {
    // Room returns when enough of the oldest charges leave the window.
    uint64_t freed = 0, at = now_ms;
    for (const auto& c : l.charges) {
      freed += c.bytes;
      at = c.at_ms + kWindowMs;
      if (l.total - freed + bytes <= limit_) break;
    }
    const uint64_t wait_s = (at - now_ms + 999) / 1000;
    throw RequestError(ErrorCode::quota_exceeded,
                       "'" + key + "' has uploaded " + std::to_string(l.total) + " bytes in the last minute; " +
                           std::to_string(bytes) + " more would pass the hub's quota of " + std::to_string(limit_) +
                           " bytes per minute (quota_upload_bytes_per_minute): try again in " +
                           std::to_string(std::max<uint64_t>(wait_s, 1)) + " s");
  }
  const uint64_t ticket = next_ticket_++;
  l.charges.push_back({now_ms, bytes, ticket});
  l.total += bytes;
  return ticket;
}

void UploadQuota::refund(const std::string& key, uint64_t ticket) {
  auto it = keys_.find(key);
  if (it == keys_.end() || ticket == 0) return;
  auto& charges = it->second.charges;
  auto c = std::find_if(charges.begin(), charges.end(), [&](const Charge& x) { return x.ticket == ticket; });
  if (c == charges.end()) return;
  it->second.total -= c->bytes;
  charges.erase(c);
  if (charges.empty()) keys_.erase(it);
}

uint64_t UploadQuota::used(const std::string& key, uint64_t now_ms) {
  if (!keys_.count(key)) return 0;
  const uint64_t total = expire(key, now_ms).total;
  if (total == 0) keys_.erase(key);
  return total;
}

}  // namespace fedhub

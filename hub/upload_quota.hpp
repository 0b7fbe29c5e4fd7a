// The per-key upload quota (config quota_upload_bytes_per_minute): the
// contribution bytes one key may upload to the hub per sliding minute, over
// all models. The hub actor charges an upload's declared data size at its
// begin, before any weight is sent, and refunds it when the model refuses
// the begin (stale, duplicate, ...), so only uploads the hub took count.
//
//   UploadQuota quota(64 << 20);                      // 0: no quota
//   const auto ticket = quota.charge("org-1", bytes, now_ms);   // or throws quota_exceeded
//   if (refused) quota.refund("org-1", ticket);
//
// Memory: one entry per charged upload of the last minute, for
// authenticated keys only. Not thread-safe (the hub actor owns it).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

namespace fedhub {

class UploadQuota {
 public:
  static constexpr uint64_t kWindowMs = 60000;

  explicit UploadQuota(uint64_t bytes_per_minute) : limit_(bytes_per_minute) {}
  bool enabled() const { return limit_ > 0; }
  uint64_t limit() const { return limit_; }

  // Charges `bytes` to `key` at now_ms and returns its ticket, or throws
  // RequestError(quota_exceeded) saying what the key used in the last minute
  // and when there will be room (nothing is charged then). Without a quota,
  // charges nothing and returns 0.
  uint64_t charge(const std::string& key, uint64_t bytes, uint64_t now_ms);
  // Takes back a charge (a begin the model refused); unknown tickets are ignored.
  void refund(const std::string& key, uint64_t ticket);
  // Bytes charged to `key` in the minute before now_ms.
  uint64_t used(const std::string& key, uint64_t now_ms);

 private:
  struct Charge {
    uint64_t at_ms;
    uint64_t bytes;
    uint64_t ticket;
  };
  struct Ledger {
    std::deque<Charge> charges;  // oldest first
    uint64_t total = 0;
  };
  Ledger& expire(const std::string& key, uint64_t now_ms);

  uint64_t limit_;
  uint64_t next_ticket_ = 1;
  std::map<std::string, Ledger> keys_;
};

}  // namespace fedhub

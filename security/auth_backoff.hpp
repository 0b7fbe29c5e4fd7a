// A back-off for peers that keep failing to authenticate (issue 10, "who
// belongs"): after `failures_before_backoff` failed authentications in a row
// from one peer, its requests are refused without their key being checked,
// for 1 s, doubling with each further failure up to `max_ms`. A success
// forgets the peer. The peer is whatever the door can name: the CAF door's
// remote node (as CAF identifies it), the HTTP door's client address.
//
// Memory is bounded: at most `max_peers` are remembered; when that many are,
// those whose last failure is older than `max_ms` are forgotten first, then
// the one whose last failure is oldest.
//
//   AuthBackoff backoff({.failures_before_backoff = 10, .max_ms = 60000});
//   if (auto ms = backoff.blocked_for(peer, now)) refuse("try again in " + ms);
//   try { authenticate(key); backoff.succeeded(peer); }
//   catch (unauthorized&) { backoff.failed(peer, now); throw; }
//
// Not thread-safe: one owner (the hub actor; the HTTP door holds it under a mutex).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace fedhub {

class AuthBackoff {
 public:
  struct Settings {
    uint32_t failures_before_backoff = 10;
    uint64_t first_ms = 1000;  // the first back-off; doubles with each further failure
    uint64_t max_ms = 60000;
    size_t max_peers = 65536;
  };

  explicit AuthBackoff(Settings settings);

  // Milliseconds the peer is still refused for at now_ms; 0: not refused.
  uint64_t blocked_for(const std::string& peer, uint64_t now_ms) const;
  // Notes a failed authentication; returns the back-off it starts (0: none yet).
  uint64_t failed(const std::string& peer, uint64_t now_ms);
  // Notes a successful one: the peer's failures are forgotten.
  void succeeded(const std::string& peer);
  // Peers remembered (for tests and the bound).
  size_t peers() const { return peers_.size(); }

 private:
  struct Peer {
    uint32_t failures = 0;  // in a row
    uint64_t last_ms = 0;   // the last failure
    uint64_t until_ms = 0;  // refused before this
  };
  void make_room(uint64_t now_ms);

  Settings settings_;
  std::unordered_map<std::string, Peer> peers_;
};

}  // namespace fedhub

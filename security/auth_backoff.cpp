#include "security/auth_backoff.hpp"

#include <algorithm>
#include <stdexcept>

namespace fedhub {

AuthBackoff::AuthBackoff(Settings settings) : settings_(settings) {
  if (settings_.failures_before_backoff < 1) throw std::invalid_argument("auth back-off: failures_before_backoff < 1");
  if (settings_.first_ms < 1 || settings_.max_ms < settings_.first_ms)
    throw std::invalid_argument("auth back-off: need 1 <= first_ms <= max_ms");
  if (settings_.max_peers < 1) throw std::invalid_argument("auth back-off: max_peers < 1");
}

uint64_t AuthBackoff::blocked_for(const std::string& peer, uint64_t now_ms) const {
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.until_ms <= now_ms) return 0;
  return it->second.until_ms - now_ms;
}

uint64_t AuthBackoff::failed(const std::string& peer, uint64_t now_ms) {
  if (!peers_.count(peer) && peers_.size() >= settings_.max_peers) make_room(now_ms);
  Peer& p = peers_[peer];
  // A peer quiet for longer than the longest back-off starts afresh.
  if (p.failures > 0 && now_ms > p.last_ms + settings_.max_ms) p.failures = 0;
  ++p.failures;
  p.last_ms = now_ms;
  if (p.failures < settings_.failures_before_backoff) return 0;
  const uint32_t doublings = std::min<uint32_t>(p.failures - settings_.failures_before_backoff, 40);
  const uint64_t ms = std::min(settings_.max_ms, settings_.first_ms << std::min<uint32_t>(doublings, 20));
  p.until_ms = now_ms + ms;
  return ms;
}

void AuthBackoff::succeeded(const std::string& peer) { peers_.erase(peer); }

void AuthBackoff::make_room(uint64_t now_ms) {
  std::erase_if(peers_, [&](const auto& e) { return now_ms > e.second.last_ms + settings_.max_ms; });
  if (peers_.size() < settings_.max_peers) return;
  auto oldest = std::min_element(peers_.begin(), peers_.end(),
                                 [](const auto& a, const auto& b) { return a.second.last_ms < b.second.last_ms; });
  peers_.erase(oldest);
}

}  // namespace fedhub

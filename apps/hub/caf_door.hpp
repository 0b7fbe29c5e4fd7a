// fl-hub's CAF door: the hub actor published on a loopback port only CAF
// knows, and in front of it the frame guard (guard/frame_guard.hpp) on the
// configured address, plain or TLS, which every participant and manager
// connects to.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <memory>

#include "config/hub_config.hpp"
#include "guard/frame_guard.hpp"

namespace fedhub {

class CafDoor {
 public:
  // Publishes `hub` and opens the guard; throws std::runtime_error naming
  // the address or the TLS file that is wrong.
  CafDoor(caf::actor_system& system, caf::actor hub, const HubConfig& cfg);
  ~CafDoor();  // close()
  CafDoor(const CafDoor&) = delete;
  CafDoor& operator=(const CafDoor&) = delete;

  uint16_t port() const { return guard_->port(); }
  bool tls() const { return tls_; }
  // Closes the guard (and every connection through it), then unpublishes.
  void close();

 private:
  caf::actor hub_;
  uint16_t upstream_ = 0;
  bool tls_ = false;
  std::unique_ptr<guard::FrameGuard> guard_;
};

}  // namespace fedhub

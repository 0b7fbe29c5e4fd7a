// Connection slots of a door: at most `total` connections at once, at most
// `per_peer` of them from one address. A slot is held by a Ticket and given
// back when the ticket goes away:
//
//   PeerSlots slots({.total = 4096, .per_peer = 256});
//   auto ticket = slots.admit("192.0.2.7");
//   if (!ticket) refuse();       // slots.refusal() says which limit
//
// Thread-safe. Depends on nothing but the standard library.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace fedhub::guard {

struct SlotLimits {
  int total = 4096;
  int per_peer = 256;
};

class PeerSlots : public std::enable_shared_from_this<PeerSlots> {
 public:
  // Holds one slot; movable, gives it back when destroyed.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(std::shared_ptr<PeerSlots> owner, std::string peer);
    Ticket(Ticket&&) noexcept;
    Ticket& operator=(Ticket&&) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

   private:
    std::shared_ptr<PeerSlots> owner_;
    std::string peer_;
  };

  enum class Refusal { too_many_connections, too_many_from_peer };

  // Make PeerSlots with std::make_shared (tickets keep it alive).
  static std::shared_ptr<PeerSlots> make(SlotLimits limits);

  // A slot for a connection from `peer`, or why there is none.
  std::optional<Ticket> admit(const std::string& peer, Refusal* why = nullptr);

  int open() const;
  int open_from(const std::string& peer) const;

 private:
  explicit PeerSlots(SlotLimits limits) : limits_(limits) {}
  void release(const std::string& peer);

  SlotLimits limits_;
  mutable std::mutex mutex_;
  int open_ = 0;
  std::map<std::string, int> per_peer_;
};

const char* name(PeerSlots::Refusal refusal);

}  // namespace fedhub::guard

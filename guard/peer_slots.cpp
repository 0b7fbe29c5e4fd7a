#include "guard/peer_slots.hpp"

namespace fedhub::guard {

const char* name(PeerSlots::Refusal refusal) {
  return refusal == PeerSlots::Refusal::too_many_connections ? "too_many_connections" : "too_many_from_peer";
}

PeerSlots::Ticket::Ticket(std::shared_ptr<PeerSlots> owner, std::string peer)
    : owner_(std::move(owner)), peer_(std::move(peer)) {}

PeerSlots::Ticket::Ticket(Ticket&& other) noexcept : owner_(std::move(other.owner_)), peer_(std::move(other.peer_)) {
  other.owner_.reset();
}

PeerSlots::Ticket& PeerSlots::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    if (owner_) owner_->release(peer_);
    owner_ = std::move(other.owner_);
    peer_ = std::move(other.peer_);
    other.owner_.reset();
  }
  return *this;
}

PeerSlots::Ticket::~Ticket() {
  if (owner_) owner_->release(peer_);
}

std::shared_ptr<PeerSlots> PeerSlots::make(SlotLimits limits) {
  return std::shared_ptr<PeerSlots>(new PeerSlots(limits));
}

std::optional<PeerSlots::Ticket> PeerSlots::admit(const std::string& peer, Refusal* why) {
  std::lock_guard lock(mutex_);
  if (open_ >= limits_.total) {
    if (why) *why = Refusal::too_many_connections;
    return std::nullopt;
  }
  int& mine = per_peer_[peer];
  if (mine >= limits_.per_peer) {
    if (mine == 0) per_peer_.erase(peer);
    if (why) *why = Refusal::too_many_from_peer;
    return std::nullopt;
  }
  ++mine;
  ++open_;
  return Ticket(shared_from_this(), peer);
}

void PeerSlots::release(const std::string& peer) {
  std::lock_guard lock(mutex_);
  --open_;
  auto it = per_peer_.find(peer);
  if (it != per_peer_.end() && --it->second <= 0) per_peer_.erase(it);
}

int PeerSlots::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

int PeerSlots::open_from(const std::string& peer) const {
  std::lock_guard lock(mutex_);
  auto it = per_peer_.find(peer);
  return it == per_peer_.end() ? 0 : it->second;
}

}  // namespace fedhub::guard

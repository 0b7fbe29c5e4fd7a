// The answers to a manager's ListHistory and VerifyVersion requests (messages/schemas/
// request.fbs), computed from the store alone (the hub runs them on a
// worker thread of their own, off every model's request path).
#pragma once

#include <cstdint>
#include <string>

#include "messages/buffer.hpp"
#include "persistence/store.hpp"

namespace fedhub {

// The most provenance records one VersionHistory answer holds.
inline constexpr uint64_t kHistoryPageVersions = 200;

// The VersionHistory response of versions first..last (last < 0: the current
// one) of `model`: their provenance records, oldest first, at most
// kHistoryPageVersions (truncated says more follow). Throws
// RequestError(unknown_model).
Buffer history_response(const Store& store, const std::string& model, uint64_t first, int64_t last);

// The Leaderboard response of `model` (hub/leaderboard.hpp): every row,
// or only `participant`'s when it is not empty.
Buffer leaderboard_response(const Store& store, const std::string& model, const std::string& participant);

// The VerifyReport response of a replay of `version` (hub/replay.hpp).
// Throws RequestError(unknown_model, unknown_version).
Buffer verify_response(const Store& store, const std::string& model, uint64_t version);

}  // namespace fedhub

// fl-hub's commands on a data directory (reset-manager-key, backup, restore):
// whether a hub runs on it, and opening it when none does.
#pragma once

#include <memory>
#include <string>

#include "persistence/store.hpp"

namespace fedhub::cli {

// Whether another process holds the RocksDB lock of `dir` (a hub runs on it).
bool store_locked(const std::string& dir);

// Opens the store of a hub that is not running, for an offline command.
// Throws std::runtime_error naming the directory when it holds no hub data
// or a hub runs on it ("stop it first").
std::shared_ptr<Store> open_offline(const std::string& dir);

}  // namespace fedhub::cli

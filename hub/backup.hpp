// Backups of a hub's data directory: a consistent copy taken while the hub
// runs (RocksDB's checkpoint through Store::checkpoint), and the restore of
// such a copy into a new data directory. Used by the hub's backup worker
// (actors/backup_worker.hpp) and by `fl-hub backup|restore` with the hub
// stopped (docs/operations.md).
#pragma once

#include <string>

#include "persistence/store.hpp"

namespace fedhub {

// Checks where a backup is to go: an absolute path that does not exist yet,
// whose parent is a directory. Throws RequestError(bad_request) naming the
// path and what is wrong.
void check_backup_target(const std::string& dir);

// Writes a consistent copy of `store` into `dir` (checked first) and syncs
// it. Returns a line for the operator: where, how many files, how big.
// Throws RequestError (bad_request for the target, internal for the store).
std::string write_backup(Store& store, const std::string& dir);

// Makes the backup in `from` the data directory `data_dir`, which must not
// exist yet: copies it to "<data_dir>.restoring", opens the copy as a store
// (which checks its schema and replays nothing), syncs it and renames it to
// `data_dir`. The backup itself is only read. Returns a line for the
// operator. Throws std::runtime_error naming the directory at fault.
std::string restore_backup(const std::string& from, const std::string& data_dir);

}  // namespace fedhub

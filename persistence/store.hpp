// The hub's durable state in RocksDB. docs/storage.md draws the key layout.
//
// Column families (values are verified FlatBuffers records, messages/):
//   models        name                          -> ModelRecord   (spec, current version)
//   versions      name 0x00 be64(version)       -> ModelVersion  (weights)
//   version_info  name 0x00 be64(version)       -> VersionInfo   (no weights)
//   contributions name 0x00 be64(base) participant -> ContributionRecord (weights)
//   filter        name 0x00 be64(base) participant -> ContributionSummary
//                 (the stale/duplicate filtering state: one per participant and base)
//   pending       name 0x00 be64(seq)           -> ContributionSummary
//                 (accepted contributions not merged yet, in arrival order)
//   keys          key name                      -> KeyRecord (SHA-256 only)
//   meta          "schema"                      -> "1"
//
// Crash guarantee: every write method returns only after its WriteBatch is
// synced to the write-ahead log (WriteOptions::sync). A batch is atomic: after
// a crash (even kill -9 or power loss) a reopened store holds either all of a
// call's writes or none of them, and holds every call that returned.
//
// Thread safety: all methods may be called from several threads at once.
// Callers serialise the read-check-write sequences they need (the hub does
// it by giving each model's writes to one actor).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "messages/buffer.hpp"

namespace fedhub {

// A failed storage operation; nothing of the failed call was written.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Store {
 public:
  // Opens the store in `dir`, creating it (and missing parent directories)
  // when needed, and recovers from the write-ahead log after a crash.
  // Throws StoreError naming the directory (e.g. held by another hub).
  static std::unique_ptr<Store> open(const std::string& dir);
  virtual ~Store() = default;

  // ---- models ----
  // Writes the model record and version 0 (weights and info) in one batch.
  virtual void create_model(const std::string& name, std::span<const char> model_record, std::span<const char> version0,
                            std::span<const char> version0_info) = 0;
  virtual std::optional<Buffer> model(const std::string& name) const = 0;
  // Every model record, ordered by name.
  virtual std::vector<Buffer> models() const = 0;

  // ---- versions ----
  virtual std::optional<Buffer> version(const std::string& name, uint64_t version) const = 0;
  // The versions of a model whose weights are stored (not pruned), ascending.
  virtual std::vector<uint64_t> stored_versions(const std::string& name) const = 0;
  // The VersionInfo records of a model, oldest first.
  virtual std::vector<Buffer> version_infos(const std::string& name) const = 0;
  // What a merge removes in the same batch as it adds its version.
  struct MergeCleanup {
    std::vector<uint64_t> pending_seqs;                           // merged or dropped pending entries
    std::vector<std::pair<uint64_t, std::string>> contributions;  // (base, participant) weights to delete
    std::vector<uint64_t> pruned_versions;                        // version weights to delete (info stays)
  };
  // A merge's result: the new version's weights and info and the updated
  // model record, plus the cleanup, in one batch.
  virtual void commit_version(const std::string& name, uint64_t version, std::span<const char> version_record,
                              std::span<const char> version_info, std::span<const char> model_record,
                              const MergeCleanup& cleanup = {}) = 0;
  // Replaces a model record (e.g. a new merge policy), synced.
  virtual void update_model(const std::string& name, std::span<const char> model_record) = 0;

  // ---- contributions ----
  // Whether `participant` has a contribution recorded for `base`.
  virtual bool has_contribution(const std::string& name, uint64_t base, const std::string& participant) const = 0;
  // The contribution record, its filter summary and (with pending_seq) its
  // pending entry, in one batch.
  virtual void put_contribution(const std::string& name, uint64_t base, const std::string& participant,
                                std::span<const char> record, std::span<const char> summary,
                                std::optional<uint64_t> pending_seq = std::nullopt) = 0;
  // Removes a pending entry that will never be merged (dropped by the
  // staleness policy) and its contribution's weights, in one batch. Its
  // filter summary stays: the participant still cannot contribute twice.
  virtual void remove_pending(const std::string& name, uint64_t seq, uint64_t base, const std::string& participant) = 0;
  // One ContributionRecord, or nothing.
  virtual std::optional<Buffer> contribution(const std::string& name, uint64_t base,
                                             const std::string& participant) const = 0;
  // The pending entries of a model (sequence number, ContributionSummary), in
  // arrival order.
  virtual std::vector<std::pair<uint64_t, Buffer>> pending(const std::string& name) const = 0;
  // One more than the highest pending sequence number of a model (0 if none).
  virtual uint64_t next_pending_seq(const std::string& name) const = 0;
  // The ContributionSummary records for a base version, ordered by participant.
  virtual std::vector<Buffer> contribution_summaries(const std::string& name, uint64_t base) const = 0;
  virtual uint32_t count_contributions(const std::string& name, uint64_t base) const = 0;
  // Calls `visit` with each ContributionRecord for a base version, ordered by
  // participant, from one consistent snapshot taken at the call. Only one
  // record is held in memory at a time; the span is valid during the call and
  // 16-byte aligned. Returns the number visited.
  virtual size_t for_each_contribution(const std::string& name, uint64_t base,
                                       const std::function<void(std::span<const char> record)>& visit) const = 0;

  // ---- API keys ----
  virtual void put_key(const std::string& key_name, std::span<const char> record) = 0;
  virtual std::optional<Buffer> key(const std::string& key_name) const = 0;
  // Every key record, ordered by name.
  virtual std::vector<Buffer> keys() const = 0;
};

// The key of a (model, version) or (model, base) pair: name 0x00 be64(n).
std::string version_key(std::string_view model, uint64_t version);
// name 0x00 be64(base) participant
std::string contribution_key(std::string_view model, uint64_t base, std::string_view participant);

}  // namespace fedhub

// The hub's durable state in RocksDB. docs/storage.md draws the key layout.
//
// Column families (values are verified FlatBuffers records, messages/, or raw
// bytes where noted):
//   models        name                              -> ModelRecord (spec, created, merge policy)
//   versions      name 0x00 be64(version) be32(piece) -> raw bytes: piece `piece` of the version's
//                                                      framed package (messages/framed.hpp), each
//                                                      piece `piece_bytes` long but the last
//   version_info  name 0x00 be64(version)           -> VersionInfo (no weights; the whole history)
//   server_state  name 0x00 be32(piece)             -> raw bytes: the aggregator's ServerState
//                                                      record after the current version, in pieces
//   contributions name 0x00 be64(base) participant  -> ContributionRecord (header, upload id; no weights)
//   chunks        name 0x00 be64(upload) be64(offset) -> raw bytes: a contribution's weight data,
//                                                      as the parts of its upload arrived
//   filter        name 0x00 be64(base) participant  -> ContributionSummary: who contributed to which
//                                                      base (the stale/duplicate filtering state)
//   pending       name 0x00 be64(seq)               -> ContributionSummary: accepted, not merged yet
//   uploads       name 0x00 be64(upload)            -> UploadRecord: an upload session in progress
//                                                      (its chunks are garbage after a restart)
//   keys          key name                          -> KeyRecord (SHA-256 only)
//   provenance    name 0x00 be64(version)           -> Provenance: what went into the version
//                                                      (written with its info; the whole history)
//   replay_state  name 0x00 be64(version) be32(piece) -> raw bytes: the server state record the
//                                                      merge of `version` started from, in pieces
//                                                      (kept with the merged contributions' chunks
//                                                      for the policy's replay_versions newest)
//   scores        name 0x00 be64(version)           -> VersionScores: its hub-side evaluation and
//                                                      its contributions' scores (docs/crowd.md)
//   meta          "schema"                          -> "2" (a directory of schema "1", the layout
//                                                      before pieces and chunks, is refused)
//
// Crash guarantee: a commit() with sync = true returns only after its one
// WriteBatch is synced to the write-ahead log. A batch is atomic: after a
// crash (even kill -9 or power loss) a reopened store holds either all of a
// commit's writes or none of them, and holds every synced commit that
// returned. Writes with sync = false become durable with the next synced
// commit or sync_wal() of any caller (the log is one sequence).
//
// Thread safety: all methods may be called from several threads at once;
// concurrent synced commits share fsyncs (RocksDB groups writers).
// Callers serialise the read-check-write sequences they need (the hub gives
// each model's decisions to one actor).
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

// A write refused because the data directory's filesystem is full
// (RocksDB's no-space error, or the background error state that follows it
// and refuses later writes): nothing of the failed call was written. The
// store tries DB::Resume() before its next write, so writes work again once
// space is freed, without a restart; reads keep working meanwhile.
class StorageFullError : public StoreError {
 public:
  using StoreError::StoreError;
};

// Column families (see above).
enum class Family : uint8_t {
  models,
  versions,
  version_info,
  server_state,
  contributions,
  chunks,
  filter,
  pending,
  uploads,
  keys,
  provenance,
  replay_state,
  scores,
  meta
};

// The size of the pieces large values are stored in (versions, server state).
inline constexpr uint32_t kPieceBytes = 4u << 20;

// A set of writes applied atomically by Store::commit(). Plain data (it is
// sent between actors): every operation carries its own key and value. The
// typed methods build the keys of the layout above; operations apply in
// order (a put after an erase_range of its key stays).
class StoreBatch {
 public:
  enum class Kind : uint8_t { put, erase, erase_range };
  struct Op {
    Kind kind = Kind::put;
    Family family = Family::meta;
    std::string key;
    Buffer value;  // put: the value; erase_range: the end key (exclusive); erase: empty
  };

  // ---- models
  void put_model(const std::string& name, std::span<const char> record);
  // ---- versions
  // The whole framed package of `version`, split into kPieceBytes pieces
  // (piece i holds bytes [i * kPieceBytes, min((i + 1) * kPieceBytes, size));
  // an empty package is one empty piece, so it counts as stored).
  void put_version(const std::string& name, uint64_t version, std::span<const char> package);
  // One piece (callers that produce a package piecewise); `piece` counts from 0.
  void put_version_piece(const std::string& name, uint64_t version, uint32_t piece, std::span<const char> bytes);
  void put_version_info(const std::string& name, uint64_t version, std::span<const char> info);
  // Deletes the weights (every piece) of a version; its info stays.
  void erase_version_pieces(const std::string& name, uint64_t version);
  // ---- server state: replaces the whole record (pieces of kPieceBytes; the
  // old pieces are erased first, so none of a longer old record remains; an
  // empty state is stored as one empty piece).
  void put_server_state(const std::string& name, std::span<const char> state);
  // ---- contributions
  // The contribution record and its filter summary, and (with pending_seq)
  // its pending entry.
  void put_contribution(const std::string& name, uint64_t base, const std::string& participant,
                        std::span<const char> record, std::span<const char> summary,
                        std::optional<uint64_t> pending_seq = std::nullopt);
  // Removes a merged contribution: its record, its pending entry and every
  // chunk of its upload. The filter summary stays (duplicates stay refused).
  void erase_merged(const std::string& name, uint64_t base, const std::string& participant, uint64_t pending_seq,
                    uint64_t upload_id);
  void put_chunk(const std::string& name, uint64_t upload_id, uint64_t offset, std::span<const char> bytes);
  void erase_chunks(const std::string& name, uint64_t upload_id);
  void put_upload(const std::string& name, uint64_t upload_id, std::span<const char> record);
  void erase_upload(const std::string& name, uint64_t upload_id);
  // ---- provenance and the inputs kept to replay a merge (hub/replay.hpp)
  void put_provenance(const std::string& name, uint64_t version, std::span<const char> record);
  // The server state record a merge started from (pieces of kPieceBytes).
  void put_replay_state(const std::string& name, uint64_t version, std::span<const char> state);
  void erase_replay_state(const std::string& name, uint64_t version);
  void put_scores(const std::string& name, uint64_t version, std::span<const char> record);
  // Removes a merged contribution's record and pending entry but keeps its
  // chunks (the inputs of a replay); erase_chunks() drops them later.
  void retire_merged(const std::string& name, uint64_t base, const std::string& participant, uint64_t pending_seq);
  // ---- keys
  void put_key(const std::string& key_name, std::span<const char> record);

  // The commit of this batch first makes every unlogged write to `family`
  // durable (Store::write_unlogged): a record refers to weights written
  // without the log.
  void persist_first(Family family);
  const std::vector<Family>& families_to_persist() const { return persist_; }

  // Appends another batch's operations (and what it must persist first).
  void append(StoreBatch&& other);
  bool empty() const { return ops_.empty(); }
  // Bytes of keys and values added by the methods above (a measure of the
  // write's size; edits through ops() are not counted).
  uint64_t bytes() const { return bytes_; }
  const std::vector<Op>& ops() const { return ops_; }
  std::vector<Op>& ops() { return ops_; }

 private:
  void add(Kind kind, Family family, std::string key, std::span<const char> value);
  std::vector<Op> ops_;
  std::vector<Family> persist_;
  uint64_t bytes_ = 0;
};

// Settings of a store (defaults fit a hub; tests make small ones).
struct StoreOptions {
  // Memtable size per column family.
  uint64_t write_buffer_bytes = 64ull << 20;
  // Values at least this large go to RocksDB blob files (0: never), so that
  // compaction does not rewrite weights.
  uint64_t min_blob_bytes = 256ull << 10;
};

class Store {
 public:
  // Opens the store in `dir`, creating it (and missing parent directories)
  // when needed, and recovers from the write-ahead log after a crash.
  // Throws StoreError naming the directory (e.g. held by another hub, or a
  // schema this hub does not read: a directory of schema "1" was made by an
  // older fedhub and must be recreated). Families a newer hub added are
  // opened and left alone.
  static std::unique_ptr<Store> open(const std::string& dir, const StoreOptions& options = {});
  virtual ~Store() = default;

  // ---- writing
  // Applies every batch, in order, as ONE atomic RocksDB WriteBatch (group
  // commit: several callers' writes share one fsync), after persisting the
  // families the batches name (persist_first). With sync, returns after the
  // log is synced. Throws StoreError (StorageFullError when the disk is
  // full); nothing is written then.
  // An operation the store cannot apply (an unknown family or kind, an
  // erase_range whose end is before its begin, a write of meta "schema")
  // fails the whole commit; an erase_range with end == begin does nothing.
  virtual void commit(std::span<const StoreBatch* const> batches, bool sync = true) = 0;
  void commit(const StoreBatch& batch, bool sync = true);
  // Syncs everything written so far (sync = false writes included).
  virtual void sync_wal() = 0;
  // Writes a batch without RocksDB's log, so that bulk data (weights) reach
  // the disk once (in the table/blob files) instead of twice. Such writes
  // are lost in a crash until persist() of their family ran; they must be
  // invisible until a later synced commit refers to them, and that commit's
  // batch says persist_first(family). Throws StoreError.
  virtual void write_unlogged(const StoreBatch& batch) = 0;
  // Makes every write to `family` so far durable without the log: flushes
  // its memtable to synced table and blob files. Throws StoreError.
  virtual void persist(Family family) = 0;
  // Writes a consistent copy of the whole store (every family, as of one
  // moment, with what acknowledged commits wrote) into `dir`, which must not
  // exist yet: RocksDB's checkpoint, hard links where `dir` is on the same
  // filesystem, copies otherwise. Safe while other threads commit. Throws
  // StoreError.
  virtual void checkpoint(const std::string& dir) = 0;

  // ---- models
  virtual std::optional<Buffer> model(const std::string& name) const = 0;
  // Every model record, ordered by name.
  virtual std::vector<Buffer> models() const = 0;

  // ---- versions
  // The newest version with a VersionInfo, or nothing for an unknown model.
  virtual std::optional<uint64_t> latest_version(const std::string& name) const = 0;
  // The VersionInfo records of a model, oldest first.
  virtual std::vector<Buffer> version_infos(const std::string& name) const = 0;
  // The versions of a model whose weights (piece 0) are stored, ascending.
  virtual std::vector<uint64_t> stored_versions(const std::string& name) const = 0;
  // Copies bytes [offset, offset + out.size()) of a stored version's package
  // into `out`, reading only the pieces that cover the range (an empty range
  // reads piece 0). Returns false when the version's weights are not stored
  // (piece 0 is absent; it is looked up only when a piece of the range is
  // missing). Throws StoreError ("damaged") when a piece of the range is
  // missing while piece 0 is there, or too short for the range: a damaged
  // store, or a range past the package's end (callers know its size).
  virtual bool read_version(const std::string& name, uint64_t version, uint64_t offset, std::span<char> out) const = 0;

  // ---- server state (pieces joined), or nothing. Throws StoreError when a
  // piece is missing or short (a damaged store).
  virtual std::optional<Buffer> server_state(const std::string& name) const = 0;

  // ---- contributions
  virtual std::optional<Buffer> contribution(const std::string& name, uint64_t base,
                                             const std::string& participant) const = 0;
  // Calls visit(offset, bytes) for each stored chunk of an upload in offset
  // order, one chunk in memory at a time (the span lives during the call,
  // 16-byte aligned), all from one snapshot (commits made meanwhile, even by
  // visit, are not seen). Returns the number of bytes visited. An exception
  // from visit ends the walk and propagates.
  virtual uint64_t for_each_chunk(
      const std::string& name, uint64_t upload_id,
      const std::function<void(uint64_t offset, std::span<const char> bytes)>& visit) const = 0;
  // The pending entries of a model (sequence number, ContributionSummary), in
  // sequence order.
  virtual std::vector<std::pair<uint64_t, Buffer>> pending(const std::string& name) const = 0;
  // One more than the highest pending sequence number of a model (0 if none).
  virtual uint64_t next_pending_seq(const std::string& name) const = 0;
  // The filter summaries for one base version, ordered by participant.
  virtual std::vector<Buffer> contribution_summaries(const std::string& name, uint64_t base) const = 0;
  // The filter summaries of every base >= first_base: (base, summary), by
  // base then participant.
  virtual std::vector<std::pair<uint64_t, Buffer>> summaries_from(const std::string& name,
                                                                  uint64_t first_base) const = 0;
  // The upload sessions recorded for a model: (upload id, UploadRecord).
  virtual std::vector<std::pair<uint64_t, Buffer>> uploads(const std::string& name) const = 0;

  // ---- provenance
  virtual std::optional<Buffer> provenance(const std::string& name, uint64_t version) const = 0;
  // The provenance records of versions first..last (inclusive) that exist:
  // (version, record), ascending.
  virtual std::vector<std::pair<uint64_t, Buffer>> provenances(const std::string& name, uint64_t first,
                                                               uint64_t last) const = 0;
  // ---- scores: as provenance (one record per scored version)
  virtual std::optional<Buffer> scores(const std::string& name, uint64_t version) const = 0;
  virtual std::vector<std::pair<uint64_t, Buffer>> scores_range(const std::string& name, uint64_t first,
                                                                uint64_t last) const = 0;
  // The server state a merge started from (pieces joined), or nothing when
  // it is not kept. Throws StoreError when a piece is missing or short.
  virtual std::optional<Buffer> replay_state(const std::string& name, uint64_t version) const = 0;

  // ---- API keys
  virtual std::optional<Buffer> key(const std::string& key_name) const = 0;
  // Every key record, ordered by name.
  virtual std::vector<Buffer> keys() const = 0;
};

// Keys of the layout above: name 0x00 be64(n).
std::string version_key(std::string_view model, uint64_t version);
// name 0x00 be64(base) participant
std::string contribution_key(std::string_view model, uint64_t base, std::string_view participant);

}  // namespace fedhub

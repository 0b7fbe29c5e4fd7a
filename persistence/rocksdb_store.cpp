// Store on RocksDB: one column family per record kind, weights in blob files,
// every commit one WriteBatch (RocksDB groups concurrent writers' batches
// into one log write and one fsync).
#include <rocksdb/db.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <filesystem>

#include "metrics/registry.hpp"
#include "persistence/keys.hpp"
#include "persistence/store.hpp"

namespace fedhub {

void Store::commit(const StoreBatch& batch, bool sync) {
  const StoreBatch* one[] = {&batch};
  commit(std::span<const StoreBatch* const>(one), sync);
}

namespace {

constexpr const char* kSchema = "2";
constexpr size_t kFamilyCount = static_cast<size_t>(Family::meta) + 1;

// The RocksDB names of the families, in the order of enum Family.
constexpr std::array<const char*, kFamilyCount> kFamilyNames = {
    "models",  "versions", "version_info", "server_state", "contributions", "chunks", "filter",
    "pending", "uploads",  "keys",         "provenance",   "replay_state",  "scores", "meta"};

// Families whose values are weights (large, written once, deleted whole):
// they go to blob files so that compaction moves only their small keys.
constexpr bool holds_weights(Family f) {
  return f == Family::versions || f == Family::chunks || f == Family::server_state || f == Family::replay_state;
}

const char* family_name(Family f) { return kFamilyNames[static_cast<size_t>(f)]; }

void check(const rocksdb::Status& s, const std::string& what) {
  if (!s.ok()) throw StoreError(what + ": " + s.ToString());
}

// RocksDB's "the disk is full": its NoSpace status (also the background
// error a failed write or flush leaves, which later writes return), or an
// IOError whose message is the system's ENOSPC text.
bool is_no_space(const rocksdb::Status& s) {
  if (s.ok()) return false;
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kNoSpace) return true;
  return s.IsIOError() && s.ToString().find("No space left on device") != std::string::npos;
}

// What a full disk left behind, shared with the listener below.
struct SpaceState {
  // A flush or compaction ran out of space: DB::Resume() before the next
  // write clears it once there is room.
  std::atomic<bool> resumable{false};
  // A write's log append ran out of space. Debian's RocksDB (built with
  // assertions) aborts the process when its log is touched again after a
  // failed append, Resume() included, so the store refuses every write
  // until fl-hub restarts. The space check before each write
  // (RocksStore::check_space) keeps this from happening unless another
  // process fills the disk between the check and the write.
  std::atomic<bool> log_failed{false};
};

// Notes every no-space background error so that the store resumes (or
// refuses) before its next write, and turns RocksDB's own auto-recovery off
// for them: it waits until the free space exceeds the largest memtable
// (64 MiB here), which a small filesystem may never have, and while it waits
// DB::Resume() is refused as busy.
class NoSpaceListener final : public rocksdb::EventListener {
 public:
  explicit NoSpaceListener(std::shared_ptr<SpaceState> state) : state_(std::move(state)) {}
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* bg_error) override {
    if (!bg_error || !is_no_space(*bg_error)) return;
    if (reason == rocksdb::BackgroundErrorReason::kFlush || reason == rocksdb::BackgroundErrorReason::kCompaction)
      state_->resumable.store(true);
    else
      state_->log_failed.store(true);
  }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status bg_error, bool* auto_recovery) override {
    if (is_no_space(bg_error) && auto_recovery) *auto_recovery = false;
    bg_error.PermitUncheckedError();
  }

 private:
  std::shared_ptr<SpaceState> state_;
};

// Room RocksDB needs beyond a write and its memtables: a new log, the
// MANIFEST, its info LOG, a flush's file headers.
constexpr uint64_t kSpaceMarginBytes = 8ull << 20;

Buffer copy_of(const rocksdb::Slice& s) { return Buffer(s.data(), s.data() + s.size()); }
rocksdb::Slice slice(std::span<const char> s) { return {s.data(), s.size()}; }
std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

std::string describe_bytes(uint64_t n) {
  if (n < (1u << 20)) return std::to_string(n) + " bytes";
  return std::to_string(n >> 20) + " MiB";
}

// Memtables of the families of small records (models, keys, contributions'
// records, ...): they hold kilobytes, and a smaller memtable is flushed
// sooner, so that the log files it keeps alive are deleted sooner.
constexpr uint64_t kRecordBufferBytes = 4ull << 20;

rocksdb::ColumnFamilyOptions family_options(Family f, const StoreOptions& o) {
  rocksdb::ColumnFamilyOptions cf;
  // The weights' families keep the large memtables that large transfers
  // write into (bench/transfer).
  cf.write_buffer_size = holds_weights(f) ? o.write_buffer_bytes : std::min(o.write_buffer_bytes, kRecordBufferBytes);
  if (holds_weights(f) && o.min_blob_bytes > 0) {
    cf.enable_blob_files = true;
    cf.min_blob_size = o.min_blob_bytes;
    // Each flush writes its blobs into files of at most this size; a file is
    // deleted once every blob in it is garbage, so smaller files free disk
    // sooner after uploads are merged, larger ones mean fewer files.
    cf.blob_file_size = std::max<uint64_t>(o.write_buffer_bytes, 64ull << 20);
    cf.blob_compression_type = rocksdb::kNoCompression;  // weights do not compress
    cf.enable_blob_garbage_collection = true;            // relocate the few live blobs of old files
    cf.blob_garbage_collection_age_cutoff = 0.25;
  }
  return cf;
}

// A snapshot released when it goes out of scope.
class Snapshot {
 public:
  explicit Snapshot(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) {}
  ~Snapshot() { db_->ReleaseSnapshot(snap_); }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  const rocksdb::Snapshot* get() const { return snap_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
};

class RocksStore final : public Store {
 public:
  RocksStore(const std::string& dir, const StoreOptions& options) : dir_(dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw StoreError("cannot create the hub's data directory '" + dir + "': " + ec.message());
    open_db(options);
    try {
      check_schema();
      create_missing_families(options);
    } catch (...) {
      close();  // the handles must go before the database
      throw;
    }
  }

  ~RocksStore() override { close(); }

  // ---- writing

  void commit(std::span<const StoreBatch* const> batches, bool sync) override {
    std::vector<Family> persist;
    for (const StoreBatch* batch : batches)
      if (batch)
        for (Family f : batch->families_to_persist())
          if (std::find(persist.begin(), persist.end(), f) == persist.end()) persist.push_back(f);
    resume("committing");
    for (Family f : persist) this->persist(f);
    rocksdb::WriteBatch wb;
    size_t ops = 0;
    uint64_t bytes = 0;
    for (const StoreBatch* batch : batches) {
      if (!batch) continue;
      for (const auto& op : batch->ops()) {
        add_op(wb, op, ops);
        ++ops;
        bytes += op.key.size() + op.value.size();
      }
    }
    if (ops == 0) return;
    check_space(bytes, "committing " + describe_bytes(bytes));
    rocksdb::WriteOptions w;
    w.sync = sync;
    const double started = metrics::now_seconds();
    check_write(db_->Write(w, &wb), "cannot commit " + std::to_string(ops) + " operations (" + describe_bytes(bytes) +
                                        ") to the hub's data directory '" + dir_ + "'");
    if (sync) metrics::global().observe("fedhub_store_write_seconds", {}, metrics::now_seconds() - started);
  }

  void sync_wal() override {
    resume("syncing the log");
    check_write(db_->SyncWAL(), "cannot sync the log of '" + dir_ + "'");
  }

  void write_unlogged(const StoreBatch& batch) override {
    resume("writing");
    rocksdb::WriteBatch wb;
    size_t ops = 0;
    uint64_t bytes = 0;
    for (const auto& op : batch.ops()) {
      add_op(wb, op, ops);
      ++ops;
      bytes += op.key.size() + op.value.size();
    }
    if (ops == 0) return;
    check_space(bytes, "writing " + describe_bytes(bytes));
    rocksdb::WriteOptions w;
    w.disableWAL = true;
    check_write(db_->Write(w, &wb), "cannot write " + std::to_string(ops) + " operations (" + describe_bytes(bytes) +
                                        ") to the hub's data directory '" + dir_ + "'");
  }

  void persist(Family family) override {
    rocksdb::FlushOptions f;
    f.wait = true;
    f.allow_write_stall = true;
    resume("flushing");
    check_space(0, "flushing");
    check_write(db_->Flush(f, cf_[static_cast<size_t>(family)]),
                "cannot flush to the hub's data directory '" + dir_ + "'");
  }

  void checkpoint(const std::string& dir) override {
    resume("writing a checkpoint");
    check_space(0, "writing a checkpoint");
    rocksdb::Checkpoint* raw = nullptr;
    check(rocksdb::Checkpoint::Create(db_.get(), &raw), "cannot start a checkpoint of '" + dir_ + "'");
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    // log_size_for_flush 0: flush every memtable first, so that the copy
    // needs no log replay and holds the unlogged bulk writes too.
    check_write(cp->CreateCheckpoint(dir, 0), "cannot write a checkpoint of '" + dir_ + "' to '" + dir + "'");
  }

  // ---- models

  std::optional<Buffer> model(const std::string& name) const override { return get(Family::models, name); }

  std::vector<Buffer> models() const override { return values(Family::models, ""); }

  // ---- versions

  std::optional<uint64_t> latest_version(const std::string& name) const override {
    return last_number(Family::version_info, name);
  }

  std::vector<Buffer> version_infos(const std::string& name) const override {
    return values(Family::version_info, keys::name_prefix(name));
  }

  std::vector<uint64_t> stored_versions(const std::string& name) const override {
    // One seek per version (to its piece 0): in RocksDB 7.8 an iterator
    // reads the blob of every entry it stops at, so the pieces in between
    // are skipped, not walked.
    std::vector<uint64_t> out;
    const auto prefix = keys::name_prefix(name);
    const auto end = *keys::prefix_end(prefix);
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(Family::versions)));
    for (it->Seek(prefix); it->Valid();) {
      const auto key = view(it->key());
      if (key.size() != prefix.size() + 12) throw damaged("a versions key of '" + name + "' has the wrong length");
      const uint64_t v = keys::read_be(key, prefix.size(), 8);
      if (keys::read_be(key, prefix.size() + 8, 4) == 0) out.push_back(v);
      if (v == UINT64_MAX) break;
      it->Seek(keys::numbered(name, v + 1));
    }
    check(it->status(), "cannot list the stored versions of '" + name + "' in '" + dir_ + "'");
    return out;
  }

  bool read_version(const std::string& name, uint64_t version, uint64_t offset, std::span<char> out) const override {
    const std::string what = "version " + std::to_string(version) + " of '" + name + "' in '" + dir_ + "'";
    if (out.size() > UINT64_MAX - offset) throw StoreError("cannot read " + what + ": the range overflows");
    Snapshot snap(db_.get());
    rocksdb::ReadOptions ro;
    ro.snapshot = snap.get();
    ro.fill_cache = false;
    if (out.empty()) return has_piece0(ro, name, version);
    // The pieces that cover [offset, offset + size).
    const uint64_t first = offset / kPieceBytes;
    const uint64_t last = (offset + out.size() - 1) / kPieceBytes;
    if (last > UINT32_MAX) throw StoreError("cannot read " + what + ": the range is beyond any stored package");
    rocksdb::PinnableSlice piece;
    size_t copied = 0;
    for (uint64_t p = first; p <= last; ++p) {
      piece.Reset();
      auto s = db_->Get(ro, cf(Family::versions), keys::piece_key(name, version, static_cast<uint32_t>(p)), &piece);
      if (s.IsNotFound()) {
        if (p == 0 || !has_piece0(ro, name, version)) return false;
        throw damaged(what + " lacks piece " + std::to_string(p) + " (reading bytes " + std::to_string(offset) +
                      " to " + std::to_string(offset + out.size()) + ")");
      }
      check(s, "cannot read " + what);
      if (piece.size() > kPieceBytes)
        throw damaged(what + " has a piece " + std::to_string(p) + " of " + std::to_string(piece.size()) + " bytes");
      const uint64_t piece_begin = p * kPieceBytes;
      const uint64_t from = std::max(offset, piece_begin) - piece_begin;
      const uint64_t to = std::min<uint64_t>(offset + out.size(), piece_begin + kPieceBytes) - piece_begin;
      if (piece.size() < to)
        throw damaged(what + ": piece " + std::to_string(p) + " has " + std::to_string(piece.size()) +
                      " bytes, the range read (bytes " + std::to_string(offset) + " to " +
                      std::to_string(offset + out.size()) + ") needs " + std::to_string(to) +
                      " (a short piece before the end, or a range past the package's end)");
      std::memcpy(out.data() + copied, piece.data() + from, to - from);
      copied += to - from;
    }
    return true;
  }

  // ---- server state

  std::optional<Buffer> server_state(const std::string& name) const override {
    return joined_pieces(Family::server_state, keys::name_prefix(name), "the server state of '" + name + "'");
  }

  // ---- provenance

  std::optional<Buffer> provenance(const std::string& name, uint64_t version) const override {
    return get(Family::provenance, keys::numbered(name, version));
  }

  std::vector<std::pair<uint64_t, Buffer>> provenances(const std::string& name, uint64_t first,
                                                       uint64_t last) const override {
    return numbered_range(Family::provenance, name, first, last);
  }

  std::optional<Buffer> scores(const std::string& name, uint64_t version) const override {
    return get(Family::scores, keys::numbered(name, version));
  }

  std::vector<std::pair<uint64_t, Buffer>> scores_range(const std::string& name, uint64_t first,
                                                        uint64_t last) const override {
    return numbered_range(Family::scores, name, first, last);
  }

  std::optional<Buffer> replay_state(const std::string& name, uint64_t version) const override {
    return joined_pieces(Family::replay_state, keys::numbered(name, version),
                         "the replay state of version " + std::to_string(version) + " of '" + name + "'");
  }

  // ---- contributions

  std::optional<Buffer> contribution(const std::string& name, uint64_t base,
                                     const std::string& participant) const override {
    return get(Family::contributions, contribution_key(name, base, participant));
  }

  uint64_t for_each_chunk(const std::string& name, uint64_t upload_id,
                          const std::function<void(uint64_t, std::span<const char>)>& visit) const override {
    const auto prefix = keys::numbered(name, upload_id);
    Snapshot snap(db_.get());
    // One chunk in memory at a time: a reused buffer, its data 16-byte
    // aligned whatever the allocator's alignment (the sanitizers' may be 8).
    Buffer buffer;
    uint64_t total = 0;
    for_each(Family::chunks, prefix, snap.get(), [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
      if (key.size() != prefix.size() + 8)
        throw damaged("a chunk key of upload " + std::to_string(upload_id) + " of '" + name + "' has the wrong length");
      if (buffer.size() < value.size() + 15) buffer.resize(value.size() + 15);
      char* p = buffer.data() + ((16 - reinterpret_cast<uintptr_t>(buffer.data()) % 16) % 16);
      std::memcpy(p, value.data(), value.size());
      visit(keys::read_be(view(key), prefix.size(), 8), std::span<const char>(p, value.size()));
      total += value.size();
    });
    return total;
  }

  std::vector<std::pair<uint64_t, Buffer>> pending(const std::string& name) const override {
    return numbered_values(Family::pending, name);
  }

  uint64_t next_pending_seq(const std::string& name) const override {
    const auto last = last_number(Family::pending, name);
    return last ? *last + 1 : 0;
  }

  std::vector<Buffer> contribution_summaries(const std::string& name, uint64_t base) const override {
    return values(Family::filter, keys::numbered(name, base));
  }

  std::vector<std::pair<uint64_t, Buffer>> summaries_from(const std::string& name, uint64_t first_base) const override {
    std::vector<std::pair<uint64_t, Buffer>> out;
    const auto prefix = keys::name_prefix(name);
    for_each(
        Family::filter, prefix, nullptr,
        [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
          out.emplace_back(keys::read_be(view(key), prefix.size(), 8), copy_of(value));
        },
        keys::numbered(name, first_base));
    return out;
  }

  std::vector<std::pair<uint64_t, Buffer>> uploads(const std::string& name) const override {
    return numbered_values(Family::uploads, name);
  }

  // ---- API keys

  std::optional<Buffer> key(const std::string& key_name) const override { return get(Family::keys, key_name); }

  std::vector<Buffer> keys() const override { return values(Family::keys, ""); }

 private:
  // ---- opening

  void open_db(const StoreOptions& options) {
    rocksdb::DBOptions db;
    db.create_if_missing = true;
    db.max_background_jobs = 2;      // the machine's cores; flushes and compactions
    db.keep_log_file_num = 4;        // RocksDB's info LOG files,
    db.max_log_file_size = 1 << 20;  // of at most 1 MiB each
    // A log file is deleted once every family has flushed what it holds.
    // Weights of small models (under kUnloggedWeightBytes) go through the
    // log into the weights' 64 MiB memtables, which such a model fills only
    // slowly: a hub with a 200 KB model kept ~80 MB of logs of deleted
    // weights (tests/persistence/disk_size_test.cpp). Above this total the
    // families holding the oldest log are flushed. Large weights are
    // written without the log, so that large transfers never reach it.
    db.max_total_wal_size = 16ull << 20;
    // A fresh directory costs what it holds: by default RocksDB fallocates
    // 1.1 x write_buffer_size for the live log and 4 MiB for the MANIFEST
    // (70 MB in an empty store). Measured on ext4, preallocation made no
    // difference to synced large writes (tests/persistence/store_throughput.cpp).
    db.allow_fallocate = false;
    db.manifest_preallocation_size = 64 << 10;
    db.max_manifest_file_size = 64ull << 20;
    // Large background writes (flushed blob and table files) go to disk as
    // they are written rather than in one burst at their fsync.
    db.bytes_per_sync = 1ull << 20;
    // A full disk: the store resumes by itself (see NoSpaceListener).
    db.listeners.push_back(std::make_shared<NoSpaceListener>(space_));

    std::vector<std::string> existing;
    const bool fresh = !rocksdb::DB::ListColumnFamilies(db, dir_, &existing).ok();
    // A fresh store is made with every family. An existing one opens with
    // the families it has (ours and any a newer hub added), so that a
    // directory refused for its schema is left as it was; ours that are
    // missing are created after the schema check.
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
    if (fresh) {
      db.create_missing_column_families = true;
      for (size_t i = 0; i < kFamilyCount; ++i)
        descriptors.emplace_back(kFamilyNames[i], family_options(static_cast<Family>(i), options));
    } else {
      for (const auto& name : existing) {
        if (name == rocksdb::kDefaultColumnFamilyName) continue;
        const auto known = std::find(kFamilyNames.begin(), kFamilyNames.end(), name);
        descriptors.emplace_back(name,
                                 known == kFamilyNames.end()
                                     ? rocksdb::ColumnFamilyOptions()
                                     : family_options(static_cast<Family>(known - kFamilyNames.begin()), options));
      }
    }
    rocksdb::DB* raw = nullptr;
    auto s = rocksdb::DB::Open(db, dir_, descriptors, &handles_, &raw);
    if (!s.ok()) {
      const auto msg = s.ToString();
      throw StoreError(
          "cannot open the hub's data directory '" + dir_ + "': " + msg +
          (s.IsIOError() && msg.find("lock") != std::string::npos ? " (is another fl-hub using it?)" : ""));
    }
    db_.reset(raw);
    for (size_t i = 0; i < descriptors.size(); ++i) {
      const auto known = std::find(kFamilyNames.begin(), kFamilyNames.end(), descriptors[i].name);
      if (known != kFamilyNames.end()) cf_[known - kFamilyNames.begin()] = handles_[i];
    }
  }

  void check_schema() {
    auto* meta = cf_[static_cast<size_t>(Family::meta)];
    std::string schema;
    if (meta) {
      auto g = db_->Get(rocksdb::ReadOptions(), meta, "schema", &schema);
      if (!g.IsNotFound()) {
        check(g, "cannot read the storage schema of '" + dir_ + "'");
        if (schema == "1")
          throw StoreError("the hub's data directory '" + dir_ +
                           "' was made by an older fedhub (storage schema 1, this hub reads schema 2) and must be "
                           "recreated: remove it or start the hub with another --data-dir");
        if (schema != kSchema)
          throw StoreError("the hub's data directory '" + dir_ + "' has storage schema " + schema +
                           "; this hub reads schema " + kSchema);
        return;
      }
    }
    // A directory without a schema holds nothing of ours (a first open that
    // did not finish): it gets this hub's layout.
    for (size_t i = 0; i < kFamilyCount; ++i) {
      if (cf_[i] && i != static_cast<size_t>(Family::meta) && !family_is_empty(cf_[i]))
        throw StoreError("the hub's data directory '" + dir_ + "' holds records but no storage schema");
    }
    if (!meta) return;  // written once the family exists
    write_schema();
  }

  bool family_is_empty(rocksdb::ColumnFamilyHandle* h) const {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), h));
    it->SeekToFirst();
    check(it->status(), "cannot read '" + dir_ + "'");
    return !it->Valid();
  }

  void write_schema() {
    rocksdb::WriteOptions w;
    w.sync = true;
    check(db_->Put(w, cf_[static_cast<size_t>(Family::meta)], "schema", kSchema),
          "cannot write the storage schema of '" + dir_ + "'");
  }

  void create_missing_families(const StoreOptions& options) {
    bool created_meta = false;
    for (size_t i = 0; i < kFamilyCount; ++i) {
      if (cf_[i]) continue;
      rocksdb::ColumnFamilyHandle* h = nullptr;
      check(db_->CreateColumnFamily(family_options(static_cast<Family>(i), options), kFamilyNames[i], &h),
            std::string("cannot create the column family '") + kFamilyNames[i] + "' in '" + dir_ + "'");
      handles_.push_back(h);
      cf_[i] = h;
      created_meta |= i == static_cast<size_t>(Family::meta);
    }
    if (created_meta) write_schema();
  }

  void close() {
    if (!db_) return;
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    handles_.clear();
    cf_.fill(nullptr);
    db_->Close();
    db_.reset();
  }

  // ---- writing

  StorageFullError full(const std::string& what, const rocksdb::Status& s) const {
    return StorageFullError("the hub's data directory '" + dir_ + "' is full: " + what + ": " + s.ToString() +
                            "; nothing of this was stored. Free space on its filesystem; the hub retries by itself "
                            "at its next write (no restart needed)");
  }

  // A write's status: a no-space failure is a StorageFullError. It means
  // that the log append failed (see SpaceState::log_failed).
  void check_write(const rocksdb::Status& s, const std::string& what) {
    if (s.ok()) return;
    if (is_no_space(s)) {
      if (!space_->resumable.load()) space_->log_failed.store(true);
      throw full(what, s);
    }
    throw StoreError(what + ": " + s.ToString());
  }

  // Before every write: the filesystem must hold the write, what is in the
  // memtables (a flush writes it out) and a margin, or the write is refused
  // without RocksDB seeing it. Reads go on; the next write checks again, so
  // the hub takes writes as soon as space returns.
  // When the memtables are what does not fit, they are flushed first (their
  // log is deleted after, which gives back about as much as the flush took).
  void check_space(uint64_t bytes, const std::string& what, bool flushed = false) {
    struct statvfs fs {};
    if (::statvfs(dir_.c_str(), &fs) != 0) return;  // no answer: let RocksDB find out
    const uint64_t free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    uint64_t memtables = 0;
    db_->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables", &memtables);
    const uint64_t need = bytes + memtables + kSpaceMarginBytes;
    if (free >= need) return;
    if (!flushed && memtables > 0 && free >= memtables + kSpaceMarginBytes) {
      rocksdb::FlushOptions f;
      f.wait = true;
      f.allow_write_stall = true;
      const std::vector<rocksdb::ColumnFamilyHandle*> all(cf_.begin(), cf_.end());
      check_write(db_->Flush(f, all), "cannot flush to the hub's data directory '" + dir_ + "'");
      check_space(bytes, what, true);
      return;
    }
    throw StorageFullError(
        "the hub's data directory '" + dir_ + "' is full: " + what + " needs " + describe_bytes(need) +
        " free (the write's " + describe_bytes(bytes) + ", the memtables' " + describe_bytes(memtables) + " and " +
        describe_bytes(kSpaceMarginBytes) + " for the store's own files), the filesystem has " + describe_bytes(free) +
        "; nothing of this was stored. Free space on its filesystem; the hub retries by itself at its next "
        "write (no restart needed)");
  }

  // Before a write, after a no-space error (ours or a background flush's or
  // compaction's): DB::Resume() flushes every memtable (into a fresh log) and
  // clears RocksDB's background error, so that writes work again without a
  // restart once space is free. While the disk is still full it fails with
  // no space, and the write is refused without being tried. Any other
  // outcome (busy: another thread resumes) lets the write say for itself.
  void resume(const std::string& what) {
    if (space_->log_failed.load())
      throw StorageFullError("the hub's data directory '" + dir_ + "' filled up during a write to its log: " + what +
                             " is refused until fl-hub restarts (RocksDB cannot resume from a failed log write); "
                             "nothing unacknowledged was stored. Free space, then restart fl-hub");
    if (!space_->resumable.load()) return;
    const auto s = db_->Resume();
    if (s.ok()) {
      space_->resumable.store(false);
      return;
    }
    if (is_no_space(s)) throw full(what + " (the store could not resume yet)", s);
  }

  void add_op(rocksdb::WriteBatch& wb, const StoreBatch::Op& op, size_t index) const {
    const auto invalid = [&](const std::string& why) {
      return StoreError("cannot commit to '" + dir_ + "': operation " + std::to_string(index) + " is invalid (" + why +
                        "); nothing was written");
    };
    const auto f = static_cast<size_t>(op.family);
    if (f >= kFamilyCount) throw invalid("unknown column family " + std::to_string(f));
    if (op.family == Family::meta && op.key == "schema") throw invalid("the storage schema is the store's own");
    auto* h = cf_[f];
    const std::string what = std::string("cannot add operation ") + std::to_string(index) + " on '" +
                             family_name(op.family) + "' to a batch for '" + dir_ + "'";
    switch (op.kind) {
      case StoreBatch::Kind::put:
        check(wb.Put(h, op.key, slice(op.value)), what);
        return;
      case StoreBatch::Kind::erase:
        check(wb.Delete(h, op.key), what);
        return;
      case StoreBatch::Kind::erase_range: {
        const rocksdb::Slice begin(op.key), end(op.value.data(), op.value.size());
        const int order = begin.compare(end);
        if (order > 0) throw invalid(std::string("a range on '") + family_name(op.family) + "' ends before it begins");
        if (op.family == Family::meta && begin.compare("schema") <= 0 && end.compare("schema") > 0)
          throw invalid("the storage schema is the store's own");
        if (order < 0) check(wb.DeleteRange(h, begin, end), what);  // an empty range deletes nothing
        return;
      }
    }
    throw invalid("unknown kind " + std::to_string(static_cast<int>(op.kind)));
  }

  // ---- reading

  rocksdb::ColumnFamilyHandle* cf(Family f) const { return cf_[static_cast<size_t>(f)]; }

  StoreError damaged(const std::string& what) const {
    return StoreError("the store is damaged: " + what +
                      (what.find(dir_) == std::string::npos ? " in '" + dir_ + "'" : ""));
  }

  bool has_piece0(const rocksdb::ReadOptions& ro, const std::string& name, uint64_t version) const {
    rocksdb::PinnableSlice piece;
    auto s = db_->Get(ro, cf(Family::versions), keys::piece_key(name, version, 0), &piece);
    if (s.IsNotFound()) return false;
    check(s, "cannot read version " + std::to_string(version) + " of '" + name + "' in '" + dir_ + "'");
    return true;
  }

  std::optional<Buffer> get(Family f, const std::string& key) const {
    rocksdb::PinnableSlice value;
    auto s = db_->Get(rocksdb::ReadOptions(), cf(f), key, &value);
    if (s.IsNotFound()) return std::nullopt;
    check(s, std::string("cannot read '") + family_name(f) + "' in '" + dir_ + "'");
    return copy_of(value);
  }

  // Calls visit(key, value) for the keys that start with `prefix` (all keys
  // for ""), from `from` (default: the prefix) on, in key order.
  template <class Visit>
  void for_each(Family f, const std::string& prefix, const rocksdb::Snapshot* snap, Visit&& visit,
                const std::string& from = {}) const {
    const auto end = keys::prefix_end(prefix);
    rocksdb::Slice upper(end ? rocksdb::Slice(*end) : rocksdb::Slice());
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    if (holds_weights(f)) ro.fill_cache = false;  // streamed once; keep the cache for records
    if (end) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(f)));
    const auto& start = from.empty() ? prefix : from;
    for (start.empty() ? it->SeekToFirst() : it->Seek(start); it->Valid(); it->Next()) visit(it->key(), it->value());
    check(it->status(), std::string("cannot read '") + family_name(f) + "' in '" + dir_ + "'");
  }

  struct StopWalk {};

  // (n, value) of the keys name 0x00 be64(n) with first <= n <= last.
  std::vector<std::pair<uint64_t, Buffer>> numbered_range(Family f, const std::string& name, uint64_t first,
                                                          uint64_t last) const {
    std::vector<std::pair<uint64_t, Buffer>> out;
    if (first > last) return out;
    const auto prefix = keys::name_prefix(name);
    try {
      for_each(
          f, prefix, nullptr,
          [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
            const uint64_t v = keys::read_be(view(key), prefix.size(), 8);
            if (v > last) throw StopWalk{};
            out.emplace_back(v, copy_of(value));
          },
          keys::numbered(name, first));
    } catch (const StopWalk&) {
    }
    return out;
  }

  // The values of the keys prefix be32(piece), pieces 0, 1, ... joined (each
  // kPieceBytes but the last), or nothing when there is none.
  std::optional<Buffer> joined_pieces(Family f, const std::string& prefix, const std::string& what) const {
    Buffer out;
    uint64_t expected = 0;
    size_t last_size = kPieceBytes;
    for_each(f, prefix, nullptr, [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
      const uint64_t p = keys::read_be(view(key), prefix.size(), 4);
      if (key.size() != prefix.size() + 4 || p != expected || last_size != kPieceBytes || value.size() > kPieceBytes)
        throw damaged(what + " in '" + dir_ + "' has a missing or short piece before piece " + std::to_string(p));
      out.insert(out.end(), value.data(), value.data() + value.size());
      last_size = value.size();
      ++expected;
    });
    if (expected == 0) return std::nullopt;
    return out;
  }

  std::vector<Buffer> values(Family f, const std::string& prefix) const {
    std::vector<Buffer> out;
    for_each(f, prefix, nullptr,
             [&](const rocksdb::Slice&, const rocksdb::Slice& value) { out.push_back(copy_of(value)); });
    return out;
  }

  // (n, value) of the keys name 0x00 be64(n).
  std::vector<std::pair<uint64_t, Buffer>> numbered_values(Family f, const std::string& name) const {
    std::vector<std::pair<uint64_t, Buffer>> out;
    const auto prefix = keys::name_prefix(name);
    for_each(f, prefix, nullptr, [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
      out.emplace_back(keys::read_be(view(key), prefix.size(), 8), copy_of(value));
    });
    return out;
  }

  // The highest n of the keys name 0x00 be64(n)..., or nothing.
  std::optional<uint64_t> last_number(Family f, const std::string& name) const {
    const auto prefix = keys::name_prefix(name);
    rocksdb::Slice lower(prefix);
    rocksdb::ReadOptions ro;
    ro.iterate_lower_bound = &lower;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(f)));
    // The last key with this prefix: the greatest key below the prefix's end.
    it->SeekForPrev(keys::numbered(name, UINT64_MAX) + std::string(16, '\xff'));
    check(it->status(), std::string("cannot read '") + family_name(f) + "' in '" + dir_ + "'");
    if (!it->Valid() || !it->key().starts_with(prefix)) return std::nullopt;
    return keys::read_be(view(it->key()), prefix.size(), 8);
  }

  std::string dir_;
  // What a full disk left behind (check_write, NoSpaceListener, resume).
  std::shared_ptr<SpaceState> space_ = std::make_shared<SpaceState>();
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // every open family, the default and unknown ones too
  std::array<rocksdb::ColumnFamilyHandle*, kFamilyCount> cf_{};
};

}  // namespace

std::unique_ptr<Store> Store::open(const std::string& dir, const StoreOptions& options) {
  return std::make_unique<RocksStore>(dir, options);
}

}  // namespace fedhub

// Store on RocksDB: one column family per record kind, synced WriteBatches.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "persistence/store.hpp"

namespace fedhub {

std::string version_key(std::string_view model, uint64_t version) {
  std::string k;
  k.reserve(model.size() + 9);
  k.append(model);
  k.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8) k.push_back(static_cast<char>((version >> shift) & 0xff));
  return k;
}

std::string contribution_key(std::string_view model, uint64_t base, std::string_view participant) {
  std::string k = version_key(model, base);
  k.append(participant);
  return k;
}

namespace {

const std::vector<std::string> kFamilies = {rocksdb::kDefaultColumnFamilyName,
                                            "meta",
                                            "models",
                                            "versions",
                                            "version_info",
                                            "contributions",
                                            "filter",
                                            "pending",
                                            "keys"};

void check(const rocksdb::Status& s, const std::string& what) {
  if (!s.ok()) throw StoreError(what + ": " + s.ToString());
}

uint64_t seq_of(const rocksdb::Slice& key, size_t prefix_size) {
  uint64_t v = 0;
  for (size_t i = prefix_size; i < key.size() && i < prefix_size + 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(key[i]);
  return v;
}

Buffer to_buffer(const rocksdb::Slice& s) { return Buffer(s.data(), s.data() + s.size()); }

rocksdb::Slice slice(std::span<const char> s) { return {s.data(), s.size()}; }

class RocksStore final : public Store {
 public:
  RocksStore(const std::string& dir) : dir_(dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw StoreError("cannot create data directory '" + dir + "': " + ec.message());
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    options.max_background_jobs = 2;
    options.keep_log_file_num = 4;
    options.max_total_wal_size = 512 << 20;
    rocksdb::ColumnFamilyOptions cf;
    cf.write_buffer_size = 64 << 20;
    cf.enable_blob_files = false;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : kFamilies) descriptors.emplace_back(name, cf);
    // Open with every family we know plus any a newer hub may have added.
    std::vector<std::string> existing;
    if (rocksdb::DB::ListColumnFamilies(options, dir, &existing).ok())
      for (const auto& name : existing)
        if (std::find(kFamilies.begin(), kFamilies.end(), name) == kFamilies.end()) descriptors.emplace_back(name, cf);
    rocksdb::DB* db = nullptr;
    auto s = rocksdb::DB::Open(options, dir, descriptors, &handles_, &db);
    if (!s.ok())
      throw StoreError(
          "cannot open the hub's data directory '" + dir + "': " + s.ToString() +
          (s.IsIOError() && s.ToString().find("lock") != std::string::npos ? " (is another fl-hub using it?)" : ""));
    db_.reset(db);
    for (size_t i = 0; i < descriptors.size(); ++i) cf_[descriptors[i].name] = handles_[i];
    try {
      check_schema();
    } catch (...) {
      close();  // the handles must go before the database
      throw;
    }
  }

  void check_schema() {
    std::string schema;
    auto g = db_->Get(rocksdb::ReadOptions(), cf_.at("meta"), "schema", &schema);
    if (g.IsNotFound()) {
      rocksdb::WriteOptions w;
      w.sync = true;
      check(db_->Put(w, cf_.at("meta"), "schema", "1"), "write schema version");
    } else {
      check(g, "read schema version");
      if (schema != "1")
        throw StoreError("data directory '" + dir_ + "' has storage schema " + schema + "; this hub reads schema 1");
    }
  }

  void close() {
    if (!db_) return;
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    handles_.clear();
    cf_.clear();
    db_->Close();
    db_.reset();
  }

  ~RocksStore() override { close(); }

  void create_model(const std::string& name, std::span<const char> model_record, std::span<const char> version0,
                    std::span<const char> version0_info) override {
    rocksdb::WriteBatch b;
    check(b.Put(cf_.at("models"), name, slice(model_record)), "batch");
    check(b.Put(cf_.at("versions"), version_key(name, 0), slice(version0)), "batch");
    check(b.Put(cf_.at("version_info"), version_key(name, 0), slice(version0_info)), "batch");
    write(b, "create model '" + name + "'");
  }

  std::optional<Buffer> model(const std::string& name) const override { return get("models", name); }

  std::vector<Buffer> models() const override { return scan("models", ""); }

  std::optional<Buffer> version(const std::string& name, uint64_t v) const override {
    return get("versions", version_key(name, v));
  }

  std::vector<uint64_t> stored_versions(const std::string& name) const override {
    std::vector<uint64_t> out;
    const auto prefix = name + std::string(1, '\0');
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_.at("versions")));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
      out.push_back(seq_of(it->key(), prefix.size()));
    check(it->status(), "scan versions");
    return out;
  }

  std::vector<Buffer> version_infos(const std::string& name) const override {
    return scan("version_info", name + std::string(1, '\0'));
  }

  void commit_version(const std::string& name, uint64_t v, std::span<const char> version_record,
                      std::span<const char> info, std::span<const char> model_record,
                      const MergeCleanup& cleanup) override {
    rocksdb::WriteBatch b;
    for (auto seq : cleanup.pending_seqs) check(b.Delete(cf_.at("pending"), version_key(name, seq)), "batch");
    for (const auto& [base, participant] : cleanup.contributions)
      check(b.Delete(cf_.at("contributions"), contribution_key(name, base, participant)), "batch");
    for (auto old : cleanup.pruned_versions) check(b.Delete(cf_.at("versions"), version_key(name, old)), "batch");
    check(b.Put(cf_.at("versions"), version_key(name, v), slice(version_record)), "batch");
    check(b.Put(cf_.at("version_info"), version_key(name, v), slice(info)), "batch");
    check(b.Put(cf_.at("models"), name, slice(model_record)), "batch");
    write(b, "store version " + std::to_string(v) + " of '" + name + "'");
  }

  void update_model(const std::string& name, std::span<const char> model_record) override {
    rocksdb::WriteBatch b;
    check(b.Put(cf_.at("models"), name, slice(model_record)), "batch");
    write(b, "update model '" + name + "'");
  }

  void remove_pending(const std::string& name, uint64_t seq, uint64_t base, const std::string& participant) override {
    rocksdb::WriteBatch b;
    check(b.Delete(cf_.at("pending"), version_key(name, seq)), "batch");
    check(b.Delete(cf_.at("contributions"), contribution_key(name, base, participant)), "batch");
    write(b, "drop the contribution of '" + participant + "' to '" + name + "'");
  }

  std::optional<Buffer> contribution(const std::string& name, uint64_t base,
                                     const std::string& participant) const override {
    return get("contributions", contribution_key(name, base, participant));
  }

  std::vector<std::pair<uint64_t, Buffer>> pending(const std::string& name) const override {
    std::vector<std::pair<uint64_t, Buffer>> out;
    const auto prefix = name + std::string(1, '\0');
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_.at("pending")));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
      out.emplace_back(seq_of(it->key(), prefix.size()), to_buffer(it->value()));
    check(it->status(), "scan pending");
    return out;
  }

  uint64_t next_pending_seq(const std::string& name) const override {
    const auto prefix = name + std::string(1, '\0');
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_.at("pending")));
    it->SeekForPrev(version_key(name, UINT64_MAX));
    check(it->status(), "scan pending");
    if (!it->Valid() || !it->key().starts_with(prefix)) return 0;
    return seq_of(it->key(), prefix.size()) + 1;
  }

  bool has_contribution(const std::string& name, uint64_t base, const std::string& participant) const override {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), cf_.at("filter"), contribution_key(name, base, participant), &value);
    if (s.IsNotFound()) return false;
    check(s, "read filter state");
    return true;
  }

  void put_contribution(const std::string& name, uint64_t base, const std::string& participant,
                        std::span<const char> record, std::span<const char> summary,
                        std::optional<uint64_t> pending_seq) override {
    const auto key = contribution_key(name, base, participant);
    rocksdb::WriteBatch b;
    check(b.Put(cf_.at("contributions"), key, slice(record)), "batch");
    check(b.Put(cf_.at("filter"), key, slice(summary)), "batch");
    if (pending_seq) check(b.Put(cf_.at("pending"), version_key(name, *pending_seq), slice(summary)), "batch");
    write(b, "store the contribution of '" + participant + "' to '" + name + "'");
  }

  std::vector<Buffer> contribution_summaries(const std::string& name, uint64_t base) const override {
    return scan("filter", version_key(name, base));
  }

  uint32_t count_contributions(const std::string& name, uint64_t base) const override {
    uint32_t n = 0;
    const auto prefix = version_key(name, base);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_.at("filter")));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++n;
    check(it->status(), "count contributions");
    return n;
  }

  size_t for_each_contribution(const std::string& name, uint64_t base,
                               const std::function<void(std::span<const char>)>& visit) const override {
    const auto prefix = version_key(name, base);
    const rocksdb::Snapshot* snap = db_->GetSnapshot();
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    ro.fill_cache = false;
    size_t n = 0;
    try {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_.at("contributions")));
      Buffer record;  // reused: one record in memory at a time, 16-byte aligned
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        record.assign(it->value().data(), it->value().data() + it->value().size());
        visit(record);
        ++n;
      }
      check(it->status(), "read contributions");
    } catch (...) {
      db_->ReleaseSnapshot(snap);
      throw;
    }
    db_->ReleaseSnapshot(snap);
    return n;
  }

  void put_key(const std::string& key_name, std::span<const char> record) override {
    rocksdb::WriteBatch b;
    check(b.Put(cf_.at("keys"), key_name, slice(record)), "batch");
    write(b, "store key '" + key_name + "'");
  }

  std::optional<Buffer> key(const std::string& key_name) const override { return get("keys", key_name); }

  std::vector<Buffer> keys() const override { return scan("keys", ""); }

 private:
  void write(rocksdb::WriteBatch& b, const std::string& what) {
    rocksdb::WriteOptions w;
    w.sync = true;
    check(db_->Write(w, &b), "cannot " + what + " in '" + dir_ + "'");
  }

  std::optional<Buffer> get(const std::string& family, const std::string& key) const {
    rocksdb::PinnableSlice value;
    auto s = db_->Get(rocksdb::ReadOptions(), cf_.at(family), key, &value);
    if (s.IsNotFound()) return std::nullopt;
    check(s, "read " + family);
    return to_buffer(value);
  }

  std::vector<Buffer> scan(const std::string& family, const std::string& prefix) const {
    std::vector<Buffer> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_.at(family)));
    for (prefix.empty() ? it->SeekToFirst() : it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next())
      out.push_back(to_buffer(it->value()));
    check(it->status(), "scan " + family);
    return out;
  }

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> cf_;
};

}  // namespace

std::unique_ptr<Store> Store::open(const std::string& dir) { return std::make_unique<RocksStore>(dir); }

}  // namespace fedhub

// Helpers of the persistence tests (store_support.hpp): values, a raw RocksDB
// view of a directory, and the writes of the "write" child with the state
// they leave.
#include "store_support.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>

namespace fedhub::test {

Buffer tagged_value(const std::string& tag, uint64_t index, size_t size) {
  const std::string head = tag + "#" + std::to_string(index) + "|";
  Buffer b(size);
  if (size > 0) std::memcpy(b.data(), head.data(), std::min(size, head.size()));
  for (size_t i = head.size(); i < size; ++i) b[i] = static_cast<char>((index * 31 + i * 7 + i / 4093) % 251);
  return b;
}

std::optional<Buffer> read_whole_version(const Store& store, const std::string& name, uint64_t version, size_t size) {
  Buffer out(size);
  if (!store.read_version(name, version, 0, out)) return std::nullopt;
  return out;
}

// ---- RawDb

namespace {

void require(const rocksdb::Status& s, const std::string& what) {
  if (!s.ok()) throw std::runtime_error(what + ": " + s.ToString());
}

}  // namespace

RawDb::RawDb(const std::string& dir) {
  rocksdb::DBOptions options;
  require(rocksdb::DB::ListColumnFamilies(options, dir, &names_), "list families of " + dir);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& f : names_) descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions());
  require(rocksdb::DB::Open(options, dir, descriptors, &handles_, &db_), "open " + dir);
}

RawDb::~RawDb() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
  delete db_;
}

bool RawDb::has_family(const std::string& name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

rocksdb::ColumnFamilyHandle* RawDb::family(const std::string& name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return handles_[i];
  throw std::runtime_error("no column family '" + name + "'");
}

rocksdb::ColumnFamilyHandle* RawDb::create_family(const std::string& name) {
  rocksdb::ColumnFamilyHandle* h = nullptr;
  require(db_->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), name, &h), "create family " + name);
  names_.push_back(name);
  handles_.push_back(h);
  return h;
}

std::optional<std::string> RawDb::get(const std::string& family_name, const std::string& key) {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), family(family_name), key, &value);
  if (s.IsNotFound()) return std::nullopt;
  require(s, "get");
  return value;
}

void RawDb::put(const std::string& family_name, const std::string& key, const std::string& value) {
  rocksdb::WriteOptions w;
  w.sync = true;
  require(db_->Put(w, family(family_name), key, value), "put");
}

void RawDb::erase(const std::string& family_name, const std::string& key) {
  rocksdb::WriteOptions w;
  w.sync = true;
  require(db_->Delete(w, family(family_name), key), "delete");
}

std::vector<std::string> RawDb::keys(const std::string& family_name) {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family(family_name)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.push_back(it->key().ToString());
  require(it->status(), "scan");
  return out;
}

uint64_t disk_bytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

size_t count_files(const std::string& dir, const std::string& suffix) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) ++n;
  }
  return n;
}

// ---- the "write" child's iterations

std::string participant_name(uint32_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "p%06u", i);
  return name;
}

size_t record_size(uint32_t i) { return 64 + (i * 977) % 3000; }
size_t chunk_size(uint32_t i, int which) { return which == 0 ? 1000 + (i * 37) % 5000 : 300 + (i * 101) % 70000; }
uint64_t chunk_offset(int which) { return which == 0 ? 0 : 1u << 20; }
size_t package_size(uint64_t v) { return v % 2 ? kPieceBytes + 100 * v : 2000 + v; }
size_t state_size(uint64_t v) { return v % 2 ? 2 * kPieceBytes + 3 : 50 + v; }

namespace {

uint64_t base_of(uint32_t i) { return i / 3; }
// The iteration whose merge erases iteration j's contribution (none for j % 3 == 2).
std::optional<uint32_t> merged_at(uint32_t j) {
  if (j % 3 == 2) return std::nullopt;
  return j + 2 - j % 3;
}

}  // namespace

void write_iteration(Store& store, uint32_t i) {
  StoreBatch a;
  a.put_contribution("m", base_of(i), participant_name(i), tagged_value("record", i, record_size(i)),
                     tagged_value("summary", i, 64), i);
  for (int which = 0; which < 2; ++which)
    a.put_chunk("m", i, chunk_offset(which), tagged_value(named("chunk", which), i, chunk_size(i, which)));
  a.put_upload("m", i, tagged_value("upload", i, 40));
  if (i > 0) a.erase_upload("m", i - 1);
  StoreBatch b;
  if (i % 3 == 2) {
    for (uint32_t j = i - 2; j < i; ++j) b.erase_merged("m", base_of(j), participant_name(j), j, j);
    const uint64_t v = i / 3 + 1;
    b.put_version("m", v, tagged_value("package", v, package_size(v)));
    b.put_version_info("m", v, tagged_value("info", v, 48));
    b.put_model("m", tagged_value("model", v, 80));
    b.put_server_state("m", tagged_value("state", v, state_size(v)));
    if (v >= 2) b.erase_version_pieces("m", v - 2);
  }
  const StoreBatch* both[] = {&a, &b};
  store.commit(both, true);
}

std::vector<std::string> check_state_after(const Store& store, int64_t last) {
  std::vector<std::string> diffs;
  const auto differ = [&](const std::string& what) { diffs.push_back(what); };
  // Far enough past `last` to see anything written beyond it.
  const uint32_t horizon = static_cast<uint32_t>(last + 10);
  std::vector<std::pair<uint64_t, Buffer>> want_pending;
  for (uint32_t j = 0; j <= horizon; ++j) {
    const bool written = static_cast<int64_t>(j) <= last;
    const auto m = merged_at(j);
    const bool live = written && !(m && static_cast<int64_t>(*m) <= last);
    const auto record = store.contribution("m", base_of(j), participant_name(j));
    if (live != record.has_value()) differ("contribution " + std::to_string(j) + (live ? " missing" : " present"));
    if (record && *record != tagged_value("record", j, record_size(j)))
      differ("contribution " + std::to_string(j) + " differs");
    std::vector<std::pair<uint64_t, std::string>> chunks;
    const uint64_t n = store.for_each_chunk("m", j, [&](uint64_t offset, std::span<const char> b) {
      chunks.emplace_back(offset, std::string(b.begin(), b.end()));
    });
    if (live) {
      const auto c0 = as_string(tagged_value("chunk0", j, chunk_size(j, 0)));
      const auto c1 = as_string(tagged_value("chunk1", j, chunk_size(j, 1)));
      if (chunks != decltype(chunks){{chunk_offset(0), c0}, {chunk_offset(1), c1}} || n != c0.size() + c1.size())
        differ("the chunks of upload " + std::to_string(j) + " differ");
      want_pending.emplace_back(j, tagged_value("summary", j, 64));
    } else if (!chunks.empty()) {
      differ("upload " + std::to_string(j) + " has chunks");
    }
  }
  // Filter summaries: every written iteration, by base then participant.
  std::vector<std::pair<uint64_t, Buffer>> want_summaries;
  for (int64_t j = 0; j <= last; ++j)
    want_summaries.emplace_back(base_of(static_cast<uint32_t>(j)), tagged_value("summary", j, 64));
  if (store.summaries_from("m", 0) != want_summaries) differ("the filter summaries differ");
  if (store.pending("m") != want_pending) differ("the pending entries differ");
  const auto uploads = store.uploads("m");
  if (last < 0 ? !uploads.empty()
               : uploads != decltype(uploads){{static_cast<uint64_t>(last), tagged_value("upload", last, 40)}})
    differ("the upload records differ");
  // Versions: merges happened at iterations 2, 5, 8, ... <= last.
  const uint64_t versions = static_cast<uint64_t>((last + 1) / 3);
  std::vector<Buffer> want_infos;
  for (uint64_t v = 1; v <= versions; ++v) want_infos.push_back(tagged_value("info", v, 48));
  if (store.version_infos("m") != want_infos) differ("the version infos differ");
  const auto latest = store.latest_version("m");
  if (versions == 0 ? latest.has_value() : latest != versions) differ("latest_version differs");
  std::vector<uint64_t> want_stored;
  for (uint64_t v = versions >= 2 ? versions - 1 : 1; v <= versions; ++v) want_stored.push_back(v);
  if (store.stored_versions("m") != want_stored) differ("the stored versions differ");
  for (uint64_t v : want_stored)
    if (read_whole_version(store, "m", v, package_size(v)) != tagged_value("package", v, package_size(v)))
      differ("the package of version " + std::to_string(v) + " differs");
  const auto model = store.model("m");
  const auto state = store.server_state("m");
  if (versions == 0) {
    if (model || state) differ("a model record or server state without a merge");
  } else {
    if (model != tagged_value("model", versions, 80)) differ("the model record is not the last merge's");
    if (state != tagged_value("state", versions, state_size(versions)))
      differ("the server state is not the last merge's");
  }
  return diffs;
}

StoreBatch thread_batch(int t, uint32_t i) {
  StoreBatch b;
  b.put_key(thread_key(t, i), tagged_value(thread_key(t, i), i, 100 + i % 900));
  b.put_model(named("t", t), bytes(named("t", t) + ":" + std::to_string(i)));
  return b;
}

std::string thread_key(int t, uint32_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "t%d-%06u", t, i);
  return name;
}

}  // namespace fedhub::test

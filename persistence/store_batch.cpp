// StoreBatch: the typed operations as keys and values of the layout in
// persistence/store.hpp (plain data; nothing here touches RocksDB).
#include <algorithm>

#include "persistence/keys.hpp"
#include "persistence/store.hpp"

namespace fedhub {

std::string version_key(std::string_view model, uint64_t version) { return keys::numbered(model, version); }

std::string contribution_key(std::string_view model, uint64_t base, std::string_view participant) {
  std::string k = keys::numbered(model, base);
  k.append(participant);
  return k;
}

namespace {

std::span<const char> as_bytes(const std::string& s) { return {s.data(), s.size()}; }

// The range of every key that starts with `prefix` (see keys::prefix_end).
std::string end_of(const std::string& prefix) { return *keys::prefix_end(prefix); }

// The number of kPieceBytes pieces of a value (an empty value is one empty
// piece, so that it is stored).
uint64_t piece_count(size_t size) { return std::max<uint64_t>(1, (size + kPieceBytes - 1) / kPieceBytes); }

std::span<const char> piece_of(std::span<const char> value, uint64_t piece) {
  const uint64_t begin = piece * kPieceBytes;
  const uint64_t end = std::min<uint64_t>(begin + kPieceBytes, value.size());
  return value.subspan(begin, end - begin);
}

void check_piece_count(uint64_t n, const char* what) {
  if (n > UINT32_MAX) throw StoreError(std::string(what) + " is too large for the store's piece numbers");
}

}  // namespace

void StoreBatch::add(Kind kind, Family family, std::string key, std::span<const char> value) {
  bytes_ += key.size() + value.size();
  ops_.push_back(Op{kind, family, std::move(key), Buffer(value.begin(), value.end())});
}

void StoreBatch::put_model(const std::string& name, std::span<const char> record) {
  add(Kind::put, Family::models, name, record);
}

void StoreBatch::put_version(const std::string& name, uint64_t version, std::span<const char> package) {
  const uint64_t n = piece_count(package.size());
  check_piece_count(n, "a version package");
  for (uint64_t i = 0; i < n; ++i)
    add(Kind::put, Family::versions, keys::piece_key(name, version, static_cast<uint32_t>(i)), piece_of(package, i));
}

void StoreBatch::put_version_piece(const std::string& name, uint64_t version, uint32_t piece,
                                   std::span<const char> bytes) {
  add(Kind::put, Family::versions, keys::piece_key(name, version, piece), bytes);
}

void StoreBatch::put_version_info(const std::string& name, uint64_t version, std::span<const char> info) {
  add(Kind::put, Family::version_info, keys::numbered(name, version), info);
}

void StoreBatch::erase_version_pieces(const std::string& name, uint64_t version) {
  auto begin = keys::numbered(name, version);
  const auto end = end_of(begin);
  add(Kind::erase_range, Family::versions, std::move(begin), as_bytes(end));
}

void StoreBatch::put_server_state(const std::string& name, std::span<const char> state) {
  const uint64_t n = piece_count(state.size());
  check_piece_count(n, "a server state");
  auto begin = keys::name_prefix(name);
  const auto end = end_of(begin);
  add(Kind::erase_range, Family::server_state, std::move(begin), as_bytes(end));
  for (uint64_t i = 0; i < n; ++i)
    add(Kind::put, Family::server_state, keys::state_key(name, static_cast<uint32_t>(i)), piece_of(state, i));
}

void StoreBatch::put_contribution(const std::string& name, uint64_t base, const std::string& participant,
                                  std::span<const char> record, std::span<const char> summary,
                                  std::optional<uint64_t> pending_seq) {
  const auto key = contribution_key(name, base, participant);
  add(Kind::put, Family::contributions, key, record);
  add(Kind::put, Family::filter, key, summary);
  if (pending_seq) add(Kind::put, Family::pending, keys::numbered(name, *pending_seq), summary);
}

void StoreBatch::erase_merged(const std::string& name, uint64_t base, const std::string& participant,
                              uint64_t pending_seq, uint64_t upload_id) {
  add(Kind::erase, Family::contributions, contribution_key(name, base, participant), {});
  add(Kind::erase, Family::pending, keys::numbered(name, pending_seq), {});
  erase_chunks(name, upload_id);
}

void StoreBatch::put_chunk(const std::string& name, uint64_t upload_id, uint64_t offset, std::span<const char> bytes) {
  add(Kind::put, Family::chunks, keys::chunk_key(name, upload_id, offset), bytes);
}

void StoreBatch::erase_chunks(const std::string& name, uint64_t upload_id) {
  auto begin = keys::numbered(name, upload_id);
  const auto end = end_of(begin);
  add(Kind::erase_range, Family::chunks, std::move(begin), as_bytes(end));
}

void StoreBatch::put_upload(const std::string& name, uint64_t upload_id, std::span<const char> record) {
  add(Kind::put, Family::uploads, keys::numbered(name, upload_id), record);
}

void StoreBatch::erase_upload(const std::string& name, uint64_t upload_id) {
  add(Kind::erase, Family::uploads, keys::numbered(name, upload_id), {});
}

void StoreBatch::put_provenance(const std::string& name, uint64_t version, std::span<const char> record) {
  add(Kind::put, Family::provenance, keys::numbered(name, version), record);
}

void StoreBatch::put_replay_state(const std::string& name, uint64_t version, std::span<const char> state) {
  const uint64_t n = piece_count(state.size());
  check_piece_count(n, "a server state");
  erase_replay_state(name, version);
  for (uint64_t i = 0; i < n; ++i)
    add(Kind::put, Family::replay_state, keys::piece_key(name, version, static_cast<uint32_t>(i)), piece_of(state, i));
}

void StoreBatch::erase_replay_state(const std::string& name, uint64_t version) {
  auto begin = keys::numbered(name, version);
  const auto end = end_of(begin);
  add(Kind::erase_range, Family::replay_state, std::move(begin), as_bytes(end));
}

void StoreBatch::put_scores(const std::string& name, uint64_t version, std::span<const char> record) {
  add(Kind::put, Family::scores, keys::numbered(name, version), record);
}

void StoreBatch::retire_merged(const std::string& name, uint64_t base, const std::string& participant,
                               uint64_t pending_seq) {
  add(Kind::erase, Family::contributions, contribution_key(name, base, participant), {});
  add(Kind::erase, Family::pending, keys::numbered(name, pending_seq), {});
}

void StoreBatch::put_key(const std::string& key_name, std::span<const char> record) {
  add(Kind::put, Family::keys, key_name, record);
}

void StoreBatch::persist_first(Family family) {
  if (std::find(persist_.begin(), persist_.end(), family) == persist_.end()) persist_.push_back(family);
}

void StoreBatch::append(StoreBatch&& other) {
  for (Family f : other.persist_) persist_first(f);
  other.persist_.clear();
  if (ops_.empty()) {
    ops_ = std::move(other.ops_);
  } else {
    ops_.reserve(ops_.size() + other.ops_.size());
    std::move(other.ops_.begin(), other.ops_.end(), std::back_inserter(ops_));
  }
  bytes_ += other.bytes_;
  other.ops_.clear();
  other.bytes_ = 0;
}

}  // namespace fedhub

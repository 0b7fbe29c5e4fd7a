// API keys: the registry (add, authenticate, revoke, the first manager key,
// persistence, only hashes stored) and the key helpers of security/.
#include "hub/key_registry.hpp"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <iterator>
#include <set>

#include "hub_support.hpp"
#include "messages/records.hpp"
#include "security/api_keys.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace fedhub {
std::ostream& operator<<(std::ostream& o, Role r) { return o << (r == Role::manager ? "manager" : "participant"); }
}  // namespace fedhub

namespace {

bool is_key_format(const std::string& k) {
  if (k.size() != 52 || k.rfind("fhk_", 0) != 0) return false;
  for (size_t i = 4; i < k.size(); ++i)
    if (!std::isxdigit(static_cast<unsigned char>(k[i])) || std::isupper(static_cast<unsigned char>(k[i])))
      return false;
  return true;
}

// Whether any file under `dir` contains `needle`.
bool any_file_contains(const std::string& dir, const std::string& needle) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (content.find(needle) != std::string::npos) return true;
  }
  return false;
}

// A key change as the hub makes it: prepared, written, then applied.
std::string add(Store& store, KeyRegistry& reg, const std::string& name, Role role) {
  auto change = reg.prepare_add(name, role);
  store.commit(change.batch);
  reg.apply(change);
  return change.key;
}

void revoke_key(Store& store, KeyRegistry& reg, const std::string& name) {
  auto change = reg.prepare_revoke(name);
  store.commit(change.batch);
  reg.apply(change);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_key_helpers)

BOOST_AUTO_TEST_CASE(sha256_known_vectors) {
  BOOST_TEST(to_hex(hash_api_key("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(to_hex(hash_api_key("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

BOOST_AUTO_TEST_CASE(generated_keys) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string k = generate_api_key();
    BOOST_TEST(is_key_format(k), k);
    seen.insert(k);
  }
  BOOST_TEST(seen.size() == 200u);
}

BOOST_AUTO_TEST_CASE(key_names) {
  for (const char* ok : {"a", "alice", "bob@lab.example", "x_y-z.1", "ABC"}) BOOST_TEST(check_key_name(ok).empty(), ok);
  BOOST_TEST(check_key_name(std::string(64, 'k')).empty());
  BOOST_TEST(!check_key_name(std::string(65, 'k')).empty());
  BOOST_TEST(!check_key_name("").empty());
  BOOST_TEST(check_key_name("a b").find("' '") != std::string::npos);
  BOOST_TEST(!check_key_name("a/b").empty());
  BOOST_TEST(!check_key_name("caf\xc3\xa9").empty());
}

BOOST_AUTO_TEST_CASE(constant_time_compare) {
  const KeyHash a = hash_api_key("one"), b = hash_api_key("two");
  BOOST_TEST(hashes_equal(a, a));
  BOOST_TEST(!hashes_equal(a, b));
  KeyHash c = a;
  c[31] ^= 1;
  BOOST_TEST(!hashes_equal(a, c));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(key_registry, StoreFixture)

BOOST_AUTO_TEST_CASE(add_and_authenticate) {
  KeyRegistry reg(*store);
  const std::string alice = add(*store, reg, "alice", Role::participant);
  const std::string boss = add(*store, reg, "boss", Role::manager);
  BOOST_TEST(is_key_format(alice));
  BOOST_TEST(alice != boss);
  const Identity a = reg.authenticate(alice);
  BOOST_TEST(a.name == "alice");
  BOOST_TEST(a.role == Role::participant);
  BOOST_TEST(!a.is_manager());
  const Identity b = reg.authenticate(boss);
  BOOST_TEST(b.name == "boss");
  BOOST_TEST(b.is_manager());
}

BOOST_AUTO_TEST_CASE(unknown_and_missing_keys) {
  KeyRegistry reg(*store);
  const std::string alice = add(*store, reg, "alice", Role::participant);
  check_error([&] { reg.authenticate(""); }, ErrorCode::unauthorized, "no API key");
  check_error([&] { reg.authenticate("fhk_000000000000000000000000000000000000000000000000"); },
              ErrorCode::unauthorized, "not known");
  check_error([&] { reg.authenticate(alice + "0"); }, ErrorCode::unauthorized);
  check_error([&] { reg.authenticate(alice.substr(0, alice.size() - 1)); }, ErrorCode::unauthorized);
  check_error([&] { reg.authenticate("alice"); }, ErrorCode::unauthorized);  // a name is not a key
}

BOOST_AUTO_TEST_CASE(duplicate_and_bad_names) {
  KeyRegistry reg(*store);
  add(*store, reg, "alice", Role::participant);
  check_error([&] { add(*store, reg, "alice", Role::manager); }, ErrorCode::key_exists, "'alice'");
  check_error([&] { add(*store, reg, "", Role::participant); }, ErrorCode::bad_request);
  check_error([&] { add(*store, reg, "two words", Role::participant); }, ErrorCode::bad_request, "'two words'");
  check_error([&] { add(*store, reg, std::string(65, 'x'), Role::participant); }, ErrorCode::bad_request);
  BOOST_TEST(store->keys().size() == 1u);  // refused adds store nothing
  BOOST_TEST(reg.list().size() == 1u);
}

BOOST_AUTO_TEST_CASE(revoke) {
  KeyRegistry reg(*store);
  const std::string alice = add(*store, reg, "alice", Role::participant);
  const std::string bob = add(*store, reg, "bob", Role::participant);
  revoke_key(*store, reg, "alice");
  check_error([&] { reg.authenticate(alice); }, ErrorCode::unauthorized, "revoked");
  BOOST_TEST(reg.authenticate(bob).name == "bob");
  BOOST_CHECK_NO_THROW(revoke_key(*store, reg, "alice"));  // again: nothing changes
  check_error([&] { revoke_key(*store, reg, "carol"); }, ErrorCode::unknown_key, "'carol'");
  // Names are never reused, even after a revocation.
  check_error([&] { add(*store, reg, "alice", Role::participant); }, ErrorCode::key_exists);
  const auto list = reg.list();
  BOOST_TEST_REQUIRE(list.size() == 2u);
  BOOST_TEST(list[0].name == "alice");
  BOOST_TEST(list[0].revoked);
  BOOST_TEST(list[1].name == "bob");
  BOOST_TEST(!list[1].revoked);
}

BOOST_AUTO_TEST_CASE(list_is_ordered_with_roles_and_times) {
  KeyRegistry reg(*store);
  const uint64_t before = now_ms();
  add(*store, reg, "zed", Role::participant);
  add(*store, reg, "amy", Role::manager);
  add(*store, reg, "Max", Role::participant);
  const auto list = reg.list();
  BOOST_TEST_REQUIRE(list.size() == 3u);
  BOOST_TEST(list[0].name == "Max");
  BOOST_TEST(list[1].name == "amy");
  BOOST_TEST(list[1].role == Role::manager);
  BOOST_TEST(list[2].name == "zed");
  for (const auto& k : list) {
    BOOST_TEST(k.created_at_ms >= before);
    BOOST_TEST(k.created_at_ms <= now_ms());
  }
}

BOOST_AUTO_TEST_CASE(ensure_manager_key_only_once) {
  std::string manager_key;
  {
    KeyRegistry reg(*store);
    add(*store, reg, "someone", Role::participant);  // a participant key does not count
    const auto k = reg.ensure_manager_key(*store);
    BOOST_TEST_REQUIRE(k.has_value());
    manager_key = *k;
    const Identity id = reg.authenticate(manager_key);
    BOOST_TEST(id.name == "manager");
    BOOST_TEST(id.is_manager());
    BOOST_TEST(!reg.ensure_manager_key(*store).has_value());
    BOOST_TEST(!reg.ensure_manager_key(*store, "other").has_value());
  }
  reopen();
  {
    KeyRegistry reg(*store);
    BOOST_TEST(!reg.ensure_manager_key(*store).has_value());  // the stored one counts
    BOOST_TEST(reg.authenticate(manager_key).is_manager());
  }
  {
    // A store whose only manager key is revoked (the hub refuses that
    // revocation, but the record may come from elsewhere) gets a new one
    // under a free name.
    StoreBatch b;
    b.put_key("manager", records::key_record("manager", fb::Role::manager, hash_api_key(manager_key), 1, true));
    store->commit(b);
    KeyRegistry reg(*store);
    const auto k2 = reg.ensure_manager_key(*store);
    BOOST_TEST_REQUIRE(k2.has_value());
    BOOST_TEST(reg.authenticate(*k2).name == "manager-1");
    BOOST_TEST(!reg.ensure_manager_key(*store).has_value());
    check_error([&] { reg.authenticate(manager_key); }, ErrorCode::unauthorized);
  }
}

BOOST_AUTO_TEST_CASE(survives_reopening) {
  std::string alice, boss;
  {
    KeyRegistry reg(*store);
    alice = add(*store, reg, "alice", Role::participant);
    boss = add(*store, reg, "boss", Role::manager);
    add(*store, reg, "gone", Role::participant);
    revoke_key(*store, reg, "gone");
  }
  reopen();
  KeyRegistry reg(*store);
  BOOST_TEST(reg.authenticate(alice).name == "alice");
  BOOST_TEST(reg.authenticate(boss).is_manager());
  const auto list = reg.list();
  BOOST_TEST_REQUIRE(list.size() == 3u);
  BOOST_TEST(list[1].name == "boss");
  BOOST_TEST(list[1].role == Role::manager);
  BOOST_TEST(list[2].name == "gone");
  BOOST_TEST(list[2].revoked);
  check_error([&] { add(*store, reg, "gone", Role::participant); }, ErrorCode::key_exists);
}

BOOST_AUTO_TEST_CASE(only_the_hash_is_stored) {
  std::string key;
  {
    KeyRegistry reg(*store);
    key = add(*store, reg, "alice-the-participant", Role::participant);
    const auto rec = store->key("alice-the-participant");
    BOOST_TEST_REQUIRE(rec.has_value());
    const auto* r = records::verify_key_record(*rec);
    const KeyHash h = hash_api_key(key);
    BOOST_TEST(std::equal(h.begin(), h.end(), r->sha256()->begin()));
    const std::string stored(rec->begin(), rec->end());
    BOOST_TEST(stored.find(key) == std::string::npos);
    BOOST_TEST(stored.find(key.substr(4)) == std::string::npos);
  }
  store.reset();  // closes RocksDB: everything is in its files (WAL, tables, manifest)
  const KeyHash h = hash_api_key(key);
  // Controls: the name and the raw hash are in the files...
  BOOST_TEST(any_file_contains(db_path(), "alice-the-participant"));
  BOOST_TEST(any_file_contains(db_path(), std::string(h.begin(), h.end())));
  // ...the key is not, in whole or as its random part.
  BOOST_TEST(!any_file_contains(db_path(), key));
  BOOST_TEST(!any_file_contains(db_path(), key.substr(4)));
  BOOST_TEST(!any_file_contains(db_path(), key.substr(4, 24)));
  reopen();
}

BOOST_AUTO_TEST_CASE(a_change_takes_effect_only_when_applied) {
  KeyRegistry reg(*store);
  auto change = reg.prepare_add("late", Role::participant);
  check_error([&] { reg.authenticate(change.key); }, ErrorCode::unauthorized);  // not written yet
  BOOST_TEST(store->keys().empty());
  store->commit(change.batch);
  reg.apply(change);
  BOOST_TEST(reg.authenticate(change.key).name == "late");
}

BOOST_AUTO_TEST_CASE(the_last_manager_key_cannot_be_revoked) {
  KeyRegistry reg(*store);
  const auto first = reg.ensure_manager_key(*store);
  BOOST_TEST_REQUIRE(first.has_value());
  check_error([&] { reg.prepare_revoke("manager"); }, ErrorCode::bad_request, "last manager key");
  add(*store, reg, "second", Role::manager);
  revoke_key(*store, reg, "manager");  // another manager key remains
  check_error([&] { reg.prepare_revoke("second"); }, ErrorCode::bad_request, "last manager key");
  check_error([&] { reg.authenticate(*first); }, ErrorCode::unauthorized, "revoked");
}

BOOST_AUTO_TEST_CASE(a_damaged_key_record_is_an_error) {
  StoreBatch b;
  b.put_key("broken", std::span<const char>("not a flatbuffer", 16));
  store->commit(b);
  check_error([&] { KeyRegistry reg(*store); }, ErrorCode::internal, "key record");
}

BOOST_AUTO_TEST_SUITE_END()

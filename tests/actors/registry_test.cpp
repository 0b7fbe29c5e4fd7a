// The model-registry commands through the real actors (real RocksDB in a
// temporary directory, clients over CAF remoting): delete, archive and
// unarchive, rollback, import; and that each survives a restart of the hub.
#include <boost/test/unit_test.hpp>

#include "client/requests.hpp"
#include "messages/checksum.hpp"
#include "messages/events.hpp"
#include "messages/model_package.hpp"
#include "model/flat.hpp"
#include "persistence/store.hpp"
#include "test_hub.hpp"

using namespace fedhub;
using namespace fedhub::testing;

namespace {

fb::ModelSummaryT listed(HubClient& c, const std::string& model) {
  Buffer holder;
  const auto* list = c.call_as<fb::ModelList>(requests::list_models(c.key()), holder);
  for (const auto* m : *list->models())
    if (m->name()->str() == model) {
      fb::ModelSummaryT s;
      m->UnPackTo(&s);
      return s;
    }
  BOOST_FAIL("model '" << model << "' is not listed");
  return {};
}

bool is_listed(HubClient& c, const std::string& model) {
  Buffer holder;
  const auto* list = c.call_as<fb::ModelList>(requests::list_models(c.key()), holder);
  for (const auto* m : *list->models())
    if (m->name()->str() == model) return true;
  return false;
}

void delete_model(HubClient& manager, const std::string& model) {
  Buffer holder;
  manager.call_as<fb::Ack>(requests::delete_model(manager.key(), model), holder);
}

fb::ModelSummaryT archive(HubClient& manager, const std::string& model, bool on) {
  Buffer holder;
  fb::ModelSummaryT s;
  manager.call_as<fb::CreateReceipt>(requests::archive_model(manager.key(), model, on), holder)
      ->summary()
      ->UnPackTo(&s);
  return s;
}

fb::RollbackReceiptT rollback(HubClient& manager, const std::string& model, uint64_t to) {
  Buffer holder;
  fb::RollbackReceiptT r;
  manager.call_as<fb::RollbackReceipt>(requests::rollback(manager.key(), model, to), holder)->UnPackTo(&r);
  return r;
}

std::vector<float> weights_of(HubClient& c, const std::string& model, int64_t version, uint64_t* hash = nullptr) {
  auto m = read_model_package(c.download_package(model, version));
  if (hash) *hash = m.data_hash;
  return flatten(m.weights);
}

std::string error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const RequestError& e) {
    return e.describe();
  }
  BOOST_ERROR("the request was not refused");
  return {};
}

// Uploads `v` for `base` as participant `key` and merges: the new version.
void upload_and_merge(TestHub& hub, const std::string& key, const std::string& model, uint64_t base, float v) {
  hub.client(key)->upload(tiny_contribution(model, base, v, 10));
  merge(hub.manager(), model, base);
}

// Streams the packages of `versions` of `model` on `from` into a new model
// `as` on `to` through ImportBegin/Part/Commit, as fl-manager import does.
fb::ModelSummaryT import_into(HubClient& from, HubClient& to, const std::string& model, const std::string& as,
                              std::vector<uint64_t> versions, uint64_t corrupt_hash_of = UINT64_MAX) {
  const auto st = status(from, model);
  std::vector<Buffer> packages;
  for (uint64_t v : versions) packages.push_back(from.download_package(model, static_cast<int64_t>(v)));
  auto first = read_model_package(packages.back());
  fb::ModelSpecT spec = first.spec_fields;
  spec.name = as;
  Buffer ph;
  const auto policy = from.call_as<fb::PolicyInfo>(requests::policy(from.key(), model), ph)->policy_json()->str();
  std::vector<fb::VersionInfoT> infos;
  for (const auto& v : st.versions) {
    if (v->version > versions.back()) break;
    infos.push_back(*v);
    if (v->version == corrupt_hash_of) infos.back().data_hash ^= 1;
  }
  Buffer holder;
  const auto* s =
      to.call_as<fb::UploadSession>(requests::import_begin(to.key(), spec, policy, infos, versions), holder);
  const uint64_t id = s->upload_id();
  const uint64_t part = s->part_bytes();
  Buffer all;
  for (const auto& p : packages) all.insert(all.end(), p.begin(), p.end());
  for (uint64_t at = 0; at < all.size(); at += part) {
    const uint64_t n = std::min<uint64_t>(part, all.size() - at);
    Buffer h;
    to.call_as<fb::UploadProgress>(
        requests::import_part(to.key(), as, id, at, std::span<const char>(all).subspan(at, n)), h);
  }
  Buffer ch;
  fb::ModelSummaryT out;
  to.call_as<fb::CreateReceipt>(requests::import_commit(to.key(), as, id), ch)->summary()->UnPackTo(&out);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(registry)

BOOST_AUTO_TEST_CASE(delete_removes_everything_of_the_model_in_one_batch_and_frees_the_name) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "d", 0, "");
  create_tiny(hub.manager(), "other", 0, "");
  const auto alice = hub.add_participant("alice");
  const auto bob = hub.add_participant("bob");
  upload_and_merge(hub, alice, "d", 0, 1);                      // version 1, a server state
  hub.client(alice)->upload(tiny_contribution("d", 1, 2, 10));  // pending
  hub.client(alice)->upload(tiny_contribution("other", 0, 2, 10));
  auto carol_client = hub.client(bob);
  UploadTicket cut;
  send_partially(*carol_client, tiny_contribution("d", 1, 3, 10), 1, &cut);  // an upload in progress

  // Participants may not delete; an unknown name is named.
  BOOST_TEST(refusal([&] { delete_model(*hub.client(alice), "d"); }) == ErrorCode::forbidden);
  BOOST_TEST(error_text([&] {
               delete_model(hub.manager(), "nope");
             }).find("unknown_model: there is no model named 'nope'") == 0u);

  delete_model(hub.manager(), "d");
  BOOST_TEST(!is_listed(hub.manager(), "d"));
  BOOST_TEST(refusal([&] { hub.client(bob)->upload(tiny_contribution("d", 1, 4, 10)); }) == ErrorCode::unknown_model);
  BOOST_TEST(refusal([&] { hub.client(bob)->download_package("d", -1); }) == ErrorCode::unknown_model);
  BOOST_TEST(refusal([&] { carol_client->upload(tiny_contribution("d", 1, 3, 10), &cut); }) ==
             ErrorCode::unknown_model);
  BOOST_TEST(refusal([&] { status(hub.manager(), "d"); }) == ErrorCode::unknown_model);
  BOOST_TEST(refusal([&] { delete_model(hub.manager(), "d"); }) == ErrorCode::unknown_model);
  // The other model is untouched.
  BOOST_TEST(status(hub.manager(), "other").contributions.size() == 1u);
  carol_client.reset();

  // Nothing of it is left in the store, and it stays deleted after a restart.
  hub.stop();
  {
    auto store = Store::open(hub.dir());
    BOOST_TEST(!store->model("d"));
    BOOST_TEST(!store->latest_version("d"));
    BOOST_TEST(store->version_infos("d").empty());
    BOOST_TEST(store->stored_versions("d").empty());
    BOOST_TEST(!store->server_state("d"));
    BOOST_TEST(store->pending("d").empty());
    BOOST_TEST(store->uploads("d").empty());
    BOOST_TEST(store->summaries_from("d", 0).empty());
    BOOST_TEST(!store->contribution("d", 1, "alice"));
    BOOST_TEST(store->for_each_chunk("d", cut.upload_id, [](uint64_t, std::span<const char>) {}) == 0u);
    BOOST_TEST(store->model("other").has_value());
    BOOST_TEST(store->pending("other").size() == 1u);
  }
  hub.start();
  BOOST_TEST(!is_listed(hub.manager(), "d"));
  BOOST_TEST(refusal([&] { hub.client(alice)->download_package("d", -1); }) == ErrorCode::unknown_model);

  // The name can be reused: a new model with nothing of the old one.
  create_tiny(hub.manager(), "d", 7, "");
  uint64_t version = 99;
  expect_all_values(current_weights(hub.manager(), "d", &version), 7);
  BOOST_TEST(version == 0u);
  const auto st = status(hub.manager(), "d");
  BOOST_TEST(st.contributions.empty());
  BOOST_TEST(st.versions.size() == 1u);
  hub.client(alice)->upload(tiny_contribution("d", 0, 8, 10));  // alice's old contributions do not count
  BOOST_TEST(merge(hub.manager(), "d", 0).new_version == 1u);
}

BOOST_AUTO_TEST_CASE(a_model_whose_stored_state_is_damaged_can_be_deleted) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "broken", 0, "");
  create_tiny(hub.manager(), "fine", 1, "");
  hub.stop();
  {
    auto store = Store::open(hub.dir());
    StoreBatch b;
    b.erase_version_pieces("broken", 0);  // its current weights are gone
    store->commit(b, true);
  }
  hub.start();
  BOOST_TEST((listed(hub.manager(), "broken").availability == fb::Availability::unavailable));
  BOOST_TEST(refusal([&] { hub.manager().download_package("broken", -1); }) == ErrorCode::model_unavailable);
  delete_model(hub.manager(), "broken");
  BOOST_TEST(!is_listed(hub.manager(), "broken"));
  hub.stop();
  {
    auto store = Store::open(hub.dir());
    BOOST_TEST(!store->model("broken"));
    BOOST_TEST(store->version_infos("broken").empty());
  }
  hub.start();
  BOOST_TEST(!is_listed(hub.manager(), "broken"));
  expect_all_values(current_weights(hub.manager(), "fine"), 1);
  create_tiny(hub.manager(), "broken", 2, "");
  expect_all_values(current_weights(hub.manager(), "broken"), 2);
}

BOOST_AUTO_TEST_CASE(an_archived_model_serves_downloads_and_status_and_refuses_uploads_and_merges) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "a", 0, R"({"merge":"buffered","k":2})");
  const auto alice = hub.add_participant("alice");
  const auto bob = hub.add_participant("bob");
  hub.client(alice)->upload(tiny_contribution("a", 0, 1, 10));  // pending, one short of k
  auto bob_client = hub.client(bob);
  UploadTicket cut;
  send_partially(*bob_client, tiny_contribution("a", 0, 3, 10), 1, &cut);

  BOOST_TEST(refusal([&] { archive(*hub.client(alice), "a", true); }) == ErrorCode::forbidden);
  BOOST_TEST(archive(hub.manager(), "a", true).archived);
  BOOST_TEST(listed(hub.manager(), "a").archived);
  BOOST_TEST(status(hub.manager(), "a").summary->archived);
  expect_all_values(current_weights(*hub.client(bob), "a"), 0);
  const auto why = error_text([&] { hub.client(bob)->upload(tiny_contribution("a", 0, 2, 10)); });
  BOOST_TEST(why.find("archived: model 'a' is archived") == 0u, why);
  BOOST_TEST(why.find("fl-manager unarchive a") != std::string::npos, why);
  // The upload in progress ended.
  BOOST_TEST(refusal([&] { bob_client->upload(tiny_contribution("a", 0, 3, 10), &cut); }) == ErrorCode::archived);
  BOOST_TEST(refusal([&] { merge(hub.manager(), "a", 0); }) == ErrorCode::archived);
  BOOST_TEST(refusal([&] { rollback(hub.manager(), "a", 0); }) == ErrorCode::archived);

  // Archived stays archived after a restart.
  bob_client.reset();
  hub.stop();
  hub.start();
  BOOST_TEST(listed(hub.manager(), "a").archived);
  BOOST_TEST(refusal([&] { hub.client(bob)->upload(tiny_contribution("a", 0, 2, 10)); }) == ErrorCode::archived);
  expect_all_values(current_weights(*hub.client(bob), "a"), 0);
  // A policy change keeps it archived.
  Buffer holder;
  hub.manager().call_as<fb::PolicyInfo>(requests::policy(hub.manager().key(), "a", R"({"k":3})"), holder);
  hub.stop();
  hub.start();
  BOOST_TEST(listed(hub.manager(), "a").archived);

  // Unarchived: uploads and merges again; the pending contribution was kept.
  BOOST_TEST(!archive(hub.manager(), "a", false).archived);
  hub.client(bob)->upload(tiny_contribution("a", 0, 3, 10));
  BOOST_TEST(merge(hub.manager(), "a", 0).contributors.size() == 2u);
  expect_all_values(current_weights(hub.manager(), "a"), 2);
  hub.stop();
  hub.start();
  BOOST_TEST(!listed(hub.manager(), "a").archived);
}

BOOST_AUTO_TEST_CASE(rollback_publishes_an_older_versions_weights_as_a_new_version) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "r", 0, R"({"retain_versions":3})");
  const auto alice = hub.add_participant("alice");
  upload_and_merge(hub, alice, "r", 0, 1);  // v1: all 1
  upload_and_merge(hub, alice, "r", 1, 2);  // v2: all 2
  auto watcher = hub.client(hub.manager().key());
  watcher->subscribe("r");
  uint64_t hash1 = 0;
  weights_of(hub.manager(), "r", 1, &hash1);

  BOOST_TEST(refusal([&] { rollback(*hub.client(alice), "r", 1); }) == ErrorCode::forbidden);
  BOOST_TEST(refusal([&] { rollback(hub.manager(), "r", 2); }) == ErrorCode::bad_request);
  BOOST_TEST(refusal([&] { rollback(hub.manager(), "r", 9); }) == ErrorCode::unknown_version);

  const auto r = rollback(hub.manager(), "r", 1);
  BOOST_TEST(r.new_version == 3u);
  BOOST_TEST(r.previous_version == 2u);
  BOOST_TEST(r.rolled_back_from == 1u);
  const Buffer event = wait_for_version(*watcher, 3);
  const auto* published = events::verify(event)->body_as_VersionPublished();
  BOOST_TEST(published->aggregator()->str() == "rollback");
  BOOST_TEST(published->rolled_back_from() == 1);
  uint64_t hash3 = 0, version = 0;
  expect_all_values(current_weights(*hub.client(alice), "r", &version), 1);
  BOOST_TEST(version == 3u);
  weights_of(hub.manager(), "r", 3, &hash3);
  BOOST_TEST(hash3 == hash1);
  auto st = status(hub.manager(), "r");
  BOOST_TEST(st.versions.back()->aggregator == "rollback");
  BOOST_TEST(st.versions.back()->rolled_back_from == 1);
  BOOST_TEST(st.versions.back()->base_version == 2u);
  BOOST_TEST(st.versions[2]->rolled_back_from == -1);

  // Training goes on from the new version; older versions stay downloadable.
  upload_and_merge(hub, alice, "r", 3, 5);  // v4: all 5
  expect_all_values(weights_of(hub.manager(), "r", 2), 2);
  // With 3 versions retained (2..4), version 1 is pruned: the error names the oldest retained.
  const auto why = error_text([&] { rollback(hub.manager(), "r", 1); });
  BOOST_TEST(
      why.find("unknown_version: the weights of version 1 of 'r' were pruned; the oldest retained version is 2") == 0u,
      why);
  BOOST_TEST(listed(hub.manager(), "r").oldest_retained == 2u);

  // The history survives a restart.
  watcher.reset();
  hub.stop();
  hub.start();
  st = status(hub.manager(), "r");
  BOOST_TEST(st.summary->current_version == 4u);
  BOOST_TEST(st.versions[3]->aggregator == "rollback");
  BOOST_TEST(st.versions[3]->rolled_back_from == 1);
  expect_all_values(weights_of(hub.manager(), "r", 3), 1);
  BOOST_TEST(rollback(hub.manager(), "r", 2).new_version == 5u);
  expect_all_values(current_weights(hub.manager(), "r"), 2);
}

BOOST_AUTO_TEST_CASE(rollback_treats_pending_contributions_as_any_new_version_does) {
  // drop (the paper's rule): a pending contribution to the old current
  // version is stale for the new version and dropped.
  {
    TestHub hub;
    hub.start();
    create_tiny(hub.manager(), "p", 0, "");
    const auto alice = hub.add_participant("alice");
    const auto bob = hub.add_participant("bob");
    upload_and_merge(hub, alice, "p", 0, 1);
    hub.client(bob)->upload(tiny_contribution("p", 1, 4, 10));
    auto carol = hub.client(alice);
    UploadTicket cut;
    send_partially(*carol, tiny_contribution("p", 1, 3, 10), 1, &cut);
    const auto r = rollback(hub.manager(), "p", 0);
    BOOST_TEST(r.kept == 0u);
    BOOST_TEST(r.dropped == 1u);
    BOOST_TEST(status(hub.manager(), "p").summary->pending_contributions == 0u);
    BOOST_TEST(refusal([&] { merge(hub.manager(), "p", 2); }) == ErrorCode::not_enough_contributions);
    // The upload in progress on version 1 is stale now.
    BOOST_TEST(refusal([&] { carol->upload(tiny_contribution("p", 1, 3, 10), &cut); }) == ErrorCode::stale);
    BOOST_TEST(refusal([&] { hub.client(bob)->upload(tiny_contribution("p", 1, 4, 10)); }) == ErrorCode::stale);
    carol.reset();
    hub.stop();
    hub.start();
    BOOST_TEST(status(hub.manager(), "p").summary->pending_contributions == 0u);
    hub.client(bob)->upload(tiny_contribution("p", 2, 6, 10));
    BOOST_TEST(merge(hub.manager(), "p", 2).new_version == 3u);
    expect_all_values(current_weights(hub.manager(), "p"), 6);
  }
  // constant staleness up to 2: the pending contribution is kept, with
  // staleness 1 in the round onto the new version, also across a restart.
  {
    TestHub hub;
    hub.start();
    create_tiny(hub.manager(), "p", 0, R"({"staleness":{"kind":"constant","max_staleness":2}})");
    const auto alice = hub.add_participant("alice");
    const auto bob = hub.add_participant("bob");
    upload_and_merge(hub, alice, "p", 0, 1);                    // v1: 1
    hub.client(bob)->upload(tiny_contribution("p", 1, 4, 10));  // delta +3 on version 1
    const auto r = rollback(hub.manager(), "p", 0);             // v2: 0
    BOOST_TEST(r.kept == 1u);
    BOOST_TEST(r.dropped == 0u);
    auto st = status(hub.manager(), "p", 1);
    BOOST_REQUIRE(st.contributions.size() == 1u);
    BOOST_TEST(st.contributions[0]->round_base == 2u);
    BOOST_TEST(st.contributions[0]->staleness == 1u);
    hub.stop();
    hub.start();
    BOOST_TEST(status(hub.manager(), "p").summary->pending_contributions == 1u);
    const auto m = merge(hub.manager(), "p", 2);
    BOOST_REQUIRE(m.contributions.size() == 1u);
    BOOST_TEST(m.contributions[0]->staleness == 1u);
    expect_all_values(current_weights(hub.manager(), "p"), 3);  // version 2's 0 plus bob's +3
  }
}

BOOST_AUTO_TEST_CASE(import_keeps_the_versions_and_checks_every_package) {
  TestHub source;
  source.start();
  create_tiny(source.manager(), "src", 0, R"({"aggregator":{"name":"mean"}})");
  const auto alice = source.add_participant("alice");
  upload_and_merge(source, alice, "src", 0, 1);
  upload_and_merge(source, alice, "src", 1, 2);

  TestHub target;
  target.start();
  const auto summary = import_into(source.manager(), target.manager(), "src", "copy", {0, 1, 2});
  BOOST_TEST(summary.name == "copy");
  BOOST_TEST(summary.current_version == 2u);
  for (int64_t v = 0; v <= 2; ++v) {
    uint64_t a = 0, b = 0;
    weights_of(source.manager(), "src", v, &a);
    const auto package = read_model_package(target.manager().download_package("copy", v));
    b = package.data_hash;
    BOOST_TEST(a == b);
    BOOST_TEST(package.spec.name == "copy");  // the header names the new model
    BOOST_TEST(package.version == static_cast<uint64_t>(v));
  }
  auto st = status(target.manager(), "copy");
  BOOST_TEST(st.versions.size() == 3u);
  BOOST_TEST(st.versions[1]->total_samples == 10u);
  BOOST_TEST(st.summary->policy_json.find("\"mean\"") != std::string::npos);
  // A name that exists is refused; so is a package whose hash differs from its info.
  BOOST_TEST(refusal([&] { import_into(source.manager(), target.manager(), "src", "copy", {2}); }) ==
             ErrorCode::model_exists);
  BOOST_TEST(refusal([&] {
               import_into(source.manager(), target.manager(), "src", "bad", {1, 2}, 2);
             }) == ErrorCode::bad_checksum);
  BOOST_TEST(!is_listed(target.manager(), "bad"));
  // Only one version: it is current; training goes on from it.
  BOOST_TEST(import_into(source.manager(), target.manager(), "src", "src", {1}).current_version == 1u);
  const auto bob = target.add_participant("bob");
  upload_and_merge(target, bob, "copy", 2, 4);
  expect_all_values(current_weights(target.manager(), "copy"), 4);
  // Durable after a restart.
  target.stop();
  target.start();
  expect_all_values(weights_of(target.manager(), "copy", 1), 1);
  expect_all_values(current_weights(target.manager(), "src"), 1);
  BOOST_TEST(refusal([&] { target.manager().download_package("src", 0); }) == ErrorCode::unknown_version);
  {
    target.stop();
    auto store = Store::open(target.dir());
    BOOST_TEST(!store->model("bad"));
    BOOST_TEST(store->stored_versions("bad").empty());
  }
}

// The hub's limits of a new model hold for imports as for creation.
BOOST_AUTO_TEST_CASE(an_import_beyond_the_hubs_limits_is_refused_naming_the_limit) {
  TestHub source;
  source.start();
  create_tiny(source.manager(), "src", 0, "");  // 8 parameters
  TestHub target;
  HubOptions small;
  small.model_limits.max_parameters = 4;
  target.start(small);
  std::string why;
  try {
    import_into(source.manager(), target.manager(), "src", "copy", {0});
    BOOST_ERROR("the import was accepted");
  } catch (const RequestError& e) {
    BOOST_TEST(e.code() == ErrorCode::invalid_model);
    why = e.what();
  }
  BOOST_TEST(why.find("max_parameters") != std::string::npos, why);
  BOOST_TEST(why.find("8 parameters") != std::string::npos, why);
  BOOST_TEST(!is_listed(target.manager(), "copy"));
}

// 12 MB per version: each package spans several 4 MiB parts, and a part
// holds the end of one package and the start of the next.
BOOST_AUTO_TEST_CASE(a_large_model_is_imported_in_parts) {
  TestHub source;
  source.start();
  constexpr uint64_t kParameters = 3000000;
  create_model_of(source.manager(), "big", kParameters, "");
  const auto alice = source.add_participant("alice");
  source.client(alice)->upload(random_contribution("big", 0, kParameters, 7));
  merge(source.manager(), "big", 0);
  TestHub target;
  target.start();
  BOOST_TEST(import_into(source.manager(), target.manager(), "big", "big", {0, 1}).current_version == 1u);
  for (int64_t v = 0; v <= 1; ++v) {
    uint64_t a = 0, b = 0;
    weights_of(source.manager(), "big", v, &a);
    weights_of(target.manager(), "big", v, &b);
    BOOST_TEST(a == b, "version " << v);
  }
}

BOOST_AUTO_TEST_SUITE_END()

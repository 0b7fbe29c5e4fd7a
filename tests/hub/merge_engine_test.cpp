// MergeEngine without actors, on a real store: parts folded or assembled,
// uploads that end without acceptance, a policy change while an upload is
// being committed, recovery of pending contributions from the store.
#include "hub/merge_engine.hpp"

#include <boost/test/unit_test.hpp>

#include "client/requests.hpp"
#include "hub/model_creation.hpp"
#include "hub/replay.hpp"
#include "hub/store_records.hpp"
#include "hub_support.hpp"
#include "messages/checksum.hpp"
#include "messages/requests.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

// The tiny model (8 parameters: dense/kernel [3,2], dense/bias [2]) with
// every initial value 0, created as the hub creates models.
LoadedModelState create_tiny_model(Store& store, const std::string& policy) {
  fb::ModelSpecT spec;
  spec.name = "m";
  spec.architecture_json = R"({"input":[3],"layers":[{"type":"dense","units":2}]})";
  spec.labels = {"a", "b"};
  spec.recipe_json = "{}";
  const std::vector<float> zeros(8, 0.0f);
  const Buffer request = requests::create_model("k", spec, zeros, 1, policy);
  return create_model(store, *requests::verify(request)->request_as_CreateModel());
}

struct Upload {
  UploadSession session;
  std::vector<float> values;
};

Upload upload_of(uint64_t id, const std::string& who, float value, uint64_t samples, UploadMode mode) {
  Upload u;
  u.values.assign(8, value);
  u.session.id = id;
  u.session.note.participant = who;
  u.session.note.num_samples = samples;
  u.session.note.upload_id = id;
  u.session.data_bytes = 32;
  u.session.data_hash = data_hash({reinterpret_cast<const char*>(u.values.data()), 32});
  u.session.mode = mode;
  return u;
}

// Begins and sends every part (two of 16 bytes).
void send(MergeEngine& e, const Upload& u) {
  e.begin(u.session);
  const auto* bytes = reinterpret_cast<const char*>(u.values.data());
  e.part(u.session.id, 0, {bytes, 16});
  e.part(u.session.id, 16, {bytes + 16, 16});
}

ContributionNote accepted(const Upload& u, uint64_t seq, uint64_t round = 0) {
  ContributionNote n = u.session.note;
  n.seq = seq;
  n.round_base = round;
  return n;
}

// Writes the acceptance as the journal would.
void store_acceptance(Store& store, const ContributionNote& n) {
  StoreBatch b;
  b.put_contribution("m", n.base_version, n.participant, stored::contribution_record(n, {}, 32),
                     stored::contribution_summary(n), n.seq);
  b.erase_upload("m", n.upload_id);
  store.commit(b);
}

MergeOrder order_of(const std::vector<ContributionNote>& members, const MergePolicy& policy) {
  MergeOrder o;
  o.base_version = 0;
  o.members = members;
  o.policy = policy;
  return o;
}

void expect_all(const SharedImage& image, float v) {
  for (float x : image->weights.span()) BOOST_TEST(std::abs(x - v) < 1e-5, "value " << x << " != " << v);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(merge_engine, StoreFixture)

BOOST_AUTO_TEST_CASE(folded_and_assembled_uploads_merge_alike) {
  int i = 0;
  for (auto mode : {UploadMode::fold, UploadMode::assemble}) {
    auto st = Store::open(dir / ("modes" + std::to_string(i++)));
    auto s = create_tiny_model(*st, "");
    MergeEngine e(*st, s.definition, s.policy, s.image, {});
    auto a = upload_of(1, "a", 1.0f, 1, mode);
    auto b = upload_of(2, "b", 3.0f, 3, mode);
    for (auto* u : {&a, &b}) {
      send(e, *u);
      e.finalize(u->session.id);
    }
    e.committed(1, accepted(a, 0));
    e.committed(2, accepted(b, 1));
    auto out = e.merge(order_of({accepted(a, 0), accepted(b, 1)}, s.policy));
    BOOST_TEST(out.note.version == 1u);
    expect_all(out.image, (1.0f * 1 + 3.0f * 3) / 4);  // FedAvg by samples
    BOOST_TEST(out.note.total_samples == 4u);
    BOOST_TEST(e.current_version() == 1u);
  }
}

BOOST_AUTO_TEST_CASE(an_upload_that_ends_leaves_the_round_as_it_was) {
  auto s = create_tiny_model(*store, "");
  MergeEngine e(*store, s.definition, s.policy, s.image, {});
  auto a = upload_of(1, "a", 2.0f, 1, UploadMode::fold);
  auto gone = upload_of(2, "gone", 100.0f, 1, UploadMode::fold);
  send(e, a);
  send(e, gone);  // folded into the round, then abandoned
  e.abort(2);
  BOOST_TEST(store->for_each_chunk("m", 2, [](uint64_t, std::span<const char>) {}) == 0u);
  BOOST_TEST(store->uploads("m").size() == 1u);
  e.finalize(1);
  e.committed(1, accepted(a, 0));
  expect_all(e.merge(order_of({accepted(a, 0)}, s.policy)).image, 2.0f);
}

BOOST_AUTO_TEST_CASE(a_bad_part_ends_the_upload_and_changes_nothing) {
  auto s = create_tiny_model(*store, "");
  MergeEngine e(*store, s.definition, s.policy, s.image, {});
  auto u = upload_of(1, "a", 1.0f, 1, UploadMode::fold);
  u.values[5] = 5e6f;  // beyond the default max_abs_value 1e6
  e.begin(u.session);
  const auto* bytes = reinterpret_cast<const char*>(u.values.data());
  e.part(1, 0, {bytes, 16});
  BOOST_CHECK_THROW(e.part(1, 16, {bytes + 16, 16}), RequestError);
  BOOST_CHECK_THROW(e.finalize(1), RequestError);  // the upload is gone
  BOOST_TEST(store->for_each_chunk("m", 1, [](uint64_t, std::span<const char>) {}) == 0u);
  // A part that does not follow is refused without ending the upload.
  auto v = upload_of(2, "b", 1.0f, 1, UploadMode::fold);
  e.begin(v.session);
  BOOST_CHECK_THROW(e.part(2, 16, {bytes, 16}), RequestError);
  e.part(2, 0, {reinterpret_cast<const char*>(v.values.data()), 16});
}

// The defect the rebuild must not have: a policy change while an upload's
// acceptance is being written must not lose that upload's data.
BOOST_AUTO_TEST_CASE(a_policy_change_keeps_an_upload_being_committed) {
  auto s = create_tiny_model(*store, "");
  MergeEngine e(*store, s.definition, s.policy, s.image, {});
  auto a = upload_of(1, "a", 2.0f, 1, UploadMode::fold);
  auto open = upload_of(2, "open", 7.0f, 1, UploadMode::fold);
  send(e, a);
  send(e, open);
  e.finalize(1);  // a's commit is in the journal now; `open` is still receiving
  const auto median = MergePolicy::from_json(R"({"aggregator":{"name":"median"}})");
  e.set_policy(median, {2});  // the model actor ended `open`
  const auto note = accepted(a, 0);
  store_acceptance(*store, note);
  e.committed(1, note);
  auto out = e.merge(order_of({note}, median));
  expect_all(out.image, 2.0f);
  BOOST_TEST(store->for_each_chunk("m", 2, [](uint64_t, std::span<const char>) {}) == 0u);
}

BOOST_AUTO_TEST_CASE(pending_contributions_are_merged_from_the_store_after_a_restart) {
  auto s = create_tiny_model(*store, "");
  auto a = upload_of(1, "a", 4.0f, 1, UploadMode::fold);
  const auto note = accepted(a, 0);
  {
    MergeEngine e(*store, s.definition, s.policy, s.image, {});
    send(e, a);
    e.finalize(1);
    store_acceptance(*store, note);
    e.committed(1, note);
  }  // the hub stops before the merge
  reopen();
  {
    auto loaded = load_model_state(*store, "m");
    BOOST_TEST(loaded.recovered.current_version == 0u);
    BOOST_TEST(loaded.recovered.pending.size() == 1u);
    MergeEngine e(*store, loaded.definition, loaded.policy, loaded.image, loaded.server_state);
    expect_all(e.merge(order_of({note}, loaded.policy)).image, 4.0f);
  }
  reopen();
  auto after = load_model_state(*store, "m");
  BOOST_TEST(after.recovered.current_version == 1u);
  BOOST_TEST(after.recovered.pending.empty());
  BOOST_TEST(!store->contribution("m", 0, "a"));  // merged: its record is gone
  // its weights stay for a replay (replay_versions, tests/hub/provenance_test.cpp)
  BOOST_TEST(store->for_each_chunk("m", 1, [](uint64_t, std::span<const char>) {}) == 32u);
  expect_all(after.image, 4.0f);
}

BOOST_AUTO_TEST_CASE(a_frozen_layer_keeps_its_values_through_every_kind_of_merge) {
  // dense (3 -> 2, frozen: 8 values of 7) then dense_1 (2 -> 2: 6 trainable
  // values of 0); contributions carry dense_1 alone (6 floats).
  int i = 0;
  for (const std::string policy :
       {R"({"merge":"manual"})", R"({"merge":"manual","aggregator":{"name":"fedadam","server_lr":0.1}})",
        R"({"merge":"manual","aggregator":{"name":"median"}})",
        R"({"merge":"manual","norm_bound":1,"on_norm_exceeded":"clip"})", R"({"merge":"async","alpha":0.5})"}) {
    for (auto mode : {UploadMode::fold, UploadMode::assemble}) {
      auto st = Store::open(dir / ("frozen" + std::to_string(i++)));
      fb::ModelSpecT spec;
      spec.name = "m";
      spec.architecture_json =
          R"({"input":[3],"layers":[{"type":"dense","units":2,"trainable":false},{"type":"dense","units":2}]})";
      spec.labels = {"a", "b"};
      spec.recipe_json = "{}";
      std::vector<float> initial(14, 0.0f);
      std::fill(initial.begin(), initial.begin() + 8, 7.0f);
      auto s = create_model(
          *st, *requests::verify(requests::create_model("k", spec, initial, 1, policy))->request_as_CreateModel());
      BOOST_REQUIRE(s.definition.contribution_bytes() == 24u);
      MergeEngine e(*st, s.definition, s.policy, s.image, {});
      std::vector<ContributionNote> members;
      const bool async = s.policy.merge == MergeMode::async;
      for (uint64_t id = 1; id <= (async ? 1u : 3u); ++id) {
        Upload u;
        u.values.assign(6, 0.5f * static_cast<float>(id));
        u.session.id = id;
        u.session.note.participant = "p" + std::to_string(id);
        u.session.note.num_samples = id;
        u.session.note.upload_id = id;
        u.session.data_bytes = 24;
        u.session.data_hash = data_hash({reinterpret_cast<const char*>(u.values.data()), 24});
        u.session.mode = mode;
        e.begin(u.session);
        e.part(id, 0, {reinterpret_cast<const char*>(u.values.data()), 24});
        e.finalize(id);
        const auto note = accepted(u, id - 1);
        StoreBatch b;
        b.put_contribution("m", 0, note.participant, stored::contribution_record(note, {}, 24),
                           stored::contribution_summary(note), note.seq);
        b.erase_upload("m", id);
        st->commit(b);
        e.committed(id, note);
        members.push_back(note);
      }
      const auto out = e.merge(order_of(members, s.policy));
      const auto w = out.image->weights.span();
      BOOST_REQUIRE(w.size() == 14u);
      for (size_t k = 0; k < 8; ++k) BOOST_TEST(w[k] == 7.0f, policy << ": frozen value " << k << " is " << w[k]);
      for (size_t k = 8; k < 14; ++k) BOOST_TEST(w[k] != 0.0f, policy << ": trainable value " << k << " unchanged");
      if (policy == R"({"merge":"manual"})")
        BOOST_TEST(w[8] == (0.5f * 1 + 1.0f * 2 + 1.5f * 3) / 6, boost::test_tools::tolerance(1e-6f));
      const auto replay = replay_version(*st, s.definition, 1);
      BOOST_TEST((replay.outcome == ReplayReport::Outcome::identical ||
                  replay.outcome == ReplayReport::Outcome::within_rounding),
                 policy << ": " << replay.reason);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

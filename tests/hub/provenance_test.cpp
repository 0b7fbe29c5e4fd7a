// Provenance and replay (issue 11): every merge records what went into it
// in the synced batch of its version, and replay_version re-runs the merge
// from the stored inputs, bit for bit, for FedAvg, FedAdam, median, Krum,
// DP and async merges; a tampered stored contribution, pruned inputs and a
// restart in between are each reported or handled.
#include "messages/provenance.hpp"

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "client/requests.hpp"
#include "federation/staleness.hpp"
#include "hub/merge_engine.hpp"
#include "hub/model_creation.hpp"
#include "hub/replay.hpp"
#include "hub/store_records.hpp"
#include "hub_support.hpp"
#include "messages/checksum.hpp"
#include "messages/requests.hpp"
#include "security/digest.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

constexpr size_t kParams = 9;  // the tiny model

LoadedModelState create_with(Store& store, const std::string& policy) {
  const auto spec = tiny_spec("p");
  const Buffer request = requests::create_model("k", spec, tiny_initial_flat(), 1, policy);
  return create_model(store, *requests::verify(request)->request_as_CreateModel());
}

// A merge engine with the contributions of several rounds, each upload's
// values random around the current weights (so the order of additions
// shows in the last bits).
struct Crowd {
  Store& store;
  LoadedModelState state;
  std::unique_ptr<MergeEngine> engine;
  std::mt19937 rng{7};
  uint64_t next_id = 1;
  uint64_t next_seq = 0;

  Crowd(Store& s, const std::string& policy) : store(s), state(create_with(s, policy)) {
    engine = std::make_unique<MergeEngine>(store, state.definition, state.policy, state.image, state.server_state);
  }

  // One accepted contribution of `who` onto the current version (its data
  // sent in two parts, finalized, accepted and written as the journal would).
  ContributionNote contribute(const std::string& who, uint64_t samples) {
    const auto base = engine->current()->weights.span();
    std::normal_distribution<float> noise(0.0f, 0.3f);
    std::vector<float> values(kParams);
    for (size_t i = 0; i < kParams; ++i) values[i] = base[i] + noise(rng);
    UploadSession s;
    s.id = next_id++;
    s.note.participant = who;
    s.note.base_version = engine->current_version();
    s.note.num_samples = samples;
    s.note.upload_id = s.id;
    s.data_bytes = kParams * 4;
    const auto* bytes = reinterpret_cast<const char*>(values.data());
    s.data_hash = data_hash({bytes, s.data_bytes});
    engine->begin(s);
    engine->part(s.id, 0, {bytes, 16});
    engine->part(s.id, 16, {bytes + 16, s.data_bytes - 16});
    engine->finalize(s.id);
    ContributionNote n = s.note;
    n.seq = next_seq++;
    n.round_base = engine->current_version();
    n.received_at_ms = 1000 + n.seq;
    StoreBatch b;
    b.put_contribution("p", n.base_version, who, stored::contribution_record(n, {}, s.data_bytes),
                       stored::contribution_summary(n), n.seq);
    b.erase_upload("p", s.id);
    store.commit(b);
    engine->committed(s.id, n);
    return n;
  }

  MergeOutcome merge(const std::vector<ContributionNote>& members) {
    MergeOrder o;
    o.base_version = engine->current_version();
    o.members = members;
    o.policy = state.policy;
    return engine->merge(o);
  }

  // Three rounds of three contributions.
  void rounds(int n = 3) {
    for (int r = 0; r < n; ++r) {
      std::vector<ContributionNote> m;
      m.push_back(contribute("alice", 100));
      m.push_back(contribute("bob", 300));
      m.push_back(contribute("carol", 50));
      merge(m);
    }
  }
};

fb::ProvenanceT provenance(Store& store, uint64_t v) {
  auto record = store.provenance("p", v);
  BOOST_REQUIRE(record);
  return read_provenance(*record);
}

std::string stored_sha(Store& store, const ModelDefinition& def, uint64_t v) {
  auto image = stored::read_version_image(store, def, v);
  return to_hex(sha256(image->weights.as_bytes()));
}

void expect_identical(Store& store, const ModelDefinition& def, uint64_t v) {
  const auto r = replay_version(store, def, v);
  BOOST_TEST(to_string(r.outcome) == "identical", "version " << v << ": " << to_string(r.outcome) << ": " << r.reason);
  BOOST_TEST(r.differing == 0u);
  BOOST_TEST(r.replayed_sha256 == r.stored_sha256);
  BOOST_TEST(r.recorded_sha256 == r.stored_sha256);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(provenance_and_replay, StoreFixture)

BOOST_AUTO_TEST_CASE(history_records_exactly_what_went_in) {
  Crowd c(*store, R"({"retain_versions":10})");
  auto a = c.contribute("alice", 100);
  auto b = c.contribute("bob", 300);
  auto out = c.merge({a, b});
  const auto p = provenance(*store, 1);
  BOOST_TEST(p.version == 1u);
  BOOST_TEST(p.base_version == 0u);
  BOOST_TEST(p.aggregator == "fedavg");
  BOOST_TEST(p.summation == "ordered");
  BOOST_TEST(p.replayable);
  BOOST_TEST(p.noise_seed == 0u);
  BOOST_REQUIRE(p.members.size() == 2u);
  BOOST_TEST(p.members[0]->participant == "alice");
  BOOST_TEST(p.members[1]->participant == "bob");
  BOOST_TEST(p.members[0]->num_samples == 100u);
  BOOST_TEST(p.members[1]->upload_id == b.upload_id);
  BOOST_TEST(p.members[0]->weight_share == 0.25, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(p.members[1]->weight_share == 0.75, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(p.members[0]->staleness == 0u);
  BOOST_TEST(p.members[0]->factor == 1.0);
  BOOST_TEST(!p.members[0]->clipped);
  BOOST_TEST(p.members[0]->update_norm > 0.0);
  BOOST_TEST(p.members[0]->validation == "accepted");
  BOOST_TEST(p.members[0]->received_at_ms == a.received_at_ms);
  BOOST_TEST(p.members[1]->data_hash != 0u);
  BOOST_TEST(to_hex(sha256(out.image->weights.as_bytes())) == stored_sha(*store, c.state.definition, 1));
  Sha256 recorded{};
  std::memcpy(recorded.data(), p.weights_sha256.data(), 32);
  BOOST_TEST(to_hex(recorded) == stored_sha(*store, c.state.definition, 1));
  BOOST_TEST(nlohmann::json::parse(p.policy)["retain_versions"] == 10);
  // The contribution records left with the merge; their chunks stay for a replay.
  BOOST_TEST(!store->contribution("p", 0, "alice"));
  BOOST_TEST(store->for_each_chunk("p", a.upload_id, [](uint64_t, std::span<const char>) {}) == kParams * 4);
  BOOST_TEST(store->replay_state("p", 1).has_value());
}

BOOST_AUTO_TEST_CASE(replays_are_bit_for_bit_for_every_aggregator) {
  const std::vector<std::pair<std::string, std::string>> policies = {
      {"fedavg", R"({"retain_versions":10})"},
      {"fedadam", R"({"retain_versions":10,"aggregator":{"name":"fedadam","server_lr":0.05}})"},
      {"median", R"({"retain_versions":10,"aggregator":{"name":"median"}})"},
      {"krum", R"({"retain_versions":10,"aggregator":{"name":"krum","krum_byzantine":0}})"},
      {"dp", R"({"retain_versions":10,"aggregator":{"name":"fedavg","dp":{"enabled":true,"clip_norm":0.5,)"
             R"("noise_multiplier":0.8,"adaptive_clipping":true}}})"},
      {"clip", R"({"retain_versions":10,"norm_bound":0.2,"on_norm_exceeded":"clip"})"},
  };
  int i = 0;
  for (const auto& [label, policy] : policies) {
    BOOST_TEST_CONTEXT(label) {
      auto st = Store::open(dir / ("agg" + std::to_string(i++)));
      Crowd c(*st, policy);
      c.rounds(3);
      for (uint64_t v = 1; v <= 3; ++v) expect_identical(*st, c.state.definition, v);
      if (label == "dp") {
        BOOST_TEST(provenance(*st, 2).noise_seed != 0u);
        BOOST_TEST(provenance(*st, 2).noise_seed != provenance(*st, 3).noise_seed);
      }
      if (label == "clip") {
        bool any = false;
        for (const auto& m : provenance(*st, 1).members) any |= m->clipped && m->clip_scale < 1.0f;
        BOOST_TEST(any);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(stale_and_async_merges_replay_too) {
  {
    Crowd c(*store, R"({"retain_versions":10,"staleness":{"kind":"polynomial","max_staleness":3}})");
    auto early = c.contribute("slow", 80);  // onto version 0, merged into version 2
    c.merge({c.contribute("alice", 100)});
    ContributionNote late = early;
    late.round_base = 1;
    late.factor = federation::staleness_weight(c.state.policy.staleness, 1);
    auto fresh = c.contribute("bob", 100);
    // The slow one joins the round onto version 1 as the model core would
    // assign it (a staleness factor below 1).
    c.engine->committed(early.upload_id, late);
    c.merge({fresh, late});
    const auto p = provenance(*store, 2);
    BOOST_REQUIRE(p.members.size() == 2u);
    BOOST_TEST(p.members[1]->staleness == 1u);
    BOOST_TEST(p.members[1]->factor < 1.0);
    expect_identical(*store, c.state.definition, 2);
  }
  auto st = Store::open(dir / "async");
  Crowd c(*st, R"({"merge":"async","alpha":0.5,"retain_versions":10})");
  for (int r = 0; r < 3; ++r) c.merge({c.contribute("p" + std::to_string(r), 10)});
  BOOST_TEST(provenance(*st, 3).aggregator == "fedasync");
  for (uint64_t v = 1; v <= 3; ++v) expect_identical(*st, c.state.definition, v);
}

BOOST_AUTO_TEST_CASE(a_merge_of_contributions_recovered_after_a_restart_replays) {
  ModelDefinition def;
  std::vector<ContributionNote> members;
  {
    Crowd c(*store, R"({"retain_versions":10,"aggregator":{"name":"fedadam"}})");
    c.rounds(1);
    members = {c.contribute("alice", 10), c.contribute("bob", 20), c.contribute("carol", 30)};
    def = c.state.definition;
  }
  reopen();
  auto s = load_model_state(*store, "p");
  MergeEngine e(*store, s.definition, s.policy, s.image, s.server_state);
  MergeOrder o;
  o.base_version = 1;
  o.members = members;
  o.policy = s.policy;
  e.merge(o);
  expect_identical(*store, def, 1);
  expect_identical(*store, def, 2);
}

BOOST_AUTO_TEST_CASE(a_tampered_stored_contribution_fails_verification) {
  Crowd c(*store, R"({"retain_versions":10})");
  c.rounds(2);
  const auto p = provenance(*store, 2);
  const uint64_t bob = p.members[1]->upload_id;
  // Someone with access to the data directory changes one weight of bob's.
  std::vector<float> changed;
  store->for_each_chunk("p", bob, [&](uint64_t, std::span<const char> bytes) {
    const size_t n = bytes.size() / 4;
    const size_t at = changed.size();
    changed.resize(at + n);
    std::memcpy(changed.data() + at, bytes.data(), bytes.size());
  });
  changed[3] += 0.5f;
  StoreBatch b;
  b.put_chunk("p", bob, 0, {reinterpret_cast<const char*>(changed.data()), 16});
  b.put_chunk("p", bob, 16, {reinterpret_cast<const char*>(changed.data()) + 16, changed.size() * 4 - 16});
  store->commit(b);
  const auto r = replay_version(*store, c.state.definition, 2);
  BOOST_TEST(to_string(r.outcome) == "differs");
  BOOST_REQUIRE(r.tampered.size() == 1u);
  BOOST_TEST(r.tampered[0].find("'bob'") != std::string::npos, r.tampered[0]);
  BOOST_TEST(r.differing > 0u);
  BOOST_TEST(r.reason.find("bob") != std::string::npos, r.reason);
  expect_identical(*store, c.state.definition, 1);  // the other versions still verify
}

BOOST_AUTO_TEST_CASE(a_tampered_stored_version_fails_verification) {
  Crowd c(*store, R"({"retain_versions":10})");
  c.rounds(2);
  // The stored server state the merge of version 2 started from changes.
  auto state = store->replay_state("p", 2);
  BOOST_REQUIRE(state);
  state->back() ^= 1;
  StoreBatch b;
  b.put_replay_state("p", 2, *state);
  store->commit(b);
  const auto r = replay_version(*store, c.state.definition, 2);
  BOOST_TEST(to_string(r.outcome) == "differs");
  BOOST_TEST(r.reason.find("server state") != std::string::npos, r.reason);
}

BOOST_AUTO_TEST_CASE(pruned_inputs_make_verify_say_so) {
  Crowd c(*store, R"({"retain_versions":10,"replay_versions":2})");
  c.rounds(4);
  const auto p1 = provenance(*store, 1);
  BOOST_TEST(!p1.replayable);
  BOOST_TEST(!provenance(*store, 2).replayable);
  BOOST_TEST(provenance(*store, 3).replayable);
  for (const auto& m : p1.members)
    BOOST_TEST(store->for_each_chunk("p", m->upload_id, [](uint64_t, std::span<const char>) {}) == 0u);
  BOOST_TEST(!store->replay_state("p", 1));
  const auto r = replay_version(*store, c.state.definition, 1);
  BOOST_TEST(to_string(r.outcome) == "not_replayable");
  BOOST_TEST(r.reason.find("replay_versions") != std::string::npos, r.reason);
  expect_identical(*store, c.state.definition, 3);
  expect_identical(*store, c.state.definition, 4);
  // Version 0 is no merge; a version past the current one does not exist.
  BOOST_TEST(to_string(replay_version(*store, c.state.definition, 0).outcome) == "not_replayable");
  check_error([&] { replay_version(*store, c.state.definition, 9); }, ErrorCode::unknown_version);
}

BOOST_AUTO_TEST_CASE(without_replay_the_merged_chunks_go_at_once) {
  Crowd c(*store, R"({"replay_versions":0})");
  auto a = c.contribute("alice", 1);
  c.merge({a});
  BOOST_TEST(store->for_each_chunk("p", a.upload_id, [](uint64_t, std::span<const char>) {}) == 0u);
  BOOST_TEST(!provenance(*store, 1).replayable);
  BOOST_TEST(to_string(replay_version(*store, c.state.definition, 1).outcome) == "not_replayable");
}

BOOST_AUTO_TEST_CASE(a_rollback_is_checked_against_the_weights_it_restored) {
  Crowd c(*store, R"({"retain_versions":10})");
  c.rounds(2);
  RollbackOrder o;
  o.base_version = 2;
  o.to_version = 1;
  c.engine->rollback(o);
  const auto p = provenance(*store, 3);
  BOOST_TEST(p.rolled_back_from == 1);
  BOOST_TEST(p.aggregator == "rollback");
  expect_identical(*store, c.state.definition, 3);
  c.rounds(1);
  expect_identical(*store, c.state.definition, 4);
}

BOOST_AUTO_TEST_SUITE_END()

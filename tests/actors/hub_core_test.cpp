// The rebuilt core through the real actors, with clients over CAF remoting:
// the defects found on main (lost acknowledgements, unanswered parallel
// requests, numbers that break a model, failure spreading), streamed
// uploads (resume, abandon, folding across a merge) and a 50M-parameter
// model end to end.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "client/requests.hpp"
#include "messages/checksum.hpp"
#include "messages/contribution.hpp"
#include "messages/events.hpp"
#include "messages/model_package.hpp"
#include "model/flat.hpp"
#include "persistence/store.hpp"
#include "test_hub.hpp"

using namespace fedhub;
using namespace fedhub::testing;

namespace {

Buffer contribution_with(const std::string& model, uint64_t base, std::vector<float> values, uint64_t samples) {
  Weights w = tiny_weights(0);
  size_t at = 0;
  for (auto& t : w)
    for (auto& v : t.values) v = values[at++];
  ContributionMeta meta;
  meta.model = model;
  meta.base_version = base;
  meta.num_samples = samples;
  return build_contribution(meta, w);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hub_core)

// On main about 1 in 50 of 50 parallel uploads got no answer; downloads
// timed out too.
BOOST_AUTO_TEST_CASE(fifty_parallel_uploads_and_downloads_are_all_answered) {
  TestHub hub;
  hub.start();
  for (int run = 0; run < 3; ++run) {
    const std::string m = "par" + std::to_string(run);
    create_tiny(hub.manager(), m, 0, "");
    std::vector<std::string> keys;
    for (int i = 0; i < 50; ++i) keys.push_back(hub.add_participant(m + "-" + std::to_string(i)));
    std::atomic<int> uploads{0}, downloads{0};
    std::vector<std::string> failures(100);
    std::vector<std::thread> threads;
    for (int i = 0; i < 50; ++i) {
      threads.emplace_back([&, i] {
        try {
          auto c = hub.client(keys[i]);
          c->upload(tiny_contribution(m, 0, 1.0f + static_cast<float>(i), 1));
          ++uploads;
        } catch (const std::exception& e) {
          failures[i] = e.what();
        }
      });
      threads.emplace_back([&, i] {
        try {
          auto c = hub.client(keys[i]);
          read_model_package(c->download_package(m, -1));
          ++downloads;
        } catch (const std::exception& e) {
          failures[50 + i] = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& f : failures) BOOST_TEST(f.empty(), f);
    BOOST_TEST(uploads == 50);
    BOOST_TEST(downloads == 50);
    BOOST_TEST(status(hub.manager(), m).contributions.size() == 50u);
    BOOST_TEST(merge(hub.manager(), m, 0).contributors.size() == 50u);
  }
}

// On main, with buffered merges (k = 3), an upload acknowledged a moment
// after the k-th had triggered the merge was later dropped as stale. Now
// every acknowledged contribution ends up in exactly one version.
BOOST_AUTO_TEST_CASE(every_acknowledged_upload_racing_buffered_merges_is_merged) {
  for (const char* policy : {R"({"merge":"buffered","k":3})",
                             R"({"merge":"buffered","k":3,"staleness":{"kind":"fedbuff","max_staleness":2}})"}) {
    TestHub hub;
    hub.start();
    create_tiny(hub.manager(), "race", 0, policy);
    auto watcher = hub.client(hub.manager().key());
    watcher->subscribe("race");
    constexpr int kParticipants = 8;
    constexpr int kRounds = 6;
    std::mutex mu;
    std::set<std::pair<std::string, uint64_t>> acknowledged;
    std::vector<std::thread> threads;
    std::vector<std::string> errors;
    for (int i = 0; i < kParticipants; ++i) {
      std::string name = "p";  // (not "p" + ...: GCC 12 warns falsely, -Wrestrict)
      name += std::to_string(i);
      const std::string key = hub.add_participant(name);
      threads.emplace_back([&, name, key] {
        auto c = hub.client(key);
        std::set<uint64_t> done;
        for (int tries = 0; static_cast<int>(done.size()) < kRounds && tries < 400; ++tries) {
          uint64_t base = 0;
          current_weights(*c, "race", &base);
          if (done.count(base)) {
            std::this_thread::yield();  // the others' uploads make the next version
            continue;
          }
          try {
            auto r = c->upload(tiny_contribution("race", base, 1.0f, 1));
            std::lock_guard lock(mu);
            acknowledged.emplace(name, r.base_version);
            done.insert(base);
          } catch (const RequestError& e) {
            if (e.code() == ErrorCode::duplicate) {
              done.insert(base);
            } else if (e.code() != ErrorCode::stale) {
              std::lock_guard lock(mu);
              errors.push_back(e.describe());
            }
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) BOOST_ERROR(e);
    // Events of every version so far and to come, by version.
    std::map<uint64_t, std::vector<std::pair<std::string, uint64_t>>> versions;
    auto collect_until = [&](uint64_t version) {
      while (!versions.count(version)) {
        auto event = watcher->next_event(std::chrono::seconds(60));
        BOOST_REQUIRE_MESSAGE(event.has_value(), "no event for version " << version);
        const auto* p = events::verify(*event)->body_as_VersionPublished();
        if (!p) continue;
        BOOST_TEST(p->dropped() == 0u);
        auto& list = versions[p->version()];
        for (const auto* c : *p->contributions()) list.emplace_back(c->participant()->str(), c->base_version());
      }
    };
    // Merge what is left once the automatic merges are done.
    for (;;) {
      uint64_t current = 0;
      current_weights(hub.manager(), "race", &current);
      try {
        merge(hub.manager(), "race", current);
      } catch (const RequestError& e) {
        if (e.code() == ErrorCode::not_enough_contributions) break;
        BOOST_REQUIRE_MESSAGE(e.code() == ErrorCode::merge_in_progress || e.code() == ErrorCode::base_not_current,
                              e.describe());
        collect_until(current + 1);  // an automatic merge is under way
      }
    }
    uint64_t current = 0;
    current_weights(hub.manager(), "race", &current);
    collect_until(current);
    std::map<std::pair<std::string, uint64_t>, int> merged;
    for (const auto& [v, list] : versions)
      for (const auto& c : list) ++merged[c];
    BOOST_TEST(acknowledged.size() >= static_cast<size_t>(kParticipants));
    for (const auto& a : acknowledged)
      BOOST_TEST(merged[a] == 1, a.first << " to version " << a.second << " was merged " << merged[a] << " times");
    BOOST_TEST(status(hub.manager(), "race").summary->pending_contributions == 0u);
  }
}

// On main a finite but huge weight (3e38) made the merge store a version of
// inf, and 2^64-1 samples overflowed the sample total.
BOOST_AUTO_TEST_CASE(numbers_that_could_break_a_model_are_refused_before_acknowledgement) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "num", 0, "");
  auto a = hub.client(hub.add_participant("a"));
  auto huge = std::vector<float>(8, 1.0f);
  huge[3] = 3e38f;
  BOOST_TEST((refusal([&] { a->upload(contribution_with("num", 0, huge, 1)); }) == ErrorCode::magnitude_exceeded));
  auto nan = std::vector<float>(8, 1.0f);
  nan[7] = std::nanf("");
  BOOST_TEST((refusal([&] { a->upload(contribution_with("num", 0, nan, 1)); }) == ErrorCode::non_finite));
  BOOST_TEST(
      (refusal([&] { a->upload(tiny_contribution("num", 0, 1.0f, UINT64_MAX)); }) == ErrorCode::bad_contribution));
  // Nothing of these was accepted: the participant may still contribute.
  a->upload(tiny_contribution("num", 0, 1.0f, 1));
  BOOST_TEST(status(hub.manager(), "num").contributions.size() == 1u);

  // With the bound switched off, a merge that overflows is not committed:
  // the version stays and the error names the contributions.
  create_tiny(hub.manager(), "off", 0, R"({"max_abs_value":0,"aggregator":{"name":"mean"}})");
  auto big = std::vector<float>(8, 3e38f);
  a->upload(contribution_with("off", 0, big, 1));
  hub.client(hub.add_participant("b"))->upload(contribution_with("off", 0, big, 1));
  try {
    merge(hub.manager(), "off", 0);
    BOOST_ERROR("the overflowing merge was committed");
  } catch (const RequestError& e) {
    BOOST_TEST((e.code() == ErrorCode::internal));
    BOOST_TEST(std::string(e.what()).find("non-finite") != std::string::npos, e.what());
    BOOST_TEST(std::string(e.what()).find("a, b") != std::string::npos, e.what());
  }
  uint64_t version = 9;
  auto x = current_weights(hub.manager(), "off", &version);
  BOOST_TEST(version == 0u);
  for (float v : x) BOOST_TEST(std::isfinite(v));
}

// docs/reliability.md, "Bad input": a result of another model's
// architecture, a tensor of another dtype and upload headers that are
// garbage or cut short are refused at the upload's begin (before any weight
// is sent), an infinite value when its part arrives; nothing is stored and
// the participant may still contribute.
BOOST_AUTO_TEST_CASE(misshapen_mistyped_and_malformed_results_are_refused_and_nothing_is_stored) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "m", 0, "");
  const std::string key = hub.add_participant("a");
  auto a = hub.client(key);

  // Another model's architecture: the tensors of a 4-input layer.
  Weights other = {{"dense/kernel", {4, 2}, std::vector<float>(8, 1.0f)}, {"dense/bias", {2}, {1.0f, 1.0f}}};
  ContributionMeta meta;
  meta.model = "m";
  meta.base_version = 0;
  meta.num_samples = 1;
  BOOST_TEST((refusal([&] { a->upload(build_contribution(meta, other)); }) == ErrorCode::bad_shape));
  Weights renamed = tiny_weights(1.0f);
  renamed[0].name = "conv/kernel";
  BOOST_TEST((refusal([&] { a->upload(build_contribution(meta, renamed)); }) == ErrorCode::bad_shape));

  // Infinity (NaN: numbers_that_could_break_a_model_are_refused_before_acknowledgement).
  auto inf = std::vector<float>(8, 1.0f);
  inf[5] = -std::numeric_limits<float>::infinity();
  BOOST_TEST((refusal([&] { a->upload(contribution_with("m", 0, inf, 1)); }) == ErrorCode::non_finite));

  // A header declaring float16 for a tensor (the right shape otherwise).
  const Buffer good = tiny_contribution("m", 0, 1.0f, 1);
  const auto view = read_contribution(good);
  std::unique_ptr<fb::ContributionT> header(view.header->UnPack());
  header->tensors[0]->dtype = fb::DType::float16;
  flatbuffers::FlatBufferBuilder fbb;
  fb::FinishContributionBuffer(fbb, fb::Contribution::Pack(fbb, header.get()));
  const Buffer half = to_buffer(fbb);
  Buffer holder;
  BOOST_TEST((refusal([&] { a->call_as<fb::UploadSession>(requests::upload_begin(key, half), holder); }) ==
              ErrorCode::bad_dtype));

  // Garbage, and the header cut in half.
  const std::string garbage(1000, 'x');
  BOOST_TEST((refusal([&] { a->call_as<fb::UploadSession>(requests::upload_begin(key, garbage), holder); }) ==
              ErrorCode::bad_request));
  const auto cut = view.header_bytes.first(view.header_bytes.size() / 2);
  BOOST_TEST((refusal([&] { a->call_as<fb::UploadSession>(requests::upload_begin(key, cut), holder); }) ==
              ErrorCode::bad_request));

  // Nothing was stored: no contribution, no upload session; the good one is taken.
  BOOST_TEST(status(hub.manager(), "m").contributions.size() == 0u);
  a->upload(good);
  BOOST_TEST(status(hub.manager(), "m").contributions.size() == 1u);
  a.reset();
  hub.stop();
  {
    auto store = Store::open(hub.dir());
    BOOST_TEST(store->uploads("m").empty());
  }
}

BOOST_AUTO_TEST_CASE(a_damaged_model_is_reported_and_the_others_served) {
  TestHub hub;
  hub.start();
  create_tiny(hub.manager(), "good", 1, "");
  create_tiny(hub.manager(), "bad", 2, "");
  hub.stop();
  {
    auto store = Store::open(hub.dir());
    StoreBatch b;
    b.put_version_piece("bad", 0, 0, std::string(100, 'x'));
    store->commit(b, true);
  }
  hub.start();
  Buffer holder;
  const auto* list = hub.manager().call_as<fb::ModelList>(requests::list_models(hub.manager().key()), holder);
  BOOST_REQUIRE(list->models()->size() == 2u);
  const auto* bad = list->models()->Get(0);
  const auto* good = list->models()->Get(1);
  BOOST_TEST(bad->name()->str() == "bad");
  BOOST_TEST((bad->availability() == fb::Availability::unavailable));
  BOOST_TEST(bad->problem()->str().find("damaged") != std::string::npos, bad->problem()->str());
  BOOST_TEST((good->availability() == fb::Availability::ready));
  expect_all_values(current_weights(hub.manager(), "good"), 1.0f);
  BOOST_TEST((refusal([&] { hub.manager().download_package("bad", -1); }) == ErrorCode::model_unavailable));
  hub.client(hub.add_participant("a"))->upload(tiny_contribution("good", 0, 2.0f, 1));
}

// Uploads are answered while another model stores a large version.
BOOST_AUTO_TEST_CASE(uploads_are_answered_during_another_models_long_synced_write) {
  TestHub hub;
  hub.start();
  create_model_of(hub.manager(), "large", 25'000'000, "");  // 100 MB of weights
  create_tiny(hub.manager(), "small", 0, "");
  auto big = hub.client(hub.add_participant("big"));
  big->upload(random_contribution("large", 0, 25'000'000, 7));
  std::atomic<bool> merged{false};
  std::thread merger([&] {
    auto manager = hub.client(hub.manager().key());
    merge(*manager, "large", 0);
    merged = true;
  });
  // The merge computes and writes 100 MB synced; the small model's uploads
  // and downloads do not wait for it.
  wait_until_merging(hub.manager(), "large");
  const std::vector<std::string> names = {"s0", "s1", "s2", "s3", "s4"};
  std::vector<std::unique_ptr<HubClient>> small;
  for (const auto& name : names) {
    small.push_back(hub.client(hub.add_participant(name)));
    small.back()->upload(tiny_contribution("small", 0, 1.0f, 1));
    read_model_package(small.back()->download_package("small", -1));
  }
  const bool answered_during_merge = !merged;
  merger.join();
  BOOST_TEST(answered_during_merge, "the small model's requests waited for the large merge");
}

BOOST_AUTO_TEST_CASE(an_interrupted_upload_resumes_from_the_hubs_last_byte) {
  TestHub hub;
  hub.start();
  create_model_of(hub.manager(), "res", 1'000'000, "");
  const auto key = hub.add_participant("a");
  const Buffer c = random_contribution("res", 0, 1'000'000, 3);
  UploadTicket ticket;
  uint64_t first_id = 0;
  {
    auto first = hub.client(key);
    // Send the header and part of the data, then lose the client.
    send_partially(*first, c, 2, &ticket);
    first_id = ticket.upload_id;
  }
  BOOST_TEST(first_id != 0u);
  {
    auto second = hub.client(key);
    auto receipt = second->upload(c, &ticket);
    BOOST_TEST(ticket.resumed_at > 0u);  // it did not start over
    BOOST_TEST(receipt.contributions == 1u);
  }
  auto r = merge(hub.manager(), "res", 0);
  BOOST_TEST(r.contributors.size() == 1u);
  // An aborted upload leaves nothing behind.
  const auto key_b = hub.add_participant("b");
  UploadTicket t;
  {
    auto b = hub.client(key_b);
    send_partially(*b, random_contribution("res", 1, 1'000'000, 4), 2, &t);
    Buffer holder;
    b->call_as<fb::Ack>(requests::upload_abort(key_b, "res", t.upload_id), holder);
    BOOST_TEST((refusal([&] { b->call_as<fb::Ack>(requests::upload_abort(key_b, "res", t.upload_id), holder); }) ==
                ErrorCode::unknown_upload));
  }
  hub.stop();
  BOOST_TEST(stored_chunk_bytes(hub.dir(), "res", t.upload_id) == 0u);
  // merged: its chunks stay as the replay's input (replay_versions), whole
  BOOST_TEST(stored_chunk_bytes(hub.dir(), "res", first_id) == 4'000'000u);
}

// Uploads folded part by part (the large-model path, forced here on a tiny
// model) that span a merge leave the merged round and fold into the next.
BOOST_AUTO_TEST_CASE(folded_uploads_spanning_a_merge_land_in_the_next_round) {
  TestHub hub;
  HubOptions options;
  options.limits.fold_threshold_bytes = 0;
  options.limits.part_bytes = 8;  // two floats a part: the tiny model takes four parts
  hub.start(options);
  create_tiny(hub.manager(), "fold", 0, R"({"staleness":{"kind":"constant","max_staleness":1}})");
  const auto key_a = hub.add_participant("a");
  auto a = hub.client(key_a);
  auto b = hub.client(hub.add_participant("b"));
  UploadTicket ticket;
  const Buffer from_a = tiny_contribution("fold", 0, 4.0f, 1);
  send_partially(*a, from_a, 2, &ticket);  // half of a's data is folded into round 0
  b->upload(tiny_contribution("fold", 0, 2.0f, 1));
  auto r0 = merge(hub.manager(), "fold", 0);  // a's parts leave round 0
  BOOST_TEST(r0.contributors == std::vector<std::string>{"b"});
  expect_all_values(current_weights(hub.manager(), "fold"), 2.0f);
  a->upload(from_a, &ticket);  // resumed: accepted into round 1, one version stale
  auto r1 = merge(hub.manager(), "fold", 1);
  BOOST_TEST(r1.contributors == std::vector<std::string>{"a"});
  BOOST_TEST(r1.contributions[0]->staleness == 1u);
  // Its delta is against its own base (version 0): 2 + (4 - 0) = 6.
  expect_all_values(current_weights(hub.manager(), "fold"), 6.0f);
}

// A 50M-parameter model (200 MB of weights) through upload, merge and
// download, compared by checksum.
BOOST_AUTO_TEST_CASE(a_fifty_million_parameter_model_round_trips) {
  TestHub hub;
  hub.start();
  constexpr uint64_t kParams = 50'000'000;
  create_model_of(hub.manager(), "big", kParams, R"({"aggregator":{"name":"mean"}})");
  auto p = hub.client(hub.add_participant("p"));
  const Buffer c = random_contribution("big", 0, kParams, 11);
  const auto sent = read_contribution(c);
  p->upload(c);
  auto r = merge(hub.manager(), "big", 0);
  BOOST_TEST(r.new_version == 1u);
  const Buffer package = p->download_package("big", -1);
  const auto header = read_package_header(package);
  // The download is what the hub stored (the package's own hash) ...
  BOOST_TEST(data_hash(std::span<const char>(package).subspan(header.data_offset)) == header.root->data_hash());
  // ... and the plain mean of one contribution is that contribution.
  const auto* got = reinterpret_cast<const float*>(package.data() + header.data_offset);
  const auto* want = reinterpret_cast<const float*>(sent.data.data());
  double worst = 0;
  for (uint64_t i = 0; i < kParams; ++i) worst = std::max(worst, static_cast<double>(std::abs(got[i] - want[i])));
  BOOST_TEST(worst < 1e-6);
  Buffer holder;
  const auto* st = hub.manager().call_as<fb::ModelStatus>(requests::status(hub.manager().key(), "big", -1), holder);
  BOOST_TEST(st->versions()->Get(1)->data_hash() == header.root->data_hash());
}

BOOST_AUTO_TEST_SUITE_END()

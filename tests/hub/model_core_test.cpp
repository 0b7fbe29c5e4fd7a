// ModelCore without actors: the paper's rules, upload sessions, rounds and
// the decision at acknowledgement time.
#include "hub/model_core.hpp"

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>

#include "messages/errors.hpp"

using namespace fedhub;

namespace {

constexpr uint64_t kParams = 8;  // dense/kernel [3,2] + dense/bias [2]

ModelDefinition definition(uint32_t min_contributions = 1) {
  ModelDefinition d;
  d.name = "m";
  d.layout = {{"dense/kernel", {3, 2}}, {"dense/bias", {2}}};
  d.parameters = kParams;
  d.trainable = TrainableSlice::all_of(d.layout);
  d.labels = 2;
  d.min_contributions = min_contributions;
  return d;
}

MergePolicy policy(const std::string& json = "") { return MergePolicy::from_json(json); }

ModelCore make(const std::string& policy_json = "", uint32_t min = 1, ModelCore::Recovered r = {}) {
  ModelCore::Limits limits;
  limits.part_bytes = 16;
  limits.max_sessions = 4;
  limits.session_idle_ms = 1000;
  return ModelCore(definition(min), policy(policy_json), std::move(r), nullptr, limits);
}

ModelCore::UploadRequest request(uint64_t base, uint64_t samples = 10) {
  static const std::string kModel = "m";
  ModelCore::UploadRequest rq;
  rq.model = kModel;
  rq.base_version = base;
  rq.num_samples = samples;
  rq.data_bytes = kParams * 4;
  return rq;
}

ErrorCode refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const RequestError& e) {
    return e.code();
  }
  BOOST_ERROR("not refused");
  return ErrorCode::internal;
}

uint64_t next_id = 100;

// Begins, sends every byte and finalizes an upload; returns its id.
uint64_t upload(ModelCore& core, const std::string& who, uint64_t base, uint64_t samples = 10) {
  const uint64_t id = next_id++;
  core.begin_upload(request(base, samples), who, id, 0, nullptr);
  for (uint64_t off = 0; off < kParams * 4; off += 16) {
    core.forward_part(id, who, off, 16, 0);
    core.part_stored(id, 16);
  }
  core.start_finalize(id, who, 0);
  return id;
}

// Uploads and commits durably; returns the note.
ContributionNote contribute(ModelCore& core, const std::string& who, uint64_t base, uint64_t samples = 10) {
  const uint64_t id = upload(core, who, base, samples);
  auto note = core.assign_commit(id, 0);
  core.commit_durable(id);
  return note;
}

// Runs the merge the core wants now (there must be one).
MergeOrder run_merge(ModelCore& core) {
  auto order = core.start_merge();
  BOOST_REQUIRE(order.has_value());
  MergeOutcome out;
  out.note.version = order->base_version + 1;
  core.merge_done(std::move(out));
  return *order;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_core)

BOOST_AUTO_TEST_CASE(the_papers_rules_at_upload) {
  auto core = make();
  BOOST_TEST((refusal([&] { core.begin_upload(request(1), "a", 1, 0, nullptr); }) == ErrorCode::unknown_version));
  auto wrong = request(0);
  wrong.model = "other";
  BOOST_TEST((refusal([&] { core.begin_upload(wrong, "a", 1, 0, nullptr); }) == ErrorCode::bad_contribution));
  BOOST_TEST((refusal([&] { core.begin_upload(request(0, 0), "a", 1, 0, nullptr); }) == ErrorCode::bad_contribution));
  // 2^64 - 1 samples is refused, not summed.
  BOOST_TEST(
      (refusal([&] { core.begin_upload(request(0, UINT64_MAX), "a", 1, 0, nullptr); }) == ErrorCode::bad_contribution));
  auto short_data = request(0);
  short_data.data_bytes = 4;
  BOOST_TEST((refusal([&] { core.begin_upload(short_data, "a", 1, 0, nullptr); }) == ErrorCode::bad_shape));
  contribute(core, "a", 0);
  BOOST_TEST((refusal([&] { core.begin_upload(request(0), "a", 1, 0, nullptr); }) == ErrorCode::duplicate));
  BOOST_TEST(core.notes_for(0)->size() == 1u);
  core.request_merge(0);
  run_merge(core);
  BOOST_TEST(core.current_version() == 1u);
  // The paper: a result trained from version 0 is stale now.
  BOOST_TEST((refusal([&] { core.begin_upload(request(0), "b", 1, 0, nullptr); }) == ErrorCode::stale));
}

BOOST_AUTO_TEST_CASE(parts_arrive_in_order_within_the_data) {
  auto core = make();
  core.begin_upload(request(0), "a", 7, 0, nullptr);
  BOOST_TEST((refusal([&] { core.forward_part(7, "b", 0, 16, 0); }) == ErrorCode::unknown_upload));
  BOOST_TEST((refusal([&] { core.forward_part(8, "a", 0, 16, 0); }) == ErrorCode::unknown_upload));
  BOOST_TEST((refusal([&] { core.forward_part(7, "a", 16, 16, 0); }) == ErrorCode::bad_request));
  BOOST_TEST((refusal([&] { core.forward_part(7, "a", 0, 17, 0); }) == ErrorCode::bad_request));
  BOOST_TEST((refusal([&] { core.forward_part(7, "a", 0, 6, 0); }) == ErrorCode::bad_request));
  core.forward_part(7, "a", 0, 16, 0);
  BOOST_TEST((refusal([&] { core.start_finalize(7, "a", 0); }) == ErrorCode::incomplete_upload));
  core.part_stored(7, 16);
  core.forward_part(7, "a", 16, 16, 0);
  BOOST_TEST((refusal([&] { core.forward_part(7, "a", 32, 4, 0); }) == ErrorCode::bad_request));  // past the end
  // A part lost in flight: the client resends from what was stored.
  core.part_lost(7);
  BOOST_TEST(core.session(7, "a").forwarded == 16u);
  core.forward_part(7, "a", 16, 16, 0);
  core.part_stored(7, 16);
  core.start_finalize(7, "a", 0);
  BOOST_TEST((refusal([&] { core.forward_part(7, "a", 32, 4, 0); }) == ErrorCode::bad_request));
  core.assign_commit(7, 0);
  BOOST_TEST(core.commit_durable(7) == 1u);
  BOOST_TEST(!core.has_session(7));
  BOOST_TEST(core.pending_count() == 1u);
}

BOOST_AUTO_TEST_CASE(a_new_begin_replaces_an_open_upload_of_the_same_base) {
  auto core = make();
  core.begin_upload(request(0), "a", 1, 0, nullptr);
  std::optional<uint64_t> replaced;
  core.begin_upload(request(0), "a", 2, 0, &replaced);
  BOOST_TEST(replaced.value() == 1u);
  BOOST_TEST(!core.has_session(1));
  // But not one being committed.
  upload(core, "b", 0);
  BOOST_TEST((refusal([&] { core.begin_upload(request(0), "b", 3, 0, nullptr); }) == ErrorCode::duplicate));
}

// quota_open_uploads: one key's open uploads to a model (one per base, so
// this needs several versions in the staleness window).
BOOST_AUTO_TEST_CASE(open_uploads_per_key_are_a_quota) {
  ModelCore::Limits limits;
  limits.part_bytes = 16;
  limits.max_sessions_per_key = 2;
  ModelCore core(definition(1), policy(R"({"merge":"manual","staleness":{"kind":"constant","max_staleness":4}})"), {},
                 nullptr, limits);
  for (uint64_t v = 0; v < 3; ++v) {
    contribute(core, "m", v);
    core.request_merge(v);
    run_merge(core);
  }
  core.begin_upload(request(0), "a", 201, 0, nullptr);
  core.begin_upload(request(1), "a", 202, 0, nullptr);
  BOOST_TEST((refusal([&] { core.begin_upload(request(2), "a", 203, 0, nullptr); }) == ErrorCode::quota_exceeded));
  core.begin_upload(request(2), "b", 204, 0, nullptr);  // another key is not affected
  std::optional<uint64_t> replaced;
  core.begin_upload(request(1), "a", 205, 0, &replaced);  // a replacement is not one more
  BOOST_TEST(replaced.value() == 202u);
  BOOST_TEST(core.end_session(201).has_value());
  core.begin_upload(request(2), "a", 206, 0, nullptr);
}

BOOST_AUTO_TEST_CASE(uploads_in_progress_are_bounded_and_expire) {
  auto core = make();
  const char* names[] = {"p0", "p1", "p2", "p3"};
  for (uint64_t i = 0; i < 4; ++i) core.begin_upload(request(0), names[i], i + 1, 100 * i, nullptr);
  BOOST_TEST((refusal([&] { core.begin_upload(request(0), "x", 9, 0, nullptr); }) == ErrorCode::busy));
  BOOST_TEST(core.expired(999).empty());
  BOOST_TEST(core.expired(1000) == std::vector<uint64_t>{1});
  BOOST_TEST(core.expired(1300).size() == 4u);
  BOOST_TEST(core.end_session(1).has_value());
  BOOST_TEST(!core.end_session(1).has_value());
  core.begin_upload(request(0), "x", 9, 0, nullptr);
}

BOOST_AUTO_TEST_CASE(manual_merges_follow_the_paper) {
  auto core = make("", 2);
  BOOST_TEST((refusal([&] { core.request_merge(1); }) == ErrorCode::unknown_version));
  contribute(core, "a", 0);
  BOOST_TEST((refusal([&] { core.request_merge(0); }) == ErrorCode::not_enough_contributions));
  BOOST_TEST(!core.start_merge().has_value());
  contribute(core, "b", 0, 30);
  core.request_merge(0);
  BOOST_TEST(core.merging());
  BOOST_TEST((refusal([&] { core.request_merge(0); }) == ErrorCode::merge_in_progress));
  auto order = run_merge(core);
  BOOST_TEST(order.base_version == 0u);
  BOOST_TEST(order.members.size() == 2u);
  BOOST_TEST(order.members[1].num_samples == 30u);
  BOOST_TEST(core.current_version() == 1u);
  BOOST_TEST(core.pending_count() == 0u);
  BOOST_TEST((refusal([&] { core.request_merge(0); }) == ErrorCode::base_not_current));
  BOOST_TEST(!core.merging());
}

BOOST_AUTO_TEST_CASE(a_merge_waits_for_acceptances_being_written) {
  auto core = make();
  contribute(core, "a", 0);
  const uint64_t b = upload(core, "b", 0);
  core.assign_commit(b, 0);  // in the journal
  core.request_merge(0);
  BOOST_TEST(!core.start_merge().has_value());
  core.commit_durable(b);
  auto order = run_merge(core);
  BOOST_TEST(order.members.size() == 2u);
}

// The defect found on main: with buffered k = 3, an upload acknowledged just
// after the third had triggered the merge was later dropped as stale. Now it
// is decided at acknowledgement: refused (stale), or certain to be merged.
BOOST_AUTO_TEST_CASE(acknowledged_means_merged_with_buffered_merges) {
  auto drop = make(R"({"merge":"buffered","k":3})");
  const uint64_t late = upload(drop, "d", 0);  // sent while round 0 was open
  for (const char* p : {"a", "b", "c"}) contribute(drop, p, 0);
  BOOST_TEST((refusal([&] { drop.assign_commit(late, 0); }) == ErrorCode::stale));
  // A new upload to the merged base is refused before any weight is sent.
  BOOST_TEST((refusal([&] { drop.begin_upload(request(0), "e", 999, 0, nullptr); }) == ErrorCode::stale));
  BOOST_TEST(!drop.has_session(late));
  BOOST_TEST(run_merge(drop).members.size() == 3u);

  auto fedbuff = make(R"({"merge":"buffered","k":3,"staleness":{"kind":"fedbuff","max_staleness":4}})");
  for (const char* p : {"a", "b", "c"}) contribute(fedbuff, p, 0);
  auto note = contribute(fedbuff, "d", 0);  // accepted into the next round, one version stale
  BOOST_TEST(note.round_base == 1u);
  BOOST_TEST(note.staleness() == 1u);
  BOOST_TEST(note.factor == 1 / std::sqrt(2.0), boost::test_tools::tolerance(1e-12));
  auto first = run_merge(fedbuff);
  BOOST_TEST(first.members.size() == 3u);
  // It is merged, with the factor it was acknowledged with.
  for (const char* p : {"e", "f"}) contribute(fedbuff, p, 1);
  auto second = run_merge(fedbuff);
  BOOST_TEST(second.members.size() == 3u);
  BOOST_TEST(second.members[0].participant == "d");
  BOOST_TEST(second.members[0].factor == note.factor);
}

BOOST_AUTO_TEST_CASE(async_rounds_take_one_contribution_each) {
  auto core = make(R"({"merge":"async","staleness":{"kind":"polynomial","max_staleness":3}})");
  auto a = contribute(core, "a", 0);
  auto b = contribute(core, "b", 0);
  auto c = contribute(core, "c", 0);
  BOOST_TEST(a.round_base == 0u);
  BOOST_TEST(b.round_base == 1u);
  BOOST_TEST(c.round_base == 2u);
  BOOST_TEST(b.factor < a.factor);
  for (int i = 0; i < 3; ++i) BOOST_TEST(run_merge(core).members.size() == 1u);
  BOOST_TEST(core.current_version() == 3u);
  BOOST_TEST(!core.start_merge().has_value());
}

BOOST_AUTO_TEST_CASE(a_failed_write_leaves_nothing_and_an_empty_round_is_skipped) {
  auto core = make(R"({"merge":"buffered","k":2,"staleness":{"kind":"constant","max_staleness":2}})");
  const uint64_t a = upload(core, "a", 0);
  const uint64_t b = upload(core, "b", 0);
  core.assign_commit(a, 0);
  core.assign_commit(b, 0);  // round 0 closes with two in flight
  auto c = contribute(core, "c", 0);
  BOOST_TEST(c.round_base == 1u);
  core.commit_failed(a);
  core.commit_failed(b);
  BOOST_TEST(core.notes_for(0)->size() == 1u);
  // Round 0 is empty: c's round moves onto version 0 and stays open.
  BOOST_TEST(!core.start_merge().has_value());
  contribute(core, "d", 0);
  auto order = run_merge(core);
  BOOST_TEST(order.base_version == 0u);
  BOOST_TEST(order.members.size() == 2u);
  // a and b may upload again: nothing of theirs was accepted.
  contribute(core, "a", 1);
}

BOOST_AUTO_TEST_CASE(a_failed_merge_is_retried_on_command_or_on_news) {
  auto core = make(R"({"merge":"buffered","k":1})");
  contribute(core, "a", 0);
  BOOST_REQUIRE(core.start_merge().has_value());
  core.merge_failed();
  BOOST_TEST(!core.start_merge().has_value());  // no tight retry loop
  core.request_merge(0);
  BOOST_REQUIRE(core.start_merge().has_value());
  core.merge_failed();
  core.set_policy(policy(R"({"merge":"buffered","k":1})"));
  BOOST_TEST(core.start_merge().has_value());
}

// A full disk refuses a manual merge (storage_full): the round is as the
// command found it, so contributions to the current version still come in.
BOOST_AUTO_TEST_CASE(a_failed_manual_merge_reopens_its_round) {
  auto core = make();
  contribute(core, "a", 0);
  core.request_merge(0);
  BOOST_REQUIRE(core.start_merge().has_value());
  core.merge_failed();
  BOOST_TEST(!core.merging());
  contribute(core, "b", 0);  // not stale: version 0's round is open again
  BOOST_TEST(core.pending_count() == 2u);
  core.request_merge(0);
  auto order = run_merge(core);
  BOOST_TEST(order.members.size() == 2u);
  BOOST_TEST(core.current_version() == 1u);
}

BOOST_AUTO_TEST_CASE(a_merge_order_carries_what_the_merger_needs) {
  auto core = make(R"({"merge":"manual","staleness":{"kind":"constant","max_staleness":1},"retain_versions":2})");
  contribute(core, "a", 0);
  core.begin_upload(request(0), "open", 50, 0, nullptr);  // still receiving
  core.request_merge(0);
  auto late = contribute(core, "b", 0);  // assigned to round 1 while 0 merges
  BOOST_TEST(late.round_base == 1u);
  auto order = core.start_merge();
  BOOST_REQUIRE(order.has_value());
  BOOST_TEST(order->members.size() == 1u);
  // The open upload folds on into round 1 (staleness 1); b's data too.
  BOOST_TEST(order->rebind.size() == 2u);
  for (const auto& [id, factor] : order->rebind) BOOST_TEST(factor == 1.0);
  BOOST_TEST(order->prune.empty());
  MergeOutcome out;
  out.note.version = 1;
  core.merge_done(std::move(out));
  // Versions 0 and 1 stay (retain 2); the next merge prunes version 0.
  BOOST_TEST(core.weights_stored(0));
  core.request_merge(1);
  auto next = core.start_merge();
  BOOST_REQUIRE(next.has_value());
  BOOST_TEST(next->prune == std::vector<uint64_t>{0});
  MergeOutcome out2;
  out2.note.version = 2;
  core.merge_done(std::move(out2));
  BOOST_TEST(!core.weights_stored(0));
  BOOST_TEST(core.notes_for(0) == nullptr);
  // The open upload's base (0) is now two versions behind: refused at its next part.
  BOOST_TEST((refusal([&] { core.forward_part(50, "open", 0, 16, 0); }) == ErrorCode::stale));
  BOOST_TEST(!core.has_session(50));
}

BOOST_AUTO_TEST_CASE(recovery_rebuilds_the_rounds) {
  ModelCore::Recovered r;
  r.current_version = 4;
  r.oldest_stored = 0;
  auto pending = [](const char* who, uint64_t round, uint64_t seq) {
    ContributionNote n;
    n.participant = who;
    n.base_version = 4;
    n.num_samples = 1;
    n.round_base = round;
    n.seq = seq;
    return n;
  };
  r.pending = {pending("a", 4, 3), pending("b", 4, 5), pending("c", 5, 9)};
  r.notes = r.pending;
  r.next_seq = 6;
  auto core = make(R"({"merge":"buffered","k":2,"staleness":{"kind":"constant","max_staleness":3}})", 1, r);
  BOOST_TEST(core.pending_count() == 3u);
  auto first = run_merge(core);  // round 4 was closed (k = 2)
  BOOST_TEST(first.members.size() == 2u);
  BOOST_TEST(core.current_version() == 5u);
  BOOST_TEST(!core.start_merge().has_value());  // c alone waits in the open round
  auto d = contribute(core, "d", 5);
  BOOST_TEST(d.seq == 10u);  // after every recovered seq
  BOOST_TEST(run_merge(core).members.size() == 2u);
  BOOST_TEST((refusal([&] { core.begin_upload(request(4), "a", 1, 0, nullptr); }) == ErrorCode::duplicate));
}

BOOST_AUTO_TEST_CASE(upload_mode_follows_the_policy) {
  BOOST_TEST((upload_mode(policy(), 100 << 20, 64 << 20) == UploadMode::fold));
  BOOST_TEST((upload_mode(policy(), 1 << 20, 64 << 20) == UploadMode::assemble));
  BOOST_TEST((upload_mode(policy(R"({"aggregator":{"name":"median"}})"), 100 << 20, 0) == UploadMode::assemble));
  BOOST_TEST((upload_mode(policy(R"({"norm_bound":1})"), 100 << 20, 0) == UploadMode::assemble));
  BOOST_TEST((upload_mode(policy(R"({"merge":"async"})"), 100 << 20, 0) == UploadMode::assemble));
  BOOST_TEST((upload_mode(policy(R"({"aggregator":{"name":"fedadam"}})"), 100 << 20, 0) == UploadMode::fold));
  BOOST_TEST(aggregation_changes(policy(), policy(R"({"aggregator":{"name":"mean"}})")));
  BOOST_TEST(!aggregation_changes(policy(), policy(R"({"k":3,"retain_versions":9})")));
}

BOOST_AUTO_TEST_CASE(policy_values_are_range_checked) {
  for (const char* bad : {R"({"k":0})", R"({"k":4294967293})", R"({"k":18446744073709551615})",
                          R"({"retain_versions":-3})", R"({"staleness":{"kind":"constant","max_staleness":-5}})",
                          R"({"interval_seconds":1e300})", R"({"max_abs_value":-1})", R"({"max_abs_value":1e40})"})
    BOOST_CHECK_THROW(policy(bad), std::invalid_argument);
  BOOST_TEST(policy().max_abs_value == 1e6);
  BOOST_TEST(policy(R"({"max_abs_value":0})").max_abs_value == 0);
}

BOOST_AUTO_TEST_CASE(refusals_of_a_round_go_with_its_merge_order) {
  auto core = make();
  core.note_refusal("mallory", 0, ErrorCode::non_finite, "tensor 'dense/bias' index 1 holds nan", 5);
  for (int i = 0; i < 70; ++i) core.note_refusal("spam", 0, ErrorCode::duplicate, "again", 7);
  contribute(core, "a", 0);
  core.request_merge(0);
  const auto order = core.start_merge().value();
  core.note_refusal("late", 0, ErrorCode::stale, "during the merge", 8);  // for the next version
  MergeOutcome out;
  out.note.version = 1;
  core.merge_done(std::move(out));
  BOOST_TEST(order.refused_total == 71u);
  BOOST_REQUIRE(order.refused.size() == ModelCore::kMaxRefusalNotes);
  BOOST_TEST(order.refused[0].participant == "mallory");
  BOOST_TEST(order.refused[0].error == "non_finite");
  BOOST_TEST(order.refused[0].at_ms == 5u);
  contribute(core, "a", 1);
  core.request_merge(1);
  const auto next = run_merge(core);
  BOOST_TEST(next.refused_total == 1u);
  BOOST_REQUIRE(next.refused.size() == 1u);
  BOOST_TEST(next.refused[0].participant == "late");
}

BOOST_AUTO_TEST_SUITE_END()

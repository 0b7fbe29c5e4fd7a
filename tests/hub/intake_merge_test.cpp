// The paper's filtering rules (ContributionIntake) and merges (run_merge):
// what is refused, in which order, that refusals write nothing, and the exact
// values of FedAvg and of the plain mean.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>

#include "hub/contribution_intake.hpp"
#include "hub/merge.hpp"
#include "hub_support.hpp"
#include "messages/records.hpp"
#include "messages/tensors.hpp"
#include "model/architecture.hpp"
#include "training/trainer.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

// x0 + d for the tiny model.
Weights shifted(const std::vector<float>& d) {
  auto x = tiny_initial_flat();
  for (size_t i = 0; i < x.size(); ++i) x[i] += d[i];
  return tiny_from_flat(x);
}

std::vector<float> ramp(float scale) {
  std::vector<float> d(9);
  for (size_t i = 0; i < 9; ++i) d[i] = scale * static_cast<float>(i + 1);
  return d;
}

std::vector<float> stored_weights(const Store& store, const std::string& model, uint64_t version) {
  const auto buf = store.version(model, version);
  BOOST_TEST_REQUIRE(buf.has_value());
  return flatten(read_weights(verify_model_version(*buf)->tensors()));
}

// A Contribution whose kernel is float16, built by hand.
Buffer float16_contribution(const std::string& model, uint64_t base) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Tensor>> offsets;
  const auto w = tiny_from_flat(tiny_initial_flat());
  for (size_t i = 0; i < w.size(); ++i) {
    const bool half = i == 0;
    std::vector<char> data(w[i].values.size() * (half ? 2 : 4));
    if (!half) std::memcpy(data.data(), w[i].values.data(), data.size());
    auto d = create_aligned_bytes(fbb, data);
    auto name = fbb.CreateString(w[i].name);
    auto shape = fbb.CreateVector(w[i].shape);
    offsets.push_back(fb::CreateTensor(fbb, name, shape, half ? fb::DType::float16 : fb::DType::float32, d));
  }
  auto tensors = fbb.CreateVector(offsets);
  auto m = fbb.CreateString(model);
  fbb.Finish(fb::CreateContribution(fbb, m, base, 0, 10, 0, tensors), fb::ContributionIdentifier());
  return to_buffer(fbb);
}

struct HubFixture : StoreFixture {
  ModelState model = create_from_request(*store, tiny_spec("tiny"), tiny_from_flat(tiny_initial_flat()));

  ContributionIntake intake(uint64_t current) { return ContributionIntake(*store, "tiny", tiny_layout(), current); }
  // What is recorded for a base version: filter entries and contribution records.
  std::pair<uint32_t, size_t> recorded(uint64_t base) const {
    size_t records = 0;
    store->for_each_contribution("tiny", base, [&](std::span<const char>) { ++records; });
    return {store->count_contributions("tiny", base), records};
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(base_version_rule)

BOOST_AUTO_TEST_CASE(stale_current_and_unknown) {
  BOOST_CHECK_NO_THROW(check_base_version("m", 3, 3));
  check_error([] { check_base_version("m", 2, 3); }, ErrorCode::stale, "base version 2");
  check_error([] { check_base_version("m", 0, 3); }, ErrorCode::stale);
  check_error([] { check_base_version("m", 4, 3); }, ErrorCode::unknown_version, "no version 4");
  check_error([] { check_base_version("m", ~0ull, 0); }, ErrorCode::unknown_version);
  BOOST_CHECK_NO_THROW(check_base_version("m", 0, 0));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(contribution_intake, HubFixture)

BOOST_AUTO_TEST_CASE(accepts_and_counts) {
  auto in = intake(0);
  const uint64_t before = now_ms();
  const Buffer c1 = contribution("tiny", 0, 64, shifted(ramp(0.5f)), "mallory");
  const AcceptedContribution a = in.accept(c1, "alice");
  BOOST_TEST(a.contributions_for_base == 1u);
  BOOST_TEST(a.summary.participant == "alice");  // the key's name, not the claimed one
  BOOST_TEST(a.summary.base_version == 0u);
  BOOST_TEST(a.summary.num_samples == 64u);
  BOOST_TEST(a.summary.received_at_ms >= before);
  BOOST_TEST_REQUIRE(a.summary.metrics.size() == 2u);
  BOOST_TEST(a.summary.metrics[0]->name == "loss");
  BOOST_TEST(a.summary.metrics[0]->value == 0.5);
  BOOST_TEST(a.summary.metrics[1]->value == 0.75);
  BOOST_TEST(in.accept(contribution("tiny", 0, 1, shifted(ramp(1))), "bob").contributions_for_base == 2u);
  BOOST_TEST(in.accept(contribution("tiny", 0, 1, shifted(ramp(2))), "carol").contributions_for_base == 3u);
  // Stored durably: the record (with the authenticated name and the exact
  // bytes) and the filter summary.
  BOOST_TEST(store->has_contribution("tiny", 0, "alice"));
  BOOST_TEST(store->count_contributions("tiny", 0) == 3u);
  std::vector<std::string> names;
  store->for_each_contribution("tiny", 0, [&](std::span<const char> bytes) {
    const auto* r = records::verify_contribution_record(bytes);
    names.push_back(r->participant()->str());
    if (names.back() == "alice") {
      const auto nested = as_span(r->contribution());
      BOOST_TEST((Buffer(nested.begin(), nested.end()) == c1));
    }
  });
  BOOST_TEST(names == (std::vector<std::string>{"alice", "bob", "carol"}), boost::test_tools::per_element());
  const auto summaries = store->contribution_summaries("tiny", 0);
  BOOST_TEST_REQUIRE(summaries.size() == 3u);
  const auto* s = records::verify_contribution_summary(summaries[0]);
  BOOST_TEST(s->participant()->str() == "alice");
  BOOST_TEST(s->num_samples() == 64u);
}

BOOST_AUTO_TEST_CASE(each_refusal_with_its_code) {
  auto in = intake(0);
  in.accept(contribution("tiny", 0, 5, shifted(ramp(1))), "alice");
  const auto before = recorded(0);
  const Weights good = shifted(ramp(0.25f));
  // Not a contribution at all.
  check_error([&] { in.accept(requests::whoami("k"), "bob"); }, ErrorCode::bad_request, "FHCT");
  check_error([&] { in.accept(std::span<const char>("short", 5), "bob"); }, ErrorCode::bad_request);
  // Wrong model.
  check_error([&] { in.accept(contribution("other", 0, 5, good), "bob"); }, ErrorCode::bad_contribution, "'other'");
  // A base version that does not exist yet.
  check_error([&] { in.accept(contribution("tiny", 1, 5, good), "bob"); }, ErrorCode::unknown_version);
  // Duplicate.
  check_error([&] { in.accept(contribution("tiny", 0, 5, good), "alice"); }, ErrorCode::duplicate, "'alice'");
  // No samples.
  check_error([&] { in.accept(contribution("tiny", 0, 0, good), "bob"); }, ErrorCode::bad_contribution, "samples");
  // Shapes, names, count.
  Weights w = good;
  w[0].shape = {3, 2};
  check_error([&] { in.accept(contribution("tiny", 0, 5, w), "bob"); }, ErrorCode::bad_shape, "dense/kernel");
  w = good;
  w.pop_back();
  check_error([&] { in.accept(contribution("tiny", 0, 5, w), "bob"); }, ErrorCode::bad_shape);
  // dtype.
  check_error([&] { in.accept(float16_contribution("tiny", 0), "bob"); }, ErrorCode::bad_dtype, "float16");
  // NaN and Inf.
  w = good;
  w[1].values[1] = std::numeric_limits<float>::quiet_NaN();
  check_error([&] { in.accept(contribution("tiny", 0, 5, w), "bob"); }, ErrorCode::non_finite, "dense/bias");
  w = good;
  w[0].values[5] = -std::numeric_limits<float>::infinity();
  check_error([&] { in.accept(contribution("tiny", 0, 5, w), "bob"); }, ErrorCode::non_finite, "dense/kernel");
  BOOST_TEST(!store->has_contribution("tiny", 0, "bob"));
  BOOST_TEST((recorded(0) == before));
  // After all those refusals bob may still contribute, as the second one.
  BOOST_TEST(in.accept(contribution("tiny", 0, 5, good), "bob").contributions_for_base == 2u);
}

BOOST_AUTO_TEST_CASE(rules_apply_in_order) {
  auto in = intake(0);
  in.accept(contribution("tiny", 0, 5, shifted(ramp(1))), "alice");
  const auto before = recorded(0);
  Weights bad_shape_and_nan = shifted(ramp(1));
  bad_shape_and_nan[0].shape = {6};
  bad_shape_and_nan[1].values[0] = std::numeric_limits<float>::quiet_NaN();
  // model name before the version rule
  check_error([&] { in.accept(contribution("other", 9, 0, bad_shape_and_nan), "alice"); }, ErrorCode::bad_contribution,
              "'other'");
  // version rule before duplicate
  check_error([&] { in.accept(contribution("tiny", 9, 0, bad_shape_and_nan), "alice"); }, ErrorCode::unknown_version);
  // duplicate before samples and tensors
  check_error([&] { in.accept(contribution("tiny", 0, 0, bad_shape_and_nan), "alice"); }, ErrorCode::duplicate);
  // samples before tensors
  check_error([&] { in.accept(contribution("tiny", 0, 0, bad_shape_and_nan), "bob"); }, ErrorCode::bad_contribution,
              "samples");
  // shape (tensor 0) before values (tensor 1)
  check_error([&] { in.accept(contribution("tiny", 0, 3, bad_shape_and_nan), "bob"); }, ErrorCode::bad_shape);
  BOOST_TEST(!store->has_contribution("tiny", 0, "bob"));
  BOOST_TEST((recorded(0) == before));
}

BOOST_AUTO_TEST_CASE(stale_after_a_merge) {
  {
    auto in = intake(0);
    in.accept(contribution("tiny", 0, 1, shifted(ramp(1))), "alice");
  }
  run_merge(*store, model, 0);
  const auto before0 = recorded(0), before1 = recorded(1);
  auto in = intake(1);
  // Base 0 is stale now, also for someone who never contributed to it, and
  // stale wins over duplicate (alice did contribute to 0).
  check_error([&] { in.accept(contribution("tiny", 0, 5, shifted(ramp(1))), "bob"); }, ErrorCode::stale,
              "older than the current version 1");
  check_error([&] { in.accept(contribution("tiny", 0, 5, shifted(ramp(1))), "alice"); }, ErrorCode::stale);
  check_error([&] { in.accept(contribution("tiny", 2, 5, shifted(ramp(1))), "bob"); }, ErrorCode::unknown_version);
  BOOST_TEST(!store->has_contribution("tiny", 0, "bob"));
  BOOST_TEST(!store->has_contribution("tiny", 2, "bob"));
  BOOST_TEST((recorded(0) == before0));
  BOOST_TEST((recorded(1) == before1));
  BOOST_TEST(before1.first == 0u);
  // The current version is open to everybody, alice included.
  BOOST_TEST(in.accept(contribution("tiny", 1, 5, shifted(ramp(1))), "alice").contributions_for_base == 1u);
  BOOST_TEST(in.accept(contribution("tiny", 1, 5, shifted(ramp(1))), "bob").contributions_for_base == 2u);
}

BOOST_AUTO_TEST_CASE(set_current_version_moves_the_rule) {
  auto in = intake(0);
  BOOST_TEST(in.current_version() == 0u);
  in.set_current_version(4);
  BOOST_TEST(in.current_version() == 4u);
  check_error([&] { in.accept(contribution("tiny", 3, 5, shifted(ramp(1))), "bob"); }, ErrorCode::stale);
  check_error([&] { in.accept(contribution("tiny", 5, 5, shifted(ramp(1))), "bob"); }, ErrorCode::unknown_version);
}

BOOST_AUTO_TEST_CASE(duplicate_state_survives_reopening) {
  {
    auto in = intake(0);
    in.accept(contribution("tiny", 0, 5, shifted(ramp(1))), "alice");
    in.accept(contribution("tiny", 0, 5, shifted(ramp(1))), "bob");
  }
  reopen();
  auto in = intake(0);
  check_error([&] { in.accept(contribution("tiny", 0, 7, shifted(ramp(2))), "alice"); }, ErrorCode::duplicate);
  check_error([&] { in.accept(contribution("tiny", 0, 7, shifted(ramp(2))), "bob"); }, ErrorCode::duplicate);
  // The count continues from the store.
  BOOST_TEST(in.accept(contribution("tiny", 0, 7, shifted(ramp(2))), "carol").contributions_for_base == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(merges, HubFixture)

BOOST_AUTO_TEST_CASE(fedavg_weights_by_samples) {
  auto in = intake(0);
  // p1: x0 + d1 with 1 sample; p2: x0 + d2 with 3 samples.
  const auto d1 = ramp(1.0f), d2 = ramp(-2.0f);
  in.accept(contribution("tiny", 0, 1, shifted(d1)), "p1");
  in.accept(contribution("tiny", 0, 3, shifted(d2)), "p2");
  const uint64_t before = now_ms();
  const MergeResult r = run_merge(*store, model, 0);
  // x1 = x0 + (1 d1 + 3 d2) / 4 = x0 + (i+1)(1 - 6)/4 = x0 - 1.25 (i+1)
  const auto x0 = tiny_initial_flat();
  std::vector<double> want;
  for (size_t i = 0; i < 9; ++i) want.push_back(x0[i] - 1.25 * static_cast<double>(i + 1));
  BOOST_TEST(r.new_version == 1u);
  BOOST_TEST(r.contributors == (std::vector<std::string>{"p1", "p2"}), boost::test_tools::per_element());
  BOOST_TEST(r.total_samples == 4u);
  const auto* v = verify_model_version(r.version_record);
  check_close(flatten(read_weights(v->tensors())), want);
  BOOST_TEST(v->version() == 1u);
  BOOST_TEST(v->base_version() == 0u);
  BOOST_TEST(v->total_samples() == 4u);
  BOOST_TEST(v->aggregator()->str() == "fedavg");
  BOOST_TEST(v->contributors()->size() == 2u);
  BOOST_TEST(v->created_at_ms() >= before);
  // Stored in one batch: weights, info, the model record's current version.
  check_close(stored_weights(*store, "tiny", 1), want);
  BOOST_TEST(stored_weights(*store, "tiny", 0) == x0, boost::test_tools::per_element());
  const auto infos = store->version_infos("tiny");
  BOOST_TEST_REQUIRE(infos.size() == 2u);
  const auto* info = records::verify_version_info(infos[1]);
  BOOST_TEST(info->version() == 1u);
  BOOST_TEST(info->base_version() == 0u);
  BOOST_TEST(info->contributions() == 2u);
  BOOST_TEST(info->total_samples() == 4u);
  BOOST_TEST(info->aggregator()->str() == "fedavg");
  BOOST_TEST(records::verify_model_record(*store->model("tiny"))->current_version() == 1u);
  // A fresh load (as after a restart) serves the new version.
  reopen();
  const ModelState after = ModelState::load(*store, "tiny");
  BOOST_TEST(after.current_version == 1u);
  const LoadedModel pkg = read_model_package(after.package);
  BOOST_TEST(pkg.version == 1u);
  check_close(flatten(pkg.weights), want);
}

BOOST_AUTO_TEST_CASE(mean_is_the_plain_mean) {
  TempDir other;
  auto s = Store::open(other / "db");
  const ModelState m = create_from_request(*s, tiny_spec("tiny"), tiny_from_flat(tiny_initial_flat()),
                                           R"({"merge":"manual","aggregator":{"name":"mean"}})");
  ContributionIntake in(*s, "tiny", tiny_layout(), 0);
  in.accept(contribution("tiny", 0, 1, shifted(ramp(1.0f))), "p1");
  in.accept(contribution("tiny", 0, 3, shifted(ramp(-2.0f))), "p2");
  in.accept(contribution("tiny", 0, 100, shifted(ramp(4.0f))), "p3");
  const MergeResult r = run_merge(*s, m, 0);
  // x1 = x0 + (d1 + d2 + d3) / 3 = x0 + (i+1)(1 - 2 + 4)/3 = x0 + (i+1), whatever the sample counts.
  const auto x0 = tiny_initial_flat();
  std::vector<double> want;
  for (size_t i = 0; i < 9; ++i) want.push_back(x0[i] + static_cast<double>(i + 1));
  check_close(stored_weights(*s, "tiny", 1), want);
  BOOST_TEST(r.total_samples == 104u);
  BOOST_TEST(verify_model_version(r.version_record)->aggregator()->str() == "mean");
}

BOOST_AUTO_TEST_CASE(identical_contributions_give_them_back) {
  auto in = intake(0);
  in.accept(contribution("tiny", 0, 7, shifted(ramp(0.5f))), "a");
  in.accept(contribution("tiny", 0, 9, shifted(ramp(0.5f))), "b");
  run_merge(*store, model, 0);
  const auto want_f = flatten(shifted(ramp(0.5f)));
  check_close(stored_weights(*store, "tiny", 1), std::vector<double>(want_f.begin(), want_f.end()));
}

BOOST_AUTO_TEST_CASE(base_not_current_and_future_bases) {
  auto in = intake(0);
  in.accept(contribution("tiny", 0, 1, shifted(ramp(1))), "p1");
  check_error([&] { run_merge(*store, model, 1); }, ErrorCode::unknown_version);
  BOOST_TEST(!store->version("tiny", 1));
  run_merge(*store, model, 0);
  const ModelState now = ModelState::load(*store, "tiny");
  check_error([&] { run_merge(*store, now, 0); }, ErrorCode::base_not_current);
  // Nothing changed by the refusal.
  BOOST_TEST(!store->version("tiny", 2));
  BOOST_TEST(records::verify_model_record(*store->model("tiny"))->current_version() == 1u);
}

BOOST_AUTO_TEST_CASE(not_enough_contributions) {
  TempDir other;
  auto s = Store::open(other / "db");
  const ModelState m = create_from_request(*s, tiny_spec("tiny", 2), tiny_from_flat(tiny_initial_flat()));
  check_error([&] { run_merge(*s, m, 0); }, ErrorCode::not_enough_contributions);
  ContributionIntake in(*s, "tiny", tiny_layout(), 0);
  in.accept(contribution("tiny", 0, 1, shifted(ramp(1))), "p1");
  check_error([&] { run_merge(*s, m, 0); }, ErrorCode::not_enough_contributions, "2");
  // Nothing written: no version 1, the record still at 0, the contribution kept.
  BOOST_TEST(!s->version("tiny", 1));
  BOOST_TEST(s->version_infos("tiny").size() == 1u);
  BOOST_TEST(records::verify_model_record(*s->model("tiny"))->current_version() == 0u);
  BOOST_TEST(s->count_contributions("tiny", 0) == 1u);
  in.accept(contribution("tiny", 0, 1, shifted(ramp(3))), "p2");
  const MergeResult r = run_merge(*s, m, 0);
  BOOST_TEST(r.new_version == 1u);
  // x0 + (d1 + d2) / 2 with equal samples = x0 + 2 (i+1)
  const auto x0 = tiny_initial_flat();
  std::vector<double> want;
  for (size_t i = 0; i < 9; ++i) want.push_back(x0[i] + 2.0 * static_cast<double>(i + 1));
  check_close(stored_weights(*s, "tiny", 1), want);
}

BOOST_AUTO_TEST_CASE(two_rounds) {
  {
    auto in = intake(0);
    in.accept(contribution("tiny", 0, 2, shifted(ramp(1))), "p1");
    in.accept(contribution("tiny", 0, 2, shifted(ramp(3))), "p2");
  }
  run_merge(*store, model, 0);  // x1 = x0 + 2 (i+1)
  const ModelState m1 = ModelState::load(*store, "tiny");
  auto in = intake(1);
  // Round 2 from x1: one contribution x1 + (i+1) with 10 samples.
  auto x1 = stored_weights(*store, "tiny", 1);
  std::vector<float> local = x1;
  for (size_t i = 0; i < 9; ++i) local[i] += static_cast<float>(i + 1);
  BOOST_TEST(in.accept(contribution("tiny", 1, 10, tiny_from_flat(local)), "p1").contributions_for_base == 1u);
  const MergeResult r = run_merge(*store, m1, 1);
  BOOST_TEST(r.new_version == 2u);
  check_close(stored_weights(*store, "tiny", 2), std::vector<double>(local.begin(), local.end()));
  BOOST_TEST(ModelState::load(*store, "tiny").current_version == 2u);
  BOOST_TEST(store->version_infos("tiny").size() == 3u);
}

BOOST_AUTO_TEST_CASE(packages_of_old_and_future_versions) {
  auto in = intake(0);
  in.accept(contribution("tiny", 0, 1, shifted(ramp(1))), "p1");
  run_merge(*store, model, 0);
  const ModelState m = ModelState::load(*store, "tiny");
  const LoadedModel v0 = read_model_package(load_package(*store, m, 0));
  BOOST_TEST(v0.version == 0u);
  BOOST_TEST(flatten(v0.weights) == tiny_initial_flat(), boost::test_tools::per_element());
  BOOST_TEST(v0.spec.name == "tiny");
  const Buffer current = load_package(*store, m, 1);
  BOOST_TEST((current == m.package));
  BOOST_TEST(read_model_package(current).version == 1u);
  check_error([&] { load_package(*store, m, 2); }, ErrorCode::unknown_version, "no version 2");
  check_error([&] { load_package(*store, m, ~0ull); }, ErrorCode::unknown_version);
}

BOOST_AUTO_TEST_CASE(a_real_architecture_with_initialized_weights) {
  // The MLP of config/fmnist-mlp.arch.json (50,890 parameters), Glorot-initialized.
  TempDir other;
  auto s = Store::open(other / "db");
  fb::ModelSpecT spec;
  spec.name = "fmnist-mlp";
  spec.architecture_json =
      R"({"input":[28,28,1],"layers":[{"type":"flatten"},{"type":"dense","units":64,"activation":"relu"},{"type":"dense","units":10}]})";
  for (int i = 0; i < 10; ++i) spec.labels.push_back("class" + std::to_string(i));
  spec.recipe_json = kRecipe;
  const Architecture arch = parse_architecture(spec.architecture_json);
  const Weights x0 = training::initialize_weights(arch, 42);
  BOOST_TEST(parameter_count(x0) == 50890);
  const ModelState m = create_from_request(*s, spec, x0);
  ContributionIntake in(*s, "fmnist-mlp", m.layout, 0);
  Weights a = x0, b = x0;
  for (auto& t : a.front().values) t += 0.25f;
  for (auto& t : b.front().values) t -= 0.75f;
  in.accept(contribution("fmnist-mlp", 0, 300, a), "a");
  in.accept(contribution("fmnist-mlp", 0, 100, b), "b");
  run_merge(*s, m, 0);
  // Kernel 0: x0 + (300 * 0.25 - 100 * 0.75) / 400 = x0; everything else unchanged.
  const auto v1 = s->version("fmnist-mlp", 1);
  BOOST_TEST_REQUIRE(v1.has_value());
  const auto merged = flatten(read_weights(verify_model_version(*v1)->tensors()));
  const auto original = flatten(x0);
  BOOST_TEST_REQUIRE(merged.size() == original.size());
  size_t off = 0;
  for (size_t i = 0; i < merged.size(); ++i)
    if (std::abs(merged[i] - original[i]) > 1e-6f) ++off;
  BOOST_TEST(off == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// Partitions of one source over a group of participants: shared (everyone
// everything, or own random subsets), iid (disjoint near-equal parts) and
// dirichlet (label skew by alpha), the class filter and the cap, determinism
// in the seed, and errors naming the field.
#include "sim/partition.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>

using namespace fedhub::sim;
using fedhub::datasets::Dataset;
using Kind = PartitionSpec::Kind;
using Parts = std::vector<std::vector<int64_t>>;

namespace {

// `classes` x `per_class` samples of shape {1}; sample i has label i % classes
// and pixel i % 256, so a subset's samples can be traced back.
Dataset make_data(int classes = 10, int per_class = 100) {
  Dataset d;
  d.sample_shape = {1};
  for (int i = 0; i < classes * per_class; ++i) {
    d.labels.push_back(i % classes);
    d.pixels.push_back(static_cast<uint8_t>(i % 256));
  }
  return d;
}

PartitionSpec spec_of(Kind kind, double alpha = 0.5, std::vector<int32_t> classes = {}, int64_t samples = 0) {
  PartitionSpec s;
  s.kind = kind;
  s.alpha = alpha;
  s.classes = std::move(classes);
  s.samples = samples;
  return s;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), int64_t{0});
  return v;
}

// Every part ascending without repeats, inside the data.
void check_well_formed(const Parts& parts, const Dataset& data) {
  for (const auto& part : parts) {
    BOOST_TEST(std::is_sorted(part.begin(), part.end()));
    BOOST_TEST((std::adjacent_find(part.begin(), part.end()) == part.end()));
    for (const int64_t i : part) BOOST_TEST((i >= 0 && i < data.size()));
  }
}

// The parts are disjoint and together exactly `expected` (ascending).
void check_disjoint_and_complete(const Parts& parts, const std::vector<int64_t>& expected) {
  std::vector<int64_t> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  std::sort(all.begin(), all.end());
  BOOST_TEST((std::adjacent_find(all.begin(), all.end()) == all.end()));  // disjoint
  BOOST_TEST(all == expected, boost::test_tools::per_element());
}

// The message of the std::invalid_argument that `f` throws ("" if none).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(partition)

BOOST_AUTO_TEST_CASE(shared_gives_everyone_everything) {
  const auto data = make_data();
  const auto parts = fedhub::sim::partition(data, 5, spec_of(Kind::shared), 1);
  BOOST_TEST(parts.size() == 5u);
  for (const auto& part : parts) BOOST_TEST(part == iota(1000), boost::test_tools::per_element());
  // Without a cap there is nothing to draw: every seed gives the same.
  BOOST_TEST(fedhub::sim::partition(data, 5, spec_of(Kind::shared), 2) == parts);
}

BOOST_AUTO_TEST_CASE(shared_with_samples_gives_each_its_own_subset) {
  const auto data = make_data();
  const auto spec = spec_of(Kind::shared, 0.5, {}, 100);
  const auto parts = fedhub::sim::partition(data, 5, spec, 1);
  BOOST_TEST(parts.size() == 5u);
  check_well_formed(parts, data);
  for (const auto& part : parts) BOOST_TEST(part.size() == 100u);
  for (size_t a = 0; a < parts.size(); ++a)
    for (size_t b = a + 1; b < parts.size(); ++b) BOOST_TEST((parts[a] != parts[b]));
  // The subsets overlap (independent draws), unlike iid parts: 5 x 100 of
  // 1000 samples with no overlap at all would be a sign of a disjoint cut.
  std::set<int64_t> distinct;
  for (const auto& part : parts) distinct.insert(part.begin(), part.end());
  BOOST_TEST(distinct.size() < 500u);

  // partition_data gives the same samples: pixel i % 256, label i % 10.
  const auto sets = partition_data(data, 5, spec, 1);
  BOOST_TEST(sets.size() == 5u);
  for (size_t p = 0; p < sets.size(); ++p) {
    BOOST_TEST(sets[p].size() == 100);
    BOOST_TEST(sets[p].sample_shape == std::vector<int64_t>{1}, boost::test_tools::per_element());
    for (size_t j = 0; j < parts[p].size(); ++j) {
      BOOST_TEST(sets[p].pixels[j] == parts[p][j] % 256);
      BOOST_TEST(sets[p].labels[j] == parts[p][j] % 10);
    }
  }

  // A cap at or above what is kept is everything.
  for (const auto& part : fedhub::sim::partition(data, 3, spec_of(Kind::shared, 0.5, {}, 5000), 1))
    BOOST_TEST(part == iota(1000), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(iid_parts_are_disjoint_complete_and_near_equal) {
  const auto data = make_data();
  for (const int n : {1, 3, 7, 10, 1000}) {
    BOOST_TEST_CONTEXT("participants " << n) {
      const auto parts = fedhub::sim::partition(data, n, spec_of(Kind::iid), 42);
      BOOST_TEST(parts.size() == static_cast<size_t>(n));
      check_well_formed(parts, data);
      check_disjoint_and_complete(parts, iota(1000));
      size_t lo = parts[0].size(), hi = parts[0].size();
      for (const auto& part : parts) {
        lo = std::min(lo, part.size());
        hi = std::max(hi, part.size());
      }
      BOOST_TEST(hi - lo <= 1u);
      BOOST_TEST(lo >= 1u);
    }
  }
  // A random permutation, not consecutive blocks: the first of 10 parts
  // holds samples from all over the data and from every class.
  const auto parts = fedhub::sim::partition(data, 10, spec_of(Kind::iid), 42);
  BOOST_TEST(parts[0].back() - parts[0].front() > 500);
  const auto counts = label_counts(data, parts, 10);
  for (const int64_t c : counts[0]) BOOST_TEST(c > 0);
}

BOOST_AUTO_TEST_CASE(dirichlet_parts_are_disjoint_and_complete) {
  const auto data = make_data();
  for (const double alpha : {0.5, 1.0, 10.0, 1000.0}) {
    BOOST_TEST_CONTEXT("alpha " << alpha) {
      const auto parts = fedhub::sim::partition(data, 4, spec_of(Kind::dirichlet, alpha), 3);
      BOOST_TEST(parts.size() == 4u);
      check_well_formed(parts, data);
      check_disjoint_and_complete(parts, iota(1000));
      // label_counts agrees: every class's 100 samples are dealt out.
      const auto counts = label_counts(data, parts, 10);
      for (int c = 0; c < 10; ++c) {
        int64_t sum = 0;
        for (const auto& row : counts) sum += row[static_cast<size_t>(c)];
        BOOST_TEST(sum == 100);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(small_alpha_is_very_skewed) {
  // 10 classes x 1000 samples over 10 participants, alpha 0.05, 20 seeds: most
  // participants hold most of their samples in 1-2 classes (an even mix puts
  // 20% in any two). A seed that leaves a participant with nothing (an error,
  // tested below) is skipped.
  const auto data = make_data(10, 1000);
  int partitions = 0, participants = 0, mostly_two = 0;
  double top_two = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Parts parts;
    try {
      parts = fedhub::sim::partition(data, 10, spec_of(Kind::dirichlet, 0.05), seed);
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(contains(e.what(), "gets no samples"));
      continue;
    }
    ++partitions;
    check_disjoint_and_complete(parts, iota(10000));
    for (auto row : label_counts(data, parts, 10)) {
      const auto total = static_cast<double>(std::accumulate(row.begin(), row.end(), int64_t{0}));
      std::sort(row.rbegin(), row.rend());
      const double share = static_cast<double>(row[0] + row[1]) / total;
      ++participants;
      top_two += share;
      if (share > 0.5) ++mostly_two;
    }
  }
  top_two /= participants;
  BOOST_TEST_MESSAGE(partitions << " of 20 seeds partitioned; " << mostly_two << " of " << participants
                                << " participants hold most of their samples in their top 2 classes; mean share "
                                << top_two);
  BOOST_TEST(partitions >= 10);
  BOOST_TEST(mostly_two >= 0.9 * participants);
  BOOST_TEST(top_two >= 0.8);
}

BOOST_AUTO_TEST_CASE(large_alpha_is_near_uniform) {
  const auto data = make_data();
  for (const int n : {2, 5}) {
    BOOST_TEST_CONTEXT("participants " << n) {
      const auto parts = fedhub::sim::partition(data, n, spec_of(Kind::dirichlet, 1000), 9);
      const auto counts = label_counts(data, parts, 10);
      const double even = 1.0 / n;
      for (const auto& row : counts)
        for (const int64_t c : row) {
          const double share = static_cast<double>(c) / 100.0;  // of that class's 100 samples
          BOOST_TEST(std::abs(share - even) <= 0.25 * even);
        }
    }
  }
}

BOOST_AUTO_TEST_CASE(class_filter_applies_first_for_every_kind) {
  const auto data = make_data();
  const std::vector<int32_t> classes{2, 5, 7};
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < data.size(); ++i)
    if (i % 10 == 2 || i % 10 == 5 || i % 10 == 7) kept.push_back(i);

  for (const auto& part : fedhub::sim::partition(data, 3, spec_of(Kind::shared, 0.5, classes), 1))
    BOOST_TEST(part == kept, boost::test_tools::per_element());
  check_disjoint_and_complete(fedhub::sim::partition(data, 4, spec_of(Kind::iid, 0.5, classes), 1), kept);
  const auto dir = fedhub::sim::partition(data, 3, spec_of(Kind::dirichlet, 2.0, classes), 1);
  check_disjoint_and_complete(dir, kept);
  for (const auto& row : label_counts(data, dir, 10))
    for (int c = 0; c < 10; ++c)
      if (c != 2 && c != 5 && c != 7) BOOST_TEST(row[static_cast<size_t>(c)] == 0);

  // A shared subset of a filtered source holds only the kept classes.
  for (const auto& part : fedhub::sim::partition(data, 2, spec_of(Kind::shared, 0.5, {4}, 30), 1)) {
    BOOST_TEST(part.size() == 30u);
    for (const int64_t i : part) BOOST_TEST(i % 10 == 4);
  }
}

BOOST_AUTO_TEST_CASE(samples_caps_each_participant) {
  const auto data = make_data();
  for (const Kind kind : {Kind::iid, Kind::dirichlet}) {
    BOOST_TEST_CONTEXT("kind " << static_cast<int>(kind)) {
      const auto whole = fedhub::sim::partition(data, 4, spec_of(kind, 5.0), 11);
      const auto capped = fedhub::sim::partition(data, 4, spec_of(kind, 5.0, {}, 60), 11);
      check_well_formed(capped, data);
      for (size_t p = 0; p < 4; ++p) {
        BOOST_TEST(capped[p].size() == std::min<size_t>(60, whole[p].size()));
        BOOST_TEST(std::includes(whole[p].begin(), whole[p].end(), capped[p].begin(), capped[p].end()));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(deterministic_in_the_seed) {
  const auto data = make_data();
  for (const auto& spec : {spec_of(Kind::shared, 0.5, {}, 50), spec_of(Kind::iid), spec_of(Kind::dirichlet, 0.5),
                           spec_of(Kind::dirichlet, 1.0, {1, 3}, 20)}) {
    BOOST_TEST_CONTEXT("kind " << static_cast<int>(spec.kind)) {
      const auto a = fedhub::sim::partition(data, 4, spec, 123);
      BOOST_TEST((fedhub::sim::partition(data, 4, spec, 123) == a));
      BOOST_TEST((fedhub::sim::partition(data, 4, spec, 124) != a));
      BOOST_TEST((fedhub::sim::partition(data, 4, spec, 0) != a));
    }
  }
}

BOOST_AUTO_TEST_CASE(errors_name_the_field) {
  const auto data = make_data();
  auto run = [&](int n, const PartitionSpec& spec) {
    return error_of([&] { fedhub::sim::partition(data, n, spec, 1); });
  };
  BOOST_TEST(contains(run(0, spec_of(Kind::shared)), "participants"));
  BOOST_TEST(contains(run(-3, spec_of(Kind::iid)), "participants"));
  BOOST_TEST(contains(run(3, spec_of(Kind::dirichlet, 0)), "alpha"));
  BOOST_TEST(contains(run(3, spec_of(Kind::dirichlet, -1)), "alpha"));
  BOOST_TEST(contains(run(3, spec_of(Kind::dirichlet, std::numeric_limits<double>::quiet_NaN())), "alpha"));
  BOOST_TEST(contains(run(3, spec_of(Kind::dirichlet, std::numeric_limits<double>::infinity())), "alpha"));
  BOOST_TEST(run(3, spec_of(Kind::iid, 0)).empty());  // alpha only matters for dirichlet
  BOOST_TEST(contains(run(3, spec_of(Kind::shared, 0.5, {10})), "classes: 10 has no samples"));
  BOOST_TEST(contains(run(3, spec_of(Kind::shared, 0.5, {10})), "labels present: 0-9"));
  BOOST_TEST(contains(run(3, spec_of(Kind::iid, 0.5, {-1})), "classes: -1"));
  BOOST_TEST(contains(run(3, spec_of(Kind::iid, 0.5, {2, 2})), "classes: 2 is listed twice"));
  BOOST_TEST(contains(run(3, spec_of(Kind::shared, 0.5, {}, -1)), "samples"));
  // iid needs one sample per participant: 100 kept samples, 101 participants.
  const auto too_many = run(101, spec_of(Kind::iid, 0.5, {3}));
  BOOST_TEST(contains(too_many, "participants (101)"));
  BOOST_TEST(contains(too_many, "100 kept samples"));
  BOOST_TEST(run(100, spec_of(Kind::iid, 0.5, {3})).empty());
  BOOST_TEST(contains(error_of([] {
                        fedhub::sim::partition(Dataset{{1}, {}, {}}, 2, spec_of(Kind::shared), 1);
                      }),
                      "data"));
  for (const auto& message : {run(0, spec_of(Kind::shared)), run(3, spec_of(Kind::dirichlet, 0))})
    BOOST_TEST(message.rfind("partition: ", 0) == 0u);
  // partition_data checks the same way.
  BOOST_CHECK_THROW(partition_data(data, 0, spec_of(Kind::shared), 1), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_participant_without_samples_is_an_error) {
  // alpha 0.01 over 50 participants: each class goes almost whole to one or
  // two of them, so most get nothing.
  const auto data = make_data();
  const auto message = error_of([&] { fedhub::sim::partition(data, 50, spec_of(Kind::dirichlet, 0.01), 1); });
  BOOST_TEST_MESSAGE(message);
  BOOST_TEST(contains(message, "participant "));
  BOOST_TEST(contains(message, "of 50 gets no samples"));
  BOOST_TEST(contains(message, "alpha 0.01"));
  BOOST_TEST(contains(message, "larger alpha or fewer participants"));
}

BOOST_AUTO_TEST_CASE(label_counts_count_per_participant_and_label) {
  const auto data = make_data();
  const Parts parts{{0, 1, 11, 21}, {}, {9, 9}};
  const auto counts = label_counts(data, parts, 12);
  BOOST_TEST(counts.size() == 3u);
  for (const auto& row : counts) BOOST_TEST(row.size() == 12u);  // num_labels wider than the data's labels
  BOOST_TEST(counts[0][0] == 1);
  BOOST_TEST(counts[0][1] == 3);
  BOOST_TEST(std::accumulate(counts[1].begin(), counts[1].end(), int64_t{0}) == 0);
  BOOST_TEST(counts[2][9] == 2);  // repeats counted
  BOOST_TEST(label_counts(data, parts)[0].size() == 10u);
  BOOST_TEST(contains(error_of([&] { label_counts(data, {{0}, {1000}}); }), "parts[1] holds index 1000"));
}

BOOST_AUTO_TEST_SUITE_END()

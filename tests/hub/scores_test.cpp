// Contribution flags and the leaderboard (issue 11), on records written to a
// real store as the merger and the model actor write them.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>

#include "hub/leaderboard.hpp"
#include "hub/version_scores.hpp"
#include "hub_support.hpp"
#include "messages/provenance.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

fb::VersionScoresT scores_of(const std::vector<std::pair<double, double>>& cosine_loo) {
  fb::VersionScoresT s;
  const char* names[] = {"p0", "p1", "p2", "p3", "p4", "p5"};
  size_t i = 0;
  for (auto [c, l] : cosine_loo) {
    auto x = std::make_unique<fb::ContributionScoreT>();
    x->participant = names[i++ % 6];
    x->cosine = c;
    x->loo_loss_change = l;
    s.contributions.push_back(std::move(x));
  }
  return s;
}

std::vector<bool> flags(const fb::VersionScoresT& s) {
  std::vector<bool> out;
  for (const auto& c : s.contributions) out.push_back(c->flagged);
  return out;
}

void put_version(Store& store, uint64_t v, const std::vector<std::tuple<std::string, uint64_t, double, double>>& m) {
  fb::ProvenanceT p;
  p.version = v;
  p.base_version = v - 1;
  fb::VersionScoresT s;
  s.version = v;
  uint64_t id = v * 100;
  for (const auto& [who, samples, cosine, loo] : m) {
    auto pm = std::make_unique<fb::ProvenanceMemberT>();
    pm->participant = who;
    pm->num_samples = samples;
    pm->weight_share = 1.0 / static_cast<double>(m.size());
    pm->staleness = v % 2;
    pm->upload_id = ++id;
    p.members.push_back(std::move(pm));
    auto c = std::make_unique<fb::ContributionScoreT>();
    c->participant = who;
    c->upload_id = id;
    c->cosine = cosine;
    c->loo_loss_change = loo;
    s.contributions.push_back(std::move(c));
  }
  StoreBatch b;
  b.put_provenance("m", v, provenance_record(p));
  b.put_scores("m", v, scores_record(s));
  store.commit(b);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(contribution_scores)

BOOST_AUTO_TEST_CASE(flags_fall_far_below_the_median_of_their_merge) {
  // Cosines only: the median is 0.9; with margin 0.4 the bar is 0.54.
  auto s = scores_of({{0.9, kNaN}, {0.85, kNaN}, {0.37, kNaN}, {0.95, kNaN}});
  flag_contributions(s, 0.4);
  BOOST_TEST((flags(s) == std::vector<bool>{false, false, true, false}));
  // Leave-one-out changes when every contribution has one: here the cosine
  // of the noisy one is the highest, its loss change the only negative.
  s = scores_of({{0.47, 0.41}, {0.51, 0.45}, {0.69, -0.25}});
  flag_contributions(s, 0.4);
  BOOST_TEST((flags(s) == std::vector<bool>{false, false, true}));
  // Off, too few to compare, NaN scores never flagged.
  flag_contributions(s, 0);
  BOOST_TEST((flags(s) == std::vector<bool>{false, false, false}));
  s = scores_of({{0.9, kNaN}, {0.1, kNaN}});
  flag_contributions(s, 0.4);
  BOOST_TEST((flags(s) == std::vector<bool>{false, false}));
  s = scores_of({{0.9, kNaN}, {kNaN, kNaN}, {0.8, kNaN}, {0.85, kNaN}});
  flag_contributions(s, 0.01);
  BOOST_TEST((flags(s) == std::vector<bool>{false, false, true, false}));
}

BOOST_FIXTURE_TEST_CASE(the_leaderboard_ranks_by_leave_one_out_then_cosine, StoreFixture) {
  put_version(*store, 1, {{"ann", 100, 0.9, 0.4}, {"ben", 300, 0.8, 0.3}, {"mal", 100, 0.7, -0.2}});
  put_version(*store, 2, {{"ann", 100, 0.9, 0.2}, {"ben", 300, 0.8, 0.5}, {"mal", 100, 0.6, -0.1}});
  put_version(*store, 3, {{"solo", 50, 1.0, kNaN}});
  const auto board = compute_leaderboard(*store, "m", {"gone"});
  BOOST_TEST(board.score_kind == "leave_one_out");
  BOOST_REQUIRE(board.rows.size() == 5u);
  BOOST_TEST(board.rows[0].participant == "ben");  // mean 0.4 > ann's 0.3
  BOOST_TEST(board.rows[0].mean_loo == 0.4, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(board.rows[0].samples == 600u);
  BOOST_TEST(board.rows[0].contributions == 2u);
  BOOST_TEST(board.rows[0].mean_staleness == 0.5);
  BOOST_TEST(board.rows[1].participant == "ann");
  BOOST_TEST(board.rows[2].participant == "mal");
  BOOST_TEST(board.rows[2].mean_cosine == 0.65, boost::test_tools::tolerance(1e-12));
  // Without a leave-one-out score, and the excluded one who has none.
  BOOST_TEST(board.rows[3].participant == "solo");
  BOOST_TEST(std::isnan(board.rows[3].score));
  BOOST_TEST(board.rows[3].mean_cosine == 1.0);
  BOOST_TEST(board.rows[4].participant == "gone");
  BOOST_TEST(board.rows[4].excluded);
  BOOST_TEST(board.rows[4].contributions == 0u);
  // Cosines rank when no participant has a leave-one-out score.
  TempDir other;
  auto s2 = Store::open(other / "db");
  put_version(*s2, 1, {{"a", 1, 0.2, kNaN}, {"b", 1, 0.9, kNaN}});
  const auto by_cosine = compute_leaderboard(*s2, "m", {});
  BOOST_TEST(by_cosine.score_kind == "cosine");
  BOOST_TEST(by_cosine.rows[0].participant == "b");
}

BOOST_AUTO_TEST_SUITE_END()

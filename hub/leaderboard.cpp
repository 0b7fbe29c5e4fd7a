#include "hub/leaderboard.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "messages/provenance.hpp"

namespace fedhub {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Sums {
  LeaderboardRow row;
  double share = 0, staleness = 0, cosine = 0, loo = 0;
};

}  // namespace

Leaderboard compute_leaderboard(const Store& store, const std::string& model,
                                const std::vector<std::string>& excluded) {
  std::map<std::string, Sums> by;
  for (const auto& [version, record] : store.provenances(model, 0, UINT64_MAX)) {
    const auto p = read_provenance(record);
    for (const auto& m : p.members) {
      auto& s = by[m->participant];
      s.row.participant = m->participant;
      ++s.row.contributions;
      s.row.samples += m->num_samples;
      s.share += m->weight_share;
      s.staleness += static_cast<double>(m->staleness);
      s.row.last_version = std::max(s.row.last_version, version);
    }
  }
  for (const auto& [version, record] : store.scores_range(model, 0, UINT64_MAX)) {
    const auto sc = read_scores(record);
    for (const auto& c : sc.contributions) {
      auto it = by.find(c->participant);
      if (it == by.end()) continue;  // a version whose provenance is gone
      auto& s = it->second;
      if (std::isfinite(c->cosine)) {
        ++s.row.scored;
        s.cosine += c->cosine;
      }
      if (std::isfinite(c->loo_loss_change)) {
        ++s.row.loo_scored;
        s.loo += c->loo_loss_change;
      }
      s.row.flagged += c->flagged;
    }
  }
  Leaderboard out;
  bool any_loo = false;
  for (auto& [name, s] : by) any_loo |= s.row.loo_scored > 0;
  out.score_kind = any_loo ? "leave_one_out" : "cosine";
  for (auto& [name, s] : by) {
    auto r = s.row;
    const auto n = static_cast<double>(r.contributions);
    r.mean_weight_share = n > 0 ? s.share / n : 0;
    r.mean_staleness = n > 0 ? s.staleness / n : 0;
    r.mean_cosine = r.scored > 0 ? s.cosine / static_cast<double>(r.scored) : kNaN;
    r.mean_loo = r.loo_scored > 0 ? s.loo / static_cast<double>(r.loo_scored) : kNaN;
    r.score = any_loo ? r.mean_loo : r.mean_cosine;
    r.excluded = std::find(excluded.begin(), excluded.end(), name) != excluded.end();
    out.rows.push_back(std::move(r));
  }
  for (const auto& name : excluded)
    if (!by.count(name)) {
      LeaderboardRow r;
      r.participant = name;
      r.mean_cosine = r.mean_loo = r.score = kNaN;
      r.excluded = true;
      out.rows.push_back(std::move(r));
    }
  std::stable_sort(out.rows.begin(), out.rows.end(), [](const LeaderboardRow& a, const LeaderboardRow& b) {
    const bool sa = std::isfinite(a.score), sb = std::isfinite(b.score);
    if (sa != sb) return sa;
    if (sa && a.score != b.score) return a.score > b.score;
    return a.contributions > b.contributions;
  });
  return out;
}

}  // namespace fedhub

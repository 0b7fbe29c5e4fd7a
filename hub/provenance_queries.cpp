#include "hub/provenance_queries.hpp"

#include "hub/leaderboard.hpp"
#include "hub/replay.hpp"
#include "hub/store_records.hpp"
#include "messages/errors.hpp"
#include "messages/responses.hpp"

namespace fedhub {

namespace {

ModelDefinition definition_of(const Store& store, const std::string& model) {
  auto record = store.model(model);
  if (!record) throw RequestError(ErrorCode::unknown_model, "there is no model named '" + model + "'");
  return stored::read_model_record(*record).first;
}

}  // namespace

Buffer history_response(const Store& store, const std::string& model, uint64_t first, int64_t last) {
  definition_of(store, model);
  const auto current = store.latest_version(model);
  if (!current) throw RequestError(ErrorCode::unknown_model, "model '" + model + "' has no versions");
  uint64_t to = last < 0 ? *current : std::min<uint64_t>(static_cast<uint64_t>(last), *current);
  fb::VersionHistoryT out;
  out.model = model;
  out.current_version = *current;
  if (first <= to) {
    if (to - first >= kHistoryPageVersions) {
      to = first + kHistoryPageVersions - 1;
      out.truncated = true;
    }
    for (auto& [version, record] : store.provenances(model, first, to)) {
      auto e = std::make_unique<fb::ProvenanceEntryT>();
      e->record.assign(record.begin(), record.end());
      out.entries.push_back(std::move(e));
    }
    for (auto& [version, record] : store.scores_range(model, first, to)) {
      auto e = std::make_unique<fb::ProvenanceEntryT>();
      e->record.assign(record.begin(), record.end());
      out.scores.push_back(std::move(e));
    }
  }
  return responses::make(std::move(out));
}

Buffer leaderboard_response(const Store& store, const std::string& model, const std::string& participant) {
  auto record = store.model(model);
  if (!record) throw RequestError(ErrorCode::unknown_model, "there is no model named '" + model + "'");
  const auto policy = stored::read_model_record(*record).second;
  const auto board =
      compute_leaderboard(store, model, std::vector<std::string>(policy.excluded.begin(), policy.excluded.end()));
  fb::LeaderboardT out;
  out.model = model;
  out.score_kind = board.score_kind;
  out.participants = board.rows.size();
  out.first_rank = 1;
  for (size_t i = 0; i < board.rows.size(); ++i) {
    const auto& r = board.rows[i];
    if (!participant.empty() && r.participant != participant) continue;
    if (!participant.empty()) out.first_rank = i + 1;
    auto row = std::make_unique<fb::LeaderboardRowT>();
    row->participant = r.participant;
    row->contributions = r.contributions;
    row->samples = r.samples;
    row->mean_weight_share = r.mean_weight_share;
    row->mean_staleness = r.mean_staleness;
    row->scored = r.scored;
    row->mean_cosine = r.mean_cosine;
    row->loo_scored = r.loo_scored;
    row->mean_loo = r.mean_loo;
    row->score = r.score;
    row->flagged = r.flagged;
    row->excluded = r.excluded;
    row->last_version = r.last_version;
    out.rows.push_back(std::move(row));
  }
  if (!participant.empty() && out.rows.empty()) out.first_rank = 0;  // it has contributed nothing merged yet
  return responses::make(std::move(out));
}

Buffer verify_response(const Store& store, const std::string& model, uint64_t version) {
  const auto r = replay_version(store, definition_of(store, model), version);
  fb::VerifyReportT out;
  out.model = model;
  out.version = r.version;
  out.outcome = to_string(r.outcome);
  out.reason = r.reason;
  out.aggregator = r.aggregator;
  out.summation = r.summation;
  out.members = r.members;
  out.stored_sha256 = r.stored_sha256;
  out.recorded_sha256 = r.recorded_sha256;
  out.replayed_sha256 = r.replayed_sha256;
  out.differing = r.differing;
  out.first_differing = r.first_differing;
  out.max_abs_difference = r.max_abs_difference;
  out.tampered = r.tampered;
  return responses::make(std::move(out));
}

}  // namespace fedhub

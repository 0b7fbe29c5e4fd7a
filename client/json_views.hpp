// The JSON form of the hub's answers, one function per response type of
// messages/schemas/response.fbs and event.fbs. Both doors speak it: the
// console's `--json` output (apps/manager/) and the HTTP API's bodies
// (http/, docs/http-api.md) use these, so a field has one name everywhere.
// Weights never appear here: packages and contributions stay FlatBuffers.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "messages/event_generated.h"
#include "messages/response_generated.h"

namespace fedhub::json_views {

using nlohmann::json;

// "participant" or "manager".
const char* role_name(fb::Role role);

// name, current_version, pending_contributions, min_contributions,
// parameters, labels, merging, archived, oldest_retained, created_at_ms,
// policy (an object).
json model_summary(const fb::ModelSummary& m);
// An array of model_summary.
json model_list(const fb::ModelList& list);
// model_summary of the model and: version (the one asked about),
// contributions [{participant, num_samples, received_at_ms, metrics {}}],
// versions [{version, created_at_ms, base_version, contributions,
// total_samples, aggregator, rolled_back_from}].
json model_status(const fb::ModelStatus& s);
// model, base_version, new_version, contributors, total_samples.
json merge_receipt(const fb::MergeReceiptT& r);
json merge_receipt(const fb::MergeReceipt& r);
// model, base_version, participant, contributions.
json upload_receipt(const fb::UploadReceiptT& r);
// name, role, key.
json key_created(const fb::KeyCreated& k);
// [{name, role, created_at_ms, revoked}].
json key_list(const fb::KeyList& list);
// name, role.
json identity(const fb::Identity& id);
// The policy as stored (an object; docs/aggregation.md).
json policy(const fb::PolicyInfo& p);

// Events. event "version": version, aggregator, contributions
// [{participant, base_version, staleness, num_samples, weight, clipped}],
// dropped. event "contribution": participant, base_version, contributions.
json version_published(const fb::VersionPublished& v);
json contribution_accepted(const fb::ContributionAccepted& a);
// event "evaluated": the scores of a version (scores below).
// Either of these, with "model" and "event" added.
json event(const fb::Event& e);

// A version's scores record (messages/schemas/scores.fbs, verified here):
// version, evaluated, eval_data, samples, loss, accuracy, per_class_accuracy
// {label: accuracy} (with the model's `labels`; else a list), note,
// contributions [{participant, upload_id, cosine, loo_loss_change, flagged}],
// seconds. NaN scores are null. Throws RequestError for a damaged record.
json scores(std::span<const char> record, const std::vector<std::string>& labels = {});

// A Leaderboard response's rows, best first: [{rank, participant,
// contributions, samples, mean_weight_share, mean_staleness, mean_cosine,
// mean_loo_loss_change, score, flagged, excluded, last_version}].
json leaderboard(const fb::Leaderboard& board);

}  // namespace fedhub::json_views

#include "hub/contribution_intake.hpp"

#include <cmath>

#include "federation/staleness.hpp"
#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "messages/records.hpp"
#include "messages/tensors.hpp"

namespace fedhub {

void check_base_version(const std::string& model, uint64_t base, uint64_t current, const MergePolicy& policy) {
  if (base > current)
    throw RequestError(ErrorCode::unknown_version, "model '" + model + "' has no version " + std::to_string(base) +
                                                       " (current: " + std::to_string(current) + ")");
  const uint64_t oldest = policy.oldest_accepted_base(current);
  if (base < oldest || federation::staleness_weight(policy.staleness, static_cast<int64_t>(current - base)) <= 0)
    throw RequestError(ErrorCode::stale,
                       "base version " + std::to_string(base) + " of '" + model + "' is older than " +
                           (oldest == current ? "the current version " + std::to_string(current)
                                              : "the oldest accepted version " + std::to_string(oldest)) +
                           ": download the current version and train again");
}

ContributionIntake::ContributionIntake(Store& store, std::string model, std::vector<TensorSpec> layout,
                                       uint64_t current_version, MergePolicy policy)
    : store_(store),
      model_(std::move(model)),
      layout_(std::move(layout)),
      current_(current_version),
      policy_(std::move(policy)),
      next_seq_(store.next_pending_seq(model_)),
      bases_(store, model_, layout_, 1) {}

AcceptedContribution ContributionIntake::accept(std::span<const char> bytes, const std::string& participant) {
  // Builders of other languages may align a nested buffer to 4 bytes only:
  // read such a contribution from an aligned copy.
  Buffer aligned;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 16 != 0) {
    aligned.assign(bytes.begin(), bytes.end());
    bytes = aligned;
  }
  const auto* c = verify_contribution(bytes);
  if (c->model()->str() != model_)
    throw RequestError(ErrorCode::bad_contribution,
                       "the contribution is for model '" + c->model()->str() + "', not '" + model_ + "'");
  const uint64_t base = c->base_version();
  check_base_version(model_, base, current_, policy_);
  if (store_.has_contribution(model_, base, participant))
    throw RequestError(ErrorCode::duplicate, "'" + participant + "' has already contributed to version " +
                                                 std::to_string(base) + " of '" + model_ +
                                                 "': wait for the next version");
  if (c->num_samples() < 1)
    throw RequestError(ErrorCode::bad_contribution, "the contribution reports no training samples");
  check_tensors(c->tensors(), layout_, true);
  if (policy_.norm_bound > 0 && !policy_.clip_to_norm) {
    const auto& x = bases_.get(base);
    double sq = 0;
    size_t at = 0;
    for (const auto* t : *c->tensors())
      for (float v : tensor_values(*t)) {
        const double d = static_cast<double>(v) - x[at++];
        sq += d * d;
      }
    if (std::sqrt(sq) > policy_.norm_bound)
      throw RequestError(ErrorCode::norm_exceeded, "the update's L2 norm " + std::to_string(std::sqrt(sq)) +
                                                       " exceeds the model's bound " +
                                                       std::to_string(policy_.norm_bound));
  }

  AcceptedContribution a;
  a.summary.participant = participant;
  a.summary.base_version = base;
  a.summary.num_samples = c->num_samples();
  a.summary.received_at_ms = now_ms();
  a.summary.staleness = current_ - base;
  for (const auto& [name, value] : read_metrics(c->metrics())) {
    auto m = std::make_unique<fb::MetricT>();
    m->name = name;
    m->value = value;
    a.summary.metrics.push_back(std::move(m));
  }
  uint32_t& count = count_for(base);
  a.pending_seq = next_seq_;
  store_.put_contribution(model_, base, participant,
                          records::contribution_record(participant, a.summary.received_at_ms, bytes),
                          records::contribution_summary(a.summary), a.pending_seq);
  ++next_seq_;
  a.contributions_for_base = ++count;
  return a;
}

uint32_t& ContributionIntake::count_for(uint64_t base) {
  auto it = counts_.find(base);
  if (it == counts_.end()) it = counts_.emplace(base, store_.count_contributions(model_, base)).first;
  return it->second;
}

}  // namespace fedhub

#include "hub/contribution_intake.hpp"

#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "messages/records.hpp"
#include "messages/tensors.hpp"

namespace fedhub {

void check_base_version(const std::string& model, uint64_t base, uint64_t current) {
  if (base < current)
    throw RequestError(ErrorCode::stale, "base version " + std::to_string(base) + " of '" + model +
                                             "' is older than the current version " + std::to_string(current) +
                                             ": download the current version and train again");
  if (base > current)
    throw RequestError(ErrorCode::unknown_version, "model '" + model + "' has no version " + std::to_string(base) +
                                                       " (current: " + std::to_string(current) + ")");
}

ContributionIntake::ContributionIntake(Store& store, std::string model, std::vector<TensorSpec> layout,
                                       uint64_t current_version)
    : store_(store), model_(std::move(model)), layout_(std::move(layout)), current_(current_version) {}

AcceptedContribution ContributionIntake::accept(std::span<const char> bytes, const std::string& participant) {
  const auto* c = verify_contribution(bytes);
  if (c->model()->str() != model_)
    throw RequestError(ErrorCode::bad_contribution,
                       "the contribution is for model '" + c->model()->str() + "', not '" + model_ + "'");
  const uint64_t base = c->base_version();
  check_base_version(model_, base, current_);
  if (store_.has_contribution(model_, base, participant))
    throw RequestError(ErrorCode::duplicate, "'" + participant + "' has already contributed to version " +
                                                 std::to_string(base) + " of '" + model_ +
                                                 "': wait for the next version");
  if (c->num_samples() < 1)
    throw RequestError(ErrorCode::bad_contribution, "the contribution reports no training samples");
  check_tensors(c->tensors(), layout_, true);

  AcceptedContribution a;
  a.summary.participant = participant;
  a.summary.base_version = base;
  a.summary.num_samples = c->num_samples();
  a.summary.received_at_ms = now_ms();
  for (const auto& [name, value] : read_metrics(c->metrics())) {
    auto m = std::make_unique<fb::MetricT>();
    m->name = name;
    m->value = value;
    a.summary.metrics.push_back(std::move(m));
  }
  uint32_t& count = count_for(base);
  store_.put_contribution(model_, base, participant,
                          records::contribution_record(participant, a.summary.received_at_ms, bytes),
                          records::contribution_summary(a.summary));
  a.contributions_for_base = ++count;
  return a;
}

uint32_t& ContributionIntake::count_for(uint64_t base) {
  auto it = counts_.find(base);
  if (it == counts_.end()) it = counts_.emplace(base, store_.count_contributions(model_, base)).first;
  return it->second;
}

}  // namespace fedhub

#include "sim/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include "client/requests.hpp"
#include "hub/merge_policy.hpp"
#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "messages/events.hpp"
#include "model/model_spec.hpp"
#include "model/trainable_slice.hpp"
#include "sim/evaluation.hpp"
#include "sim/target.hpp"
#include "training/threads.hpp"

namespace fedhub::sim {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(double start) {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count() - start;
}

double now_seconds() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

// Draw streams (virtual_clock.hpp: draw()).
constexpr uint64_t kDropout = 1, kJitter = 2, kTraining = 3;

// Refusals a participant lives with (its upload is lost, it goes on); the
// others (unavailable, timeout, internal, ...) end the run.
bool participant_refusal(ErrorCode c) {
  switch (c) {
    case ErrorCode::stale:
    case ErrorCode::duplicate:
    case ErrorCode::norm_exceeded:
    case ErrorCode::magnitude_exceeded:
    case ErrorCode::non_finite:
    case ErrorCode::bad_contribution:
    case ErrorCode::bad_shape:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct Simulation::Member {
  ParticipantSpec spec;
  uint64_t index = 0;
  std::unique_ptr<HubClient> client;
  bool in_flight = false;  // trained; its upload waits in the delivery queue
  Buffer result;
  uint64_t base = 0;
  uint64_t rounds = 0;
  std::set<uint64_t> contributed;  // bases it delivered to (accepted or refused for good)
  std::map<uint64_t, double> loss_by_base;
  int64_t sat_out = -1;  // the version it sits out (dropout), with the attempt
  uint64_t sat_out_attempt = 0;
};

Simulation::Simulation(caf::actor_system& system, SimulationOptions options)
    : system_(system), options_(std::move(options)) {
  check_options();
  hub_ = std::make_unique<EmbeddedHub>(system_, options_.hub);
  manager_ = hub_->client(hub_->manager_key());
}

Simulation::~Simulation() {
  for (auto& m : members_) m->client.reset();
  manager_.reset();
  hub_.reset();
}

void Simulation::check_options() const {
  auto bad = [](const std::string& field, const std::string& what) {
    throw std::invalid_argument("simulation: " + field + " " + what);
  };
  if (auto why = check_model_name(options_.model); !why.empty()) bad("model", why);
  make_model_spec(options_.model, options_.architecture_json, options_.labels, options_.recipe_json);  // throws
  const auto policy = MergePolicy::from_json(options_.policy_json);                                    // throws
  if (policy.interval_seconds > 0)
    bad("policy interval_seconds", "is a wall-clock timer; simulations run in virtual time (use buffered merges)");
  if (options_.versions < 1 && !(options_.virtual_seconds > 0))
    bad("versions", "must be >= 1 (or give virtual_seconds)");
  if (!(options_.virtual_seconds >= 0) || !std::isfinite(options_.virtual_seconds))
    bad("virtual_seconds", "must be finite and >= 0");
  if (!(options_.seconds_per_step >= 0) || !std::isfinite(options_.seconds_per_step))
    bad("seconds_per_step", "must be finite and >= 0");
  if (options_.threads < 0) bad("threads", "must be >= 0");
  if (options_.stop_window < 1) bad("stop_window", "must be >= 1");
  if (options_.trainers < 1 || options_.trainers > 64) bad("trainers", "must be 1 to 64");
}

void Simulation::add_participant(ParticipantSpec p) {
  if (ran_) throw std::logic_error("simulation: add_participant after run()");
  auto bad = [&](const std::string& what) {
    throw std::invalid_argument("simulation: participant '" + p.name + "': " + what);
  };
  if (p.name.empty()) throw std::invalid_argument("simulation: a participant needs a name");
  if (!p.behaviour) bad("has no behaviour");
  if (!(p.speed.speed > 0) || !std::isfinite(p.speed.speed)) bad("speed must be finite and > 0");
  if (!(p.speed.jitter >= 0 && p.speed.jitter < 1)) bad("jitter must be in [0, 1)");
  if (!(p.dropout >= 0 && p.dropout < 1)) bad("dropout must be in [0, 1)");
  for (const auto& m : members_)
    if (m->spec.name == p.name) bad("the name is taken");
  auto m = std::make_unique<Member>();
  m->index = members_.size();
  m->spec = std::move(p);
  members_.push_back(std::move(m));
}

void Simulation::add_evaluation_set(std::string name, datasets::Dataset data) {
  if (ran_) throw std::logic_error("simulation: add_evaluation_set after run()");
  if (data.size() == 0) throw std::invalid_argument("simulation: evaluation set '" + name + "' is empty");
  set_names_.push_back(std::move(name));
  sets_.push_back(std::move(data));
}

void create_simulated_model(HubClient& manager, const SimulationOptions& o) {
  fb::ModelSpecT spec;
  spec.name = o.model;
  spec.architecture_json = o.architecture_json;
  spec.labels = o.labels;
  spec.recipe_json = o.recipe_json;
  spec.min_contributions = o.min_contributions;
  Buffer holder;
  manager.call_as<fb::CreateReceipt>(
      requests::create_model(manager.key(), spec, o.initial_weights, o.init_seed, o.policy_json), holder);
  manager.subscribe(o.model);
}

void Simulation::create_model() {
  create_simulated_model(*manager_, options_);
  manual_ = MergePolicy::from_json(options_.policy_json).merge == MergeMode::manual;
}

std::vector<VersionResult> Simulation::run(const std::function<void(const VersionResult&)>& on_result) {
  if (ran_) throw std::logic_error("simulation: run() twice");
  ran_ = true;
  if (members_.empty()) throw std::invalid_argument("simulation: no participants");
  if (sets_.empty()) throw std::invalid_argument("simulation: no evaluation set");
  on_result_ = on_result;
  wall_start_ = now_seconds();
  create_model();
  for (auto& m : members_) m->client = hub_->client(hub_->add_key(m->spec.name, fb::Role::participant));
  auto first = evaluate(0);
  results_.push_back(first);
  if (on_result_) on_result_(first);

  start_idle();
  auto reached = [&] { return reached_target(results_, options_.stop_at_accuracy, options_.stop_window); };
  while (results_.size() - 1 < options_.versions && !reached()) {
    if (queue_.empty()) {
      merge_if_everyone_delivered();
      settle();
      start_idle();
      if (queue_.empty()) {
        // Everyone idle sat this version out, or every one has contributed
        // to it and the policy does not merge yet: draw the dropouts again.
        ++attempt_;
        start_idle();
        if (queue_.empty())
          throw std::runtime_error("simulation: stuck at version " + std::to_string(current_) +
                                   ": every participant has contributed to it and the merge policy does not merge (" +
                                   (manual_ ? "manual: fewer than min_contributions accepted"
                                            : "buffered: k is larger than the participants that can contribute") +
                                   ")");
      }
      continue;
    }
    if (options_.virtual_seconds > 0 && queue_.next().at > options_.virtual_seconds) break;
    const auto d = queue_.pop();
    now_ = d.at;
    deliver(*members_[d.participant]);
    merge_if_everyone_delivered();
    settle();
    start_idle();
  }
  return results_;
}

void Simulation::start_idle() {
  std::vector<Member*> starting;
  for (auto& mp : members_) {
    auto& m = *mp;
    if (m.in_flight || m.contributed.count(current_)) continue;
    if (m.sat_out == static_cast<int64_t>(current_) && m.sat_out_attempt == attempt_) continue;
    if (m.spec.dropout > 0 && draw(options_.seed, m.index, current_ * 1000003 + attempt_, kDropout) < m.spec.dropout) {
      m.sat_out = static_cast<int64_t>(current_);
      m.sat_out_attempt = attempt_;
      continue;
    }
    starting.push_back(&m);
  }
  const size_t batch = static_cast<size_t>(options_.trainers);
  for (size_t at = 0; at < starting.size(); at += batch)
    start({starting.begin() + at, starting.begin() + std::min(starting.size(), at + batch)});
}

// Downloads on this thread (each client belongs to it), trains the members
// at once, one thread each, then builds and schedules their results in
// member order.
void Simulation::start(const std::vector<Member*>& members) {
  const size_t n = members.size();
  std::vector<LoadedModel> packages;
  packages.reserve(n);
  for (auto* m : members) packages.push_back(read_model_package(m->client->download_package(options_.model, -1)));
  const int threads =
      n > 1 ? std::max(1, training::resolve_threads(options_.threads) / static_cast<int>(n)) : options_.threads;
  std::vector<TrainingOutput> outputs(n);
  std::vector<std::exception_ptr> errors(n);
  auto train = [&](size_t i) {
    try {
      auto& m = *members[i];
      const uint64_t seed = static_cast<uint64_t>(draw(options_.seed, m.index, m.rounds, kTraining) * 0x1p53) + 1;
      outputs[i] = m.spec.behaviour->train(TrainingTask{packages[i], m.rounds, seed, threads});
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  std::vector<std::thread> others;
  for (size_t i = 1; i < n; ++i) others.emplace_back(train, i);
  train(0);
  for (auto& t : others) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  const TrainableSlice trainable(packages.front().spec.architecture);
  for (size_t i = 0; i < n; ++i) {
    auto& m = *members[i];
    auto& out = outputs[i];
    const auto& package = packages[i];
    ContributionMeta meta;
    meta.model = options_.model;
    meta.base_version = package.version;
    meta.participant = m.spec.name;
    meta.num_samples = out.num_samples;
    meta.metrics = out.metrics;
    m.result = build_contribution(meta, trainable.select(out.weights));  // frozen tensors stay home
    for (const auto& [name, value] : out.metrics)
      if (name == "loss") m.loss_by_base[package.version] = value;
    m.base = package.version;
    m.in_flight = true;
    const double took = compute_seconds(out.steps, options_.seconds_per_step, m.spec.speed,
                                        draw(options_.seed, m.index, m.rounds, kJitter));
    ++m.rounds;
    queue_.schedule(now_ + took, m.index);
  }
}

void Simulation::deliver(Member& m) {
  m.in_flight = false;
  try {
    m.client->upload(m.result);
    m.contributed.insert(m.base);
  } catch (const RequestError& e) {
    if (!participant_refusal(e.code())) throw;
    ++refused_;
    // A stale result is trained again on the current version; any other
    // refusal stands for that version (as a real participant's would).
    if (e.code() != ErrorCode::stale) m.contributed.insert(m.base);
  }
  Buffer().swap(m.result);
}

void Simulation::merge_if_everyone_delivered() {
  if (!manual_) return;
  uint32_t in_flight = 0;
  for (const auto& m : members_)
    if (m->in_flight && m->base == current_) ++in_flight;
  Buffer holder;
  const auto* st = manager_->call_as<fb::ModelStatus>(requests::status(manager_->key(), options_.model, -1), holder);
  const uint32_t waiting = st->summary()->pending_contributions();
  const uint32_t needed = std::max<uint32_t>(1, options_.min_contributions);
  const bool enough = options_.merge_at > 0 ? waiting >= options_.merge_at : in_flight == 0 && waiting >= needed;
  if (!enough || st->summary()->merging()) return;
  manager_->call(requests::merge(manager_->key(), options_.model, current_));
}

// Waits until the hub has published every version it merged: no merge under
// way and the current version's event handled.
void Simulation::settle() {
  const auto limit = std::chrono::milliseconds(options_.hub.hub.merge_timeout) + std::chrono::minutes(1);
  for (;;) {
    while (auto e = manager_->next_event(std::chrono::milliseconds(0))) handle(*e);
    Buffer holder;
    const auto* list = manager_->call_as<fb::ModelList>(requests::list_models(manager_->key()), holder);
    const fb::ModelSummary* s = nullptr;
    for (const auto* m : *list->models())
      if (m->name()->str() == options_.model) s = m;
    if (!s) throw std::runtime_error("simulation: the hub lost the model '" + options_.model + "'");
    if (s->problem() && s->problem()->size() > 0)
      throw std::runtime_error("simulation: the model is unavailable: " + s->problem()->str());
    if (!s->merging() && s->current_version() <= current_) return;
    auto e = manager_->next_event(limit);
    if (!e)
      throw std::runtime_error("simulation: no version was published within " + std::to_string(limit.count() / 1000) +
                               " s of a merge");
    handle(*e);
  }
}

void Simulation::handle(const Buffer& event) {
  const auto* v = events::verify(event)->body_as_VersionPublished();
  if (!v || v->version() <= current_) return;
  current_ = v->version();
  auto r = evaluate(current_);
  r.refused = refused_;
  refused_ = 0;
  double staleness = 0, loss = 0;
  uint32_t losses = 0;
  if (v->contributions()) {
    for (const auto* c : *v->contributions()) {
      ++r.contributions;
      staleness += static_cast<double>(c->staleness());
      r.max_staleness = std::max<uint64_t>(r.max_staleness, c->staleness());
      for (const auto& m : members_)
        if (m->spec.name == c->participant()->str()) {
          auto it = m->loss_by_base.find(c->base_version());
          if (it != m->loss_by_base.end()) {
            loss += it->second;
            ++losses;
            m->loss_by_base.erase(it);
          }
        }
    }
  }
  if (r.contributions) r.mean_staleness = staleness / r.contributions;
  if (losses) r.mean_train_loss = loss / losses;
  results_.push_back(r);
  if (on_result_) on_result_(r);
}

VersionResult Simulation::evaluate(uint64_t version) {
  last_package_ = manager_->download_package(options_.model, static_cast<int64_t>(version));
  const auto package = read_model_package(last_package_);
  VersionResult r;
  r.version = version;
  r.virtual_s = now_;
  for (const auto& set : sets_)
    r.per_set.push_back(training::evaluate(package.spec.architecture, package.weights, set, options_.threads));
  r.overall = combine(r.per_set);
  r.wall_s = seconds_since(wall_start_);
  return r;
}

}  // namespace fedhub::sim

#include "actors/merger_actor.hpp"

#include <caf/all.hpp>
#include <iostream>

#include "actors/atoms.hpp"
#include "messages/errors.hpp"
#include "messages/responses.hpp"

namespace fedhub {

namespace {

using self_ptr = caf::stateful_actor<merger_state>*;

Buffer receipt(const std::string& model, const MergeResult& r) {
  fb::MergeReceiptT out;
  out.model = model;
  out.base_version = r.base_version;
  out.new_version = r.new_version;
  out.contributors = r.contributors;
  out.total_samples = r.total_samples;
  for (const auto& c : r.contributions) out.contributions.push_back(std::make_unique<fb::MergedContributionT>(c));
  out.dropped = r.dropped;
  return responses::make(std::move(out));
}

// Tells the model actor of each new version; returns the last receipt.
Buffer publish(self_ptr self, const std::string& model, const std::vector<MergeResult>& results) {
  Buffer last;
  for (const auto& r : results) {
    last = receipt(model, r);
    self->send(self->state.model, merged_atom::value, last);
  }
  return last;
}

void schedule_tick(self_ptr self) {
  const double seconds = self->state.engine->policy().interval_seconds;
  if (seconds <= 0 || self->state.engine->policy().merge == MergeMode::async) return;
  self->delayed_send(self, std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)), tick_atom::value,
                     self->state.tick_generation);
}

// Errors of merges nobody waits for (automatic ones) go to the hub's log.
void log_error(const std::string& model, const Buffer& response) {
  if (response.empty()) return;
  if (const auto* e = flatbuffers::GetRoot<fb::ResponseEnvelope>(response.data())->response_as_Error())
    std::cerr << "fl-hub: model '" << model << "': " << error_name(e->code()) << ": " << e->message()->str()
              << std::endl;
}

template <class F>
Buffer guarded(const std::string& model, F&& f) {
  try {
    return f();
  } catch (const RequestError& e) {
    return responses::error(e.code(), e.what());
  } catch (const std::exception& e) {
    return responses::error(ErrorCode::internal, "merger of '" + model + "': " + e.what());
  }
}

}  // namespace

caf::behavior merger_actor(self_ptr self, std::shared_ptr<Store> store, std::string model_name, caf::actor model) {
  // The durable state is the truth: the engine reads it and folds whatever
  // was pending when the hub stopped.
  self->state.engine = std::make_unique<MergeEngine>(*store, model_name);
  self->state.model = std::move(model);
  schedule_tick(self);
  // Contributions pending at start may already be due.
  publish(self, model_name, self->state.engine->merge_due());
  return {
      [self, store, model_name](fold_atom, uint64_t seq, Buffer& summary) {
        log_error(model_name, guarded(model_name, [&] {
                    self->state.engine->fold(seq, summary);
                    publish(self, model_name, self->state.engine->merge_due());
                    return Buffer{};
                  }));
      },
      [self, model_name](merge_atom, uint64_t base) -> Buffer {
        return guarded(model_name, [&] { return publish(self, model_name, self->state.engine->merge(base)); });
      },
      [self, model_name](policy_atom, std::string& patch) -> Buffer {
        return guarded(model_name, [&] {
          auto& engine = *self->state.engine;
          MergePolicy next;
          try {
            next = engine.policy().patched(patch);
          } catch (const std::invalid_argument& e) {
            throw RequestError(ErrorCode::bad_request, e.what());
          }
          engine.set_policy(next);
          self->send(self->state.model, policy_atom::value, next.to_json());
          ++self->state.tick_generation;
          schedule_tick(self);
          publish(self, model_name, engine.merge_due());
          fb::PolicyInfoT info;
          info.model = model_name;
          info.policy_json = next.to_json();
          return responses::make(std::move(info));
        });
      },
      [self, model_name](tick_atom, uint64_t generation) {
        if (generation != self->state.tick_generation) return;
        log_error(model_name, guarded(model_name, [&] {
                    publish(self, model_name, self->state.engine->merge_if_enough());
                    return Buffer{};
                  }));
        schedule_tick(self);
      },
  };
}

}  // namespace fedhub

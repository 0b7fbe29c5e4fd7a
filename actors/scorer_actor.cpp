#include "actors/scorer_actor.hpp"

#include <iostream>

#include "actors/actor_errors.hpp"
#include "actors/atoms.hpp"
#include "actors/message_types.hpp"
#include "messages/provenance.hpp"

namespace fedhub {

caf::behavior scorer_actor(caf::stateful_actor<scorer_state>* self, std::shared_ptr<Store> store,
                           ModelDefinition definition, caf::actor model) {
  const std::string name = definition.name;
  try {
    self->state.scorer = std::make_unique<VersionScorer>(*store, std::move(definition));
  } catch (const std::exception& e) {
    std::cerr << "fl-hub: model '" << name << "': no scores: " << e.what() << std::endl;
  }
  return {
      [self, store, model, name](score_atom, uint64_t version, const std::string& policy_json) {
        fb::VersionScoresT scores;
        scores.version = version;
        try {
          if (!self->state.scorer) throw std::runtime_error("the model's architecture cannot be evaluated");
          scores = self->state.scorer->score(version, MergePolicy::from_json(policy_json));
        } catch (const std::exception& e) {
          scores.note = std::string("scoring failed: ") + e.what();
        }
        self->send(model, scored_atom::value, scores_record(scores));
      },
  };
}

}  // namespace fedhub

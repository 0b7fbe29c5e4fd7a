#include "actors/merger_actor.hpp"

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "hub/merge.hpp"
#include "messages/errors.hpp"
#include "messages/responses.hpp"

namespace fedhub {

caf::behavior merger_actor(caf::stateful_actor<merger_state>*, std::shared_ptr<Store> store,
                           std::string model_name) {
  return {
      [store, model_name](merge_atom, uint64_t base) -> Buffer {
        try {
          // The durable state is the truth: read it afresh for every merge.
          auto model = ModelState::load(*store, model_name, false);
          auto result = run_merge(*store, model, base);
          fb::MergeReceiptT receipt;
          receipt.model = model_name;
          receipt.base_version = base;
          receipt.new_version = result.new_version;
          receipt.contributors = std::move(result.contributors);
          receipt.total_samples = result.total_samples;
          return responses::make(std::move(receipt));
        } catch (const RequestError& e) {
          return responses::error(e.code(), e.what());
        } catch (const std::exception& e) {
          return responses::error(ErrorCode::internal, "merge of '" + model_name + "' failed: " + e.what());
        }
      },
  };
}

}  // namespace fedhub

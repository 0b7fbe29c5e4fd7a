// One model's durable state as the hub sees it: spec, current version and the
// current version's package (what participants download).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hub/merge_policy.hpp"
#include "messages/buffer.hpp"
#include "messages/model_package.hpp"
#include "messages/model_record_generated.h"
#include "messages/request_generated.h"
#include "messages/response_generated.h"
#include "persistence/store.hpp"

namespace fedhub {

struct ModelState {
  fb::ModelSpecT spec_fields;
  ModelSpec spec;
  std::vector<TensorSpec> layout;
  uint64_t current_version = 0;
  uint64_t created_at_ms = 0;
  MergePolicy policy;
  std::string server_state;  // federation::ServerState::serialize() after current_version
  Buffer package;            // ModelPackage of current_version

  // Reads the model record and the current version from the store and
  // (with_package) builds the package. Throws RequestError(unknown_model) or
  // (internal) for damaged records.
  static ModelState load(const Store& store, const std::string& name, bool with_package = true);

  fb::ModelSummaryT summary(uint32_t pending_contributions, bool merging) const;
  fb::ModelRecordT record() const;
};

// Validates a CreateModel request (spec documents, name, minimum, initial
// tensors against the architecture, finite values) and stores the model and
// its version 0 in one batch. Throws RequestError: invalid_model,
// model_exists, bad_shape, bad_dtype, non_finite.
ModelState create_model(Store& store, const fb::CreateModel& request);

// The package of an older version, read from the store. Throws
// RequestError(unknown_version) when it does not exist.
Buffer load_package(const Store& store, const ModelState& model, uint64_t version);

// A ModelSummary as a root buffer without identifier (passed between actors
// of one process), and back.
Buffer pack_summary(const fb::ModelSummaryT& summary);
fb::ModelSummaryT unpack_summary(std::span<const char> data);

}  // namespace fedhub

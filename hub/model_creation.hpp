// The paper's step 1 on the hub's side: a CreateModel request checked and
// stored as a new model with its version 0.
#pragma once

#include "hub/merge_engine.hpp"
#include "messages/request_generated.h"
#include "model/limits.hpp"

namespace fedhub {

// Checks the request: the spec documents and name (invalid_model), its
// size against `limits` (invalid_model naming the size and the limit:
// parameters and bytes counted from the architecture before anything is
// allocated; the recipe's steps and batch size), the minimum of contributions (1..1e6), the merge policy
// (invalid_model), a name not taken (model_exists), and the initial weights when given (their size: bad_shape; finite:
// non_finite; within the policy's max_abs_value: magnitude_exceeded); without them, initialises version 0 with
// Glorot-uniform from init_seed (what fl-manager did locally before).
// Stores the version's pieces, then the model record and version 0's info in
// one synced batch (a model is visible only once the batch is durable).
// Returns the state the model's actors start from. Runs in a detached
// worker: it computes and writes.
LoadedModelState create_model(Store& store, const fb::CreateModel& request, const ModelLimits& limits = {});

}  // namespace fedhub

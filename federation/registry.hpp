// Aggregation strategies added from outside the library, by name.
//
// A researcher's strategy is a class behind the Aggregator interface
// (aggregator.hpp: add, weight_of, count, apply, reset, held_bytes, name);
// registering a factory for it under a name makes that name valid wherever
// a built-in one is (AggregatorConfig::resolved, make_aggregator, and so a
// model's merge policy: `{"aggregator":{"name":"my-rule"}}`) in this process:
//
//   federation::register_aggregator("coordinate-max",
//       [](const federation::AggregatorConfig& c, int64_t n, const federation::ServerState&) {
//         return std::make_unique<CoordinateMax>(c, n);
//       });
//
// The hub treats a registered strategy like the robust built-ins: every
// contribution's whole delta is handed to add() (no part-by-part folding
// unless the class says can_fold_parts()), apply_to() or apply() makes the
// new version, and the hub checks the result is finite before it publishes
// it. The config's generic fields (server_lr, weighting, ...) are resolved
// with the defaults of "fedavg" (server_lr 1, weighting "samples"); dp is
// refused (it needs a mean-based strategy).
//
// The registration lives in the process's memory: a hub that restarts
// without it reports a model whose policy names the strategy as
// unavailable ("unknown aggregation strategy"), and serves the others.
//
// Thread safety: every function here may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "federation/aggregator.hpp"

namespace fedhub::federation {

// Makes the strategy for vectors of `parameter_count` values, with the
// resolved config and the model's persisted ServerState (the strategy's own
// vectors between rounds may live there under its own keys).
using AggregatorFactory = std::function<std::unique_ptr<Aggregator>(const AggregatorConfig& config,
                                                                    int64_t parameter_count, const ServerState& state)>;

// Registers `factory` under `name`. Throws std::invalid_argument when the
// name is a built-in's or already registered, is not 1-32 characters of
// a-z, 0-9 and '-', or the factory is empty.
void register_aggregator(const std::string& name, AggregatorFactory factory);

// True when `name` was registered (not for the built-ins).
bool is_registered_aggregator(const std::string& name);

// The factory registered under `name`, or an empty function.
AggregatorFactory registered_aggregator(const std::string& name);

// Every valid strategy name: the built-ins, then the registered ones in
// name order ("mean|fedavg|...|krum|my-rule").
std::string aggregator_names();

}  // namespace fedhub::federation

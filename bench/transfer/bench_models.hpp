// The models the multi-process benchmarks create and the contributions they
// upload: a dense layer with 2 units over parameters/2 - 1 inputs (exactly
// `parameters` float parameters), created without weights (the hub
// initialises version 0 from a seed), and random contributions built in
// place in one allocation of the contribution file's size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/hub_client.hpp"
#include "messages/buffer.hpp"
#include "model/tensor.hpp"

namespace fedhub::bench {

// The model's layout: "dense/kernel" [parameters/2 - 1, 2], "dense/bias" [2].
// Throws std::invalid_argument unless parameters is even and at least 4.
std::vector<TensorSpec> dense_layout(uint64_t parameters);

// Creates the model through the manager's client (requests::create_model
// with no initial weights, init_seed 1) with a merge policy (empty: the
// hub's default, manual merges with FedAvg).
void create_dense_model(HubClient& manager, const std::string& name, uint64_t parameters,
                        const std::string& policy_json = {});

// A contribution file (framed: header, data section) for the model's base
// version, values uniform in [-0.5, 0.5) drawn from `seed`, its data_hash
// computed; verified with read_contribution before it is returned.
Buffer random_contribution(const std::string& model, uint64_t base, uint64_t parameters, uint64_t seed,
                           uint64_t samples = 100);

// "1M" -> 1000000, "10k" -> 10000, "250M", "2G", "12345"; throws
// std::invalid_argument naming the text.
uint64_t parse_count(const std::string& text);
// 1000000 -> "1M", 10000 -> "10k", 12345 -> "12345".
std::string count_name(uint64_t n);

}  // namespace fedhub::bench

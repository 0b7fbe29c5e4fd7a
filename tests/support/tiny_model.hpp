// The tiny model several suites use: one dense layer from 2 inputs to 3
// logits, parameters dense/kernel [2,3] and dense/bias [3] (9 values).
#pragma once

#include <string>
#include <vector>

#include "messages/model_spec_generated.h"
#include "model/tensor.hpp"

namespace fedhub::test {

inline const char* kTinyArch = R"({"input":[2],"layers":[{"type":"dense","units":3}]})";
inline const char* kRecipe =
    R"({"optimizer":{"name":"adam","learning_rate":0.001},"batch_size":32,"steps":200,"samples_per_round":6400})";

inline fb::ModelSpecT tiny_spec(const std::string& name = "tiny", uint32_t min_contributions = 1) {
  fb::ModelSpecT s;
  s.name = name;
  s.architecture_json = kTinyArch;
  s.labels = {"cat", "dog", "bird"};
  s.recipe_json = kRecipe;
  s.min_contributions = min_contributions;
  return s;
}

inline std::vector<TensorSpec> tiny_layout() { return {{"dense/kernel", {2, 3}}, {"dense/bias", {3}}}; }

}  // namespace fedhub::test

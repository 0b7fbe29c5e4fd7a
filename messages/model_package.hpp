// Model versions (stored weights) and model packages (what participants
// download and train from).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "messages/buffer.hpp"
#include "messages/model_package_generated.h"
#include "messages/model_spec_generated.h"
#include "messages/model_version_generated.h"
#include "model/model_spec.hpp"

namespace fedhub {

// How a version was made, stored with its weights.
struct VersionMeta {
  std::string model;
  uint64_t version = 0;
  uint64_t created_at_ms = 0;
  uint64_t base_version = 0;
  std::vector<std::string> contributors;
  uint64_t total_samples = 0;
  std::string aggregator;
};

// A ModelVersion buffer ("FHMV") from weights.
Buffer build_model_version(const VersionMeta& meta, const Weights& weights);
// The same from one flat vector of all parameters in layout order.
Buffer build_model_version(const VersionMeta& meta, std::span<const TensorSpec> layout, std::span<const float> flat);

// Verifies a ModelVersion buffer; throws RequestError(bad_request) naming
// what is wrong. Tensors are not checked against a layout here.
const fb::ModelVersion* verify_model_version(std::span<const char> data);

// Parses and cross-checks the documents of a spec (make_model_spec). Throws
// RequestError(invalid_model).
ModelSpec parse_model_spec(const fb::ModelSpec& spec);

// A ModelPackage buffer ("FHMP"): the spec and a complete version buffer.
Buffer build_model_package(const fb::ModelSpecT& spec, std::span<const char> version_buffer);

// A verified, parsed and shape-checked model package.
struct LoadedModel {
  fb::ModelSpecT spec_fields;  // as stored (to build contributions, packages)
  ModelSpec spec;              // parsed
  uint64_t version = 0;
  Weights weights;
};

// Verifies a package completely: buffer, spec documents, and that the
// version's tensors match the architecture and are finite. Throws
// RequestError (bad_request, invalid_model, bad_shape, bad_dtype, non_finite).
LoadedModel read_model_package(std::span<const char> data);

}  // namespace fedhub

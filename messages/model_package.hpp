// Model packages: a model's spec and one version's weights as a framed buffer
// (framed.hpp; schemas/model_package.fbs documents the layout) whose header
// is a ModelPackage ("FHMP") and whose data section holds the weights. What
// participants download and train from, and what the hub stores per version.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "messages/buffer.hpp"
#include "messages/model_package_generated.h"
#include "messages/model_spec_generated.h"
#include "messages/model_version_generated.h"
#include "model/model_spec.hpp"

namespace fedhub {

// How a version was made (the header's ModelVersion without its tensors).
struct VersionMeta {
  std::string model;
  uint64_t version = 0;
  uint64_t created_at_ms = 0;
  uint64_t base_version = 0;
  std::vector<std::string> contributors;
  uint64_t total_samples = 0;
  std::string aggregator;
};

// The meta fields of a verified header's version.
VersionMeta version_meta(const fb::ModelVersion& version);

// Parses and cross-checks the documents of a spec (make_model_spec). Throws
// RequestError(invalid_model).
ModelSpec parse_model_spec(const fb::ModelSpec& spec);

// The prefix of a framed package (magic, size, header, padding): the header
// lists `layout`'s tensors and declares data_bytes = data_bytes_of(layout)
// and `data_hash` (XXH3-64 of the data section, checksum.hpp). Followed by
// the data section, it is the package; the hub writes the prefix and its
// weights without building the whole package in memory. Throws
// RequestError(bad_shape) for a layout whose size overflows.
Buffer package_prefix(const fb::ModelSpecT& spec, const VersionMeta& meta, std::span<const TensorSpec> layout,
                      uint64_t data_hash);

// A whole framed package of these weights (for tools and tests). Nothing is
// checked against the spec's architecture: read_model_package() does.
Buffer build_model_package(const fb::ModelSpecT& spec, const VersionMeta& meta, const Weights& weights);
// The same from a flat parameter vector of `layout`; throws
// std::invalid_argument when flat.size() is not the layout's element count.
Buffer build_model_package(const fb::ModelSpecT& spec, const VersionMeta& meta, std::span<const TensorSpec> layout,
                           std::span<const float> flat);

// A verified package header.
struct PackageHeader {
  const fb::ModelPackage* root = nullptr;  // points into the span given
  uint64_t data_offset = 0;                // where the data section starts
  uint64_t total_size = 0;                 // data_offset + data_bytes: the package's size
};

// Reads the header from the first bytes of a package (at least
// frame_prefix_size() of them; more is fine, e.g. a whole first download
// chunk or the whole package): checks the frame, verifies the FlatBuffer
// (identifier "FHMP"), that the version belongs to the spec's model and that
// data_bytes is what its tensors need. Nothing is checked against the
// architecture. The span must stay alive (and 8-byte aligned at offset 8)
// while root is used. Throws RequestError(bad_request); a contribution file
// is refused with a sentence saying so.
PackageHeader read_package_header(std::span<const char> prefix);

// A verified whole package, read in place.
struct PackageView {
  PackageHeader header;
  std::span<const char> data;  // the data section: header.root->data_bytes() bytes, 16-aligned when the package is
};

// Checks a whole package without copying or parsing the spec documents:
// read_package_header(), that the buffer is exactly total_size bytes
// (bad_request) and, with check_hash, that data_hash matches the data section
// (bad_checksum).
PackageView view_model_package(std::span<const char> whole, bool check_hash = true);

// A verified, parsed and shape-checked model package.
struct LoadedModel {
  fb::ModelSpecT spec_fields;  // as stored (to build contributions, packages)
  ModelSpec spec;              // parsed
  uint64_t version = 0;
  uint64_t data_hash = 0;  // the header's (and the data section's) XXH3-64
  Weights weights;
};

// Verifies a whole package completely (view_model_package with the hash,
// the spec documents, the tensors against the architecture's layout, finite
// values) and copies the weights out. Throws RequestError: bad_request,
// bad_checksum, invalid_model, bad_shape, bad_dtype, non_finite.
LoadedModel read_model_package(std::span<const char> whole);

}  // namespace fedhub

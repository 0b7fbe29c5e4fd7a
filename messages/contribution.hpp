// Contributions: a participant's trained weights with their base version.
//
// A contribution HEADER is a bare Contribution FlatBuffer ("FHCT"): it names
// the model, base version, samples, metrics and tensors and declares the data
// section's size and hash. A contribution FILE is the framed buffer
// (framed.hpp) of that header and its data section: what `fl-participant
// train` writes. An upload sends the header (requests::upload_begin) and then
// the data section in parts (requests::upload_part).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "messages/buffer.hpp"
#include "messages/contribution_generated.h"
#include "model/tensor.hpp"

namespace fedhub {

struct ContributionMeta {
  std::string model;
  uint64_t base_version = 0;
  std::string participant;  // informational; the hub uses the key's name
  uint64_t num_samples = 0;
  std::vector<std::pair<std::string, double>> metrics;
};

// A whole contribution file of these weights (header with data_bytes and
// data_hash, then the data section).
Buffer build_contribution(const ContributionMeta& meta, const Weights& weights);

// A bare contribution header (identifier "FHCT") for `layout`, declaring
// data_bytes = data_bytes_of(layout) and `data_hash`: what UploadBegin
// carries. Throws RequestError(bad_shape) for a layout whose size overflows.
Buffer contribution_header(const ContributionMeta& meta, std::span<const TensorSpec> layout, uint64_t data_hash);

// Verifies a bare contribution header: the FlatBuffer and its identifier,
// and that data_bytes is what its tensors need. Throws
// RequestError(bad_request) naming the defect (a framed file or a model
// package given instead get a sentence saying so); bad_shape for a negative
// or overflowing shape. Tensors are checked against the model by the hub
// (check_tensor_infos), values when the data arrives (check_finite).
const fb::Contribution* verify_contribution_header(std::span<const char> flatbuffer);

// A verified contribution file, read in place.
struct ContributionView {
  const fb::Contribution* header = nullptr;  // the verified header
  std::span<const char> header_bytes;        // the bare header FlatBuffer (e.g. for UploadBegin)
  std::span<const char> data;                // the data section: header->data_bytes() bytes
};

// Verifies a contribution file: frame, header (verify_contribution_header),
// exact size (bad_request) and, with check_hash, data_hash (bad_checksum).
// Nothing is checked against a model: see verify_contribution_header. The
// span must stay alive (and 16-byte aligned, as a std::vector<char> is) while
// the view is used. A model package given instead is refused with a sentence
// saying so.
ContributionView read_contribution(std::span<const char> framed, bool check_hash = true);

// The metrics of a contribution as pairs.
std::vector<std::pair<std::string, double>> read_metrics(const flatbuffers::Vector<flatbuffers::Offset<fb::Metric>>* m);

// The bounds of a contribution's metrics (what it reports besides its
// weights, e.g. "loss"; the hub stores them and prints them in status): at
// most kMaxMetrics, each name 1 to kMaxMetricNameBytes printable ASCII
// characters and used once, each value finite.
inline constexpr size_t kMaxMetrics = 16;
inline constexpr size_t kMaxMetricNameBytes = 64;

// Empty when the metrics keep those bounds, otherwise one sentence naming
// the first offending metric and the bound it breaks.
std::string check_metrics(std::span<const std::pair<std::string, double>> metrics);

}  // namespace fedhub

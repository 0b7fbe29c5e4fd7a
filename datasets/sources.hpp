// The loaders behind load_dataset, one per source kind, and what they share.
#pragma once

#include <string>

#include "datasets/dataset.hpp"
#include "datasets/source_spec.hpp"

namespace fedhub::datasets {

// Each returns the converted samples with their model labels (possibly none:
// load_dataset reports an empty result). `source` is the source string, for
// messages.
Dataset load_idx(const SourceSpec& spec, const DataOptions& options, const std::string& source);
Dataset load_cifar(const SourceSpec& spec, const DataOptions& options, const std::string& source);
Dataset load_folder(const SourceSpec& spec, const DataOptions& options, const std::string& source);

// options.warn(message), or std::cerr when no callback is set.
void warn(const DataOptions& options, const std::string& message);

// options.progress(done, total) when a callback is set.
void report_progress(const DataOptions& options, int64_t done, int64_t total);

// Images per parallel chunk, i.e. between progress reports.
inline constexpr int64_t kProgressChunk = 4096;

}  // namespace fedhub::datasets

// A simulation's results (sim/simulation.hpp) as CSV: one row per version,
// for spreadsheets, pandas and plotting scripts. Pure: no actor system.
//
// The document is a header row, then one row per VersionResult in the given
// order, every line ending in "\n" (no quoting is ever needed: no field holds
// a comma, a quote or a newline). The columns, in this order:
//
//   round            the row's index: 0 for the first result (version 0), 1, 2, ...
//   version          VersionResult::version
//   virtual_s        virtual time at which the version was published, seconds, 3 decimals
//   wall_s           wall time since the run began, seconds, 3 decimals
//   accuracy         fraction correct on every evaluation set together
//   accuracy_<set>   one per evaluation set, in set_names order: fraction correct on it
//   accuracy_class_<label>
//                    one per model label, in labels order: fraction correct among
//                    the samples of that class (every set together)
//   loss             mean softmax cross-entropy on every evaluation set together
//   contributions    contributions merged into the version
//   mean_staleness   their mean staleness (versions behind the base they trained on)
//   max_staleness    their largest staleness
//   train_loss       mean of the merged contributions' "loss" metric
//   refused          uploads refused since the previous version
//
// Accuracies, losses and mean_staleness are written with 6 significant
// digits ("0.812345", "1.5e-07"), times with 3 decimals ("12.500"), counts
// as integers; the decimal point is always '.', whatever the locale. A value
// that is not known is an empty field: NaN (a class without samples, no
// train_loss), and accuracy and loss of an evaluation with no samples (no
// evaluation set). Infinities are "inf" and "-inf".
//
// Set names and labels become column names sanitised to [a-z0-9_]: letters
// are lower-cased and every run of other characters becomes one '_'
// ("T-shirt/top" -> "t_shirt_top", "Ankle boot" -> "ankle_boot"); an empty
// name becomes "unnamed". When a column name is already taken (two names
// sanitise alike, or a set named "class_x" meets a label "x"), the later
// column gets "_2", "_3", ... so every column name is unique.
#pragma once

#include <string>
#include <vector>

#include "sim/simulation.hpp"

namespace fedhub::sim {

// `name` sanitised to [a-z0-9_] as described above (without the de-duplication).
std::string sanitize_column_name(const std::string& name);

// The CSV document. Throws std::invalid_argument naming the version when a
// result's per_set does not have one evaluation per set name, or a
// per_class_accuracy (overall) is neither empty nor one per label (empty:
// the class columns of that row are empty).
std::string results_csv(const std::vector<VersionResult>& results, const std::vector<std::string>& set_names,
                        const std::vector<std::string>& labels);

// results_csv written to `path` atomically (a temporary file beside it,
// fsynced, renamed over it): a crash leaves the old file or the new one,
// never a part. Throws std::invalid_argument as results_csv, and
// std::runtime_error naming the path when it cannot be written.
void write_results_csv(const std::string& path, const std::vector<VersionResult>& results,
                       const std::vector<std::string>& set_names, const std::vector<std::string>& labels);

}  // namespace fedhub::sim

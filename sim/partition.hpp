// How simulated participants' data is cut from one data source: a group of n
// participants shares a Dataset (datasets/dataset.hpp), and a PartitionSpec
// says which samples each of them holds. Pure functions: no actor system, no
// I/O, nothing kept between calls.
//
//   const auto data = fedhub::datasets::load_dataset("idx:/usr/share/datasets/fashion-mnist/train", options);
//   fedhub::sim::PartitionSpec spec;
//   spec.kind = fedhub::sim::PartitionSpec::Kind::dirichlet;
//   spec.alpha = 0.3;
//   const auto parts = fedhub::sim::partition(data, 10, spec, /*seed=*/7);
//   for (const auto& counts : fedhub::sim::label_counts(data, parts, 10)) ...  // log the skew
//   const auto sets = fedhub::sim::partition_data(data, 10, spec, 7);       // one Dataset each
//
// Order of the steps, for every kind:
//   1. `classes` filter: only samples whose label is listed are kept (all
//      samples when the list is empty).
//   2. The kind deals the kept samples out (see PartitionSpec::Kind).
//   3. `samples` cap: a participant dealt more than `samples` keeps a random
//      subset of exactly `samples` of them (its own draw; for a Dirichlet
//      part the kept subset's label mix follows the part's, up to sampling).
//   Each participant's indices are returned in ascending order, without
//   repeats.
//
// Randomness. Every draw comes from std::mt19937_64 generators seeded with
// std::seed_seq from `seed` and a fixed stream number (the shared subsets and
// the caps also from the participant's index, the Dirichlet draws also from
// the class), so a result is fixed by (data, participants, spec, seed) and
// one class's draws do not depend on which other classes are kept. Shuffles
// and subsets use the engine's raw output (Fisher-Yates with unbiased bounded
// integers), which the standard fixes: `shared` and `iid` partitions are the
// same on every platform. The Dirichlet proportions use
// std::gamma_distribution, whose algorithm the standard leaves to the library:
// a `dirichlet` partition is the same on every run with the same standard
// library (e.g. libstdc++), and may differ with another one.
//
// Errors are std::invalid_argument whose message starts with "partition: "
// and names the field at fault (participants, alpha, classes, samples, data).
#pragma once

#include <cstdint>
#include <vector>

#include "datasets/dataset.hpp"

namespace fedhub::sim {

// Which samples of a shared source each participant of a group holds.
struct PartitionSpec {
  enum class Kind {
    // Every participant holds every kept sample: the paper's setting (five
    // participants each hold all of Fashion-MNIST). With `samples` > 0 each
    // participant holds its own random subset of min(samples, kept) samples
    // (drawn independently: the subsets overlap).
    shared,
    // A random permutation of the kept samples cut into n disjoint parts of
    // near-equal size (sizes differ by at most 1; the first kept % n
    // participants get the larger size). Needs at least n kept samples.
    iid,
    // Label skew (Hsu et al. 2019, "Measuring the effects of non-identical
    // data distribution for federated visual classification"; Flower's
    // DirichletPartitioner): for each kept class, proportions over the n
    // participants are drawn from a symmetric Dirichlet(alpha), and the
    // class's shuffled samples are split by them, rounded by largest
    // remainder (ties to the lower participant index) so that every sample
    // is assigned exactly once. Parts are disjoint and together hold every
    // kept sample. Small alpha (0.1) gives each participant few classes,
    // large alpha (100) nearly the same mix as the source. A participant
    // left with no sample is an error (no retry, unlike Flower's
    // min_partition_size): use a larger alpha or fewer participants.
    dirichlet,
  };
  Kind kind = Kind::shared;
  // Dirichlet concentration; must be finite and > 0 when kind is dirichlet
  // (ignored otherwise).
  double alpha = 0.5;
  // Keep only the samples with these labels (indices into the model's
  // labels), applied before anything else; empty keeps every sample. Each
  // must be >= 0, listed once and present in the data.
  std::vector<int32_t> classes;
  // Per participant: at most this many samples (0 = all it is dealt); >= 0.
  // For shared, the size of each participant's own random subset.
  int64_t samples = 0;
};

// The indices into `data` that each of `participants` participants holds:
// result[p] for participant p (0-based), ascending. Deterministic in `seed`
// (see the top of this file); different seeds give different partitions
// (except where there is nothing to choose, e.g. shared without a cap).
// Throws std::invalid_argument naming the field: participants < 1; alpha not
// finite or <= 0 (dirichlet); a class < 0, listed twice or without samples in
// the data; samples < 0; data without samples; fewer kept samples than
// participants (iid); a participant with no sample (dirichlet: the message
// names the participant and alpha).
std::vector<std::vector<int64_t>> partition(const datasets::Dataset& data, int participants, const PartitionSpec& spec,
                                            uint64_t seed);

// The same partition as datasets: result[p] = datasets::subset(data,
// partition(data, participants, spec, seed)[p]). Same errors as partition().
std::vector<datasets::Dataset> partition_data(const datasets::Dataset& data, int participants,
                                              const PartitionSpec& spec, uint64_t seed);

// The label skew of a partition, for logs and docs: result[p][l] is the
// number of samples of label l that participant p holds (repeats counted).
// Every row has max(num_labels, largest label in data + 1) entries. Throws
// std::invalid_argument naming the first index outside [0, data.size()).
std::vector<std::vector<int64_t>> label_counts(const datasets::Dataset& data,
                                               const std::vector<std::vector<int64_t>>& parts, int64_t num_labels = 0);

}  // namespace fedhub::sim

// Data-parallel training and inference on OpenMP threads: one Network<float>
// per thread over shared parameters.
//
// A training step splits its batch into `threads` contiguous slices of
// (nearly) equal size, runs forward and backward of each slice on its own
// thread, sums the per-thread gradients in thread order, and applies the
// optimizer in parallel over disjoint parameter ranges. The parameters of
// frozen layers ("trainable": false) are never updated. Nothing depends on
// timing, so a step is bit-for-bit reproducible for a fixed thread count.
// Eigen's own GEMM threading is switched off inside these threads.
//
// Pixels are converted on the fly: value = byte * (1 / 255.f).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "datasets/dataset.hpp"
#include "model/architecture.hpp"
#include "model/trainable_slice.hpp"
#include "training/eigen_types.hpp"
#include "training/loss.hpp"
#include "training/network.hpp"
#include "training/optimizers/optimizer.hpp"

namespace fedhub::training {

class ParallelNetwork {
 public:
  // max_train_batch: the largest batch train_step accepts. Inference runs in
  // chunks of up to infer_chunk samples per thread.
  ParallelNetwork(const Architecture& arch, int threads, int64_t max_train_batch, int64_t infer_chunk = 32);
  ~ParallelNetwork();

  int threads() const { return threads_; }
  int64_t parameter_count() const { return parameter_count_; }
  int64_t classes() const { return classes_; }

  // One optimizer step over the samples `indices` of `data` (checked
  // beforehand with check_dataset): mean softmax cross-entropy over the
  // batch, its gradient, then optimizer.begin_step() and apply(). Returns the
  // batch's summed loss and correct count. dropout_seed: this step's masks.
  LossStats train_step(std::span<float> params, Optimizer& optimizer, const datasets::Dataset& data,
                       std::span<const int64_t> indices, uint64_t dropout_seed);

  // Logits [end - begin, classes()] of samples [begin, end) in inference mode.
  void predict(std::span<const float> params, const datasets::Dataset& data, int64_t begin, int64_t end, float* logits);

 private:
  struct Replica;
  int threads_;
  int64_t max_train_batch_, infer_chunk_, parameter_count_, input_size_, classes_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<TrainableSlice::Range> trainable_;
};

}  // namespace fedhub::training

#include "training/parallel_network.hpp"

#include <omp.h>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>

namespace fedhub::training {

struct ParallelNetwork::Replica {
  explicit Replica(const Architecture& arch) : net(arch) {}
  Network<float> net;
  Buffer<float> input;    // [capacity, input_size]
  Buffer<float> dlogits;  // [capacity, classes]
  Buffer<float> grads;    // [parameter_count]
  std::vector<int32_t> labels;
  LossStats stats;
  std::exception_ptr error;
};

namespace {

// Samples [begin, end) of slice t when n samples are split over `parts` threads.
std::pair<int64_t, int64_t> slice(int64_t n, int parts, int t) { return {n * t / parts, n * (t + 1) / parts}; }

// Converts samples to floats in [0, 1].
void gather(const datasets::Dataset& data, int64_t sample_size, const int64_t* indices, int64_t count, float* out) {
  constexpr float scale = 1.0f / 255.0f;
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t* src = data.pixels.data() + indices[i] * sample_size;
    float* dst = out + i * sample_size;
    for (int64_t j = 0; j < sample_size; ++j) dst[j] = static_cast<float>(src[j]) * scale;
  }
}

void gather_range(const datasets::Dataset& data, int64_t sample_size, int64_t begin, int64_t count, float* out) {
  constexpr float scale = 1.0f / 255.0f;
  const uint8_t* src = data.pixels.data() + begin * sample_size;
  for (int64_t j = 0; j < count * sample_size; ++j) out[j] = static_cast<float>(src[j]) * scale;
}

}  // namespace

ParallelNetwork::ParallelNetwork(const Architecture& arch, int threads, int64_t max_train_batch, int64_t infer_chunk)
    : threads_(threads), max_train_batch_(max_train_batch), infer_chunk_(infer_chunk) {
  if (threads <= 0) throw std::invalid_argument("ParallelNetwork: threads must be positive");
  if (max_train_batch < 0 || infer_chunk <= 0)
    throw std::invalid_argument("ParallelNetwork: max_train_batch must be >= 0 and infer_chunk > 0");
  const int64_t capacity = std::max((max_train_batch + threads - 1) / threads, infer_chunk);
  for (int t = 0; t < threads; ++t) {
    auto r = std::make_unique<Replica>(arch);
    r->net.reserve(capacity);
    r->input.assign(capacity * r->net.input_size(), 0.0f);
    r->dlogits.assign(capacity * r->net.output_size(), 0.0f);
    r->grads.assign(r->net.parameter_count(), 0.0f);
    r->labels.assign(capacity, 0);
    replicas_.push_back(std::move(r));
  }
  parameter_count_ = replicas_[0]->net.parameter_count();
  trainable_ = TrainableSlice(arch).ranges();
  input_size_ = replicas_[0]->net.input_size();
  classes_ = replicas_[0]->net.output_size();
}

ParallelNetwork::~ParallelNetwork() = default;

LossStats ParallelNetwork::train_step(std::span<float> params, Optimizer& optimizer, const datasets::Dataset& data,
                                      std::span<const int64_t> indices, uint64_t dropout_seed) {
  const int64_t batch = static_cast<int64_t>(indices.size());
  if (batch > max_train_batch_)
    throw std::invalid_argument("train_step: batch of " + std::to_string(batch) + " exceeds the maximum " +
                                std::to_string(max_train_batch_));
  if (static_cast<int64_t>(params.size()) != parameter_count_ || optimizer.size() != parameter_count_)
    throw std::invalid_argument("train_step: parameters or optimizer state do not match the model's " +
                                std::to_string(parameter_count_) + " parameters");
  optimizer.begin_step();
  const int T = threads_;
  bool failed = false;
#pragma omp parallel num_threads(T)
  {
    omp_set_num_threads(1);  // no nested Eigen threads: we parallelise over the batch
    // Slice s always runs on replica s; a smaller team than asked for (nested
    // call, thread limit) runs several slices per thread with the same result.
    const int team = omp_get_num_threads();
    for (int s = omp_get_thread_num(); s < T; s += team) {
      Replica& r = *replicas_[s];
      r.stats = {};
      r.error = nullptr;
      try {
        const auto [b, e] = slice(batch, T, s);
        const int64_t n = e - b;
        if (n == 0) {
          std::fill(r.grads.begin(), r.grads.end(), 0.0f);
          continue;
        }
        gather(data, input_size_, indices.data() + b, n, r.input.data());
        for (int64_t i = 0; i < n; ++i) r.labels[i] = data.labels[static_cast<size_t>(indices[b + i])];
        const float* logits = r.net.forward(params.data(), r.input.data(), n, PassContext{true, dropout_seed, b});
        r.stats =
            softmax_cross_entropy(logits, r.labels.data(), n, classes_, r.dlogits.data(), static_cast<double>(batch));
        r.net.backward(params.data(), r.dlogits.data(), r.grads.data());
      } catch (...) {
        r.error = std::current_exception();
#pragma omp atomic write
        failed = true;
      }
    }
#pragma omp barrier
    bool stop;
#pragma omp atomic read
    stop = failed;
    if (!stop) {
      // Sum the gradients in slice order and update parameter range s (cache-line aligned bounds).
      const int64_t P = parameter_count_;
      float* g0 = replicas_[0]->grads.data();
      for (int s = omp_get_thread_num(); s < T; s += team) {
        const int64_t slo = std::min(P, (P * s / T) / 16 * 16);
        const int64_t shi = s + 1 == T ? P : std::min(P, (P * (s + 1) / T) / 16 * 16);
        for (const auto& range : trainable_) {  // frozen parameters are neither summed nor updated
          const int64_t lo = std::max(slo, static_cast<int64_t>(range.offset));
          const int64_t hi = std::min(shi, static_cast<int64_t>(range.offset + range.count));
          if (lo >= hi) continue;
          for (int u = 1; u < T; ++u) {
            const float* gu = replicas_[u]->grads.data();
            for (int64_t i = lo; i < hi; ++i) g0[i] += gu[i];
          }
          optimizer.apply(params.data(), g0, lo, hi);
        }
      }
    }
  }
  LossStats total;
  for (auto& r : replicas_) {
    if (r->error) std::rethrow_exception(r->error);
    total.loss_sum += r->stats.loss_sum;
    total.correct += r->stats.correct;
  }
  return total;
}

void ParallelNetwork::predict(std::span<const float> params, const datasets::Dataset& data, int64_t begin, int64_t end,
                              float* logits) {
  if (static_cast<int64_t>(params.size()) != parameter_count_)
    throw std::invalid_argument("predict: " + std::to_string(params.size()) + " parameters for a model of " +
                                std::to_string(parameter_count_));
  if (begin < 0 || end < begin || end > data.size())
    throw std::invalid_argument("predict: samples [" + std::to_string(begin) + ", " + std::to_string(end) +
                                ") outside the dataset of " + std::to_string(data.size()));
  const int64_t n = end - begin;
  const int T = static_cast<int>(std::min<int64_t>(threads_, std::max<int64_t>(n, 1)));
#pragma omp parallel num_threads(T)
  {
    omp_set_num_threads(1);
    const int team = omp_get_num_threads();
    for (int s = omp_get_thread_num(); s < T; s += team) {
      Replica& r = *replicas_[s];
      r.error = nullptr;
      try {
        const auto [b, e] = slice(n, T, s);
        for (int64_t c = b; c < e; c += infer_chunk_) {
          const int64_t m = std::min(infer_chunk_, e - c);
          gather_range(data, input_size_, begin + c, m, r.input.data());
          const float* out = r.net.forward(params.data(), r.input.data(), m, PassContext{});
          std::copy_n(out, m * classes_, logits + c * classes_);
        }
      } catch (...) {
        r.error = std::current_exception();
      }
    }
  }
  for (int t = 0; t < T; ++t)
    if (replicas_[t]->error) std::rethrow_exception(replicas_[t]->error);
}

}  // namespace fedhub::training

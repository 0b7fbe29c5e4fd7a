#include "training/trainer.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "training/batch_schedule.hpp"
#include "training/check_dataset.hpp"
#include "training/flat_weights.hpp"
#include "training/parallel_network.hpp"
#include "training/random.hpp"
#include "training/threads.hpp"

namespace fedhub::training {

namespace {

// Streams derived from TrainOptions::seed.
constexpr uint64_t kSampleStream = 1;   // the round's sample and every pass's shuffle
constexpr uint64_t kDropoutStream = 2;  // one dropout seed per step
constexpr int64_t kProgressEvery = 10;  // steps between progress calls
constexpr int64_t kEvalBatch = 256;

}  // namespace

TrainResult train_round(const Architecture& arch, const Recipe& recipe, const Weights& start, const Dataset& data,
                        const TrainOptions& options) {
  if (recipe.batch_size <= 0)
    throw std::invalid_argument("train_round: recipe batch_size must be positive, got " +
                                std::to_string(recipe.batch_size));
  if (recipe.steps < 0)
    throw std::invalid_argument("train_round: recipe steps must be >= 0, got " + std::to_string(recipe.steps));
  if (recipe.samples_per_round < 0)
    throw std::invalid_argument("train_round: recipe samples_per_round must be >= 0, got " +
                                std::to_string(recipe.samples_per_round));
  std::vector<float> params = flatten_weights(arch, start, "train_round: start weights");
  check_dataset(arch, data, "train_round: training data");
  if (data.size() == 0) throw std::invalid_argument("train_round: the training data holds no samples");
  const int threads = resolve_threads(options.threads);

  Random rng(derive_seed(options.seed, kSampleStream));
  BatchSchedule schedule(draw_sample(data.size(), recipe.samples_per_round, rng), recipe.batch_size, rng);
  ParallelNetwork net(arch, threads, schedule.batch_size());
  auto optimizer = make_optimizer(recipe.optimizer, net.parameter_count());
  const uint64_t dropout_base = derive_seed(options.seed, kDropoutStream);

  double loss_sum = 0;
  int64_t correct = 0, trained = 0;
  for (int64_t step = 0; step < recipe.steps; ++step) {
    const auto batch = schedule.next();
    const LossStats s = net.train_step(params, *optimizer, data, batch, derive_seed(dropout_base, step));
    if (!std::isfinite(s.loss_sum))
      throw std::runtime_error("train_round: the loss became " + std::to_string(s.loss_sum) + " at step " +
                               std::to_string(step + 1) + " (lower the learning rate)");
    loss_sum += s.loss_sum;
    correct += s.correct;
    trained += static_cast<int64_t>(batch.size());
    if (options.progress && ((step + 1) % kProgressEvery == 0 || step + 1 == recipe.steps))
      options.progress(step + 1, recipe.steps, loss_sum / static_cast<double>(trained));
  }

  TrainResult result;
  result.weights = unflatten_weights(arch, params);
  result.samples = schedule.distinct_seen();
  result.loss = trained ? loss_sum / static_cast<double>(trained) : 0.0;
  result.accuracy = trained ? static_cast<double>(correct) / static_cast<double>(trained) : 0.0;
  return result;
}

Evaluation evaluate(const Architecture& arch, const Weights& weights, const Dataset& data, int threads) {
  const std::vector<float> params = flatten_weights(arch, weights, "evaluate: weights");
  check_dataset(arch, data, "evaluate: data");
  const int64_t classes = arch.output_size();
  ParallelNetwork net(arch, resolve_threads(threads), 0);
  std::vector<float> logits(static_cast<size_t>(kEvalBatch * classes));
  std::vector<int64_t> per_class_correct(static_cast<size_t>(classes), 0);

  Evaluation ev;
  ev.per_class_count.assign(static_cast<size_t>(classes), 0);
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t begin = 0; begin < data.size(); begin += kEvalBatch) {
    const int64_t end = std::min(data.size(), begin + kEvalBatch);
    net.predict(params, data, begin, end, logits.data());
    for (int64_t i = begin; i < end; ++i) {
      const int32_t label = data.labels[static_cast<size_t>(i)];
      const LossStats s =
          softmax_cross_entropy<float>(logits.data() + (i - begin) * classes, &label, 1, classes, nullptr, 1.0);
      loss_sum += s.loss_sum;
      correct += s.correct;
      ++ev.per_class_count[static_cast<size_t>(label)];
      per_class_correct[static_cast<size_t>(label)] += s.correct;
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ev.samples = data.size();
  ev.loss = ev.samples ? loss_sum / static_cast<double>(ev.samples) : nan;
  ev.accuracy = ev.samples ? static_cast<double>(correct) / static_cast<double>(ev.samples) : nan;
  for (int64_t c = 0; c < classes; ++c) {
    const int64_t n = ev.per_class_count[static_cast<size_t>(c)];
    ev.per_class_accuracy.push_back(
        n ? static_cast<double>(per_class_correct[static_cast<size_t>(c)]) / static_cast<double>(n) : nan);
  }
  return ev;
}

}  // namespace fedhub::training

#include "hub/version_scores.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "hub/replay.hpp"
#include "messages/errors.hpp"
#include "messages/model_spec_generated.h"
#include "messages/provenance.hpp"
#include "model/flat.hpp"
#include "training/trainer.hpp"

namespace fedhub {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string architecture_json(const ModelDefinition& def) {
  return flatbuffers::GetRoot<fb::ModelSpec>(def.spec.data())->architecture_json()->str();
}

double cosine(std::span<const float> a, std::span<const float> b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  if (aa == 0 || bb == 0) return kNaN;
  return ab / std::sqrt(aa * bb);
}

}  // namespace

void flag_contributions(fb::VersionScoresT& scores, double flag_margin) {
  for (auto& s : scores.contributions) s->flagged = false;
  if (flag_margin <= 0 || scores.contributions.size() < 3) return;
  // The leave-one-out scores when every contribution has one, else cosines.
  bool loo = true;
  for (const auto& s : scores.contributions) loo &= std::isfinite(s->loo_loss_change);
  auto score = [&](const fb::ContributionScoreT& s) { return loo ? s.loo_loss_change : s.cosine; };
  std::vector<double> v;
  for (const auto& s : scores.contributions)
    if (std::isfinite(score(*s))) v.push_back(score(*s));
  if (v.size() < 3) return;
  std::sort(v.begin(), v.end());
  const double median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  const double threshold = median - flag_margin * std::fabs(median);
  for (auto& s : scores.contributions)
    if (std::isfinite(score(*s)) && score(*s) < threshold) s->flagged = true;
}

VersionScorer::VersionScorer(const Store& store, ModelDefinition definition)
    : store_(store), def_(std::move(definition)), arch_(parse_architecture(architecture_json(def_))) {}

const datasets::Dataset* VersionScorer::evaluation_data(const MergePolicy& policy, std::string* problem) {
  if (policy.eval_data.empty()) return nullptr;
  const std::string key = policy.eval_data + "\n" + policy.eval_labels;
  if (data_ && loaded_source_ == key) return &*data_;
  data_.reset();
  loaded_source_.clear();
  try {
    datasets::DataOptions o;
    o.input_shape = arch_.input;
    const auto* spec = flatbuffers::GetRoot<fb::ModelSpec>(def_.spec.data());
    for (const auto* l : *spec->labels()) o.model_labels.push_back(l->str());
    o.labels_file = policy.eval_labels;
    o.warn = [](const std::string&) {};  // what was skipped: the evaluation's sample count shows it
    data_ = datasets::load_dataset(policy.eval_data, o);
    loaded_source_ = key;
    return &*data_;
  } catch (const std::exception& e) {
    *problem = "the evaluation source '" + policy.eval_data + "' cannot be loaded: " + e.what();
    return nullptr;
  }
}

fb::VersionScoresT VersionScorer::score(uint64_t version, const MergePolicy& policy) {
  const auto started = std::chrono::steady_clock::now();
  fb::VersionScoresT out;
  out.version = version;
  out.eval_data = policy.eval_data;
  std::vector<std::string> notes;
  std::string problem;
  const auto* data = evaluation_data(policy, &problem);
  if (!problem.empty()) notes.push_back(problem);
  MergeInputs inputs(store_, def_);
  auto evaluate = [&](std::span<const float> weights) {
    return training::evaluate(arch_, unflatten(weights, def_.layout), *data);
  };
  try {
    const auto weights = inputs.weights(version, "the version scored");
    double loss = kNaN;
    if (data) {
      const auto e = evaluate(weights);
      out.evaluated = true;
      out.samples = static_cast<uint64_t>(e.samples);
      out.loss = loss = e.loss;
      out.accuracy = e.accuracy;
      out.per_class_accuracy = e.per_class_accuracy;
      out.per_class_count = e.per_class_count;
    }
    const auto record = store_.provenance(def_.name, version);
    if (record && version > 0) {
      const auto p = read_provenance(*record);
      if (p.rolled_back_from < 0 && !p.members.empty()) {
        // The merged update, and each member's delta as merged.
        // (in the trainable space, where the deltas are: frozen values do not change)
        const auto base = inputs.trainable(p.base_version, "the version merged onto");
        const auto merged = inputs.trainable(version, "the version scored");
        AlignedFloats update(base.size());
        for (size_t i = 0; i < base.size(); ++i) update.span()[i] = merged[i] - base[i];
        const bool loo =
            data && p.members.size() >= 2 && static_cast<int64_t>(p.members.size()) <= policy.loo_max_contributions;
        if (data && p.members.size() >= 2 && !loo)
          notes.push_back("no leave-one-out: " + std::to_string(p.members.size()) +
                          " contributions, more than scoring.loo_max_contributions");
        for (size_t i = 0; i < p.members.size(); ++i) {
          const auto& m = *p.members[i];
          auto s = std::make_unique<fb::ContributionScoreT>();
          s->participant = m.participant;
          s->upload_id = m.upload_id;
          s->cosine = cosine(inputs.delta_of(m, nullptr).span(), update.span());
          s->loo_loss_change = kNaN;
          if (loo) {
            try {
              const auto without = rerun_merge(inputs, store_, def_, p, nullptr, static_cast<int64_t>(i));
              s->loo_loss_change = evaluate(without.span()).loss - loss;
            } catch (const std::invalid_argument& e) {
              notes.push_back("no leave-one-out without '" + m.participant + "': " + e.what());
            }
          }
          out.contributions.push_back(std::move(s));
        }
        flag_contributions(out, policy.flag_margin);
      }
    }
  } catch (const InputMissing& e) {
    notes.push_back(std::string("no contribution scores: ") + e.what());
  } catch (const std::exception& e) {
    notes.push_back(std::string("scoring failed: ") + e.what());
  }
  for (const auto& n : notes) out.note += (out.note.empty() ? "" : "; ") + n;
  out.scored_at_ms = now_ms();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return out;
}

}  // namespace fedhub

#include "hub/model_creation.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "hub/store_records.hpp"
#include "messages/checksum.hpp"
#include "messages/errors.hpp"
#include "messages/model_package.hpp"
#include "messages/tensors.hpp"
#include "training/trainer.hpp"

namespace fedhub {

LoadedModelState create_model(Store& store, const fb::CreateModel& request, const ModelLimits& limits) {
  LoadedModelState s;
  fb::ModelSpecT spec;
  request.spec()->UnPackTo(&spec);
  const ModelSpec parsed = parse_model_spec(*request.spec());  // invalid_model
  if (auto why = check_model_limits(parsed, limits, "the hub's config"); !why.empty())
    throw RequestError(ErrorCode::invalid_model, "model '" + parsed.name + "': " + why);
  auto& def = s.definition;
  def.name = parsed.name;
  if (spec.min_contributions < 1 || spec.min_contributions > 1000000)
    throw RequestError(ErrorCode::invalid_model,
                       "min_contributions must be 1 to 1000000, not " + std::to_string(spec.min_contributions));
  try {
    s.policy = MergePolicy::from_json(request.policy_json() ? request.policy_json()->str() : std::string());
  } catch (const std::exception& e) {
    throw RequestError(ErrorCode::invalid_model, e.what());
  }
  if (store.model(def.name))
    throw RequestError(ErrorCode::model_exists, "a model named '" + def.name + "' exists already");
  set_layout(def, parsed.architecture);
  def.labels = static_cast<uint32_t>(parsed.labels.size());
  def.min_contributions = spec.min_contributions;
  def.created_at_ms = now_ms();
  {
    flatbuffers::FlatBufferBuilder fbb(1024);
    fbb.Finish(fb::CreateModelSpec(fbb, &spec));
    def.spec = to_buffer(fbb);
  }

  auto image = std::make_shared<VersionImage>();
  image->version = 0;
  const auto* initial = request.initial_weights();
  if (initial && initial->size() > 0) {
    if (initial->size() != def.data_bytes())
      throw RequestError(ErrorCode::bad_shape, "the initial weights hold " + std::to_string(initial->size()) +
                                                   " bytes; the architecture has " + std::to_string(def.parameters) +
                                                   " parameters (" + std::to_string(def.data_bytes()) + " bytes)");
    image->weights = AlignedFloats(def.parameters);
    std::memcpy(image->weights.data(), initial->data(), initial->size());
    check_finite(image->weights.span(), def.layout);  // non_finite, naming the tensor
    const double bound = s.policy.max_abs_value;
    if (bound > 0)
      for (size_t i = 0; i < image->weights.size(); ++i)
        if (std::abs(image->weights.data()[i]) > bound)
          throw RequestError(ErrorCode::magnitude_exceeded,
                             "initial weight " + std::to_string(i) + " is " + std::to_string(image->weights.data()[i]) +
                                 ", beyond the policy's max_abs_value " + std::to_string(bound));
  } else {
    // Tensor by tensor into the image, each freed once copied: the peak is
    // the model plus its largest tensor, not two models.
    Weights w = training::initialize_weights(parsed.architecture, request.init_seed());
    image->weights = AlignedFloats(def.parameters);
    size_t at = 0;
    for (auto& t : w) {
      std::copy(t.values.begin(), t.values.end(), image->weights.data() + at);
      at += t.values.size();
      std::vector<float>().swap(t.values);
    }
  }
  image->data_hash = data_hash(image->weights.as_bytes());
  VersionMeta meta;
  meta.model = def.name;
  meta.version = 0;
  meta.created_at_ms = def.created_at_ms;
  meta.aggregator = "initial";
  image->prefix = package_prefix(spec, meta, def.layout, image->data_hash);

  VersionNote note;
  note.version = 0;
  note.created_at_ms = def.created_at_ms;
  note.aggregator = "initial";
  note.package_bytes = image->size();
  note.data_hash = image->data_hash;

  const bool unlogged = stored::store_version_pieces(store, def.name, *image);
  StoreBatch b;
  if (unlogged) b.persist_first(Family::versions);
  b.put_version_info(def.name, 0, stored::version_info(note, kPieceBytes));
  b.put_model(def.name, stored::model_record(def, s.policy));
  store.commit(b, true);

  s.recovered.current_version = 0;
  s.recovered.versions = {note};
  s.recovered.oldest_stored = 0;
  s.image = std::move(image);
  return s;
}

}  // namespace fedhub

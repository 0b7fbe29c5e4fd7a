#include "hub/model_import.hpp"

#include <cstring>

#include "hub/merge_engine.hpp"
#include "hub/store_records.hpp"
#include "messages/checksum.hpp"
#include "messages/errors.hpp"
#include "messages/framed.hpp"
#include "messages/model_package.hpp"
#include "messages/tensors.hpp"

namespace fedhub {

namespace {

[[noreturn]] void bad(const std::string& what) { throw RequestError(ErrorCode::bad_request, "import: " + what); }

}  // namespace

ModelImport::ModelImport(Store& store, const fb::ImportBegin& begin, uint64_t max_part_bytes, const ModelLimits& limits)
    : store_(store), max_part_bytes_(max_part_bytes) {
  begin.spec()->UnPackTo(&spec_);
  const ModelSpec parsed = parse_model_spec(*begin.spec());  // invalid_model
  def_.name = parsed.name;
  if (auto why = check_model_limits(parsed, limits, "the hub's config"); !why.empty())
    throw RequestError(ErrorCode::invalid_model, "model '" + parsed.name + "': " + why);
  if (spec_.min_contributions < 1 || spec_.min_contributions > 1000000)
    throw RequestError(ErrorCode::invalid_model,
                       "min_contributions must be 1 to 1000000, not " + std::to_string(spec_.min_contributions));
  try {
    policy_ = MergePolicy::from_json(begin.policy_json() ? begin.policy_json()->str() : std::string());
  } catch (const std::exception& e) {
    throw RequestError(ErrorCode::invalid_model, e.what());
  }
  set_layout(def_, parsed.architecture);
  def_.labels = static_cast<uint32_t>(parsed.labels.size());
  def_.min_contributions = spec_.min_contributions;
  def_.created_at_ms = now_ms();
  {
    flatbuffers::FlatBufferBuilder fbb(1024);
    fbb.Finish(fb::CreateModelSpec(fbb, &spec_));
    def_.spec = to_buffer(fbb);
  }
  if (begin.versions()->size() == 0) bad("no versions");
  for (const auto* v : *begin.versions()) {
    if (!versions_.empty() && v->version() <= versions_.back().version)
      bad("versions must be listed in ascending order, each once (" + std::to_string(v->version()) + " after " +
          std::to_string(versions_.back().version) + ")");
    VersionNote n;
    n.version = v->version();
    n.created_at_ms = v->created_at_ms();
    n.base_version = v->base_version();
    n.contributions = v->contributions();
    n.total_samples = v->total_samples();
    n.aggregator = v->aggregator() ? v->aggregator()->str() : std::string();
    n.package_bytes = v->package_bytes();
    n.data_hash = v->data_hash();
    n.rolled_back_from = v->rolled_back_from();
    versions_.push_back(std::move(n));
  }
  size_t at = 0;
  for (uint64_t w : copy_scalars(begin.with_weights())) {
    while (at < versions_.size() && versions_[at].version < w) ++at;
    if (at == versions_.size() || versions_[at].version != w)
      bad("version " + std::to_string(w) + " has weights but no info (or is listed out of order)");
    with_weights_.push_back(at);
    const uint64_t size = versions_[at].package_bytes;
    if (size <= kFrameFixedBytes || size - kFrameFixedBytes < def_.data_bytes())
      bad("the package of version " + std::to_string(w) + " cannot hold the model's weights in " +
          std::to_string(size) + " bytes");
    if (size > def_.data_bytes() + kMaxFrameHeaderBytes + 2 * kFrameDataAlignment)
      bad("the package of version " + std::to_string(w) + " is " + std::to_string(size) +
          " bytes, far more than the model's weights need");
    package_bytes_.push_back(size);
    total_ += size;
    ++at;
  }
  if (with_weights_.empty()) bad("no version has weights: at least the newest one needs them");
  if (with_weights_.back() != versions_.size() - 1)
    bad("the newest version (" + std::to_string(versions_.back().version) +
        ") must have weights: it becomes the current version");
  if (store_.model(def_.name))
    throw RequestError(ErrorCode::model_exists, "a model named '" + def_.name + "' exists already");
  store_.commit(model_erasure(def_.name), false);  // leftovers of a crashed import of this name
}

void ModelImport::part(uint64_t offset, std::span<const char> data) {
  if (committed_) bad("the import is committed");
  if (offset != received_)
    bad("expected bytes from offset " + std::to_string(received_) + ", not " + std::to_string(offset));
  if (data.empty() || data.size() > max_part_bytes_)
    bad("a part holds 1 to " + std::to_string(max_part_bytes_) + " bytes, not " + std::to_string(data.size()));
  if (data.size() > total_ - received_)
    bad("the part ends at byte " + std::to_string(offset + data.size()) + ", past the " + std::to_string(total_) +
        " bytes of the packages announced");
  received_ += data.size();
  take(data);
}

void ModelImport::take(std::span<const char> data) {
  while (!data.empty()) {
    if (!image_) {
      // The prefix: its first 8 bytes say how long it is.
      const uint64_t want = prefix_size_ ? prefix_size_ : kFrameFixedBytes;
      const auto n = static_cast<size_t>(std::min<uint64_t>(want - prefix_.size(), data.size()));
      prefix_.insert(prefix_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
      data = data.subspan(n);
      if (prefix_.size() < want) continue;
      if (!prefix_size_) {
        const uint64_t size = package_bytes_[next_package_];
        const auto prefix_size = frame_prefix_size(prefix_, "import: a model package");
        if (!prefix_size || *prefix_size + def_.data_bytes() != size)
          bad("the package of version " + std::to_string(versions_[with_weights_[next_package_]].version) +
              " is not the " + std::to_string(size) + " bytes its info says for the model's layout");
        prefix_size_ = *prefix_size;
        continue;
      }
      check_prefix();
      continue;
    }
    const auto n = static_cast<size_t>(std::min<uint64_t>(def_.data_bytes() - weight_bytes_, data.size()));
    std::memcpy(image_->weights.as_writable_bytes().data() + weight_bytes_, data.data(), n);
    weight_bytes_ += n;
    data = data.subspan(n);
    if (weight_bytes_ == def_.data_bytes()) finish_package();
  }
}

void ModelImport::check_prefix() {
  const VersionNote& note = versions_[with_weights_[next_package_]];
  const std::string which = "the package of version " + std::to_string(note.version);
  PackageHeader header;
  try {
    header = read_package_header(prefix_);  // frame, header, data_bytes against its tensors
  } catch (const RequestError& e) {
    throw RequestError(e.code(), "import: " + which + ": " + e.what());
  }
  const auto* root = header.root;
  if (header.total_size != package_bytes_[next_package_]) bad(which + " does not fit the model's layout");
  if (root->version()->version() != note.version)
    bad(which + " holds version " + std::to_string(root->version()->version()));
  if (root->data_hash() != note.data_hash)
    throw RequestError(ErrorCode::bad_checksum, "import: " + which + " has data hash " +
                                                    hash_to_string(root->data_hash()) + ", its info says " +
                                                    hash_to_string(note.data_hash));
  check_tensor_infos(root->version()->tensors(), def_.layout);  // bad_shape, bad_dtype
  auto image = std::make_shared<VersionImage>();
  image->version = note.version;
  image->data_hash = root->data_hash();
  VersionMeta meta = version_meta(*root->version());
  meta.model = def_.name;  // the model's (new) name
  image->prefix = package_prefix(spec_, meta, def_.layout, image->data_hash);
  image->weights = AlignedFloats(def_.parameters);
  image_ = std::move(image);
  weight_bytes_ = 0;
  if (def_.data_bytes() == 0) finish_package();
}

void ModelImport::finish_package() {
  VersionNote& note = versions_[with_weights_[next_package_]];
  const uint64_t got = data_hash(image_->weights.as_bytes());
  if (got != image_->data_hash)
    throw RequestError(ErrorCode::bad_checksum, "import: the weights of version " + std::to_string(note.version) +
                                                    " hash to " + hash_to_string(got) + ", their header says " +
                                                    hash_to_string(image_->data_hash) + ": the package is damaged");
  check_finite(image_->weights.span(), def_.layout);  // non_finite, naming the tensor
  if (stored::store_version_pieces(store_, def_.name, *image_)) unlogged_ = true;
  note.package_bytes = image_->size();
  image_.reset();
  prefix_.clear();
  prefix_size_ = 0;
  weight_bytes_ = 0;
  ++next_package_;
}

ModelSummaryInfo ModelImport::commit() {
  if (received_ != total_)
    throw RequestError(ErrorCode::incomplete_upload, "import: " + std::to_string(received_) + " of the " +
                                                         std::to_string(total_) +
                                                         " bytes of the packages arrived: send the rest first");
  if (store_.model(def_.name))
    throw RequestError(ErrorCode::model_exists, "a model named '" + def_.name + "' exists already");
  StoreBatch b;
  if (unlogged_) b.persist_first(Family::versions);
  for (const auto& v : versions_) b.put_version_info(def_.name, v.version, stored::version_info(v, kPieceBytes));
  b.put_model(def_.name, stored::model_record(def_, policy_));
  store_.commit(b, true);
  committed_ = true;
  ModelSummaryInfo s;
  s.name = def_.name;
  s.current_version = versions_.back().version;
  s.min_contributions = def_.min_contributions;
  s.parameters = def_.parameters;
  s.labels = def_.labels;
  s.created_at_ms = def_.created_at_ms;
  s.policy_json = policy_.to_json();
  s.oldest_retained = versions_[with_weights_.front()].version;
  return s;
}

void ModelImport::abort() {
  if (committed_) return;
  store_.commit(model_erasure(def_.name), false);
}

}  // namespace fedhub

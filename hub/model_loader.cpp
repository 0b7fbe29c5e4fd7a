// load_model_state (merge_engine.hpp): a model's durable state read back on
// start-up or after a failed merger, and the clean-up of what a crash left
// half-made.
#include <algorithm>
#include <set>

#include "hub/merge_engine.hpp"
#include "hub/store_records.hpp"
#include "messages/errors.hpp"

namespace fedhub {

namespace {

[[noreturn]] void damaged(const std::string& model, const std::string& what) {
  throw RequestError(ErrorCode::internal, "the stored state of model '" + model + "' is damaged: " + what);
}

}  // namespace

static LoadedModelState read_model_state(Store& store, const std::string& name);

LoadedModelState load_model_state(Store& store, const std::string& name) {
  try {
    return read_model_state(store, name);
  } catch (const RequestError& e) {
    if (e.code() == ErrorCode::unknown_model || std::string(e.what()).find("is damaged") != std::string::npos) throw;
    damaged(name, e.what());
  } catch (const StoreError& e) {
    damaged(name, e.what());
  }
}

static LoadedModelState read_model_state(Store& store, const std::string& name) {
  auto record = store.model(name);
  if (!record) throw RequestError(ErrorCode::unknown_model, "there is no model named '" + name + "'");
  LoadedModelState s;
  std::tie(s.definition, s.policy) = stored::read_model_record(*record);
  s.recovered.archived = stored::read_model_archived(*record);
  const auto& def = s.definition;
  auto latest = store.latest_version(name);
  if (!latest) damaged(name, "it has no versions");
  auto& r = s.recovered;
  r.current_version = *latest;
  for (const auto& info : store.version_infos(name)) r.versions.push_back(stored::read_version_info(info));
  if (r.versions.empty() || r.versions.back().version != *latest) damaged(name, "its version list is inconsistent");

  // What a crash left half-made: uploads in progress (their chunks) and the
  // pieces of a version whose info was never committed.
  std::set<uint64_t> accepted_uploads;
  for (const auto& [seq, summary] : store.pending(name))
    accepted_uploads.insert(stored::read_contribution_summary(summary).upload_id);
  StoreBatch cleanup;
  for (const auto& [id, upload] : store.uploads(name)) {
    if (!accepted_uploads.count(id)) cleanup.erase_chunks(name, id);  // never an accepted one's weights
    cleanup.erase_upload(name, id);
  }
  auto stored_versions = store.stored_versions(name);
  for (uint64_t v : stored_versions)
    if (v > *latest) cleanup.erase_version_pieces(name, v);
  if (!cleanup.empty()) store.commit(cleanup, true);
  stored_versions.erase(
      std::remove_if(stored_versions.begin(), stored_versions.end(), [&](uint64_t v) { return v > *latest; }),
      stored_versions.end());
  r.oldest_stored = stored_versions.empty() ? *latest : stored_versions.front();

  s.image = stored::read_version_image(store, def, *latest);
  if (!s.image) damaged(name, "the weights of its current version " + std::to_string(*latest) + " are missing");
  if (auto state = store.server_state(name)) s.server_state = read_server_state(*state, s.policy.aggregator);

  for (const auto& [base, summary] : store.summaries_from(name, r.oldest_stored))
    r.notes.push_back(stored::read_contribution_summary(summary));
  for (const auto& [seq, summary] : store.pending(name)) {
    auto note = stored::read_contribution_summary(summary);
    note.seq = seq;
    if (note.base_version > *latest)
      damaged(name, "a pending contribution has base " + std::to_string(note.base_version));
    r.pending.push_back(std::move(note));
  }
  r.next_seq = store.next_pending_seq(name);
  return s;
}

}  // namespace fedhub

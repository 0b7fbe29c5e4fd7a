// An import of a model (fl-manager import): the hub's side of ImportBegin,
// ImportPart and ImportCommit (schemas/request.fbs), without CAF. The import
// actor (actors/import_actor.hpp, detached) owns one; nothing of the model is
// visible until commit() wrote its one synced batch.
//
// The parts carry the framed packages of the versions with weights, one
// after the other. Each package is gathered into its prefix and a weight
// buffer (the hub holds one version at a time, as it holds a model's current
// version; the weights are copied once, into the image that is stored), and
// checked: as soon as its prefix is complete, its frame and header, its
// version number, its tensors against the spec's layout, its size and data
// hash against the version's info; once complete, the hash of its weights
// (bad_checksum) and that they are finite (non_finite). Its header
// is rewritten for the model's name (an import may rename the model) and its
// pieces are stored unsynced or without the log (invisible until the
// commit).
//
// Not thread-safe. Methods that refuse throw RequestError; after a refusal
// the caller abort()s the import.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hub/merge_policy.hpp"
#include "hub/model_core.hpp"
#include "messages/request_generated.h"
#include "model/limits.hpp"
#include "persistence/store.hpp"

namespace fedhub {

class ModelImport {
 public:
  // Checks an ImportBegin: the spec (invalid_model; min_contributions
  // 1..1e6), the policy (invalid_model), the versions (bad_request: at least
  // one, strictly ascending; with_weights a non-empty ascending subset whose
  // last is the newest version; a package size that cannot be a package),
  // the name free in the store (model_exists), the hub's limits of a new
  // model (invalid_model naming the size and the limit, as at creation).
  // Deletes what a crashed import of the name may have left (unsynced).
  ModelImport(Store& store, const fb::ImportBegin& begin, uint64_t max_part_bytes, const ModelLimits& limits = {});

  const std::string& name() const { return def_.name; }
  // Bytes of all the packages, and received so far.
  uint64_t total_bytes() const { return total_; }
  uint64_t received() const { return received_; }

  // Bytes [offset, offset + data.size()) of the packages: offset must be
  // received() and the part at most max_part_bytes, within total_bytes()
  // (bad_request). A package completed by the part is checked and stored.
  void part(uint64_t offset, std::span<const char> data);

  // Every byte arrived (else incomplete_upload): stores the model record and
  // every version's info in one synced batch. Returns the model's summary.
  ModelSummaryInfo commit();

  // Deletes what the import stored (unsynced: invisible anyway).
  void abort();

 private:
  void take(std::span<const char> bytes);  // bytes of the package being gathered
  void check_prefix();
  void finish_package();

  Store& store_;
  ModelDefinition def_;
  MergePolicy policy_;
  fb::ModelSpecT spec_;
  std::vector<VersionNote> versions_;    // the whole history, oldest first
  std::vector<size_t> with_weights_;     // indexes into versions_
  std::vector<uint64_t> package_bytes_;  // the stream's package sizes
  size_t next_package_ = 0;
  // The package being gathered: its prefix (header), then its weights.
  Buffer prefix_;
  uint64_t prefix_size_ = 0;  // known once its first 8 bytes are in
  std::shared_ptr<VersionImage> image_;
  uint64_t weight_bytes_ = 0;  // weights received
  uint64_t total_ = 0;
  uint64_t received_ = 0;
  uint64_t max_part_bytes_ = 0;
  bool unlogged_ = false;
  bool committed_ = false;
};

}  // namespace fedhub

#include "client/requests.hpp"

#include "messages/checksum.hpp"
#include "messages/tensors.hpp"

namespace fedhub::requests {

namespace {

template <class Make>
Buffer envelope(const std::string& key, size_t size_hint, Make make) {
  flatbuffers::FlatBufferBuilder fbb(size_hint + key.size() + 1024);
  auto [type, body] = make(fbb);
  auto k = fbb.CreateString(key);
  fbb.Finish(fb::CreateRequestEnvelope(fbb, k, type, body), fb::RequestEnvelopeIdentifier());
  return to_buffer(fbb);
}

using Body = std::pair<fb::Request, flatbuffers::Offset<void>>;

}  // namespace

Buffer list_models(const std::string& key) {
  return envelope(key, 0, [](auto& fbb) { return Body{fb::Request::ListModels, fb::CreateListModels(fbb).Union()}; });
}

Buffer download(const std::string& key, const std::string& model, int64_t version, uint64_t offset,
                uint64_t max_bytes) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::Download,
                fb::CreateDownload(fbb, fbb.CreateString(model), version, offset, max_bytes).Union()};
  });
}

Buffer upload_begin(const std::string& key, std::span<const char> header) {
  return envelope(key, header.size(), [&](auto& fbb) {
    return Body{fb::Request::UploadBegin, fb::CreateUploadBegin(fbb, create_aligned_bytes(fbb, header)).Union()};
  });
}

Buffer upload_part(const std::string& key, const std::string& model, uint64_t upload_id, uint64_t offset,
                   std::span<const char> data) {
  const uint64_t hash = data_hash(data);
  return envelope(key, data.size() + model.size(), [&](auto& fbb) {
    auto bytes = create_aligned_bytes(fbb, data);
    auto m = fbb.CreateString(model);
    return Body{fb::Request::UploadPart, fb::CreateUploadPart(fbb, m, upload_id, offset, bytes, hash).Union()};
  });
}

Buffer upload_commit(const std::string& key, const std::string& model, uint64_t upload_id) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::UploadCommit, fb::CreateUploadCommit(fbb, fbb.CreateString(model), upload_id).Union()};
  });
}

Buffer upload_resume(const std::string& key, const std::string& model, uint64_t upload_id) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::UploadResume, fb::CreateUploadResume(fbb, fbb.CreateString(model), upload_id).Union()};
  });
}

Buffer upload_abort(const std::string& key, const std::string& model, uint64_t upload_id) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::UploadAbort, fb::CreateUploadAbort(fbb, fbb.CreateString(model), upload_id).Union()};
  });
}

Buffer status(const std::string& key, const std::string& model, int64_t version) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::Status, fb::CreateStatus(fbb, fbb.CreateString(model), version).Union()};
  });
}

Buffer merge(const std::string& key, const std::string& model, uint64_t base_version) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::Merge, fb::CreateMerge(fbb, fbb.CreateString(model), base_version).Union()};
  });
}

Buffer create_model(const std::string& key, const fb::ModelSpecT& spec, std::span<const float> initial,
                    uint64_t init_seed, const std::string& policy_json) {
  return envelope(key, initial.size_bytes(), [&](auto& fbb) {
    auto weights = initial.empty() ? 0 : create_aligned_bytes(fbb, data_bytes(initial));
    auto s = fb::CreateModelSpec(fbb, &spec);
    auto policy = policy_json.empty() ? 0 : fbb.CreateString(policy_json);
    return Body{fb::Request::CreateModel, fb::CreateCreateModel(fbb, s, policy, weights, init_seed).Union()};
  });
}

Buffer add_key(const std::string& key, const std::string& name, fb::Role role) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::AddKey, fb::CreateAddKey(fbb, fbb.CreateString(name), role).Union()};
  });
}

Buffer list_keys(const std::string& key) {
  return envelope(key, 0, [](auto& fbb) { return Body{fb::Request::ListKeys, fb::CreateListKeys(fbb).Union()}; });
}

Buffer revoke_key(const std::string& key, const std::string& name) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::RevokeKey, fb::CreateRevokeKey(fbb, fbb.CreateString(name)).Union()};
  });
}

Buffer subscribe(const std::string& key, const std::string& model) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::Subscribe, fb::CreateSubscribe(fbb, fbb.CreateString(model)).Union()};
  });
}

Buffer unsubscribe(const std::string& key, const std::string& model) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::Unsubscribe, fb::CreateUnsubscribe(fbb, fbb.CreateString(model)).Union()};
  });
}

Buffer whoami(const std::string& key) {
  return envelope(key, 0, [](auto& fbb) { return Body{fb::Request::Whoami, fb::CreateWhoami(fbb).Union()}; });
}

Buffer backup(const std::string& key, const std::string& directory) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::Backup, fb::CreateBackup(fbb, fbb.CreateString(directory)).Union()};
  });
}

Buffer policy(const std::string& key, const std::string& model, const std::string& policy_json) {
  return envelope(key, 0, [&](auto& fbb) {
    auto m = fbb.CreateString(model);
    auto p = policy_json.empty() ? 0 : fbb.CreateString(policy_json);
    return Body{fb::Request::Policy, fb::CreatePolicy(fbb, m, p).Union()};
  });
}

Buffer delete_model(const std::string& key, const std::string& model) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::DeleteModel, fb::CreateDeleteModel(fbb, fbb.CreateString(model)).Union()};
  });
}

Buffer archive_model(const std::string& key, const std::string& model, bool archived) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::ArchiveModel, fb::CreateArchiveModel(fbb, fbb.CreateString(model), archived).Union()};
  });
}

Buffer rollback(const std::string& key, const std::string& model, uint64_t to_version) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::Rollback, fb::CreateRollback(fbb, fbb.CreateString(model), to_version).Union()};
  });
}

Buffer history(const std::string& key, const std::string& model, uint64_t first, int64_t last) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::ListHistory, fb::CreateListHistory(fbb, fbb.CreateString(model), first, last).Union()};
  });
}

Buffer verify(const std::string& key, const std::string& model, uint64_t version) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::VerifyVersion, fb::CreateVerifyVersion(fbb, fbb.CreateString(model), version).Union()};
  });
}

Buffer leaderboard(const std::string& key, const std::string& model) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::GetLeaderboard, fb::CreateGetLeaderboard(fbb, fbb.CreateString(model)).Union()};
  });
}

Buffer import_begin(const std::string& key, const fb::ModelSpecT& spec, const std::string& policy_json,
                    const std::vector<fb::VersionInfoT>& versions, const std::vector<uint64_t>& with_weights) {
  return envelope(key, versions.size() * 128, [&](auto& fbb) {
    auto s = fb::CreateModelSpec(fbb, &spec);
    auto p = fbb.CreateString(policy_json);
    std::vector<flatbuffers::Offset<fb::VersionInfo>> infos;
    for (const auto& v : versions) infos.push_back(fb::CreateVersionInfo(fbb, &v));
    auto vs = fbb.CreateVector(infos);
    auto w = fbb.CreateVector(with_weights);
    return Body{fb::Request::ImportBegin, fb::CreateImportBegin(fbb, s, p, vs, w).Union()};
  });
}

Buffer import_part(const std::string& key, const std::string& model, uint64_t import_id, uint64_t offset,
                   std::span<const char> data) {
  const uint64_t hash = data_hash(data);
  return envelope(key, data.size() + model.size(), [&](auto& fbb) {
    auto bytes = create_aligned_bytes(fbb, data);
    auto m = fbb.CreateString(model);
    return Body{fb::Request::ImportPart, fb::CreateImportPart(fbb, m, import_id, offset, bytes, hash).Union()};
  });
}

Buffer import_commit(const std::string& key, const std::string& model, uint64_t import_id) {
  return envelope(key, 0, [&](auto& fbb) {
    return Body{fb::Request::ImportCommit, fb::CreateImportCommit(fbb, fbb.CreateString(model), import_id).Union()};
  });
}

}  // namespace fedhub::requests

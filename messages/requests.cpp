#include "messages/requests.hpp"

#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "messages/tensors.hpp"

namespace fedhub::requests {

namespace {

template <class Make>
Buffer envelope(const std::string& key, size_t size_hint, Make make) {
  flatbuffers::FlatBufferBuilder fbb(size_hint + 1024);
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

Buffer upload(const std::string& key, std::span<const char> contribution) {
  return envelope(key, contribution.size(), [&](auto& fbb) {
    return Body{fb::Request::Upload, fb::CreateUpload(fbb, create_aligned_bytes(fbb, contribution)).Union()};
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

Buffer create_model(const std::string& key, const fb::ModelSpecT& spec, const Weights& initial,
                    const std::string& policy_json) {
  return envelope(key, static_cast<size_t>(parameter_count(initial)) * 4, [&](auto& fbb) {
    auto tensors = build_tensors(fbb, initial);
    auto s = fb::CreateModelSpec(fbb, &spec);
    auto policy = policy_json.empty() ? 0 : fbb.CreateString(policy_json);
    return Body{fb::Request::CreateModel, fb::CreateCreateModel(fbb, s, tensors, policy).Union()};
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

Buffer policy(const std::string& key, const std::string& model, const std::string& policy_json) {
  return envelope(key, 0, [&](auto& fbb) {
    auto m = fbb.CreateString(model);
    auto p = policy_json.empty() ? 0 : fbb.CreateString(policy_json);
    return Body{fb::Request::Policy, fb::CreatePolicy(fbb, m, p).Union()};
  });
}

const fb::RequestEnvelope* verify(std::span<const char> data) {
  std::string why;
  const auto* r = verify_root<fb::RequestEnvelope>(data, fb::RequestEnvelopeIdentifier(), &why);
  if (!r) throw RequestError(ErrorCode::bad_request, "request: " + why);
  if (r->request_type() == fb::Request::NONE)
    throw RequestError(ErrorCode::bad_request, "request: unknown request type (is the client newer than the hub?)");
  return r;
}

std::string model_of(const fb::RequestEnvelope& r) {
  switch (r.request_type()) {
    case fb::Request::Download:
      return r.request_as_Download()->model()->str();
    case fb::Request::Status:
      return r.request_as_Status()->model()->str();
    case fb::Request::Merge:
      return r.request_as_Merge()->model()->str();
    case fb::Request::CreateModel:
      return r.request_as_CreateModel()->spec()->name()->str();
    case fb::Request::Subscribe:
      return r.request_as_Subscribe()->model()->str();
    case fb::Request::Unsubscribe:
      return r.request_as_Unsubscribe()->model()->str();
    case fb::Request::Policy:
      return r.request_as_Policy()->model()->str();
    case fb::Request::Upload: {
      const auto* c = r.request_as_Upload()->contribution_nested_root();
      return c ? c->model()->str() : std::string();
    }
    default:
      return {};
  }
}

}  // namespace fedhub::requests

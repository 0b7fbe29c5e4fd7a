#include "messages/requests.hpp"

#include "messages/checksum.hpp"
#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "messages/tensors.hpp"

namespace fedhub::requests {

namespace {

[[noreturn]] void fail(ErrorCode code, const std::string& problem) { throw RequestError(code, "request: " + problem); }

void check_part(const fb::UploadPart& p) {
  const auto data = as_span(p.data());
  if (p.offset() % sizeof(float) != 0 || data.size() % sizeof(float) != 0)
    fail(ErrorCode::bad_request, "an upload part must hold whole float32 values: offset " + std::to_string(p.offset()) +
                                     " and length " + std::to_string(data.size()) + " must be multiples of 4");
  const uint64_t got = data_hash(data);
  if (got != p.hash())
    fail(ErrorCode::bad_checksum, "the upload part at offset " + std::to_string(p.offset()) + " hashes to " +
                                      hash_to_string(got) + ", it says " + hash_to_string(p.hash()) +
                                      ": send it again");
}

}  // namespace

const fb::RequestEnvelope* verify(std::span<const char> data) {
  std::string why;
  const auto* r = verify_root<fb::RequestEnvelope>(data, fb::RequestEnvelopeIdentifier(), &why);
  if (!r) fail(ErrorCode::bad_request, why);
  const fb::Request type = r->request_type();
  if (type == fb::Request::NONE || *fb::EnumNameRequest(type) == '\0')
    fail(ErrorCode::bad_request, "unknown request type " + std::to_string(static_cast<int>(type)) +
                                     " (are the client and the hub of different releases?)");
  switch (type) {
    case fb::Request::UploadBegin: {
      try {
        verify_contribution_header(as_span(r->request_as_UploadBegin()->contribution()));
      } catch (const RequestError& e) {
        throw RequestError(e.code(), std::string("request: UploadBegin: ") + e.what());
      }
      break;
    }
    case fb::Request::UploadPart:
      check_part(*r->request_as_UploadPart());
      break;
    case fb::Request::ImportBegin:
      if (!scalars_aligned(r->request_as_ImportBegin()->with_weights()))
        fail(ErrorCode::bad_request,
             "ImportBegin's with_weights is not 8-byte aligned (the buffer was not written by a FlatBuffers builder)");
      break;
    case fb::Request::ImportPart: {
      const auto* p = r->request_as_ImportPart();
      const uint64_t got = data_hash(as_span(p->data()));
      if (got != p->hash())
        fail(ErrorCode::bad_checksum, "the import part at offset " + std::to_string(p->offset()) + " hashes to " +
                                          hash_to_string(got) + ", it says " + hash_to_string(p->hash()) +
                                          ": send it again");
      break;
    }
    case fb::Request::CreateModel: {
      const auto weights = as_span(r->request_as_CreateModel()->initial_weights());
      if (weights.size() % sizeof(float) != 0)
        fail(ErrorCode::bad_request, "CreateModel's initial_weights hold " + std::to_string(weights.size()) +
                                         " bytes, not whole float32 values");
      break;
    }
    default:
      break;
  }
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
    case fb::Request::UploadBegin: {
      const auto* c = r.request_as_UploadBegin()->contribution_nested_root();
      return c ? c->model()->str() : std::string();
    }
    case fb::Request::UploadPart:
      return r.request_as_UploadPart()->model()->str();
    case fb::Request::UploadCommit:
      return r.request_as_UploadCommit()->model()->str();
    case fb::Request::UploadResume:
      return r.request_as_UploadResume()->model()->str();
    case fb::Request::UploadAbort:
      return r.request_as_UploadAbort()->model()->str();
    case fb::Request::DeleteModel:
      return r.request_as_DeleteModel()->model()->str();
    case fb::Request::ArchiveModel:
      return r.request_as_ArchiveModel()->model()->str();
    case fb::Request::Rollback:
      return r.request_as_Rollback()->model()->str();
    case fb::Request::ListHistory:
      return r.request_as_ListHistory()->model()->str();
    case fb::Request::VerifyVersion:
      return r.request_as_VerifyVersion()->model()->str();
    case fb::Request::GetLeaderboard:
      return r.request_as_GetLeaderboard()->model()->str();
    case fb::Request::ImportBegin:
      return r.request_as_ImportBegin()->spec()->name()->str();
    case fb::Request::ImportPart:
      return r.request_as_ImportPart()->model()->str();
    case fb::Request::ImportCommit:
      return r.request_as_ImportCommit()->model()->str();
    default:
      return {};
  }
}

}  // namespace fedhub::requests

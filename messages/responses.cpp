#include "messages/responses.hpp"

#include <algorithm>

namespace fedhub::responses {

Buffer error(ErrorCode code, const std::string& message) {
  fb::ErrorT e;
  e.code = code;
  e.message = message;
  return make(std::move(e));
}

Buffer ack(const std::string& message) {
  fb::AckT a;
  a.message = message;
  return make(std::move(a));
}

Buffer download_chunk(const std::string& model, uint64_t version, std::span<const char> package, uint64_t offset,
                      uint64_t max_bytes) {
  const uint64_t begin = std::min<uint64_t>(offset, package.size());
  const uint64_t end = begin + std::min<uint64_t>(max_bytes, package.size() - begin);
  flatbuffers::FlatBufferBuilder fbb(end - begin + 1024);
  auto data = create_aligned_bytes(fbb, package.subspan(begin, end - begin));
  auto chunk = fb::CreateDownloadChunk(fbb, fbb.CreateString(model), version, package.size(), begin, data);
  fbb.Finish(fb::CreateResponseEnvelope(fbb, fb::Response::DownloadChunk, chunk.Union()),
             fb::ResponseEnvelopeIdentifier());
  return to_buffer(fbb);
}

const fb::ResponseEnvelope* verify(std::span<const char> data) {
  std::string why;
  const auto* r = verify_root<fb::ResponseEnvelope>(data, fb::ResponseEnvelopeIdentifier(), &why);
  if (!r) throw RequestError(ErrorCode::bad_request, "response: " + why);
  if (r->response_type() == fb::Response::NONE)
    throw RequestError(ErrorCode::bad_request, "response: unknown response type (is the hub newer than the client?)");
  return r;
}

}  // namespace fedhub::responses

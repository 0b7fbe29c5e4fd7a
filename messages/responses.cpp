#include "messages/responses.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

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

Buffer download_chunk(const std::string& model, uint64_t version, uint64_t total_size, uint64_t offset, uint64_t length,
                      const std::function<void(std::span<char>)>& fill) {
  if (offset > total_size || length > total_size - offset)
    throw std::invalid_argument("download_chunk: bytes [" + std::to_string(offset) + ", +" + std::to_string(length) +
                                ") are not inside a package of " + std::to_string(total_size) + " bytes");
  if (length >= FLATBUFFERS_MAX_BUFFER_SIZE / 2)
    throw std::invalid_argument("download_chunk: a chunk of " + std::to_string(length) + " bytes is too large");
  const auto n = static_cast<size_t>(length);
  flatbuffers::FlatBufferBuilder fbb(n + model.size() + 256);
  fbb.ForceVectorAlignment(n, 1, 16);
  uint8_t* dst = nullptr;
  auto data = fbb.CreateUninitializedVector(n, &dst);
  if (n) fill(std::span<char>(reinterpret_cast<char*>(dst), n));
  auto chunk = fb::CreateDownloadChunk(fbb, fbb.CreateString(model), version, total_size, offset, data);
  fbb.Finish(fb::CreateResponseEnvelope(fbb, fb::Response::DownloadChunk, chunk.Union()),
             fb::ResponseEnvelopeIdentifier());
  return to_buffer(fbb);
}

Buffer download_chunk(const std::string& model, uint64_t version, std::span<const char> package, uint64_t offset,
                      uint64_t max_bytes) {
  const uint64_t begin = std::min<uint64_t>(offset, package.size());
  const uint64_t length = std::min<uint64_t>(max_bytes, package.size() - begin);
  return download_chunk(model, version, package.size(), begin, length,
                        [&](std::span<char> out) { std::memcpy(out.data(), package.data() + begin, out.size()); });
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

// Building responses (hub) and reading them (clients), schemas/response.fbs.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "messages/buffer.hpp"
#include "messages/errors.hpp"
#include "messages/response_generated.h"

namespace fedhub::responses {

// A response whose body is one of the object-API types (fb::AckT, ...).
template <class T>
Buffer make(T body) {
  fb::ResponseEnvelopeT env;
  env.response.Set(std::move(body));
  flatbuffers::FlatBufferBuilder fbb(1024);
  fbb.Finish(fb::CreateResponseEnvelope(fbb, &env), fb::ResponseEnvelopeIdentifier());
  return to_buffer(fbb);
}

Buffer error(ErrorCode code, const std::string& message);
Buffer ack(const std::string& message);

// One byte range of a version's package: bytes [offset, offset + length) of
// a package of total_size bytes. The chunk's data vector is created
// uninitialised (16-byte aligned in the response) and `fill` writes all of
// its `length` bytes, e.g. straight from the store's pieces, so the bytes are
// copied once into the message (and once more as the finished message is
// taken out of the builder). Throws std::invalid_argument when the range is
// not inside the package; whatever `fill` throws passes through.
Buffer download_chunk(const std::string& model, uint64_t version, uint64_t total_size, uint64_t offset, uint64_t length,
                      const std::function<void(std::span<char>)>& fill);

// The same from a package held in memory: at most max_bytes from offset, cut
// at its end (an offset past the end gives an empty chunk at the end).
Buffer download_chunk(const std::string& model, uint64_t version, std::span<const char> package, uint64_t offset,
                      uint64_t max_bytes);

// Verifies a response; throws RequestError(bad_request) when malformed.
const fb::ResponseEnvelope* verify(std::span<const char> data);

// The body of a verified response as T. An Error response is thrown as
// RequestError with its code; another body type is RequestError(bad_request).
template <class T>
const T* expect(const fb::ResponseEnvelope& env) {
  if (const auto* e = env.response_as_Error())
    throw RequestError(e->code(), e->message() ? e->message()->str() : std::string());
  if (env.response_type() != fb::ResponseTraits<T>::enum_value)
    throw RequestError(ErrorCode::bad_request,
                       std::string("unexpected response type ") + fb::EnumNameResponse(env.response_type()));
  return static_cast<const T*>(env.response());
}

}  // namespace fedhub::responses

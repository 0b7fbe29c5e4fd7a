#include "actors/actor_errors.hpp"

#include <caf/atom.hpp>
#include <caf/make_message.hpp>
#include <caf/sec.hpp>

#include "metrics/registry.hpp"

namespace fedhub {

namespace {
constexpr caf::atom_value kCategory = caf::atom("fedhub");
}

caf::error to_caf_error(ErrorCode code, const std::string& message) {
  return caf::error(static_cast<uint8_t>(code), kCategory, caf::make_message(message));
}

caf::error to_caf_error(const RequestError& e) { return to_caf_error(e.code(), e.what()); }

RequestError storage_full_request_error(const StorageFullError& e) {
  metrics::global().count("fedhub_storage_full_total");
  return RequestError(ErrorCode::storage_full, e.what());
}

caf::error storage_full_error(const StorageFullError& e) { return to_caf_error(storage_full_request_error(e)); }

RequestError from_caf_error(const caf::error& e, const std::string& what) {
  if (e.category() == kCategory) {
    std::string message;
    if (e.context().match_elements<std::string>()) message = e.context().get_as<std::string>(0);
    return RequestError(static_cast<ErrorCode>(e.code()), message);
  }
  if (e == caf::sec::request_timeout) return RequestError(ErrorCode::internal, what + " did not answer in time");
  return RequestError(ErrorCode::internal, what + " failed: " + caf::to_string(e));
}

}  // namespace fedhub

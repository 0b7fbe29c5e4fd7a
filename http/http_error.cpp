#include "http/http_error.hpp"

#include <nlohmann/json.hpp>

namespace fedhub::http {

unsigned status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::bad_request:
    case ErrorCode::incomplete_upload:
      return 400;
    case ErrorCode::unauthorized:
      return 401;
    case ErrorCode::forbidden:
    case ErrorCode::excluded:
      return 403;
    case ErrorCode::unknown_model:
    case ErrorCode::unknown_version:
    case ErrorCode::unknown_key:
    case ErrorCode::unknown_upload:
      return 404;
    case ErrorCode::stale:
    case ErrorCode::duplicate:
    case ErrorCode::base_not_current:
    case ErrorCode::not_enough_contributions:
    case ErrorCode::merge_in_progress:
    case ErrorCode::model_exists:
    case ErrorCode::key_exists:
    case ErrorCode::archived:
      return 409;
    case ErrorCode::invalid_model:
    case ErrorCode::bad_shape:
    case ErrorCode::bad_dtype:
    case ErrorCode::non_finite:
    case ErrorCode::bad_contribution:
    case ErrorCode::norm_exceeded:
    case ErrorCode::magnitude_exceeded:
    case ErrorCode::bad_checksum:
      return 422;
    case ErrorCode::busy:
    case ErrorCode::unavailable:
    case ErrorCode::model_unavailable:
      return 503;
    case ErrorCode::storage_full:
      return 507;
    case ErrorCode::quota_exceeded:
      return 429;
    case ErrorCode::timeout:
      return 504;
    case ErrorCode::internal:
      return 500;
  }
  return 500;
}

std::string error_body(const std::string& code, const std::string& message) {
  return nlohmann::json{{"error", code}, {"message", message}}.dump() + "\n";
}

}  // namespace fedhub::http

// How the HTTP door answers a refusal: a status code and a JSON body
// {"error": CODE, "message": SENTENCE}. The hub's own refusals
// (RequestError, messages/errors.hpp) keep their error code; the HTTP layer
// adds its own few (docs/http-api.md, Errors).
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "messages/errors.hpp"

namespace fedhub::http {

// The status code a hub error code is answered with (docs/http-api.md).
unsigned status_of(ErrorCode code);

// A refusal by the HTTP layer itself, or a hub error turned into one.
class HttpError : public std::runtime_error {
 public:
  HttpError(unsigned status, std::string code, const std::string& message,
            std::vector<std::pair<std::string, std::string>> headers = {})
      : std::runtime_error(message), status_(status), code_(std::move(code)), headers_(std::move(headers)) {}
  explicit HttpError(const RequestError& e) : HttpError(status_of(e.code()), error_name(e.code()), e.what()) {}

  unsigned status() const { return status_; }
  const std::string& code() const { return code_; }
  // Extra response headers (e.g. Allow for 405).
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

 private:
  unsigned status_;
  std::string code_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// {"error": code, "message": message}, newline-terminated.
std::string error_body(const std::string& code, const std::string& message);

}  // namespace fedhub::http

// The protocol's typed errors (ErrorCode in schemas/response.fbs) as a C++
// exception, so that code deep in a request handler can refuse a request
// with a code and one sentence.
#pragma once

#include <stdexcept>
#include <string>

#include "messages/response_generated.h"

namespace fedhub {

using fb::ErrorCode;

// "stale", "duplicate", ...: the name programs print.
std::string error_name(ErrorCode code);

class RequestError : public std::runtime_error {
 public:
  RequestError(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }
  // "stale: base version 3 is older than the current version 4"
  std::string describe() const { return error_name(code_) + ": " + what(); }

 private:
  ErrorCode code_;
};

}  // namespace fedhub

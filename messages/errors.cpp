#include "messages/errors.hpp"

namespace fedhub {

std::string error_name(ErrorCode code) {
  const char* name = fb::EnumNameErrorCode(code);
  return name && *name ? name : "error_" + std::to_string(static_cast<int>(code));
}

}  // namespace fedhub

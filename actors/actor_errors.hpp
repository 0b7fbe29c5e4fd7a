// The protocol's errors (RequestError, messages/errors.hpp) as CAF errors
// between the hub's own actors, and back: category "fedhub", the ErrorCode
// as the code, the sentence as the context.
#pragma once

#include <caf/error.hpp>
#include <string>

#include "messages/errors.hpp"
#include "persistence/store.hpp"

namespace fedhub {

caf::error to_caf_error(const RequestError& e);
caf::error to_caf_error(ErrorCode code, const std::string& message);

// A write refused because the data directory is full: storage_full with the
// store's sentence (it names the directory and says to free space), counted
// in fedhub_storage_full_total.
caf::error storage_full_error(const StorageFullError& e);
RequestError storage_full_request_error(const StorageFullError& e);

// The RequestError a CAF error stands for. A fedhub error keeps its code; a
// request timeout is internal, naming `what` (e.g. "the merger of 'm'");
// any other is internal with CAF's rendering.
RequestError from_caf_error(const caf::error& e, const std::string& what);

// Runs f, turning every exception into a fedhub CAF error (storage_full for
// a full disk, internal for anything else but a RequestError), so that no
// handler throws into CAF.
template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const RequestError& e) {
    return to_caf_error(e);
  } catch (const StorageFullError& e) {
    return storage_full_error(e);
  } catch (const std::exception& e) {
    return to_caf_error(ErrorCode::internal, e.what());
  }
}

}  // namespace fedhub

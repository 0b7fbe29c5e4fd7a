// Reading and writing buffer files (model packages, contributions).
#pragma once

#include <span>
#include <string>

#include "messages/buffer.hpp"

namespace fedhub {

// The whole file; throws std::runtime_error naming the path.
Buffer read_file(const std::string& path);

// Writes to PATH.tmp, fsyncs, renames over PATH: a crash leaves either the
// old or the new file. Throws std::runtime_error naming the path.
void write_file_atomic(const std::string& path, std::span<const char> data, unsigned mode = 0644);

}  // namespace fedhub

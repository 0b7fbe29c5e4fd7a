// Reading a whole file into memory, gzip-compressed or not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fedhub::datasets {

// The contents of `path`, decompressed when it is gzip data (detected by its
// header, not its name; other files are returned as they are). Throws
// std::runtime_error naming the file when it cannot be opened or read, or
// when its gzip data is corrupt or truncated.
std::vector<uint8_t> read_file_bytes(const std::string& path);

}  // namespace fedhub::datasets

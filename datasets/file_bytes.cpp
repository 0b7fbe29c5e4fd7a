#include "datasets/file_bytes.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace fedhub::datasets {

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr)
    throw std::runtime_error("cannot open '" + path + "': " + (errno != 0 ? std::strerror(errno) : "out of memory"));
  gzbuffer(f, 1 << 17);
  std::vector<uint8_t> bytes;
  constexpr size_t kChunk = 1 << 20;
  while (true) {
    const size_t old = bytes.size();
    bytes.resize(old + kChunk);
    const int n = gzread(f, bytes.data() + old, static_cast<unsigned>(kChunk));
    if (n < 0) {
      int code = Z_OK;
      std::string message = gzerror(f, &code);
      if (code == Z_ERRNO) message = std::strerror(errno);
      gzclose(f);
      throw std::runtime_error("cannot read '" + path + "': " + message +
                               (code == Z_BUF_ERROR || code == Z_DATA_ERROR
                                    ? " (the gzip data is truncated or corrupt; download the file again)"
                                    : ""));
    }
    bytes.resize(old + static_cast<size_t>(n));
    if (n == 0) break;
  }
  int code = Z_OK;
  const std::string message = gzerror(f, &code);
  gzclose(f);
  if (code != Z_OK)
    throw std::runtime_error("cannot read '" + path + "': " + message +
                             " (the gzip data is truncated or corrupt; download the file again)");
  return bytes;
}

}  // namespace fedhub::datasets

#include "test_files.hpp"

#include <stb/stb_image_write.h>
#include <zlib.h>

#include <fstream>
#include <stdexcept>

namespace fedhub::datasets::testing {

namespace fs = std::filesystem;

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + path);
  if (!bytes.empty() && gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size()))
    throw std::runtime_error("cannot compress into " + path);
  if (gzclose(f) != Z_OK) throw std::runtime_error("cannot close " + path);
}

std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> b{0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<uint8_t>(d >> shift));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

void write_idx_pair(const std::string& prefix, const std::vector<uint8_t>& labels, int rows, int cols, bool gz) {
  const auto n = static_cast<uint32_t>(labels.size());
  std::vector<uint8_t> pixels;
  for (uint32_t i = 0; i < n; ++i)
    pixels.insert(pixels.end(), static_cast<size_t>(rows * cols), static_cast<uint8_t>(i * 10 + 1));
  const auto images = idx_bytes({n, static_cast<uint32_t>(rows), static_cast<uint32_t>(cols)}, pixels);
  const auto label_file = idx_bytes({n}, labels);
  if (gz) {
    write_gzip(prefix + "-images-idx3-ubyte.gz", images);
    write_gzip(prefix + "-labels-idx1-ubyte.gz", label_file);
  } else {
    write_bytes(prefix + "-images-idx3-ubyte", images);
    write_bytes(prefix + "-labels-idx1-ubyte", label_file);
  }
}

std::vector<uint8_t> cifar_record(uint8_t label) {
  std::vector<uint8_t> r{label};
  for (int p = 0; p < 1024; ++p) r.push_back(static_cast<uint8_t>(p % 256));
  for (int p = 0; p < 1024; ++p) r.push_back(static_cast<uint8_t>(label * 20));
  for (int p = 0; p < 1024; ++p) r.push_back(static_cast<uint8_t>(255 - p % 256));
  return r;
}

void write_png(const std::string& path, int w, int h, int c, const std::vector<uint8_t>& pixels) {
  fs::create_directories(fs::path(path).parent_path());
  if (stbi_write_png(path.c_str(), w, h, c, pixels.data(), w * c) == 0)
    throw std::runtime_error("cannot write " + path);
}

void write_jpg(const std::string& path, int w, int h, int c, const std::vector<uint8_t>& pixels) {
  fs::create_directories(fs::path(path).parent_path());
  if (stbi_write_jpg(path.c_str(), w, h, c, pixels.data(), 100) == 0) throw std::runtime_error("cannot write " + path);
}

}  // namespace fedhub::datasets::testing

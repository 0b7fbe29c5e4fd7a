// Small data files written by the datasets tests into a fresh temp directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace fedhub::datasets::testing {

using TempDir = fedhub::testing::TempDir;

// The message of the std::runtime_error `f` throws, or "" when it throws none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
void write_text(const std::string& path, const std::string& text);
void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes);

// An IDX file of unsigned bytes: magic 0x0000080<rank>, big-endian dims, data.
std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data);

// Writes PREFIX-images-idx3-ubyte and PREFIX-labels-idx1-ubyte (".gz" added
// and gzip-compressed when gz) for n images of rows x cols; image i has
// every pixel equal to pixel_of(i) = i * 10 + 1.
void write_idx_pair(const std::string& prefix, const std::vector<uint8_t>& labels, int rows, int cols, bool gz);

// One CIFAR-10 binary record: label byte, then the R, G and B planes; pixel p
// is (r, g, b) = (p % 256, label * 20, 255 - p % 256).
std::vector<uint8_t> cifar_record(uint8_t label);

// PNG and JPEG files through stb_image_write; pixels are HWC.
void write_png(const std::string& path, int w, int h, int c, const std::vector<uint8_t>& pixels);
void write_jpg(const std::string& path, int w, int h, int c, const std::vector<uint8_t>& pixels);

}  // namespace fedhub::datasets::testing

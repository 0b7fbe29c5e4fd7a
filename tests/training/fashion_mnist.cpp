#include "fashion_mnist.hpp"

#include <zlib.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace fedhub::training::test {

namespace {

std::vector<uint8_t> read_gz(const std::string& path) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  if (!f) throw std::runtime_error("cannot open " + path + " (install the Debian package dataset-fashion-mnist)");
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f.get(), buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  if (n < 0) throw std::runtime_error("cannot decompress " + path);
  return out;
}

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 | uint32_t{b[at + 2]} << 8 | b[at + 3];
}

}  // namespace

datasets::Dataset load_fashion_mnist(const std::string& split, int64_t count, Shape shape) {
  const std::string images_path = std::string(kFashionMnistDir) + "/" + split + "-images-idx3-ubyte.gz";
  const std::string labels_path = std::string(kFashionMnistDir) + "/" + split + "-labels-idx1-ubyte.gz";
  const auto images = read_gz(images_path);
  const auto labels = read_gz(labels_path);
  if (images.size() < 16 || be32(images, 0) != 0x803 || be32(images, 8) != 28 || be32(images, 12) != 28)
    throw std::runtime_error(images_path + " is not an IDX file of 28x28 images");
  if (labels.size() < 8 || be32(labels, 0) != 0x801)
    throw std::runtime_error(labels_path + " is not an IDX label file");
  const int64_t available = be32(images, 4);
  if (be32(labels, 4) != available || images.size() != 16 + size_t(available) * 784 ||
      labels.size() != 8 + size_t(available))
    throw std::runtime_error(images_path + " and " + labels_path + " disagree or are truncated");
  if (count > available) throw std::runtime_error(images_path + " holds only " + std::to_string(available) + " images");

  datasets::Dataset d;
  d.sample_shape = shape == Shape::flat784 ? std::vector<int64_t>{784} : std::vector<int64_t>{32, 32, 3};
  const int64_t size = shape == Shape::flat784 ? 784 : 32 * 32 * 3;
  d.pixels.assign(static_cast<size_t>(count * size), 0);
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t* src = images.data() + 16 + i * 784;
    uint8_t* dst = d.pixels.data() + i * size;
    if (shape == Shape::flat784) {
      std::copy_n(src, 784, dst);
    } else {
      for (int y = 0; y < 28; ++y)
        for (int x = 0; x < 28; ++x)
          for (int c = 0; c < 3; ++c) dst[((y + 2) * 32 + (x + 2)) * 3 + c] = src[y * 28 + x];
    }
    d.labels.push_back(labels[8 + static_cast<size_t>(i)]);
  }
  return d;
}

}  // namespace fedhub::training::test

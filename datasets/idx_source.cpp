// idx:PREFIX[:CLASSES] — an IDX pair of unsigned-byte images [n, rows, cols]
// and labels [n] (the MNIST / Fashion-MNIST format), plain or gzip.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "datasets/file_bytes.hpp"
#include "datasets/image_convert.hpp"
#include "datasets/label_mapping.hpp"
#include "datasets/parallel.hpp"
#include "datasets/sources.hpp"

namespace fedhub::datasets {
namespace {

namespace fs = std::filesystem;

// PREFIX-<suffix>, or PREFIX-<suffix>.gz when only that exists.
std::string idx_path(const std::string& prefix, const std::string& suffix, const std::string& source) {
  const std::string plain = prefix + "-" + suffix;
  std::error_code ec;
  if (fs::exists(plain, ec)) return plain;
  if (fs::exists(plain + ".gz", ec)) return plain + ".gz";
  throw std::runtime_error(source + ": neither '" + plain + "' nor '" + plain +
                           ".gz' exists; PREFIX is the path before -images-idx3-ubyte, e.g. "
                           "idx:/usr/share/datasets/fashion-mnist/train");
}

struct IdxFile {
  std::vector<uint8_t> bytes;
  std::vector<int64_t> dims;
  size_t offset = 0;  // first data byte
};

std::string hex32(uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08X", v);
  return text;
}

// Reads and validates an unsigned-byte IDX file with `rank` dimensions.
IdxFile read_idx(const std::string& path, size_t rank, const char* what) {
  IdxFile f;
  f.bytes = read_file_bytes(path);
  const auto& b = f.bytes;
  const uint32_t expected = 0x800u + static_cast<uint32_t>(rank);
  const auto fail = [&](const std::string& why) {
    return std::runtime_error("IDX " + std::string(what) + " file '" + path + "' " + why);
  };
  if (b.size() < 4) throw fail("is too short (" + std::to_string(b.size()) + " bytes) to hold the 4-byte magic number");
  const uint32_t magic = uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
  if (b[0] != 0 || b[1] != 0)
    throw fail("has magic number " + hex32(magic) + ", expected " + hex32(expected) + ": it is not an IDX file");
  if (b[2] != 0x08)
    throw fail("has magic number " + hex32(magic) + ", expected " + hex32(expected) +
               ": its values are not unsigned bytes (type 0x08), the only type image data comes in");
  if (b[3] != rank)
    throw fail("has magic number " + hex32(magic) + ", expected " + hex32(expected) + ": it has " +
               std::to_string(b[3]) + " dimensions, an IDX " + what + " file has " + std::to_string(rank));
  f.offset = 4 + 4 * rank;
  if (b.size() < f.offset) throw fail("is truncated inside its header (" + std::to_string(b.size()) + " bytes)");
  int64_t count = 1;
  for (size_t d = 0; d < rank; ++d) {
    const uint8_t* p = b.data() + 4 + 4 * d;
    const int64_t dim = int64_t{p[0]} << 24 | int64_t{p[1]} << 16 | int64_t{p[2]} << 8 | p[3];
    f.dims.push_back(dim);
    if (dim != 0 && count > (int64_t{1} << 40) / dim) throw fail("declares implausibly large dimensions");
    count *= dim;
  }
  const auto data = static_cast<int64_t>(b.size() - f.offset);
  std::string dims_text;
  for (auto d : f.dims) dims_text += (dims_text.empty() ? "" : " x ") + std::to_string(d);
  if (data < count)
    throw fail("is truncated: its header declares " + dims_text + " = " + std::to_string(count) +
               " bytes of data but it holds " + std::to_string(data) + "; download it again");
  if (data > count)
    throw fail("has " + std::to_string(data - count) + " bytes after the " + dims_text +
               " bytes its header declares; it is not a valid IDX file");
  return f;
}

}  // namespace

Dataset load_idx(const SourceSpec& spec, const DataOptions& options, const std::string& source) {
  const TargetShape target = check_target_shape(options.input_shape);
  const std::string labels_path = idx_path(spec.path, "labels-idx1-ubyte", source);
  const std::string images_path = idx_path(spec.path, "images-idx3-ubyte", source);
  const IdxFile labels = read_idx(labels_path, 1, "labels");
  const IdxFile images = read_idx(images_path, 3, "images");
  const int64_t n = labels.dims[0], rows = images.dims[1], cols = images.dims[2];
  if (images.dims[0] != n)
    throw std::runtime_error(source + ": the images file '" + images_path + "' holds " +
                             std::to_string(images.dims[0]) + " images but the labels file '" + labels_path +
                             "' holds " + std::to_string(n) + " labels; they must belong together");
  if (n == 0) throw std::runtime_error(source + ": '" + images_path + "' holds no images");
  if (rows == 0 || cols == 0)
    throw std::runtime_error(source + ": '" + images_path + "' declares empty " + std::to_string(rows) + " x " +
                             std::to_string(cols) + " images");
  const uint8_t* label_bytes = labels.bytes.data() + labels.offset;

  SourceClasses classes;
  classes.names = index_source_names(options);
  if (!classes.names.empty()) {
    classes.count = static_cast<int64_t>(classes.names.size());
    classes.names_from = options.labels_file;
    for (int64_t i = 0; i < n; ++i)
      if (label_bytes[i] >= classes.count)
        throw std::runtime_error(source + ": label " + std::to_string(i) + " in '" + labels_path + "' is class " +
                                 std::to_string(label_bytes[i]) + " but the labels file '" + options.labels_file +
                                 "' names only " + std::to_string(classes.count) + " classes (0.." +
                                 std::to_string(classes.count - 1) + ")");
  } else {
    classes.count = *std::max_element(label_bytes, label_bytes + n) + 1;
  }
  const auto to_model =
      map_classes(classes, select_classes(spec.classes, classes, source), options.model_labels, source);

  std::vector<int64_t> selected;
  for (int64_t i = 0; i < n; ++i)
    if (to_model[label_bytes[i]] >= 0) selected.push_back(i);

  Dataset data;
  data.sample_shape = options.input_shape;
  const auto count = static_cast<int64_t>(selected.size());
  data.labels.resize(static_cast<size_t>(count));
  data.pixels.resize(static_cast<size_t>(count * target.size));
  const uint8_t* pixels = images.bytes.data() + images.offset;
  parallel_chunks(
      count, kProgressChunk, options.threads,
      [&](int64_t j) {
        const int64_t i = selected[static_cast<size_t>(j)];
        data.labels[static_cast<size_t>(j)] = to_model[label_bytes[i]];
        const ImageView view{pixels + i * rows * cols, rows, cols, 1};
        convert_image(view, target, data.pixels.data() + j * target.size,
                      "image " + std::to_string(i) + " of '" + images_path + "'");
      },
      [&](int64_t done) { report_progress(options, done, count); });
  return data;
}

}  // namespace fedhub::datasets

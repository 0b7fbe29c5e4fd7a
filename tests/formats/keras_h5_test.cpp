// formats/keras_h5: Keras 2's and Keras 3's HDF5 weights layouts, written
// here with the HDF5 C API into memory images, read back bit for bit; and
// the refusals of hostile files (truncated, malformed, huge dimensions,
// wrong types, missing or absurd attributes, soft and external links,
// cycles, external storage, unknown filters), each naming the object.
#include "formats/keras_h5.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>

#include "formats/weights_file.hpp"

using namespace fedhub;
using namespace fedhub::formats;

namespace {

// A small Keras Sequential model: Conv2D(2, 3) on [5,5,1], MaxPooling2D,
// Flatten, Dense(3) -> conv [3,3,1,2], dense [2*1*... here 8, 3].
std::vector<TensorSpec> layout(const std::string& conv = "conv2d", const std::string& dense = "dense") {
  return {{conv + "/kernel", {3, 3, 1, 2}}, {conv + "/bias", {2}}, {dense + "/kernel", {8, 3}}, {dense + "/bias", {3}}};
}

std::vector<float> iota(size_t n, float start) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + 0.25f * static_cast<float>(i);
  return v;
}

std::string refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// An HDF5 file built with libhdf5 in a temporary file (an image of a file
// still open for writing is not a valid file in HDF5's newer formats).
class H5 {
 public:
  // `v18`: HDF5 1.8's formats (what h5py writes with libver="v108"), which
  // allow attributes past the 64 KiB object header; otherwise h5py's
  // default, the earliest formats.
  explicit H5(bool v18 = false) : fapl_(H5Pcreate(H5P_FILE_ACCESS)) {
    if (v18) H5Pset_libver_bounds(fapl_, H5F_LIBVER_V18, H5F_LIBVER_V18);
    static int count = 0;
    path_ = "/tmp/keras_h5_test_" + std::to_string(::getpid()) + "_" + std::to_string(++count) + ".h5";
    file_ = H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl_);
    BOOST_REQUIRE(file_ >= 0);
  }
  ~H5() {
    close();
    H5Pclose(fapl_);
    std::remove(path_.c_str());
  }
  hid_t file() const { return file_; }

  // The group at `path`, made with its parents; `big_attrs` lets it hold
  // attributes past the 64 KiB object header (dense attribute storage).
  hid_t group(const std::string& path, bool big_attrs = false) {
    const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    const hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (big_attrs) H5Pset_attr_phase_change(gcpl, 0, 0);
    const hid_t g = H5Gcreate2(file_, path.c_str(), lcpl, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    H5Pclose(lcpl);
    BOOST_REQUIRE(g >= 0);
    groups_.push_back(g);
    return g;
  }

  // A 1-D attribute of fixed-length (or variable-length) strings, as h5py
  // writes Keras's lists of names.
  void names(hid_t obj, const std::string& attr, const std::vector<std::string>& values, bool variable = false) {
    const hsize_t n = values.size();
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t type = H5Tcopy(H5T_C_S1);
    if (variable) {
      H5Tset_size(type, H5T_VARIABLE);
      std::vector<const char*> ptrs;
      for (const auto& v : values) ptrs.push_back(v.c_str());
      const hid_t a = H5Acreate2(obj, attr.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
      BOOST_REQUIRE(H5Awrite(a, type, ptrs.data()) >= 0);
      H5Aclose(a);
    } else {
      size_t size = 1;
      for (const auto& v : values) size = std::max(size, v.size());
      H5Tset_size(type, size);
      H5Tset_strpad(type, H5T_STR_NULLPAD);
      std::string buf(size * values.size(), '\0');
      for (size_t i = 0; i < values.size(); ++i) std::memcpy(buf.data() + i * size, values[i].data(), values[i].size());
      const hid_t a = H5Acreate2(obj, attr.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
      BOOST_REQUIRE(a >= 0);
      BOOST_REQUIRE(H5Awrite(a, type, buf.data()) >= 0);
      H5Aclose(a);
    }
    H5Tclose(type);
    H5Sclose(space);
  }

  // h5py's attrs[...] = np.asarray([]): an empty float64 array.
  void empty_names(hid_t obj, const std::string& attr) {
    const hsize_t n = 0;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t a = H5Acreate2(obj, attr.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Aclose(a);
    H5Sclose(space);
  }

  // A dataset at `path` (parents made) of `file_type`, written from floats.
  void dataset(const std::string& path, const std::vector<hsize_t>& shape, const std::vector<float>& values,
               hid_t file_type = H5T_IEEE_F32LE, hid_t dcpl = H5P_DEFAULT) {
    const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    const hid_t space = H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr);
    const hid_t d = H5Dcreate2(file_, path.c_str(), file_type, space, lcpl, dcpl, H5P_DEFAULT);
    BOOST_REQUIRE(d >= 0);
    if (!values.empty())
      BOOST_REQUIRE(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Pclose(lcpl);
  }

  // The file's bytes as written: closed, read, opened again for more.
  Buffer image() {
    close();
    std::ifstream in(path_, std::ios::binary);
    Buffer out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    file_ = H5Fopen(path_.c_str(), H5F_ACC_RDWR, fapl_);
    BOOST_REQUIRE(file_ >= 0);
    return out;
  }

 private:
  void close() {
    for (hid_t g : groups_) H5Gclose(g);
    groups_.clear();
    if (file_ >= 0) H5Fclose(file_);
    file_ = -1;
  }

  hid_t fapl_ = -1;
  hid_t file_ = -1;
  std::string path_;
  std::vector<hid_t> groups_;
};

const std::vector<float> kConv = iota(18, -2), kConvBias = iota(2, 0.5f), kDense = iota(24, -3),
                         kDenseBias = iota(3, 1);

// Keras 2's save_weights layout under `root` ("" or "model_weights").
void keras2(H5& h, const std::string& root, const std::string& suffix = ":0") {
  const std::string at = root.empty() ? "/" : "/" + root + "/";
  const hid_t top = root.empty() ? H5Gopen2(h.file(), "/", H5P_DEFAULT) : h.group(at);
  h.names(top, "layer_names", {"conv2d", "max_pooling2d", "flatten", "dense"});
  h.names(top, "backend", {"tensorflow"});
  h.names(top, "keras_version", {"2.15.0"});
  h.names(h.group(at + "conv2d"), "weight_names", {"conv2d/kernel" + suffix, "conv2d/bias" + suffix});
  h.empty_names(h.group(at + "max_pooling2d"), "weight_names");
  h.empty_names(h.group(at + "flatten"), "weight_names");
  h.names(h.group(at + "dense"), "weight_names", {"dense/kernel" + suffix, "dense/bias" + suffix});
  h.dataset(at + "conv2d/conv2d/kernel" + suffix, {3, 3, 1, 2}, kConv);
  h.dataset(at + "conv2d/conv2d/bias" + suffix, {2}, kConvBias);
  h.dataset(at + "dense/dense/kernel" + suffix, {8, 3}, kDense);
  h.dataset(at + "dense/dense/bias" + suffix, {3}, kDenseBias);
  if (root.empty()) H5Gclose(top);
}

void expect_sample(const Weights& w, const std::string& conv = "conv2d", const std::string& dense = "dense") {
  BOOST_REQUIRE(w.size() == 4u);
  BOOST_TEST(w[0].name == conv + "/kernel");
  BOOST_TEST((w[0].shape == std::vector<int64_t>{3, 3, 1, 2}));
  BOOST_TEST(w[0].values == kConv);
  BOOST_TEST(w[1].values == kConvBias);
  BOOST_TEST(w[2].name == dense + "/kernel");
  BOOST_TEST(w[2].values == kDense);
  BOOST_TEST(w[3].name == dense + "/bias");
  BOOST_TEST(w[3].values == kDenseBias);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(keras_h5)

BOOST_AUTO_TEST_CASE(keras2_save_weights_layout_is_read_by_layer_name) {
  H5 h;
  keras2(h, "");
  const auto file = h.image();
  BOOST_TEST(is_hdf5(file));
  BOOST_TEST(weights_file_kind(file) == "keras h5");
  BOOST_TEST(keras_h5_layout(file) == "keras 2 .h5 (save_weights)");
  expect_sample(read_keras_h5(file, layout()));
  expect_sample(read_weights_file(file, "w.h5", layout(), KernelLayout::keras));
}

BOOST_AUTO_TEST_CASE(keras2_model_save_layout_reads_model_weights) {
  H5 h;
  keras2(h, "model_weights");
  const hid_t root = H5Gopen2(h.file(), "/", H5P_DEFAULT);
  h.names(root, "model_config", {R"({"class_name": "Sequential"})"});
  H5Gclose(root);
  h.dataset("/optimizer_weights/Adam/iter:0", {1}, {7});
  const auto file = h.image();
  BOOST_TEST(keras_h5_layout(file) == "keras 2 .h5 (model.save)");
  expect_sample(read_keras_h5(file, layout()));
}

BOOST_AUTO_TEST_CASE(keras3_legacy_names_and_variable_length_strings) {
  // Keras 3's legacy h5 writer: "dense/kernel" without ":0", and an empty
  // top_level_model_weights group; names as variable-length strings.
  H5 h;
  const hid_t root = H5Gopen2(h.file(), "/", H5P_DEFAULT);
  h.names(root, "layer_names", {"conv2d", "dense"}, true);
  H5Gclose(root);
  h.names(h.group("/conv2d"), "weight_names", {"conv2d/kernel", "conv2d/bias"}, true);
  h.names(h.group("/dense"), "weight_names", {"dense/kernel", "dense/bias"}, true);
  h.empty_names(h.group("/top_level_model_weights"), "weight_names");
  h.dataset("/conv2d/conv2d/kernel", {3, 3, 1, 2}, kConv);
  h.dataset("/conv2d/conv2d/bias", {2}, kConvBias);
  h.dataset("/dense/dense/kernel", {8, 3}, kDense);
  h.dataset("/dense/dense/bias", {3}, kDenseBias);
  expect_sample(read_keras_h5(h.image(), layout()));
}

BOOST_AUTO_TEST_CASE(keras3_weights_h5_is_read_by_class_and_rank) {
  // Keras 3 names the groups by class and rank, not by layer name: the
  // architecture's layers here are called my_conv and logits.
  H5 h;
  h.group("/vars");
  h.group("/layers/max_pooling2d/vars");
  h.group("/layers/flatten/vars");
  h.dataset("/layers/conv2d/vars/0", {3, 3, 1, 2}, kConv);
  h.dataset("/layers/conv2d/vars/1", {2}, kConvBias);
  h.dataset("/layers/dense/vars/0", {8, 3}, kDense);
  h.dataset("/layers/dense/vars/1", {3}, kDenseBias);
  h.dataset("/optimizer/vars/0", {1}, {3});
  const auto file = h.image();
  BOOST_TEST(keras_h5_layout(file) == "keras 3 .weights.h5");
  expect_sample(read_keras_h5(file, layout("my_conv", "logits")), "my_conv", "logits");
}

BOOST_AUTO_TEST_CASE(keras3_second_dense_layer_is_dense_1) {
  H5 h;
  h.dataset("/layers/dense/vars/0", {4, 3}, iota(12, 0));
  h.dataset("/layers/dense/vars/1", {3}, iota(3, 0));
  h.dataset("/layers/dense_1/vars/0", {3, 2}, iota(6, 5));
  const std::vector<TensorSpec> two{{"a/kernel", {4, 3}}, {"a/bias", {3}}, {"b/kernel", {3, 2}}};
  const auto w = read_keras_h5(h.image(), two);
  BOOST_REQUIRE(w.size() == 3u);
  BOOST_TEST(w[2].name == "b/kernel");
  BOOST_TEST(w[2].values == iota(6, 5));
  // A third dense group the architecture does not have is named as it is.
  h.dataset("/layers/dense_2/vars/0", {2, 2}, iota(4, 0));
  const auto why = refusal([&] { (void)read_keras_h5(h.image(), two); });
  BOOST_TEST(has(why, "extra 'layers/dense_2/vars/0' [2,2]"), why);
  BOOST_TEST(has(why, "/layers/dense_1 is layer 'b'"), why);
}

BOOST_AUTO_TEST_CASE(float64_float16_and_big_endian_values_are_converted) {
  H5 h;
  keras2(h, "model_weights", "");
  // Replace the dense tensors with other types: f64, big-endian f32, f16.
  const hid_t half = H5Tcopy(H5T_IEEE_F32LE);
  H5Tset_fields(half, 15, 10, 5, 0, 10);
  H5Tset_size(half, 2);
  H5Tset_ebias(half, 15);
  H5Ldelete(h.file(), "/model_weights/dense/dense/kernel", H5P_DEFAULT);
  H5Ldelete(h.file(), "/model_weights/dense/dense/bias", H5P_DEFAULT);
  H5Ldelete(h.file(), "/model_weights/conv2d/conv2d/bias", H5P_DEFAULT);
  h.dataset("/model_weights/dense/dense/kernel", {8, 3}, kDense, H5T_IEEE_F64LE);
  h.dataset("/model_weights/dense/dense/bias", {3}, kDenseBias, half);
  h.dataset("/model_weights/conv2d/conv2d/bias", {2}, kConvBias, H5T_IEEE_F32BE);
  H5Tclose(half);
  expect_sample(read_keras_h5(h.image(), layout()));  // every value is exact in float16
}

BOOST_AUTO_TEST_CASE(missing_extra_and_misshaped_tensors_are_all_named) {
  H5 h;
  const hid_t root = H5Gopen2(h.file(), "/", H5P_DEFAULT);
  h.names(root, "layer_names", {"conv2d", "dense", "batch_normalization"});
  H5Gclose(root);
  h.names(h.group("/conv2d"), "weight_names", {"conv2d/kernel:0"});  // no bias
  h.names(h.group("/dense"), "weight_names", {"dense/kernel:0", "dense/bias:0"});
  h.names(h.group("/batch_normalization"), "weight_names", {"batch_normalization/gamma:0"});
  h.dataset("/conv2d/conv2d/kernel:0", {3, 3, 1, 2}, kConv);
  h.dataset("/dense/dense/kernel:0", {8, 4}, iota(32, 0));
  h.dataset("/dense/dense/bias:0", {3}, kDenseBias);
  h.dataset("/batch_normalization/batch_normalization/gamma:0", {2}, {1, 1});
  const auto why = refusal([&] { (void)read_weights_file(h.image(), "w.h5", layout(), KernelLayout::keras); });
  BOOST_TEST(has(why, "w.h5 (keras h5): keras 2 .h5 (save_weights): the weights do not fit the architecture"), why);
  BOOST_TEST(has(why, "missing 'conv2d/bias' [2]"), why);
  BOOST_TEST(has(why, "'dense/kernel' is [8,4], the architecture needs [8,3]"), why);
  BOOST_TEST(has(why, "extra 'batch_normalization/gamma' [2]"), why);
}

BOOST_AUTO_TEST_CASE(a_listed_layer_without_its_group_is_named) {
  H5 h;
  const hid_t root = H5Gopen2(h.file(), "/", H5P_DEFAULT);
  h.names(root, "layer_names", {"conv2d", "dense"});
  H5Gclose(root);
  h.empty_names(h.group("/conv2d"), "weight_names");
  const auto why = refusal([&] { (void)read_keras_h5(h.image(), layout()); });
  BOOST_TEST(has(why, "'/' lists the layer 'dense' but holds no group of that name"), why);
}

BOOST_AUTO_TEST_CASE(a_listed_weight_without_its_dataset_is_named) {
  H5 h;
  const hid_t root = H5Gopen2(h.file(), "/", H5P_DEFAULT);
  h.names(root, "layer_names", {"dense"});
  H5Gclose(root);
  h.names(h.group("/dense"), "weight_names", {"dense/kernel:0"});
  auto why = refusal([&] { (void)read_keras_h5(h.image(), layout()); });
  BOOST_TEST(has(why, "'/dense' lists the weight 'dense/kernel:0' but holds no group '/dense/dense'"), why);
  h.group("/dense/dense");
  why = refusal([&] { (void)read_keras_h5(h.image(), layout()); });
  BOOST_TEST(has(why, "'/dense' lists the weight 'dense/kernel:0' but holds no dataset '/dense/dense/kernel:0'"), why);
}

BOOST_AUTO_TEST_CASE(huge_declared_dimensions_are_reported_without_reading) {
  // 10^12 x 10^6 float32s, chunked and never written: only its shape is read.
  H5 h;
  keras2(h, "model_weights");
  H5Ldelete(h.file(), "/model_weights/dense/dense/kernel:0", H5P_DEFAULT);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  const hsize_t chunk[2] = {1, 1};
  H5Pset_chunk(dcpl, 2, chunk);
  h.dataset("/model_weights/dense/dense/kernel:0", {1000000000000ull, 1000000ull}, {}, H5T_IEEE_F32LE, dcpl);
  H5Pclose(dcpl);
  const auto why = refusal([&] { (void)read_keras_h5(h.image(), layout()); });
  BOOST_TEST(has(why, "'dense/kernel' is [1000000000000,1000000], the architecture needs [8,3]"), why);
}

BOOST_AUTO_TEST_CASE(wrong_value_types_and_non_finite_values_are_refused) {
  {
    H5 h;
    keras2(h, "");
    H5Ldelete(h.file(), "/dense/dense/bias:0", H5P_DEFAULT);
    h.dataset("/dense/dense/bias:0", {3}, {1, 2, 3}, H5T_STD_I32LE);
    const auto why = refusal([&] { (void)read_keras_h5(h.image(), layout()); });
    BOOST_TEST(has(why, "'/dense/dense/bias:0' holds integer values: Keras weights are float32, float64 or float16"),
               why);
  }
  {
    H5 h;
    keras2(h, "");
    H5Ldelete(h.file(), "/dense/dense/bias:0", H5P_DEFAULT);
    h.dataset("/dense/dense/bias:0", {3}, {1, std::nanf(""), 3});
    const auto why = refusal([&] { (void)read_keras_h5(h.image(), layout()); });
    BOOST_TEST(has(why, "'/dense/dense/bias:0' holds a non-finite value at index 1"), why);
  }
}

BOOST_AUTO_TEST_CASE(missing_and_absurd_name_attributes_are_refused) {
  {
    H5 h;
    h.group("/model_weights/dense");
    const auto why = refusal([&] { (void)read_keras_h5(h.image(), layout()); });
    BOOST_TEST(has(why, "'/model_weights' has no attribute 'layer_names'"), why);
  }
  {
    H5 h(true);
    const hid_t root = H5Gopen2(h.file(), "/", H5P_DEFAULT);
    h.names(root, "layer_names", {"dense"});
    H5Gclose(root);
    h.names(h.group("/dense", true), "weight_names", {std::string(70000, 'x')});
    const auto why = refusal([&] { (void)read_keras_h5(h.image(), layout()); });
    BOOST_TEST(has(why, "the attribute 'weight_names' of '/dense' holds names of 70000 bytes each"), why);
  }
  {
    H5 h;
    const hid_t root = H5Gopen2(h.file(), "/", H5P_DEFAULT);
    const hsize_t n = 2;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t a = H5Acreate2(root, "layer_names", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    const int64_t v[2] = {1, 2};
    H5Awrite(a, H5T_NATIVE_INT64, v);
    H5Aclose(a);
    H5Sclose(space);
    H5Gclose(root);
    const auto why = refusal([&] { (void)read_keras_h5(h.image(), layout()); });
    BOOST_TEST(has(why, "the attribute 'layer_names' of '/' is not a list of names (it holds integer values)"), why);
  }
}

BOOST_AUTO_TEST_CASE(soft_and_external_links_and_cycles_are_refused) {
  {
    H5 h;
    keras2(h, "model_weights");
    H5Lmove(h.file(), "/model_weights/dense", h.file(), "/elsewhere", H5P_DEFAULT, H5P_DEFAULT);
    H5Lcreate_soft("/elsewhere", h.file(), "/model_weights/dense", H5P_DEFAULT, H5P_DEFAULT);
    const auto why = refusal([&] { (void)read_keras_h5(h.image(), layout()); });
    BOOST_TEST(has(why, "'/model_weights/dense' is a soft link to elsewhere in the file"), why);
  }
  {
    H5 h;
    keras2(h, "model_weights");
    H5Ldelete(h.file(), "/model_weights/dense/dense/kernel:0", H5P_DEFAULT);
    H5Lcreate_external("/etc/other.h5", "/kernel", h.file(), "/model_weights/dense/dense/kernel:0", H5P_DEFAULT,
                       H5P_DEFAULT);
    const auto why = refusal([&] { (void)read_keras_h5(h.image(), layout()); });
    BOOST_TEST(has(why, "'/model_weights/dense/dense/kernel:0' is an external link to another file: refused"), why);
  }
  {
    // /dense/dense is a hard link to the root: "dense/dense/kernel:0" loops.
    H5 h;
    const hid_t root = H5Gopen2(h.file(), "/", H5P_DEFAULT);
    h.names(root, "layer_names", {"dense"});
    const hid_t dense = h.group("/dense");
    h.names(dense, "weight_names", {"dense/kernel:0"});
    H5Lcreate_hard(root, ".", dense, "dense", H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(root);
    const auto why = refusal([&] { (void)read_keras_h5(h.image(), layout()); });
    BOOST_TEST(has(why, "'/dense/dense' is the group '/' again (a hard link back up: a cycle)"), why);
  }
}

BOOST_AUTO_TEST_CASE(external_storage_unknown_filters_and_unwritten_data_are_refused) {
  const auto with = [](const std::function<void(hid_t)>& set, bool write) {
    H5 h;
    keras2(h, "");
    H5Ldelete(h.file(), "/dense/dense/bias:0", H5P_DEFAULT);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    set(dcpl);
    h.dataset("/dense/dense/bias:0", {3}, write ? kDenseBias : std::vector<float>{}, H5T_IEEE_F32LE, dcpl);
    H5Pclose(dcpl);
    return refusal([&] { (void)read_keras_h5(h.image(), layout()); });
  };
  auto why = with([](hid_t dcpl) { H5Pset_external(dcpl, "bias.raw", 0, 12); }, false);
  BOOST_TEST(has(why, "'/dense/dense/bias:0' keeps its values in external files: refused"), why);
  why = with(
      [](hid_t dcpl) {
        const hsize_t chunk = 3;
        H5Pset_chunk(dcpl, 1, &chunk);
        H5Pset_filter(dcpl, 32000, H5Z_FLAG_OPTIONAL, 0, nullptr);
      },
      true);
  BOOST_TEST(has(why, "'/dense/dense/bias:0' is stored through HDF5 filter 32000"), why);
  why = with([](hid_t dcpl) { H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_LATE); }, false);
  BOOST_TEST(has(why, "'/dense/dense/bias:0' was never written"), why);
  // gzip and shuffle are read.
  why = with(
      [](hid_t dcpl) {
        const hsize_t chunk = 3;
        H5Pset_chunk(dcpl, 1, &chunk);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 6);
      },
      true);
  BOOST_TEST(why == "");
}

BOOST_AUTO_TEST_CASE(truncated_malformed_and_foreign_files_are_refused) {
  H5 h;
  keras2(h, "model_weights");
  const auto file = h.image();
  const Buffer half(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(file.size() / 2));
  auto why = refusal([&] { (void)read_keras_h5(half, layout()); });
  BOOST_TEST(has(why, "libhdf5 cannot open it (truncated or damaged?)"), why);
  why = refusal([&] { (void)read_keras_h5(Buffer(file.begin(), file.begin() + 8), layout()); });
  BOOST_TEST(has(why, "libhdf5 cannot open it"), why);
  // Every single flipped byte after the signature: refused or read, never a crash.
  for (size_t at = 8; at < file.size(); at += 7) {
    Buffer bad = file;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    try {
      (void)read_keras_h5(bad, layout());
    } catch (const std::runtime_error&) {
    }
  }
  H5 empty;
  why = refusal([&] { (void)read_keras_h5(empty.image(), layout()); });
  BOOST_TEST(has(why, "holds no Keras weights"), why);
  why = refusal([&] { (void)read_keras_h5(Buffer{'n', 'o'}, layout()); });
  BOOST_TEST(has(why, "not an HDF5 file"), why);
  why = refusal([&] { (void)read_weights_file(file, "m.h5", layout(), KernelLayout::torch); });
  BOOST_TEST(has(why, "m.h5 (keras h5): a Keras HDF5 file holds Keras's kernels"), why);
  BOOST_TEST(has(why, "leave out --layout torch"), why);
}

BOOST_AUTO_TEST_CASE(a_crash_inside_libhdf5_becomes_an_error) {
  // A file the fuzz target keras_h5 made, on which libhdf5 1.10.8 writes
  // through a NULL pointer after a failed huge allocation (a local heap
  // declaring 8 GiB): in the separate reading process that is an error.
  std::ifstream in(std::string(FEDHUB_SOURCE_DIR) + "/tests/fuzz/libhdf5/segv-in-local-heap-lookup.h5",
                   std::ios::binary);
  const Buffer file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_REQUIRE(file.size() > 1000u);
  const auto why = refusal([&] { (void)read_weights_file(file, "bad.h5", layout(), KernelLayout::keras); });
  BOOST_TEST(has(why, "bad.h5 (keras h5): the reading process (libhdf5) "), why);
  BOOST_TEST(has(why, ": a damaged or hostile file"), why);
  // The same valid file read in the separate process and in this one.
  H5 h;
  keras2(h, "");
  const auto good = h.image();
  expect_sample(read_keras_h5(good, layout(), {.separate_process = true}));
  expect_sample(read_keras_h5(good, layout(), {.separate_process = false}));
}

BOOST_AUTO_TEST_CASE(the_reading_process_can_open_no_file_and_write_nowhere_else) {
  H5 h;
  keras2(h, "");
  const auto file = h.image();
  KerasH5Options probe;
  probe.in_child = [] {
    // Past the restriction: opening a file and writing to stderr fail with
    // EPERM; anything else ends the child with SIGABRT.
    if (::open("/etc/hostname", O_RDONLY) >= 0 || errno != EPERM) std::abort();
    if (::write(2, "x", 1) >= 0 || errno != EPERM) std::abort();
  };
  expect_sample(read_keras_h5(file, layout(), probe));
  probe.in_child = [] { std::abort(); };  // and the probe does run there
  const auto why = refusal([&] { (void)read_keras_h5(file, layout(), probe); });
  BOOST_TEST(has(why, "the reading process (libhdf5) crashed on it (signal 6"), why);
}

BOOST_AUTO_TEST_CASE(reading_leaves_no_hdf5_object_open) {
  H5 h;
  keras2(h, "model_weights");
  const auto file = h.image();
  const auto open_now = [] { return H5Fget_obj_count(static_cast<hid_t>(H5F_OBJ_ALL), H5F_OBJ_ALL); };
  const auto before = open_now();
  const KerasH5Options here{.separate_process = false};
  (void)read_keras_h5(file, layout(), here);
  BOOST_TEST(open_now() == before);
  (void)refusal([&] { (void)read_keras_h5(file, layout("other"), here); });
  BOOST_TEST(open_now() == before);
  (void)refusal([&] { (void)read_keras_h5(Buffer(file.begin(), file.begin() + 100), layout(), here); });
  BOOST_TEST(open_now() == before);
}

BOOST_AUTO_TEST_SUITE_END()

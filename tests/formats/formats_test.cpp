// formats/: safetensors and NumPy .npz, read and written, files written by
// numpy itself (Debian's python3-numpy), malformed and hostile files, and
// the matching of named tensors to an architecture in Keras's and
// PyTorch's kernel layouts (issue 13, item 1).
#include <boost/test/unit_test.hpp>
#include <cstring>
#include <fstream>
#include <sstream>

#include "formats/npz.hpp"
#include "formats/safetensors.hpp"
#include "formats/weights_file.hpp"
#include "formats/weights_matching.hpp"
#include "integration/process.hpp"
#include "model/architecture.hpp"

using namespace fedhub;
using namespace fedhub::formats;

namespace {

std::vector<Tensor> sample() {
  return {{"dense/kernel", {3, 2}, {1, 2, 3, 4, 5, 6}}, {"dense/bias", {2}, {-0.5f, 0.25f}}};
}

std::string refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

Buffer bytes_of(const std::string& s) { return Buffer(s.begin(), s.end()); }

// A safetensors file with the given JSON header and data section.
Buffer safetensors_with(const std::string& header, const std::string& data) {
  std::string s(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return bytes_of(s + header + data);
}

Buffer read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return bytes_of(s.str());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(weight_formats)

BOOST_AUTO_TEST_CASE(safetensors_and_npz_round_trip) {
  const auto t = sample();
  for (const auto& back : {read_safetensors(write_safetensors(t, {{"format", "pt"}})), read_npz(write_npz(t))}) {
    BOOST_REQUIRE(back.size() == 2u);
    BOOST_TEST(back[0].name == "dense/kernel");
    BOOST_TEST((back[0].shape == std::vector<int64_t>{3, 2}));
    BOOST_TEST(back[0].values == t[0].values);
    BOOST_TEST(back[1].values == t[1].values);
  }
  BOOST_TEST(weights_file_kind(write_npz(t)) == "npz");
  BOOST_TEST(weights_file_kind(write_safetensors(t)) == "safetensors");
}

BOOST_AUTO_TEST_CASE(safetensors_dtypes_are_converted_and_others_refused) {
  // F16 1.0 = 0x3c00, BF16 -2.0 = 0xc000, F64 0.5.
  const std::string f16("\x00\x3c", 2), bf16("\x00\xc0", 2);
  double half = 0.5;
  std::string f64(8, '\0');
  std::memcpy(f64.data(), &half, 8);
  auto t = read_safetensors(safetensors_with(
      R"({"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]},)"
      R"("c":{"dtype":"F64","shape":[1],"data_offsets":[4,12]},"__metadata__":{"x":"y"}})",
      f16 + bf16 + f64));
  BOOST_REQUIRE(t.size() == 3u);
  BOOST_TEST(t[0].values[0] == 1.0f);
  BOOST_TEST(t[1].values[0] == -2.0f);
  BOOST_TEST(t[2].values[0] == 0.5f);
  BOOST_TEST(has(refusal([] {
                   read_safetensors(safetensors_with(R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})",
                                                     std::string(8, '\0')));
                 }),
                 "dtype I64"));
}

BOOST_AUTO_TEST_CASE(hostile_safetensors_are_refused_without_allocating) {
  const std::string four(4, '\0');
  // A header length beyond the file, and one of 2^63.
  BOOST_TEST(has(refusal([] { read_safetensors(bytes_of(std::string("\x10\x00\x00\x00\x00\x00\x00\x00{}", 10))); }),
                 "header of 16 bytes"));
  BOOST_TEST(has(refusal([] { read_safetensors(bytes_of(std::string("\x00\x00\x00\x00\x00\x00\x00\x80{}", 10))); }),
                 "at most 100 MB"));
  // A shape of 2^40 x 2^40 floats in a 4-byte data section.
  BOOST_TEST(has(refusal([&] {
                   read_safetensors(safetensors_with(
                       R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]}})", four));
                 }),
                 "more values than its file holds"));
  BOOST_TEST(has(refusal([&] {
                   read_safetensors(
                       safetensors_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", four));
                 }),
                 "outside the data section"));
  BOOST_TEST(has(refusal([&] {
                   read_safetensors(safetensors_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                                     R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                                     four));
                 }),
                 "overlap"));
  BOOST_TEST(has(refusal([&] {
                   read_safetensors(
                       safetensors_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", four));
                 }),
                 "make 8 bytes"));
  BOOST_TEST(has(refusal([&] { read_safetensors(safetensors_with("[1,2]", "")); }), "not a JSON object"));
  BOOST_TEST(has(refusal([&] { read_safetensors(safetensors_with("{\"a\":", "")); }), "not JSON"));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::string bad(4, '\0');
  std::memcpy(bad.data(), &nan, 4);
  BOOST_TEST(has(refusal([&] {
                   read_safetensors(safetensors_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", bad));
                 }),
                 "non-finite"));
}

BOOST_AUTO_TEST_CASE(hostile_npz_files_are_refused) {
  auto good = write_npz(sample());
  BOOST_TEST(has(refusal([&] { read_npz(Buffer(good.begin(), good.begin() + 40)); }), "npz file"));
  Buffer truncated(good.begin(), good.end() - 30);
  BOOST_TEST(!refusal([&] { read_npz(truncated); }).empty());
  // Big-endian and integer arrays, Fortran order.
  auto npy = [](const std::string& header_fields, const std::string& data) {
    std::string header = "{" + header_fields + "}";
    header.push_back('\n');
    std::string s("\x93NUMPY\x01\x00", 8);
    s.push_back(static_cast<char>(header.size() & 0xff));
    s.push_back(static_cast<char>(header.size() >> 8));
    return bytes_of(s + header + data);
  };
  BOOST_TEST(
      has(refusal([&] { read_npy(npy("'descr': '>f4', 'fortran_order': False, 'shape': (1,), ", "abcd"), "a"); }),
          "dtype '>f4'"));
  BOOST_TEST(
      has(refusal([&] { read_npy(npy("'descr': '<i8', 'fortran_order': False, 'shape': (1,), ", "abcdefgh"), "a"); }),
          "dtype '<i8'"));
  // Fortran order (a transposed array): [[1, 2, 3], [4, 5, 6]] stored by columns.
  std::string columns;
  for (float v : {1.0f, 4.0f, 2.0f, 5.0f, 3.0f, 6.0f}) columns.append(reinterpret_cast<const char*>(&v), 4);
  const auto f = read_npy(npy("'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), ", columns), "f");
  BOOST_TEST((f.values == std::vector<float>{1, 2, 3, 4, 5, 6}));
  BOOST_TEST(
      has(refusal([&] {
            read_npy(npy("'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), ", "abcd"), "a");
          }),
          "more values than its file holds"));
  const float one = 1;
  std::string data(4, '\0');
  std::memcpy(data.data(), &one, 4);
  auto scalar = read_npy(npy("'descr': '<f4', 'fortran_order': False, 'shape': (), ", data), "s");
  BOOST_TEST(scalar.shape.empty());
  BOOST_TEST(scalar.values == std::vector<float>{1.0f});
}

BOOST_AUTO_TEST_CASE(files_that_numpy_writes_are_read) {
  fedhub::testing::TempDir dir;
  const std::string plain = dir / "w.npz", packed = dir / "wc.npz";
  const auto r =
      fedhub::testing::run_bounded({"/usr/bin/python3", "-c",
                                    "import numpy as np\n"
                                    "k = np.arange(6, dtype=np.float32).reshape(3, 2) / 4\n"
                                    "b = np.array([1.5, -2.0], dtype=np.float64)\n"
                                    "np.savez('" +
                                        plain +
                                        "', **{'dense/kernel': k, 'dense/bias': b})\n"
                                        "np.savez_compressed('" +
                                        packed + "', **{'dense/kernel': k, 'dense/bias': b.astype(np.float16)})\n"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  for (const auto& path : {plain, packed}) {
    const auto file = read_file(path);
    const auto w = read_weights_file(file, path, std::vector<TensorSpec>{{"dense/kernel", {3, 2}}, {"dense/bias", {2}}},
                                     KernelLayout::keras);
    BOOST_REQUIRE(w.size() == 2u);
    BOOST_TEST((w[0].values == std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1, 1.25f}));
    BOOST_TEST((w[1].values == std::vector<float>{1.5f, -2.0f}));
  }
}

BOOST_AUTO_TEST_CASE(tensors_are_matched_by_name_and_shape_never_by_position) {
  const std::vector<TensorSpec> layout{{"dense/kernel", {3, 2}}, {"dense/bias", {2}}};
  auto t = sample();
  std::swap(t[0], t[1]);  // another order: matched by name
  auto w = match_weights(t, layout, KernelLayout::keras);
  BOOST_TEST(w[0].name == "dense/kernel");
  BOOST_TEST(w[1].values == sample()[1].values);
  // Every problem at once: missing, extra, mis-shaped.
  std::vector<Tensor> wrong{{"dense/kernel", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"head/bias", {2}, {0, 0}}};
  const auto why = refusal([&] { match_weights(wrong, layout, KernelLayout::keras); });
  BOOST_TEST(has(why, "'dense/kernel' is [2,3], the architecture needs [3,2]"), why);
  BOOST_TEST(has(why, "missing 'dense/bias' [2]"), why);
  BOOST_TEST(has(why, "extra 'head/bias' [2]"), why);
}

BOOST_AUTO_TEST_CASE(pytorch_layouts_are_transposed_on_import_and_export) {
  // nn.Linear(3, 2).weight is [out=2, in=3]; ours is [in=3, out=2].
  const std::vector<TensorSpec> dense{{"fc/kernel", {3, 2}}, {"fc/bias", {2}}};
  std::vector<Tensor> torch{{"fc.weight", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"fc.bias", {2}, {7, 8}}};
  auto w = match_weights(torch, dense, KernelLayout::torch);
  BOOST_TEST((w[0].values == std::vector<float>{1, 4, 2, 5, 3, 6}));  // ours[i][o] = torch[o][i]
  BOOST_TEST(w[1].values == (std::vector<float>{7, 8}));
  const auto back = export_weights(w, KernelLayout::torch);
  BOOST_TEST(back[0].name == "fc.weight");
  BOOST_TEST(back[0].values == torch[0].values);
  // nn.Conv2d(2, 3, (2, 2)).weight is [O=3, I=2, H=2, W=2]; ours [H, W, I, O].
  std::vector<Tensor> conv{{"c.weight", {3, 2, 2, 2}, {}}, {"c.bias", {3}, {0, 0, 0}}};
  for (int i = 0; i < 24; ++i) conv[0].values.push_back(static_cast<float>(i));
  const std::vector<TensorSpec> conv_layout{{"c/kernel", {2, 2, 2, 3}}, {"c/bias", {3}}};
  auto cw = match_weights(conv, conv_layout, KernelLayout::torch);
  // ours[h][w][i][o] = torch[o][i][h][w]: ours[1][0][1][2] = torch[2][1][1][0] = 2*8 + 1*4 + 1*2 + 0 = 22
  BOOST_TEST(cw[0].values[((1 * 2 + 0) * 2 + 1) * 3 + 2] == 22.0f);
  BOOST_TEST(export_weights(cw, KernelLayout::torch)[0].values == conv[0].values);
  // A torch file read as keras is refused naming the layout's shapes.
  const auto why = refusal([&] { match_weights(torch, dense, KernelLayout::keras); });
  BOOST_TEST(has(why, "extra 'fc.weight'"), why);
  const auto shape_why = refusal([&] {
    match_weights({{"fc.weight", {3, 2}, {1, 2, 3, 4, 5, 6}}, {"fc.bias", {2}, {7, 8}}}, dense, KernelLayout::torch);
  });
  BOOST_TEST(has(shape_why, "PyTorch's layout of [3,2]"), shape_why);
  BOOST_TEST(has(refusal([] { parse_kernel_layout("tf"); }), "keras or torch"));
}

BOOST_AUTO_TEST_CASE(a_torch_cnn_state_dict_has_the_rows_after_its_flatten_reordered) {
  // conv [4,4,1] -> [3,3,2], flatten (PyTorch: (c, h, w); ours: (h, w, c)), dropout, fc [18, 2].
  const auto arch = parse_architecture(
      R"({"input":[4,4,1],"layers":[{"type":"conv2d","name":"conv","filters":2,"kernel_size":2},)"
      R"({"type":"flatten"},{"type":"dropout","rate":0.5},{"type":"dense","name":"fc","units":2}]})");
  std::vector<Tensor> torch{{"conv.weight", {2, 1, 2, 2}, {}},
                            {"conv.bias", {2}, {0.5f, -0.5f}},
                            {"fc.weight", {2, 18}, {}},
                            {"fc.bias", {2}, {1, 2}}};
  for (int i = 0; i < 8; ++i) torch[0].values.push_back(static_cast<float>(i));
  for (int i = 0; i < 36; ++i) torch[2].values.push_back(static_cast<float>(i));
  const Buffer file = write_npz(torch);
  const auto w = read_weights_file(file, "cnn.npz", arch, KernelLayout::torch);
  // ours fc/kernel[(h*3 + w)*2 + c][o] = torch fc.weight[o][(c*3 + h)*3 + w]
  for (int o = 0; o < 2; ++o)
    for (int c = 0; c < 2; ++c)
      for (int h = 0; h < 3; ++h)
        for (int x = 0; x < 3; ++x)
          BOOST_TEST(w[2].values[static_cast<size_t>(((h * 3 + x) * 2 + c) * 2 + o)] ==
                     torch[2].values[static_cast<size_t>(o * 18 + (c * 3 + h) * 3 + x)]);
  // Without the architecture the rows keep the file's order (a plain transpose).
  const auto plain = read_weights_file(file, "cnn.npz", arch.parameters(), KernelLayout::torch);
  BOOST_TEST(plain[2].values[2] == torch[2].values[1]);  // ours[1][0] = torch[0][1]
  BOOST_TEST(plain[2].values != w[2].values);
  // The torch export puts them back: the state_dict as it was.
  const auto back = read_npz(write_weights_file(w, arch, "npz", KernelLayout::torch));
  BOOST_REQUIRE(back.size() == 4u);
  for (size_t i = 0; i < 4; ++i) {
    BOOST_TEST(back[i].name == torch[i].name);
    BOOST_TEST(back[i].values == torch[i].values);
  }
  // In Keras's layout nothing moves.
  const auto keras = read_npz(write_weights_file(w, arch, "npz", KernelLayout::keras));
  BOOST_TEST(keras[2].values == w[2].values);
}

BOOST_AUTO_TEST_SUITE_END()

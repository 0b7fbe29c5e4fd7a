// fuzz_make_corpus OUT: writes the seed corpus of every fuzz target into
// OUT/<target>/ (tests/fuzz/corpus/ is its committed output): a few valid
// inputs each, built with the project's own builders so that the fuzzers
// start from what the hub really sends and reads.
//
//   build-fz/bin/fuzz_make_corpus tests/fuzz/corpus
#include <hdf5.h>
#include <onnx/onnx_pb.h>
#include <stb/stb_image_write.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/requests.hpp"
#include "formats/npz.hpp"
#include "formats/onnx_export.hpp"
#include "formats/safetensors.hpp"
#include "formats/weights_matching.hpp"
#include "messages/contribution.hpp"
#include "messages/events.hpp"
#include "messages/model_package.hpp"
#include "messages/provenance.hpp"
#include "messages/responses.hpp"

using namespace fedhub;
namespace fs = std::filesystem;

namespace {

fs::path out_root;

// Keras's three HDF5 weights layouts (formats/keras_h5.hpp) for the
// architecture of fuzz_keras_h5 (conv2d [3,3,1,2], dense [8,3]), written
// with the HDF5 C API into a temporary file as h5py writes them.
std::string keras_h5_file(int layout) {
  const fs::path path = fs::temp_directory_path() / ("fuzz_make_corpus_" + std::to_string(layout) + ".h5");
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) throw std::runtime_error("cannot create " + path.string());
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  // Without modification times, so that the corpus is the same every time.
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), gcpl = H5Pcreate(H5P_GROUP_CREATE);
  H5Pset_obj_track_times(dcpl, 0);
  H5Pset_obj_track_times(gcpl, 0);
  const auto dataset = [&](const std::string& at, std::vector<hsize_t> shape) {
    size_t n = 1;
    for (hsize_t d : shape) n *= d;
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = 0.5f * static_cast<float>(i) - 1;
    const hid_t space = H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr);
    const hid_t d = H5Dcreate2(f, at.c_str(), H5T_IEEE_F32LE, space, lcpl, dcpl, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Dclose(d);
    H5Sclose(space);
  };
  const auto names = [&](const std::string& object, const char* attr, const std::vector<std::string>& values) {
    const hid_t obj = H5Oopen(f, object.c_str(), H5P_DEFAULT);
    const hsize_t n = values.size();
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t type = H5Tcopy(H5T_C_S1);
    size_t size = 1;
    for (const auto& v : values) size = std::max(size, v.size());
    H5Tset_size(type, size);
    std::string buf(size * values.size(), '\0');
    for (size_t i = 0; i < values.size(); ++i) buf.replace(i * size, values[i].size(), values[i]);
    const hid_t a = H5Acreate2(obj, attr, type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, type, buf.data());
    H5Aclose(a);
    H5Tclose(type);
    H5Sclose(space);
    H5Oclose(obj);
  };
  const auto group = [&](const std::string& at) { H5Gclose(H5Gcreate2(f, at.c_str(), lcpl, gcpl, H5P_DEFAULT)); };
  if (layout == 2) {  // Keras 3 .weights.h5
    group("/vars");
    group("/layers/max_pooling2d/vars");
    dataset("/layers/conv2d/vars/0", {3, 3, 1, 2});
    dataset("/layers/conv2d/vars/1", {2});
    dataset("/layers/dense/vars/0", {8, 3});
    dataset("/layers/dense/vars/1", {3});
    dataset("/optimizer/vars/0", {1});
  } else {  // Keras 2 save_weights (0) or model.save (1)
    const std::string root = layout == 1 ? "/model_weights" : "";
    if (layout == 1) group(root);
    names(root.empty() ? "/" : root, "layer_names", {"conv2d", "max_pooling2d", "dense"});
    names(root.empty() ? "/" : root, "keras_version", {"2.15.0"});
    group(root + "/max_pooling2d");
    names(root + "/max_pooling2d", "weight_names", {});
    for (const std::string layer : {"conv2d", "dense"}) {
      group(root + "/" + layer);
      names(root + "/" + layer, "weight_names", {layer + "/kernel:0", layer + "/bias:0"});
    }
    dataset(root + "/conv2d/conv2d/kernel:0", {3, 3, 1, 2});
    dataset(root + "/conv2d/conv2d/bias:0", {2});
    dataset(root + "/dense/dense/kernel:0", {8, 3});
    dataset(root + "/dense/dense/bias:0", {3});
  }
  H5Pclose(gcpl);
  H5Pclose(dcpl);
  H5Pclose(lcpl);
  H5Fclose(f);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(path);
  return bytes;
}

void put(const std::string& target, const std::string& name, std::string_view bytes) {
  const fs::path dir = out_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}
void put(const std::string& target, const std::string& name, const Buffer& b) {
  put(target, name, std::string_view(b.data(), b.size()));
}

std::string le(uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

const char* kTinyArch = R"({"input":[2],"layers":[{"type":"dense","units":3}]})";
const char* kCnnArch =
    R"({"input":[6,6,1],"layers":[{"type":"conv2d","filters":2,"kernel_size":3,"activation":"relu"},)"
    R"({"type":"maxpool2d","pool_size":2},{"type":"flatten"},{"type":"dropout","rate":0.25},)"
    R"({"type":"dense","units":3,"activation":"softmax"}]})";
const char* kMlpArch =
    R"({"input":[28,28,1],"layers":[{"type":"flatten"},{"type":"dense","units":64,"activation":"relu"},{"type":"dense","units":10}]})";
const char* kAdam =
    R"({"optimizer":{"name":"adam","learning_rate":0.001},"batch_size":32,"steps":200,"samples_per_round":6400})";
const char* kSgd =
    R"({"optimizer":{"name":"sgd","learning_rate":0.05,"momentum":0.9,"nesterov":true,"weight_decay":0.0001},"batch_size":8,"steps":10,"samples_per_round":0,"seed":7})";

fb::ModelSpecT spec(const std::string& name, const char* arch) {
  fb::ModelSpecT s;
  s.name = name;
  s.architecture_json = arch;
  s.labels = {"cat", "dog", "bird"};
  s.recipe_json = kAdam;
  s.min_contributions = 1;
  return s;
}

Weights tiny_weights() {
  Weights w = {{"dense/kernel", {2, 3}, {}}, {"dense/bias", {3}, {0.25f, -0.5f, 1.5f}}};
  for (int i = 0; i < 6; ++i) w[0].values.push_back(0.5f * static_cast<float>(i) - 1.0f);
  return w;
}

Weights cnn_weights() {
  Weights w = {{"conv2d/kernel", {3, 3, 1, 2}, {}},
               {"conv2d/bias", {2}, {0.1f, -0.1f}},
               {"dense/kernel", {8, 3}, {}},
               {"dense/bias", {3}, {0.0f, 0.5f, -0.5f}}};
  for (int i = 0; i < 18; ++i) w[0].values.push_back(0.01f * static_cast<float>(i));
  for (int i = 0; i < 24; ++i) w[2].values.push_back(-0.02f * static_cast<float>(i));
  return w;
}

// An ONNX export with its Flatten replaced by what PyTorch writes for
// x.view(x.size(0), -1): Shape, Gather, Unsqueeze, Concat, Reshape.
std::string torch_style_onnx(const Buffer& exported) {
  onnx::ModelProto m;
  if (!m.ParseFromArray(exported.data(), static_cast<int>(exported.size())))
    throw std::runtime_error("write_onnx wrote no ONNX");
  auto* g = m.mutable_graph();
  onnx::GraphProto out_graph = *g;
  out_graph.clear_node();
  auto ints = [&](const std::string& name, std::vector<int64_t> v) {
    auto* t = out_graph.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (auto x : v) t->add_int64_data(x);
  };
  auto node = [&](const std::string& op, std::vector<std::string> in, const std::string& out) {
    auto* n = out_graph.add_node();
    n->set_op_type(op);
    n->set_name("/" + op);
    for (const auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  };
  for (const auto& n : g->node()) {
    if (n.op_type() != "Flatten") {
      *out_graph.add_node() = n;
      continue;
    }
    node("Shape", {n.input(0)}, "shape");
    auto* zero = node("Constant", {}, "zero");
    auto* a = zero->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::INT64);
    a->mutable_t()->add_int64_data(0);
    node("Gather", {"shape", "zero"}, "batch");
    ints("axes", {0});
    node("Unsqueeze", {"batch", "axes"}, "batch_1d");
    ints("rest", {-1});
    auto* axis = node("Concat", {"batch_1d", "rest"}, "target")->add_attribute();
    axis->set_name("axis");
    axis->set_type(onnx::AttributeProto::INT);
    axis->set_i(0);
    node("Reshape", {n.input(0), "target"}, n.output(0));
  }
  *g = out_graph;
  return m.SerializeAsString();
}

VersionMeta meta(const std::string& model, uint64_t version) {
  VersionMeta m;
  m.model = model;
  m.version = version;
  m.created_at_ms = 1700000000000;
  m.base_version = version ? version - 1 : 0;
  m.contributors = version ? std::vector<std::string>{"org-1", "org-2"} : std::vector<std::string>{};
  m.total_samples = version ? 12000 : 0;
  m.aggregator = "fedavg";
  return m;
}

ContributionMeta contribution_meta(const std::string& model) {
  ContributionMeta m;
  m.model = model;
  m.base_version = 3;
  m.participant = "org-1";
  m.num_samples = 6400;
  m.metrics = {{"loss", 0.42}, {"accuracy", 0.81}};
  return m;
}

void messages() {
  const Buffer tiny_pkg = build_model_package(spec("tiny", kTinyArch), meta("tiny", 0), tiny_weights());
  const Buffer tiny_pkg3 = build_model_package(spec("tiny", kTinyArch), meta("tiny", 3), tiny_weights());
  const Buffer cnn_pkg = build_model_package(spec("cnn", kCnnArch), meta("cnn", 1), cnn_weights());
  put("model_package", "tiny-v0.fhmp", tiny_pkg);
  put("model_package", "tiny-v3.fhmp", tiny_pkg3);
  put("model_package", "cnn-v1.fhmp", cnn_pkg);

  const Buffer file = build_contribution(contribution_meta("tiny"), tiny_weights());
  const Buffer cnn_file = build_contribution(contribution_meta("cnn"), cnn_weights());
  const ContributionView view = read_contribution(file);
  const Buffer header(view.header_bytes.begin(), view.header_bytes.end());
  put("contribution", "tiny.fhct", file);
  put("contribution", "cnn.fhct", cnn_file);
  put("contribution", "tiny-header.fb", header);

  put("framed", "tiny-package",
      le(view_model_package(tiny_pkg).data.size(), 8) + std::string(tiny_pkg.begin(), tiny_pkg.end()));
  put("framed", "tiny-contribution", le(view.data.size(), 8) + std::string(file.begin(), file.end()));
  put("framed", "short", le(0, 8) + std::string(tiny_pkg.begin(), tiny_pkg.begin() + 8));

  const std::string key = "fh_participant_0123456789abcdef";
  const std::vector<float> flat = {0.5f, -1.0f, 0.0f, 1.0f, 2.0f, -2.0f, 0.25f, -0.5f, 1.5f};
  put("request", "list_models", requests::list_models(key));
  put("request", "download", requests::download(key, "tiny", -1, 0, 1 << 20));
  put("request", "upload_begin", requests::upload_begin(key, header));
  put("request", "upload_part", requests::upload_part(key, "tiny", 7, 0, view.data.first(16)));
  put("request", "upload_commit", requests::upload_commit(key, "tiny", 7));
  put("request", "status", requests::status(key, "tiny", 3));
  put("request", "merge", requests::merge(key, "tiny", 3));
  put("request", "create_model",
      requests::create_model(key, spec("tiny", kTinyArch), flat, 1, R"({"merge":"buffered","k":2})"));
  put("request", "add_key", requests::add_key(key, "org-2", fb::Role::participant));
  put("request", "policy", requests::policy(key, "tiny", R"({"aggregator":{"name":"fedyogi"}})"));
  put("request", "rollback", requests::rollback(key, "tiny", 1));
  fb::VersionInfoT vi;
  vi.version = 0;
  vi.package_bytes = tiny_pkg.size();
  put("request", "import_begin", requests::import_begin(key, spec("tiny", kTinyArch), "", {vi}, {0}));
  put("request", "import_part", requests::import_part(key, "tiny", 2, 0, std::span<const char>(tiny_pkg).first(64)));

  put("response", "error", responses::error(ErrorCode::stale, "base version 3 is older than the current version 4"));
  put("response", "ack", responses::ack("done"));
  put("response", "chunk", responses::download_chunk("tiny", 3, tiny_pkg3, 0, 1 << 20));
  fb::PolicyInfoT pi;
  pi.model = "tiny";
  pi.policy_json = R"({"merge":"manual"})";
  put("response", "policy", responses::make(std::move(pi)));
  fb::VersionPublishedT vp;
  vp.model = "tiny";
  vp.version = 4;
  vp.base_version = 3;
  vp.contributors = {"org-1"};
  vp.aggregator = "fedavg";
  put("response", "event-published", events::version_published(vp));
  fb::ContributionAcceptedT ca;
  ca.model = "tiny";
  ca.participant = "org-1";
  ca.num_samples = 100;
  put("response", "event-accepted", events::contribution_accepted(ca));
  fb::VersionEvaluatedT ve;
  ve.model = "tiny";
  ve.version = 4;
  ve.evaluated = true;
  ve.accuracy = 0.8;
  ve.per_class_accuracy = {0.7, 0.9, 0.8};
  put("response", "event-evaluated", events::version_evaluated(ve));

  fb::ProvenanceT pv;
  pv.version = 4;
  pv.base_version = 3;
  pv.aggregator = "fedavg";
  pv.weights_sha256.assign(32, 7);
  auto member = std::make_unique<fb::ProvenanceMemberT>();
  member->participant = "org-1";
  member->num_samples = 100;
  member->weight_share = 1;
  pv.members.push_back(std::move(member));
  put("provenance", "provenance", provenance_record(pv));
  fb::VersionScoresT sc;
  sc.version = 4;
  sc.evaluated = true;
  sc.per_class_accuracy = {0.5, 0.75};
  sc.per_class_count = {10, 12};
  auto score = std::make_unique<fb::ContributionScoreT>();
  score->participant = "org-1";
  score->cosine = 0.9;
  sc.contributions.push_back(std::move(score));
  put("provenance", "scores", scores_record(sc));

  const std::vector<Tensor> small{{"dense/kernel", {3, 2}, {1, 2, 3, 4, 5, 6}}, {"dense/bias", {2}, {0.5f, -1}}};
  put("weights_file", "safetensors", formats::write_safetensors(small, {{"format", "pt"}}));
  put("weights_file", "npz", formats::write_npz(small));
  put("weights_file", "torch-npz", formats::write_npz(formats::export_weights(small, formats::KernelLayout::torch)));
  const Buffer cnn_onnx = formats::write_onnx(parse_architecture(kCnnArch), cnn_weights(), {"cnn", 1, {"a", "b", "c"}});
  put("onnx", "cnn.onnx", cnn_onnx);
  put("onnx", "cnn-torch-view.onnx", torch_style_onnx(cnn_onnx));
  put("onnx", "tiny.onnx", formats::write_onnx(parse_architecture(kTinyArch), tiny_weights(), {"tiny", 0, {}}));
  const char* keras_names[] = {"keras2-save-weights.h5", "keras2-model-save.h5", "keras3.weights.h5"};
  for (int layout = 0; layout < 3; ++layout) {
    const std::string h5 = keras_h5_file(layout);
    put("keras_h5", keras_names[layout], h5);
    put("weights_file", keras_names[layout], h5);
  }

  // A download in chunks of `step` bytes: [u32 length][DownloadChunk response]...
  for (uint64_t step : {uint64_t{64}, uint64_t{200}, uint64_t{100000}}) {
    std::string stream;
    const Buffer& pkg = step == 200 ? cnn_pkg : tiny_pkg3;
    const std::string model = step == 200 ? "cnn" : "tiny";
    for (uint64_t at = 0; at < pkg.size(); at += step) {
      const Buffer r = responses::download_chunk(model, 1, pkg, at, step);
      stream += le(r.size(), 4) + std::string(r.begin(), r.end());
    }
    put("chunk_stream", "chunks-" + std::to_string(step), stream);
  }
}

void documents() {
  put("architecture", "tiny.json", std::string(kTinyArch));
  put("architecture", "cnn.json", std::string(kCnnArch));
  put("architecture", "mlp.json", std::string(kMlpArch));
  put("architecture", "simple-cnn.json",
      std::string(
          R"({"input":[32,32,3],"layers":[{"type":"conv2d","filters":8,"kernel_size":[3,3],"strides":1,"padding":"same","activation":"relu"},)"
          R"({"type":"maxpool2d","pool_size":[2,2],"strides":2},{"type":"flatten"},{"type":"dense","units":20}]})"));
  put("recipe", "adam.json", std::string(kAdam));
  put("recipe", "sgd.json", std::string(kSgd));
  put("recipe", "defaults.json", std::string(R"({"optimizer":{"name":"adam"}})"));
  put("recipe", "schedule.json",
      std::string(
          R"({"optimizer":{"name":"adam","learning_rate":0.001},"learning_rate_schedule":[{"from_version":30,"learning_rate":0.0003},{"from_version":50,"learning_rate":0.0001}],"freeze":["dense"]})"));
  const std::string nul(1, '\0');
  put("model_spec", "tiny", "tiny" + nul + kTinyArch + nul + "cat\ndog\nbird" + nul + kAdam);
  put("model_spec", "cnn", "cnn-2.b" + nul + kCnnArch + nul + "a\nb\nc" + nul + kSgd);
  put("policy", "buffered.json",
      std::string(
          R"({"merge":"buffered","k":5,"staleness":{"kind":"fedbuff","max_staleness":4},"aggregator":{"name":"fedyogi"}})"));
  put("policy", "async.json",
      std::string(R"({"merge":"async","alpha":0.6,"staleness":{"kind":"polynomial","a":0.5,"max_staleness":8}})"));
  put("policy", "full.json",
      std::string(
          R"({"merge":"manual","norm_bound":10,"on_norm_exceeded":"clip","interval_seconds":0,"retain_versions":5,"max_abs_value":1e6,"aggregator":{"name":"trimmed_mean","trim":0.1}})"));
  put("policy", "patch",
      std::string(R"({"merge":"buffered","k":3})") + nul + R"({"k":4,"aggregator":{"name":"krum"}})");
  put("policy", "empty", std::string());
  put("labels", "fashion.txt",
      std::string("T-shirt/top\nTrouser\nPullover\nDress\nCoat\nSandal\nShirt\nSneaker\nBag\nAnkle boot\n"));
  put("labels", "comments.txt", std::string("# CIFAR-10\n airplane \r\nautomobile\n\nbird\ncat\n"));
}

void datasets_inputs() {
  // IDX: [flags][shape][u16 labels length][labels file][images file]
  auto idx = [](int n, int rows, int cols) {
    std::string labels = be32(0x801) + be32(static_cast<uint32_t>(n));
    std::string images = be32(0x803) + be32(static_cast<uint32_t>(n)) + be32(static_cast<uint32_t>(rows)) +
                         be32(static_cast<uint32_t>(cols));
    for (int i = 0; i < n; ++i) labels += static_cast<char>(i % 10);
    for (int i = 0; i < n * rows * cols; ++i) images += static_cast<char>((i * 37) & 0xff);
    return std::make_pair(labels, images);
  };
  for (auto [flags, shape, n, r, c] : {std::tuple{0, 0, 3, 28, 28}, std::tuple{2, 2, 4, 28, 28},
                                       std::tuple{4, 4, 5, 3, 4}, std::tuple{1, 1, 2, 8, 8}}) {
    auto [labels, images] = idx(n, r, c);
    put("idx", "idx-" + std::to_string(flags) + "-" + std::to_string(r) + "x" + std::to_string(c),
        std::string{static_cast<char>(flags), static_cast<char>(shape)} + le(labels.size(), 2) + labels + images);
  }
  // CIFAR: [flags][shape][u16 meta length][meta][records]
  std::string records;
  for (int r = 0; r < 2; ++r) {
    records += static_cast<char>(r * 3 + 3);
    for (int i = 0; i < 3072; ++i) records += static_cast<char>((i + r) & 0xff);
  }
  const std::string meta = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
  put("cifar", "plain", std::string{0, 1} + le(0, 2) + records);
  put("cifar", "meta", std::string{3, 0} + le(meta.size(), 2) + meta + records);
  // Images: [extension index][shape][file]
  std::vector<unsigned char> rgb(6 * 5 * 3), grey(4 * 4);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<unsigned char>(i * 11);
  for (size_t i = 0; i < grey.size(); ++i) grey[i] = static_cast<unsigned char>(i * 16);
  auto sink = [](void* ctx, void* data, int n) { static_cast<std::string*>(ctx)->append(static_cast<char*>(data), n); };
  std::string png, png_grey, bmp, tga, jpg;
  stbi_write_png_to_func(sink, &png, 6, 5, 3, rgb.data(), 6 * 3);
  stbi_write_png_to_func(sink, &png_grey, 4, 4, 1, grey.data(), 4);
  stbi_write_bmp_to_func(sink, &bmp, 6, 5, 3, rgb.data());
  stbi_write_tga_to_func(sink, &tga, 4, 4, 1, grey.data());
  stbi_write_jpg_to_func(sink, &jpg, 6, 5, 3, rgb.data(), 90);
  put("image", "rgb.png", std::string{0, 1} + png);
  put("image", "grey.png", std::string{0, 0} + png_grey);
  put("image", "rgb.jpg", std::string{1, 5} + jpg);
  put("image", "rgb.bmp", std::string{2, 2} + bmp);
  put("image", "grey.tga", std::string{4, 4} + tga);
  put("image", "rgb.ppm", std::string{5, 5} + "P6\n6 5\n255\n" + std::string(rgb.begin(), rgb.end()));
  put("image", "grey.pgm", std::string{6, 0} + "P5\n4 4\n255\n" + std::string(grey.begin(), grey.end()));
  // A 1x1 GIF.
  const unsigned char gif[] = {'G',  'I',  'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0,    0, 0, 0xff, 0xff,
                               0xff, 0x2c, 0,   0,   0,   0,   1, 0, 1, 0, 0,    2, 2, 0x44, 1, 0, 0x3b};
  put("image", "one.gif", std::string{3, 0} + std::string(reinterpret_cast<const char*>(gif), sizeof gif));
}

void http_inputs() {
  put("route", "package", le(1000, 8) + "GET /api/v1/models/fmnist/versions/current/package\nbytes=0-99");
  put("route", "contributions", le(50, 8) + "POST /api/v1/models/f%2Dmnist/contributions\n");
  put("route", "key", le(0, 8) + "DELETE /api/v1/keys/org-1?x=1\nbytes=-10");
  put("route", "static", le(7, 8) + "GET /static/app.js\nbytes=5-");
  put("route", "policy", le(7, 8) + "PATCH /api/v1/models/m/policy\n");
  put("http_head", "get-range",
      std::string("GET /api/v1/models/fmnist/versions/3/package HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                  "Authorization: Bearer fh_abc\r\nRange: bytes=100-199\r\n\r\n"));
  put("http_head", "post-chunked",
      std::string("POST /api/v1/models/fmnist/contributions HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Type: application/octet-stream\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
  put("http_head", "patch-length",
      std::string(
          "PATCH /api/v1/models/m/policy HTTP/1.1\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"k\": 3}\n"));
  put("http_head", "http10", std::string("GET /metrics HTTP/1.0\r\n\r\n"));
}

void scenarios() {
  put("scenario", "files.json",
      std::string(R"({"name":"tiny","model":{"architecture":"arch.json","labels":"labels.txt","recipe":"recipe.json"},
 "data":{"train":{"source":"idx:/nonexistent/train"}},
 "participants":[{"name":"org","count":2,"data":"train","partition":{"kind":"iid"}}],
 "run":{"rounds":2}})"));
  put("scenario", "quick.json", std::string(R"({"name":"quick","description":"three participants",
 "model":{"architecture":{"input":[28,28,1],"layers":[{"type":"flatten"},{"type":"dense","units":32,"activation":"relu"},{"type":"dense","units":10}]},
  "labels":["T-shirt/top","Trouser","Pullover","Dress","Coat","Sandal","Shirt","Sneaker","Bag","Ankle boot"],
  "recipe":{"optimizer":{"name":"adam","learning_rate":0.001},"batch_size":32,"steps":50,"samples_per_round":1600},"init_seed":1},
 "data":{"train":{"source":"idx:/usr/share/datasets/fashion-mnist/train","labels_file":"labels.txt"},
         "test":{"source":"idx:/usr/share/datasets/fashion-mnist/t10k"}},
 "participants":[{"name":"org","count":3,"data":"train","partition":{"kind":"dirichlet","alpha":0.5,"samples":6000},
   "speed":1,"speed_max":4,"jitter":0.1,"dropout":0.1,"behaviour":"noise","noise":0.5}],
 "merge":{"policy":{"merge":"buffered","k":2,"staleness":{"kind":"polynomial","a":0.5,"max_staleness":8}},"min_contributions":2,"merge_at":0},
 "run":{"rounds":10,"virtual_seconds":0,"seconds_per_step":0.05,"seed":1,"trainers":1},
 "evaluation":[{"name":"fashion-mnist","data":"test"}],
 "baseline":"centralized",
 "variants":[{"name":"fedbuff","merge":{"policy":{"merge":"buffered","k":3}}}],
 "target_accuracy":0.7})"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_corpus OUT\n");
    return 2;
  }
  try {
    out_root = argv[1];
    messages();
    documents();
    datasets_inputs();
    http_inputs();
    scenarios();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_make_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}

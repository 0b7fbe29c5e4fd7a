// formats/onnx_import and onnx_export (issue 13, items 2, 4 and 6, ONNX):
// graphs as PyTorch exports them (Conv with pads, Relu, MaxPool, the
// Shape/Gather/Unsqueeze/Concat/Reshape of x.view(x.size(0), -1), Flatten,
// Gemm, MatMul + Add, Dropout, Identity, a final Softmax) read into fedhub's
// architecture and weights; the export read back to the same architecture
// and bit-identical weights; and every refusal, naming what is wrong.
#include <onnx/onnx_pb.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>

#include "formats/onnx_export.hpp"
#include "formats/onnx_import.hpp"
#include "model/architecture.hpp"

using namespace fedhub;
using namespace fedhub::formats;

namespace {

std::string refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("unexpected exception type: ") + e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) {
  if (s.find(part) != std::string::npos) return true;
  BOOST_TEST_MESSAGE("the message: " << s);
  return false;
}

// Values 0.01 * (seed + i) with alternating signs: distinct, so that a
// misplaced one shows.
std::vector<float> ramp(size_t n, int seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = 0.01f * static_cast<float>(seed + static_cast<int>(i)) * (i % 2 ? -1.f : 1.f);
  return v;
}

struct Graph {
  onnx::ModelProto m;
  onnx::GraphProto* g;

  explicit Graph(int64_t opset = 13) {
    m.set_ir_version(8);
    auto* o = m.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    g = m.mutable_graph();
    g->set_name("test");
  }
  void input(const std::string& name, const std::vector<int64_t>& dims, bool symbolic_batch = true) {
    auto* v = g->add_input();
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (size_t i = 0; i < dims.size(); ++i) {
      auto* d = t->mutable_shape()->add_dim();
      if (i == 0 && symbolic_batch)
        d->set_dim_param("batch");
      else
        d->set_dim_value(dims[i]);
    }
  }
  onnx::TensorProto* init(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
    return t;
  }
  // A float initializer of `dims` with ramp values.
  std::vector<float> weight(const std::string& name, const std::vector<int64_t>& dims, int seed) {
    const auto n = std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>());
    auto v = ramp(static_cast<size_t>(n), seed);
    init(name, dims, v);
    return v;
  }
  void ints(const std::string& name, const std::vector<int64_t>& v, bool scalar = false) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    if (!scalar) t->add_dims(static_cast<int64_t>(v.size()));
    for (auto x : v) t->add_int64_data(x);
  }
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out,
                        const std::string& name = "") {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? "/" + op + "_" + std::to_string(g->node_size()) : name);
    for (const auto& i : in) n->add_input(i);
    for (const auto& o : out) n->add_output(o);
    return n;
  }
  static void attr(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  void output(const std::string& name) {
    auto* v = g->add_output();
    v->set_name(name);
    v->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  }
  Buffer bytes() const {
    std::string s;
    m.SerializeToString(&s);
    return Buffer(s.begin(), s.end());
  }
  OnnxImport read() const { return read_onnx(bytes(), "m.onnx"); }
};

// What PyTorch 1.13 exports for
//   conv = Conv2d(1, 4, 3, padding=1); pool = MaxPool2d(2);
//   fc = Linear(4*3*3, 5); out = Linear(5, 3)
//   x = pool(relu(conv(x))); x = x.view(x.size(0), -1); out(relu(fc(x)))
// on a [N, 1, 6, 6] input, with the weights of `w`.
struct TorchCnn {
  Graph g;
  std::vector<float> conv_w, conv_b, fc_w, fc_b, out_w, out_b;
  TorchCnn() {
    g.input("input", {1, 1, 6, 6});
    conv_w = g.weight("conv.weight", {4, 1, 3, 3}, 1);
    conv_b = g.weight("conv.bias", {4}, 2);
    fc_w = g.weight("fc.weight", {5, 36}, 3);
    fc_b = g.weight("fc.bias", {5}, 4);
    out_w = g.weight("out.weight", {3, 5}, 5);
    out_b = g.weight("out.bias", {3}, 6);
    auto* c = g.node("Conv", {"input", "conv.weight", "conv.bias"}, {"c"}, "/conv/Conv");
    Graph::attr(c, "dilations", std::vector<int64_t>{1, 1});
    Graph::attr(c, "group", int64_t{1});
    Graph::attr(c, "kernel_shape", std::vector<int64_t>{3, 3});
    Graph::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
    Graph::attr(c, "strides", std::vector<int64_t>{1, 1});
    g.node("Relu", {"c"}, {"r"}, "/Relu");
    auto* p = g.node("MaxPool", {"r"}, {"p"}, "/pool/MaxPool");
    Graph::attr(p, "ceil_mode", int64_t{0});
    Graph::attr(p, "kernel_shape", std::vector<int64_t>{2, 2});
    Graph::attr(p, "pads", std::vector<int64_t>{0, 0, 0, 0});
    Graph::attr(p, "strides", std::vector<int64_t>{2, 2});
    // x.view(x.size(0), -1)
    g.node("Shape", {"p"}, {"shape"}, "/Shape");
    auto* k0 = g.node("Constant", {}, {"zero"}, "/Constant");
    auto* a = k0->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::INT64);
    a->mutable_t()->add_int64_data(0);
    g.node("Gather", {"shape", "zero"}, {"n"}, "/Gather");
    g.ints("axes0", {0});
    g.node("Unsqueeze", {"n", "axes0"}, {"n1"}, "/Unsqueeze");
    g.ints("minus1", {-1});
    g.node("Concat", {"n1", "minus1"}, {"target"}, "/Concat");
    g.node("Reshape", {"p", "target"}, {"flat"}, "/Reshape");
    auto* f = g.node("Gemm", {"flat", "fc.weight", "fc.bias"}, {"h"}, "/fc/Gemm");
    Graph::attr(f, "transB", int64_t{1});
    g.node("Relu", {"h"}, {"h1"}, "/Relu_1");
    auto* o = g.node("Gemm", {"h1", "out.weight", "out.bias"}, {"logits"}, "/out/Gemm");
    Graph::attr(o, "transB", int64_t{1});
    g.output("logits");
  }
};

// The refusal of TorchCnn with one attribute of its Conv changed to
// `values` ("1,1,0,0"). (Given as text: g++ 12 at -O3 -march=native built
// std::vector<int64_t>{1, 1, 0, 0} as {1, 1, 1, 1} in the test case that
// called this with a braced list.)
std::string conv_attr(const std::string& name, const std::string& values) {
  std::vector<int64_t> v;
  for (size_t at = 0; at < values.size();) {
    size_t end = values.find(',', at);
    if (end == std::string::npos) end = values.size();
    v.push_back(std::stoll(values.substr(at, end - at)));
    at = end + 1;
  }
  TorchCnn t;
  auto* n = t.g.g->mutable_node(0);
  for (auto& a : *n->mutable_attribute()) {
    if (a.name() != name) continue;
    if (a.type() == onnx::AttributeProto::INT) {
      a.set_i(v[0]);
    } else {
      a.mutable_ints()->Clear();
      for (auto x : v) a.add_ints(x);
    }
  }
  return refusal([&] { t.g.read(); });
}

const Tensor& named(const Weights& w, const std::string& name) {
  for (const auto& t : w)
    if (t.name == name) return t;
  throw std::runtime_error("no tensor " + name);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(onnx_models)

BOOST_AUTO_TEST_CASE(a_pytorch_cnn_becomes_the_architecture_and_its_weights) {
  TorchCnn t;
  const auto r = t.g.read();
  const auto arch = parse_architecture(r.architecture_json);
  BOOST_TEST((arch.input == std::vector<int64_t>{6, 6, 1}));
  BOOST_REQUIRE(arch.layers.size() == 5u);
  BOOST_TEST(arch.layers[0].name == "conv");
  BOOST_TEST((arch.layers[0].padding == Padding::same));
  BOOST_TEST((arch.layers[0].activation == Activation::relu));  // the Relu folded in
  BOOST_TEST((arch.layers[1].type == LayerType::maxpool2d));
  BOOST_TEST((arch.layers[1].output_shape == std::vector<int64_t>{3, 3, 4}));
  BOOST_TEST((arch.layers[2].type == LayerType::flatten));
  BOOST_TEST(arch.layers[3].name == "fc");
  BOOST_TEST((arch.layers[3].activation == Activation::relu));
  BOOST_TEST(arch.layers[4].name == "out");
  BOOST_TEST((arch.layers[4].activation == Activation::linear));
  BOOST_REQUIRE(r.weights.size() == 6u);
  // conv: OIHW [4,1,3,3] -> [3,3,1,4]
  const auto& ck = named(r.weights, "conv/kernel");
  BOOST_TEST((ck.shape == std::vector<int64_t>{3, 3, 1, 4}));
  for (int o = 0; o < 4; ++o)
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b)
        BOOST_TEST(ck.values[static_cast<size_t>((a * 3 + b) * 4 + o)] ==
                   t.conv_w[static_cast<size_t>((o * 3 + a) * 3 + b)]);
  BOOST_TEST(named(r.weights, "conv/bias").values == t.conv_b);
  // fc: [5, 36] with columns (c, h, w) -> [36, 5] with rows (h, w, c)
  const auto& fk = named(r.weights, "fc/kernel");
  BOOST_TEST((fk.shape == std::vector<int64_t>{36, 5}));
  for (int o = 0; o < 5; ++o)
    for (int c = 0; c < 4; ++c)
      for (int h = 0; h < 3; ++h)
        for (int w = 0; w < 3; ++w)
          BOOST_TEST(fk.values[static_cast<size_t>(((h * 3 + w) * 4 + c) * 5 + o)] ==
                     t.fc_w[static_cast<size_t>(o * 36 + (c * 3 + h) * 3 + w)]);
  // out: [3, 5] -> [5, 3], no reordering (not after a flatten)
  const auto& ok = named(r.weights, "out/kernel");
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 5; ++i)
      BOOST_TEST(ok.values[static_cast<size_t>(i * 3 + o)] == t.out_w[static_cast<size_t>(o * 5 + i)]);
  BOOST_TEST(!r.notes.empty());
}

BOOST_AUTO_TEST_CASE(flatten_matmul_add_dropout_identity_and_a_final_softmax) {
  Graph g(11);                               // Unsqueeze axes and Dropout ratio as attributes before opsets 13 and 12
  g.input("x", {1, 2, 4, 4}, false);         // a fixed batch of 1
  const auto w = g.weight("m", {32, 3}, 1);  // MatMul's [in, out]
  const auto b = g.weight("b", {3}, 2);
  auto* f = g.node("Flatten", {"x"}, {"f"});
  Graph::attr(f, "axis", int64_t{1});
  auto* d = g.node("Dropout", {"f"}, {"d"});
  auto* ra = d->add_attribute();
  ra->set_name("ratio");
  ra->set_type(onnx::AttributeProto::FLOAT);
  ra->set_f(0.25f);
  g.node("Identity", {"d"}, {"i"});
  g.node("MatMul", {"i", "m"}, {"mm"});  // still reads (c, h, w) after the dropout

  g.node("Add", {"mm", "b"}, {"a"});
  g.node("Softmax", {"a"}, {"y"});
  g.output("y");
  const auto r = g.read();
  const auto arch = parse_architecture(r.architecture_json);
  BOOST_TEST((arch.input == std::vector<int64_t>{4, 4, 2}));
  BOOST_REQUIRE(arch.layers.size() == 3u);
  BOOST_TEST((arch.layers[0].type == LayerType::flatten));
  BOOST_TEST((arch.layers[1].type == LayerType::dropout));
  BOOST_TEST(arch.layers[1].rate == 0.25);
  BOOST_TEST((arch.layers[2].type == LayerType::dense));
  BOOST_TEST((arch.layers[2].activation == Activation::softmax));
  BOOST_TEST(arch.layers[2].name == "dense");  // "m" does not end in .weight
  const auto& k = named(r.weights, "dense/kernel");
  BOOST_TEST((k.shape == std::vector<int64_t>{32, 3}));
  for (int o = 0; o < 3; ++o)
    for (int c = 0; c < 2; ++c)
      for (int h = 0; h < 4; ++h)
        for (int x = 0; x < 4; ++x)
          BOOST_TEST(k.values[static_cast<size_t>(((h * 4 + x) * 2 + c) * 3 + o)] ==
                     w[static_cast<size_t>(((c * 4 + h) * 4 + x) * 3 + o)]);
  BOOST_TEST(named(r.weights, "dense/bias").values == b);
}

BOOST_AUTO_TEST_CASE(the_export_reads_back_to_the_same_architecture_and_weights) {
  const std::string text =
      R"({"input":[9,7,3],"layers":[
      {"type":"conv2d","name":"c1","filters":4,"kernel_size":3,"strides":2,"padding":"same","activation":"relu"},
      {"type":"conv2d","filters":5,"kernel_size":[2,3],"use_bias":false},
      {"type":"maxpool2d","pool_size":2,"strides":1},
      {"type":"relu"},{"type":"flatten"},{"type":"dropout","rate":0.5},{"type":"relu"},
      {"type":"dense","name":"d","units":6,"activation":"relu"},{"type":"dense","units":4,"use_bias":false,"activation":"softmax"}]})";
  for (const std::string& t :
       {text, std::string(R"({"input":[12],"layers":[{"type":"dense","units":3}]})"),
        std::string(R"({"input":[12],"layers":[{"type":"flatten"},{"type":"dense","units":3}]})")}) {
    const auto arch = parse_architecture(t);
    Weights w;
    int seed = 1;
    for (const auto& s : arch.parameters()) {
      const auto n = static_cast<size_t>(element_count(s.shape));
      w.push_back({s.name, s.shape, ramp(n, seed++)});
    }
    const Buffer file = write_onnx(arch, w, {"m", 3, {"a", "b", "c", "d"}});
    onnx::ModelProto m;
    BOOST_REQUIRE(m.ParseFromArray(file.data(), static_cast<int>(file.size())));
    BOOST_TEST(m.opset_import(0).version() == 13);
    BOOST_TEST(m.graph().output(0).name() == "logits");
    if (arch.layers.size() > 5) {                    // the dense after flatten, dropout and relu reads (c, h, w)
      const auto& hwc = arch.layers[4].input_shape;  // the flatten's [h, w, c]: [3, 1, 5]
      BOOST_REQUIRE(hwc.size() == 3u);
      const int64_t H = hwc[0], W = hwc[1], C = hwc[2], in = H * W * C;
      const onnx::TensorProto* t = nullptr;
      for (const auto& i : m.graph().initializer())
        if (i.name() == "d.weight") t = &i;
      BOOST_REQUIRE(t);
      std::vector<float> onnx_w(static_cast<size_t>(6 * in));
      BOOST_REQUIRE(t->raw_data().size() == onnx_w.size() * 4);
      std::memcpy(onnx_w.data(), t->raw_data().data(), onnx_w.size() * 4);
      const auto& ours = named(w, "d/kernel").values;  // [in, 6]
      for (int64_t o = 0; o < 6; ++o)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t h = 0; h < H; ++h)
            for (int64_t x = 0; x < W; ++x)
              BOOST_TEST(onnx_w[static_cast<size_t>(o * in + (c * H + h) * W + x)] ==
                         ours[static_cast<size_t>(((h * W + x) * C + c) * 6 + o)]);
    }
    const auto back = read_onnx(file, "m.onnx");
    BOOST_TEST(back.architecture_json == arch.to_json());
    BOOST_REQUIRE(back.weights.size() == w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      BOOST_TEST(back.weights[i].name == w[i].name);
      BOOST_TEST(back.weights[i].shape == w[i].shape);
      BOOST_TEST(std::memcmp(back.weights[i].values.data(), w[i].values.data(), w[i].values.size() * 4) == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(ops_and_attributes_fedhub_does_not_train_are_refused_by_node) {
  {
    TorchCnn t;
    t.g.g->mutable_node(1)->set_op_type("Sigmoid");
    BOOST_TEST(
        has(refusal([&] { t.g.read(); }), "node 1 '/Relu' (Sigmoid): 'Sigmoid' is not an operation fedhub trains"));
  }
  const auto pads_1100 = conv_attr("pads", "1,1,0,0"), pads_2222 = conv_attr("pads", "2,2,2,2");
  const auto group_2 = conv_attr("group", "2"), dilations_2 = conv_attr("dilations", "2,2");
  BOOST_TEST(has(pads_1100, "pads [1,1,0,0] are neither 0 (Keras's 'valid') nor Keras's 'same'"));
  BOOST_TEST(has(pads_2222, "which is [1,1,1,1] [top, left, bottom, right]"));
  BOOST_TEST(has(group_2, "node 0 '/conv/Conv' (Conv): group 2"));
  BOOST_TEST(has(dilations_2, "dilations [2,2]"));
  {
    TorchCnn t;
    for (auto& a : *t.g.g->mutable_node(2)->mutable_attribute())
      if (a.name() == "ceil_mode") a.set_i(1);
    BOOST_TEST(has(refusal([&] { t.g.read(); }), "(MaxPool): ceil_mode 1"));
  }
  {  // strides 2 with pads 1 on 6x6: Keras's same is [0,0,1,1]
    TorchCnn t;
    for (auto& a : *t.g.g->mutable_node(0)->mutable_attribute())
      if (a.name() == "strides") a.set_ints(0, 2), a.set_ints(1, 2);
    BOOST_TEST(has(refusal([&] { t.g.read(); }), "which is [0,0,1,1]"));
  }
  {  // a Reshape that is no flatten
    TorchCnn t;
    t.g.g->mutable_initializer(7)->set_int64_data(0, 12);  // minus1 -> 12: [N, 12]
    BOOST_TEST(has(refusal([&] { t.g.read(); }), "(Reshape): reshapes [N,4,3,3] to [N,12]"));
  }
  {  // a Softmax in the middle
    Graph g;
    g.input("x", {1, 4});
    g.weight("a.weight", {3, 4}, 1);
    g.weight("b.weight", {2, 3}, 1);
    Graph::attr(g.node("Gemm", {"x", "a.weight"}, {"h"}), "transB", int64_t{1});
    g.node("Softmax", {"h"}, {"s"});
    Graph::attr(g.node("Gemm", {"s", "b.weight"}, {"y"}, "last"), "transB", int64_t{1});
    g.output("y");
    BOOST_TEST(has(refusal([&] { g.read(); }), "node 2 'last' (Gemm): comes after the final Softmax"));
  }
  {  // an operator of another domain
    TorchCnn t;
    t.g.g->mutable_node(1)->set_domain("com.microsoft");
    BOOST_TEST(has(refusal([&] { t.g.read(); }), "operator domain 'com.microsoft'"));
  }
}

BOOST_AUTO_TEST_CASE(graphs_out_of_order_with_cycles_or_branches_are_refused) {
  {  // the Relu moved before the Conv that feeds it
    TorchCnn t;
    t.g.g->mutable_node()->SwapElements(0, 1);
    BOOST_TEST(has(refusal([&] { t.g.read(); }),
                   "node 0 '/Relu' (Relu): reads 'c', which no earlier node, initializer or graph input produces"));
  }
  {  // a cycle: the Conv reads the Relu's output
    TorchCnn t;
    t.g.g->mutable_node(0)->set_input(0, "r");
    BOOST_TEST(has(refusal([&] { t.g.read(); }), "node 0 '/conv/Conv' (Conv): reads 'r', which no earlier node"));
  }
  {  // a skip connection: the pool reads the conv's output, skipping the Relu
    TorchCnn t;
    t.g.g->mutable_node(2)->set_input(0, "c");
    BOOST_TEST(has(refusal([&] { t.g.read(); }), "reads 'c', but the layer before wrote 'r'"));
  }
  {  // a value written twice
    TorchCnn t;
    t.g.g->mutable_node(1)->set_output(0, "c");
    BOOST_TEST(has(refusal([&] { t.g.read(); }), "writes 'c', which node 0 '/conv/Conv' (Conv) already produced"));
  }
  {  // a node without its inputs (found by fuzz_onnx: regressions/onnx/node-without-inputs)
    TorchCnn t;
    t.g.g->mutable_node(3)->clear_input();
    BOOST_TEST(has(refusal([&] { t.g.read(); }), "node 3 '/Shape' (Shape): has no input 0"));
    TorchCnn i;
    i.g.g->mutable_node(1)->set_op_type("Identity");
    i.g.g->mutable_node(1)->clear_input();
    BOOST_TEST(has(refusal([&] { i.g.read(); }), "node 1 '/Relu' (Identity): has no input 0"));
  }
  {  // two outputs
    TorchCnn t;
    t.g.output("h");
    BOOST_TEST(has(refusal([&] { t.g.read(); }), "the graph has 2 outputs"));
  }
  {  // one weight shared by two layers
    Graph g;
    g.input("x", {1, 4});
    g.weight("a.weight", {4, 4}, 1);
    g.node("Gemm", {"x", "a.weight"}, {"h"});
    g.node("Gemm", {"h", "a.weight"}, {"y"}, "second");
    g.output("y");
    BOOST_TEST(
        has(refusal([&] { g.read(); }), "node 1 'second' (Gemm): its weight 'a.weight' is used by another layer"));
  }
}

BOOST_AUTO_TEST_CASE(hostile_files_are_refused_before_anything_big_is_allocated) {
  TorchCnn t;
  const Buffer good = t.g.bytes();
  BOOST_TEST(has(refusal([&] { read_onnx(Buffer(good.begin(), good.begin() + good.size() / 2), "m.onnx"); }),
                 "m.onnx (onnx): not an ONNX model"));
  BOOST_TEST(has(refusal([] { read_onnx(Buffer{'\xff', '\xff', '\xff', '\xff'}, "m.onnx"); }), "not an ONNX model"));
  BOOST_TEST(has(refusal([] { read_onnx(Buffer{}, "m.onnx"); }), "not an ONNX model"));
  {  // dims whose product overflows 64 bits, in a 144-byte raw_data
    TorchCnn h;
    auto* w = h.g.g->mutable_initializer(0);
    w->set_dims(0, int64_t{1} << 40);
    w->set_dims(1, int64_t{1} << 40);
    BOOST_TEST(
        has(refusal([&] { h.g.read(); }),
            "initializer 'conv.weight' [1099511627776,1099511627776,3,3] declares more values than its file holds"));
  }
  {  // more values declared than raw_data holds, and fewer
    TorchCnn h;
    h.g.g->mutable_initializer(0)->set_dims(0, 5);
    BOOST_TEST(has(refusal([&] { h.g.read(); }), "'conv.weight' [5,1,3,3] declares more values than its file holds"));
    h.g.g->mutable_initializer(0)->set_dims(0, 3);
    BOOST_TEST(has(refusal([&] { h.g.read(); }), "declares 27 values of FLOAT but holds 144 bytes of raw_data"));
    h.g.g->mutable_initializer(0)->set_dims(0, -4);
    BOOST_TEST(has(refusal([&] { h.g.read(); }), "negative dimension -4"));
  }
  {  // weights in an external file
    TorchCnn h;
    auto* w = h.g.g->mutable_initializer(2);
    w->clear_raw_data();
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    auto* e = w->add_external_data();
    e->set_key("location");
    e->set_value("weights.bin");
    BOOST_TEST(has(refusal([&] { h.g.read(); }),
                   "initializer 'fc.weight' keeps its data in an external file ('weights.bin')"));
  }
  {  // a non-finite weight
    TorchCnn h;
    std::string raw = h.g.g->initializer(1).raw_data();
    const float inf = INFINITY;
    std::memcpy(raw.data(), &inf, 4);
    h.g.g->mutable_initializer(1)->set_raw_data(raw);
    BOOST_TEST(has(refusal([&] { h.g.read(); }), "conv.bias"));
  }
  {  // an input of unknown size, and one of another rank
    Graph g;
    g.input("x", {1, 3, 0, 4});
    g.weight("a.weight", {2, 4}, 1);
    g.node("Gemm", {"x", "a.weight"}, {"y"});
    g.output("y");
    BOOST_TEST(has(refusal([&] { g.read(); }), "graph input 'x' is [batch,3,0,4]: every dimension but the batch"));
    Graph huge;  // 2^72 values per sample, which a 64-bit product would wrap
    huge.input("x", {1, 1 << 24, 1 << 24, 1 << 24});
    huge.output("x");
    BOOST_TEST(has(refusal([&] { huge.read(); }), "more than 2^32 values per sample"));
    Graph g3;
    g3.input("x", {1, 3, 4});
    g3.output("x");
    BOOST_TEST(has(refusal([&] { g3.read(); }), "fedhub takes images [N, C, H, W] or vectors [N, D]"));
  }
  {  // a graph without layers
    Graph g;
    g.input("x", {1, 4});
    g.output("x");
    BOOST_TEST(has(refusal([&] { g.read(); }), "no layers fedhub trains"));
  }
}

BOOST_AUTO_TEST_SUITE_END()

#include "formats/onnx_import.hpp"

#include <onnx/onnx_pb.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>

#include "formats/onnx_tensors.hpp"
#include "formats/weights_matching.hpp"
#include "model/architecture.hpp"

namespace fedhub::formats {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

std::string list_text(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

// One element of a shape computation: a number or the batch size N.
struct Dim {
  bool batch = false;
  int64_t v = 0;
};

std::string dims_text(const std::vector<Dim>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) {
    if (i) s += ',';
    s += d[i].batch ? std::string("N") : std::to_string(d[i].v);
  }
  return s + "]";
}

// What a value of the graph is.
struct Value {
  enum Kind { data, ints, tensor } kind = data;
  // data: the shape of one sample in ONNX's order ([C, H, W] or [D]).
  std::vector<int64_t> shape;
  // ints: a scalar or a 1-D vector of numbers (shape computations).
  bool scalar = false;
  std::vector<Dim> elems;
  // tensor: an initializer or a Constant's float tensor.
  const onnx::TensorProto* proto = nullptr;
  std::string origin;  // the initializer's name (the weights it names)
};

// A layer on its way into the architecture.
struct PendingLayer {
  LayerType type;
  std::string stem;  // the name its weight suggests, or empty
  std::string node;  // the node it comes from, for errors and notes
  Activation activation = Activation::linear;
  int64_t units = 0, filters = 0, kh = 0, kw = 0, sh = 1, sw = 1;
  Padding padding = Padding::valid;
  double rate = 0;
  bool use_bias = false;
  std::vector<int64_t> out_shape;  // ONNX order, one sample
  // PyTorch layout: conv [O, I, kh, kw], dense [out, in] with its input
  // columns already in fedhub's (h, w, c) order.
  Tensor weight, bias;
  std::string data_out;  // the value this layer wrote (for folding a Relu)
};

// The layer name a weight initializer suggests: "conv1.weight" -> "conv1".
std::string weight_stem(const std::string& origin) {
  const std::string tail = ".weight";
  if (origin.size() <= tail.size() || origin.compare(origin.size() - tail.size(), tail.size(), tail) != 0) return "";
  return origin.substr(0, origin.size() - tail.size());
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

class Importer {
 public:
  Importer(const onnx::ModelProto& m, const std::string& path) : model_(m), path_(path) {}

  OnnxImport run();

 private:
  const onnx::ModelProto& model_;
  std::string path_;
  int64_t opset_ = 0;
  std::map<std::string, Value> values_;
  std::map<std::string, std::string> produced_by_;  // value -> node label
  std::set<std::string> used_tensors_;
  std::vector<PendingLayer> layers_;
  std::string current_;  // the data value the last layer wrote
  bool ended_ = false;   // a Softmax was the last layer's activation
  bool batch_fixed_ = false;
  int64_t batch_size_ = 0;
  std::vector<std::string> notes_;
  std::string label_;                   // the node being read
  std::vector<int64_t> input_shape_;    // the graph input's, one sample, ONNX's order
  std::vector<int64_t> flattened_chw_;  // [C, H, W] of the last flatten of an image, until a dense reads it

  [[noreturn]] void node_fail(const std::string& what) const { fail(label_ + ": " + what); }

  int64_t int_attr(const onnx::NodeProto& n, const std::string& name, int64_t def) const {
    const auto* a = find_attr(n, name);
    if (!a) return def;
    if (a->type() != onnx::AttributeProto::INT) node_fail("attribute '" + name + "' is not an integer");
    return a->i();
  }
  float float_attr(const onnx::NodeProto& n, const std::string& name, float def) const {
    const auto* a = find_attr(n, name);
    if (!a) return def;
    if (a->type() != onnx::AttributeProto::FLOAT) node_fail("attribute '" + name + "' is not a float");
    return a->f();
  }
  std::optional<std::vector<int64_t>> ints_attr(const onnx::NodeProto& n, const std::string& name) const {
    const auto* a = find_attr(n, name);
    if (!a) return std::nullopt;
    if (a->type() != onnx::AttributeProto::INTS) node_fail("attribute '" + name + "' is not a list of integers");
    return std::vector<int64_t>(a->ints().begin(), a->ints().end());
  }
  std::string string_attr(const onnx::NodeProto& n, const std::string& name, const std::string& def) const {
    const auto* a = find_attr(n, name);
    if (!a) return def;
    if (a->type() != onnx::AttributeProto::STRING) node_fail("attribute '" + name + "' is not a string");
    return a->s();
  }
  void only_attrs(const onnx::NodeProto& n, const std::set<std::string>& known) const {
    for (const auto& a : n.attribute())
      if (!known.count(a.name())) node_fail("attribute '" + a.name() + "' is not one fedhub knows for this op");
  }

  const Value& input(const onnx::NodeProto& n, int i) const {
    if (!has_input(n, i)) node_fail("has no input " + std::to_string(i));
    return values_.at(n.input(i));
  }
  bool has_input(const onnx::NodeProto& n, int i) const { return n.input_size() > i && !n.input(i).empty(); }

  // The data value a layer reads: it must be the one the layer before wrote.
  const Value& data_input(const onnx::NodeProto& n, int i = 0) const {
    if (!has_input(n, i)) node_fail("has no input " + std::to_string(i));
    const Value& v = input(n, i);
    if (v.kind != Value::data)
      node_fail("input '" + n.input(i) + "' is a constant, not the data flowing through the network");
    if (n.input(i) != current_)
      node_fail("reads '" + n.input(i) + "', but the layer before wrote '" + current_ +
                "': fedhub takes networks that are one chain of layers, without branches or skips");
    if (ended_) node_fail("comes after the final Softmax: a Softmax is only read as the last operation");
    return v;
  }

  // An initializer (or Constant) used as a layer's weight.
  const Value& tensor_input(const onnx::NodeProto& n, int i, const std::string& role) {
    if (!has_input(n, i)) node_fail("has no " + role);
    const Value& v = input(n, i);
    if (v.kind != Value::tensor || v.proto->data_type() == onnx::TensorProto::INT64 ||
        v.proto->data_type() == onnx::TensorProto::INT32)
      node_fail("its " + role + " '" + n.input(i) +
                "' is not a float initializer: fedhub reads weights stored in the file, not computed ones");
    if (!v.origin.empty() && !used_tensors_.insert(v.origin).second)
      node_fail("its " + role + " '" + v.origin + "' is used by another layer too: fedhub trains each layer's own");
    return v;
  }

  std::vector<int64_t> dims_of(const Value& v) const {
    return std::vector<int64_t>(v.proto->dims().begin(), v.proto->dims().end());
  }

  Tensor float_tensor(const Value& v, const std::string& name) const {
    Tensor t;
    t.name = name;
    t.shape = dims_of(v);
    t.values = onnx_float_values(*v.proto, "tensor '" + (v.origin.empty() ? name : v.origin) + "'");
    return t;
  }

  void emit(PendingLayer l, const onnx::NodeProto& n) {
    l.node = label_;
    l.data_out = n.output(0);
    layers_.push_back(std::move(l));
    set_data(n.output(0), layers_.back().out_shape);
  }
  void set_data(const std::string& name, std::vector<int64_t> shape) {
    Value v;
    v.kind = Value::data;
    v.shape = std::move(shape);
    values_[name] = std::move(v);
    current_ = name;
  }
  void set_ints(const std::string& name, bool scalar, std::vector<Dim> elems) {
    Value v;
    v.kind = Value::ints;
    v.scalar = scalar;
    v.elems = std::move(elems);
    values_[name] = std::move(v);
  }
  const Value& ints_input(const onnx::NodeProto& n, int i) const {
    if (!has_input(n, i)) node_fail("has no input " + std::to_string(i));
    const Value& v = input(n, i);
    if (v.kind != Value::ints)
      node_fail("input '" + n.input(i) +
                "' is not a shape computation: fedhub reads this op only in the shape arithmetic of a flatten");
    return v;
  }

  void read_inputs();
  void read_initializers();
  void read_node(const onnx::NodeProto& n);
  void conv(const onnx::NodeProto& n);
  void maxpool(const onnx::NodeProto& n);
  void dense(const onnx::NodeProto& n, bool gemm);
  void bias_add(const onnx::NodeProto& n);
  void flatten(const onnx::NodeProto& n, const Value& in);
  void reshape(const onnx::NodeProto& n);
  void constant(const onnx::NodeProto& n);
  void relu(const onnx::NodeProto& n);
  void dropout(const onnx::NodeProto& n);
  void softmax(const onnx::NodeProto& n);
  OnnxImport finish();

  // (pad_begin, pad_end) of Keras's "same" for one axis.
  static std::pair<int64_t, int64_t> same_pads(int64_t in, int64_t k, int64_t s) {
    const int64_t out = (in + s - 1) / s;
    const int64_t total = std::max<int64_t>((out - 1) * s + k - in, 0);
    return {total / 2, total - total / 2};
  }
};

void Importer::read_initializers() {
  const auto& g = model_.graph();
  if (g.sparse_initializer_size() > 0)
    fail("the graph has sparse initializers ('" + g.sparse_initializer(0).values().name() +
         "'): fedhub reads dense ones only");
  for (const auto& t : g.initializer()) {
    if (t.name().empty()) fail("an initializer has no name");
    const std::string what = "initializer '" + t.name() + "'";
    check_onnx_tensor(t, what);  // external data, dims against the stored bytes, dtype
    if (values_.count(t.name())) fail(what + " appears twice");
    Value v;
    const bool is_int = t.data_type() == onnx::TensorProto::INT64 || t.data_type() == onnx::TensorProto::INT32;
    if (is_int && t.dims_size() <= 1 && onnx_element_count(t) <= 64) {  // a shape constant
      v.kind = Value::ints;
      v.scalar = t.dims_size() == 0;
      for (int64_t x : onnx_int_values(t, what)) v.elems.push_back({false, x});
    } else {
      v.kind = Value::tensor;
      v.proto = &t;
      v.origin = t.name();
    }
    values_[t.name()] = std::move(v);
    produced_by_[t.name()] = what;
  }
}

void Importer::read_inputs() {
  const auto& g = model_.graph();
  const onnx::ValueInfoProto* in = nullptr;
  for (const auto& i : g.input()) {
    if (values_.count(i.name())) continue;  // an initializer listed as an input (older exporters)
    if (in)
      fail("the graph has two inputs, '" + in->name() + "' and '" + i.name() +
           "': fedhub models take one (the images or vectors)");
    in = &i;
  }
  if (!in) fail("the graph has no input");
  const std::string what = "graph input '" + in->name() + "'";
  if (!in->type().has_tensor_type()) fail(what + " is not a tensor");
  const auto& tt = in->type().tensor_type();
  if (tt.elem_type() != onnx::TensorProto::FLOAT)
    fail(what + " is of type " + onnx_type_name(tt.elem_type()) + ": fedhub's inputs are float32");
  if (!tt.has_shape()) fail(what + " has no shape: fedhub needs [N, C, H, W] or [N, D] with C, H, W, D known");
  const auto& shape = tt.shape();
  std::vector<int64_t> dims;
  std::string text = "[";
  for (int i = 0; i < shape.dim_size(); ++i) {
    const auto& d = shape.dim(i);
    text += (i ? "," : "") + (d.has_dim_value()       ? std::to_string(d.dim_value())
                              : d.dim_param().empty() ? "?"
                                                      : d.dim_param());
    if (i == 0) {
      if (d.has_dim_value()) {
        if (d.dim_value() <= 0) fail(what + " has a batch dimension of " + std::to_string(d.dim_value()));
        batch_fixed_ = true;
        batch_size_ = d.dim_value();
      }
      continue;
    }
    if (!d.has_dim_value() || d.dim_value() <= 0 || d.dim_value() > (1 << 24)) {
      dims.push_back(-1);
      continue;
    }
    dims.push_back(d.dim_value());
  }
  text += "]";
  if (shape.dim_size() != 4 && shape.dim_size() != 2)
    fail(what + " is " + text + ": fedhub takes images [N, C, H, W] or vectors [N, D]");
  for (int64_t d : dims)
    if (d < 0) fail(what + " is " + text + ": every dimension but the batch must be a known size from 1 to 16777216");
  uint64_t total = 1;  // each dimension is at most 2^24: no overflow before the check
  for (int64_t d : dims)
    if ((total *= static_cast<uint64_t>(d)) > (1ull << 32))
      fail(what + " is " + text + ": more than 2^32 values per sample");
  input_shape_ = dims;
  set_data(in->name(), dims);
  produced_by_[in->name()] = what;
}

void Importer::constant(const onnx::NodeProto& n) {
  if (n.attribute_size() != 1) node_fail("needs exactly one value attribute");
  const auto& a = n.attribute(0);
  const std::string out = n.output(0);
  if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR) {
    const auto& t = a.t();
    check_onnx_tensor(t, "the value of " + label_);
    if (t.data_type() == onnx::TensorProto::INT64 || t.data_type() == onnx::TensorProto::INT32) {
      if (t.dims_size() > 1 || onnx_element_count(t) > 64)
        node_fail("an integer constant of more than one dimension or 64 values is no shape computation");
      std::vector<Dim> e;
      for (int64_t x : onnx_int_values(t, "the value of " + label_)) e.push_back({false, x});
      set_ints(out, t.dims_size() == 0, std::move(e));
      return;
    }
    Value v;
    v.kind = Value::tensor;
    v.proto = &t;
    v.origin = out;  // a weight of one layer only, as initializers are
    values_[out] = std::move(v);
    return;
  }
  if (a.name() == "value_int" && a.type() == onnx::AttributeProto::INT) return set_ints(out, true, {{false, a.i()}});
  if (a.name() == "value_ints" && a.type() == onnx::AttributeProto::INTS) {
    if (a.ints_size() > 64) node_fail("more than 64 integers is no shape computation");
    std::vector<Dim> e;
    for (int64_t x : a.ints()) e.push_back({false, x});
    return set_ints(out, false, std::move(e));
  }
  node_fail("attribute '" + a.name() + "' is not a constant fedhub reads (value, value_int, value_ints)");
}

void Importer::conv(const onnx::NodeProto& n) {
  only_attrs(n, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"});
  const Value& x = data_input(n);
  if (x.shape.size() != 3)
    node_fail("needs an image [N, C, H, W], got [N," + list_text(x.shape).substr(1) + ": put it before the flatten");
  const Value& wv = tensor_input(n, 1, "weight");
  const auto wd = dims_of(wv);
  if (wd.size() != 4)
    node_fail("weight '" + n.input(1) + "' is " + list_text(wd) +
              ", not 4-D [out, in, kh, kw]: only 2-D convolutions are read");
  const int64_t o = wd[0], c = wd[1], kh = wd[2], kw = wd[3];
  if (int_attr(n, "group", 1) != 1)
    node_fail("group " + std::to_string(int_attr(n, "group", 1)) +
              " (grouped or depthwise convolution) is not one fedhub trains: only group 1");
  if (c != x.shape[0])
    node_fail("weight '" + n.input(1) + "' " + list_text(wd) + " reads " + std::to_string(c) +
              " channels, its input has " + std::to_string(x.shape[0]));
  if (o <= 0 || kh <= 0 || kw <= 0) node_fail("weight '" + n.input(1) + "' is " + list_text(wd));
  if (auto ks = ints_attr(n, "kernel_shape"); ks && *ks != std::vector<int64_t>{kh, kw})
    node_fail("kernel_shape " + list_text(*ks) + " does not match its weight " + list_text(wd));
  if (auto d = ints_attr(n, "dilations"); d && (d->size() != 2 || (*d)[0] != 1 || (*d)[1] != 1))
    node_fail("dilations " + list_text(*d) + " are not ones fedhub trains: only [1,1]");
  const auto strides = ints_attr(n, "strides").value_or(std::vector<int64_t>{1, 1});
  if (strides.size() != 2 || strides[0] <= 0 || strides[1] <= 0 || strides[0] > (1 << 24) || strides[1] > (1 << 24))
    node_fail("strides " + list_text(strides) + " are not two positive numbers");
  const int64_t h = x.shape[1], w = x.shape[2];
  const auto auto_pad = string_attr(n, "auto_pad", "NOTSET");
  std::vector<int64_t> pads;
  const auto [st, sb] = same_pads(h, kh, strides[0]);
  const auto [sl, sr] = same_pads(w, kw, strides[1]);
  if (auto_pad == "NOTSET") {
    pads = ints_attr(n, "pads").value_or(std::vector<int64_t>{0, 0, 0, 0});
    if (pads.size() != 4) node_fail("pads " + list_text(pads) + " are not [top, left, bottom, right]");
  } else if (auto_pad == "VALID") {
    pads = {0, 0, 0, 0};
  } else if (auto_pad == "SAME_UPPER") {
    pads = {st, sl, sb, sr};
  } else {
    node_fail("auto_pad " + auto_pad +
              " is not one fedhub trains: VALID or SAME_UPPER (Keras's 'same'), or explicit pads");
  }
  PendingLayer l;
  l.type = LayerType::conv2d;
  if (pads == std::vector<int64_t>{0, 0, 0, 0}) {
    l.padding = Padding::valid;
  } else if (pads == std::vector<int64_t>{st, sl, sb, sr}) {
    l.padding = Padding::same;
  } else {
    node_fail("pads " + list_text(pads) + " are neither 0 (Keras's 'valid') nor Keras's 'same' for a " +
              std::to_string(h) + "x" + std::to_string(w) + " input, kernel " + std::to_string(kh) + "x" +
              std::to_string(kw) + " and strides " + list_text(strides) + ", which is " + list_text({st, sl, sb, sr}) +
              " [top, left, bottom, right]: fedhub pads only as Keras does (PyTorch's padding=k//2 is 'same' for "
              "stride 1 and odd kernels)");
  }
  const int64_t oh = (h + pads[0] + pads[2] - kh) / strides[0] + 1;
  const int64_t ow = (w + pads[1] + pads[3] - kw) / strides[1] + 1;
  if (h + pads[0] + pads[2] < kh || w + pads[1] + pads[3] < kw || oh <= 0 || ow <= 0)
    node_fail("kernel " + list_text({kh, kw}) + " is larger than its input " + list_text(x.shape));
  l.filters = o;
  l.kh = kh;
  l.kw = kw;
  l.sh = strides[0];
  l.sw = strides[1];
  l.out_shape = {o, oh, ow};
  const std::string& wname = n.input(1);
  l.weight = float_tensor(wv, wname);
  if (has_input(n, 2)) {
    const Value& b = tensor_input(n, 2, "bias");
    if (dims_of(b) != std::vector<int64_t>{o})
      node_fail("bias '" + n.input(2) + "' is " + list_text(dims_of(b)) + ", not [" + std::to_string(o) + "]");
    l.bias = float_tensor(b, n.input(2));
    l.use_bias = true;
  }
  l.stem = weight_stem(wv.origin);
  emit(std::move(l), n);
}

void Importer::maxpool(const onnx::NodeProto& n) {
  only_attrs(n, {"kernel_shape", "strides", "pads", "dilations", "ceil_mode", "auto_pad", "storage_order"});
  const Value& x = data_input(n);
  if (x.shape.size() != 3) node_fail("needs an image [N, C, H, W], got [N," + list_text(x.shape).substr(1));
  if (n.output_size() > 1 && !n.output(1).empty())
    node_fail("its second output (the indices of the maxima) is used: fedhub's max pooling has none");
  const auto k = ints_attr(n, "kernel_shape");
  if (!k || k->size() != 2 || (*k)[0] <= 0 || (*k)[1] <= 0 || (*k)[0] > (1 << 24) || (*k)[1] > (1 << 24))
    node_fail("needs kernel_shape [kh, kw] of two positive numbers");
  const auto s = ints_attr(n, "strides").value_or(std::vector<int64_t>{1, 1});  // ONNX's default, not Keras's
  if (s.size() != 2 || s[0] <= 0 || s[1] <= 0 || s[0] > (1 << 24) || s[1] > (1 << 24))
    node_fail("strides " + list_text(s) + " are not two positive numbers");
  if (int_attr(n, "ceil_mode", 0) != 0)
    node_fail(
        "ceil_mode 1 is not what fedhub does: its pooling drops the rows and columns that do not fill a window "
        "(ceil_mode 0; PyTorch's MaxPool2d(ceil_mode=False))");
  if (auto d = ints_attr(n, "dilations"); d && (d->size() != 2 || (*d)[0] != 1 || (*d)[1] != 1))
    node_fail("dilations " + list_text(*d) + " are not ones fedhub trains: only [1,1]");
  if (int_attr(n, "storage_order", 0) != 0) node_fail("storage_order 1 (column-major indices) is not supported");
  const auto auto_pad = string_attr(n, "auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID")
    node_fail("auto_pad " + auto_pad + ": fedhub's max pooling is unpadded ('valid') only");
  if (auto p = ints_attr(n, "pads"); p && *p != std::vector<int64_t>{0, 0, 0, 0})
    node_fail("pads " + list_text(*p) + ": fedhub's max pooling is unpadded ('valid') only");
  const int64_t h = x.shape[1], w = x.shape[2];
  if (h < (*k)[0] || w < (*k)[1])
    node_fail("pool " + list_text(*k) + " is larger than its input " + list_text(x.shape));
  PendingLayer l;
  l.type = LayerType::maxpool2d;
  l.kh = (*k)[0];
  l.kw = (*k)[1];
  l.sh = s[0];
  l.sw = s[1];
  l.out_shape = {x.shape[0], (h - l.kh) / l.sh + 1, (w - l.kw) / l.sw + 1};
  emit(std::move(l), n);
}

void Importer::flatten(const onnx::NodeProto& n, const Value& in) {
  PendingLayer l;
  l.type = LayerType::flatten;  // also of a flat input, as fedhub's own flatten takes any shape
  l.out_shape = {std::accumulate(in.shape.begin(), in.shape.end(), int64_t{1}, std::multiplies<>())};
  const auto shape = in.shape;
  emit(std::move(l), n);
  if (shape.size() == 3) flattened_chw_ = shape;  // (c, h, w) order until a dense reads them
}

void Importer::reshape(const onnx::NodeProto& n) {
  only_attrs(n, {"allowzero"});
  const Value& x = data_input(n);
  const Value& s = ints_input(n, 1);
  const bool allowzero = int_attr(n, "allowzero", 0) != 0;
  uint64_t per_sample = 1;
  for (int64_t d : x.shape) per_sample *= static_cast<uint64_t>(d);
  const auto& e = s.elems;
  const std::string in_text = "[N," + list_text(x.shape).substr(1);
  auto refuse = [&] {
    node_fail("reshapes " + in_text + " to " + dims_text(e) +
              ": fedhub reads a Reshape only as a flatten to [N, -1] (x.view(x.size(0), -1), torch.flatten(x, 1))");
  };
  if (s.scalar || e.size() != 2) refuse();
  const bool first_is_batch = e[0].batch || (!allowzero && e[0].v == 0) || (batch_fixed_ && e[0].v == batch_size_);
  const bool second_is_rest = !e[1].batch && (e[1].v == -1 || static_cast<uint64_t>(e[1].v) == per_sample);
  const bool rest_then_batch =
      !e[0].batch && e[0].v == -1 && !e[1].batch && static_cast<uint64_t>(e[1].v) == per_sample;
  if (!((first_is_batch && second_is_rest) || rest_then_batch)) refuse();
  flatten(n, x);
}

void Importer::dense(const onnx::NodeProto& n, bool gemm) {
  if (gemm)
    only_attrs(n, {"alpha", "beta", "transA", "transB"});
  else
    only_attrs(n, {});
  const Value& x = data_input(n);
  if (x.shape.size() != 1)
    node_fail("needs a flat input [N, D], got [N," + list_text(x.shape).substr(1) + ": flatten it first");
  const Value& wv = tensor_input(n, 1, "weight");
  const auto wd = dims_of(wv);
  if (wd.size() != 2) node_fail("weight '" + n.input(1) + "' is " + list_text(wd) + ", not 2-D");
  bool trans_b = false;
  if (gemm) {
    if (int_attr(n, "transA", 0) != 0) node_fail("transA 1 is not a layer: the data must be the first operand");
    if (float_attr(n, "alpha", 1.0f) != 1.0f)
      node_fail("alpha other than 1 scales the layer: fedhub's dense has no scale");
    if (has_input(n, 2) && float_attr(n, "beta", 1.0f) != 1.0f)
      node_fail("beta other than 1 scales the bias: fedhub's dense has no scale");
    trans_b = int_attr(n, "transB", 0) != 0;
  }
  const int64_t d = x.shape[0];
  const int64_t in = trans_b ? wd[1] : wd[0], units = trans_b ? wd[0] : wd[1];
  if (in != d)
    node_fail("weight '" + n.input(1) + "' " + list_text(wd) + (trans_b ? " (transB: [out, in])" : " ([in, out])") +
              " reads " + std::to_string(in) + " values, its input has " + std::to_string(d));
  if (units <= 0) node_fail("weight '" + n.input(1) + "' has no outputs");
  PendingLayer l;
  l.type = LayerType::dense;
  l.units = units;
  l.out_shape = {units};
  Tensor w = float_tensor(wv, n.input(1));
  if (!trans_b) {  // [in, out] -> PyTorch's [out, in]
    Tensor t = w;
    t.shape = {units, in};
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < units; ++j)
        t.values[static_cast<size_t>(j * in + i)] = w.values[static_cast<size_t>(i * units + j)];
    w = std::move(t);
  }
  // After a flatten of an image: ONNX's rows are in (c, h, w) order, ours (h, w, c).
  if (!flattened_chw_.empty()) {  // through any relu, dropout or identity since the flatten
    w = reorder_flattened_inputs(w, flattened_chw_[0], flattened_chw_[1], flattened_chw_[2], true);
    flattened_chw_.clear();
  }
  l.weight = std::move(w);
  if (gemm && has_input(n, 2)) {
    const Value& b = tensor_input(n, 2, "bias");
    const auto bd = dims_of(b);
    if (bd != std::vector<int64_t>{units} && bd != std::vector<int64_t>{1, units})
      node_fail("bias '" + n.input(2) + "' is " + list_text(bd) + ", not [" + std::to_string(units) + "]");
    l.bias = float_tensor(b, n.input(2));
    l.bias.shape = {units};
    l.use_bias = true;
  }
  l.stem = weight_stem(wv.origin);
  emit(std::move(l), n);
}

void Importer::bias_add(const onnx::NodeProto& n) {
  only_attrs(n, {});
  if (n.input_size() != 2) node_fail("needs two inputs");
  const int data_at = n.input(0) == current_ ? 0 : 1;
  (void)data_input(n, data_at);
  PendingLayer* last = layers_.empty() ? nullptr : &layers_.back();
  if (!last || last->type != LayerType::dense || last->use_bias || last->data_out != current_ ||
      last->activation != Activation::linear)
    node_fail("an Add is read only as the bias of the MatMul right before it (a dense layer)");
  const Value& b = tensor_input(n, 1 - data_at, "bias");
  const auto bd = dims_of(b);
  if (bd != std::vector<int64_t>{last->units} && bd != std::vector<int64_t>{1, last->units})
    node_fail("bias '" + n.input(1 - data_at) + "' is " + list_text(bd) + ", not [" + std::to_string(last->units) +
              "]");
  last->bias = float_tensor(b, n.input(1 - data_at));
  last->bias.shape = {last->units};
  last->use_bias = true;
  last->data_out = n.output(0);
  set_data(n.output(0), last->out_shape);
}

void Importer::relu(const onnx::NodeProto& n) {
  only_attrs(n, {});
  const Value& x = data_input(n);
  PendingLayer* last = layers_.empty() ? nullptr : &layers_.back();
  if (last && (last->type == LayerType::conv2d || last->type == LayerType::dense) && last->data_out == current_ &&
      last->activation == Activation::linear) {
    last->activation = Activation::relu;
    last->data_out = n.output(0);
    set_data(n.output(0), x.shape);
    return;
  }
  PendingLayer l;
  l.type = LayerType::relu;
  l.out_shape = x.shape;
  emit(std::move(l), n);
}

void Importer::dropout(const onnx::NodeProto& n) {
  only_attrs(n, {"ratio", "seed", "is_test"});
  const Value& x = data_input(n);
  if (n.output_size() > 1 && !n.output(1).empty()) node_fail("its mask output is used: fedhub's dropout has none");
  double rate = float_attr(n, "ratio", 0.5f);
  if (has_input(n, 1)) {
    const Value& r = input(n, 1);
    if (r.kind != Value::tensor || r.proto->dims_size() != 0)
      node_fail("its ratio '" + n.input(1) + "' is not a constant scalar");
    rate = onnx_float_values(*r.proto, "the ratio of " + label_)[0];
  }
  if (has_input(n, 2))
    node_fail("has a training_mode input: fedhub decides when dropout applies (export the model in eval mode)");
  if (!(rate >= 0.0 && rate < 1.0)) node_fail("ratio " + std::to_string(rate) + " is not in [0, 1)");
  PendingLayer l;
  l.type = LayerType::dropout;
  l.rate = rate;
  l.out_shape = x.shape;
  emit(std::move(l), n);
}

void Importer::softmax(const onnx::NodeProto& n) {
  only_attrs(n, {"axis"});
  const Value& x = data_input(n);
  const int64_t axis = int_attr(n, "axis", opset_ >= 13 ? -1 : 1);
  PendingLayer* last = layers_.empty() ? nullptr : &layers_.back();
  if (x.shape.size() != 1 || (axis != 1 && axis != -1))
    node_fail("a Softmax is read only over the logits [N, K] (axis 1) at the end of the network");
  if (!last || last->type != LayerType::dense || last->data_out != current_ || last->activation != Activation::linear)
    node_fail("a Softmax is read only right after the last dense layer (Gemm or MatMul), as its activation");
  last->activation = Activation::softmax;
  last->data_out = n.output(0);
  set_data(n.output(0), x.shape);
  ended_ = true;
  notes_.push_back("the final Softmax is the last layer's 'softmax' activation: fedhub's outputs are its logits");
}

void Importer::read_node(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  if (!n.domain().empty() && n.domain() != "ai.onnx")
    node_fail("its operator domain '" + n.domain() + "' is not ONNX's own: fedhub reads " +
              "Conv, Relu, MaxPool, Flatten, Reshape, Gemm, MatMul, Add, Dropout, Identity and Softmax");
  for (int i = 0; i < n.input_size(); ++i)
    if (!n.input(i).empty() && !values_.count(n.input(i)))
      node_fail("reads '" + n.input(i) +
                "', which no earlier node, initializer or graph input produces: the nodes must be in order and "
                "without cycles");
  if (n.output_size() == 0 || n.output(0).empty()) node_fail("has no output");
  for (const auto& o : n.output())
    if (!o.empty() && produced_by_.count(o))
      node_fail("writes '" + o + "', which " + produced_by_[o] + " already produced");
  if (op == "Conv") {
    conv(n);
  } else if (op == "MaxPool") {
    maxpool(n);
  } else if (op == "Relu") {
    relu(n);
  } else if (op == "Flatten") {
    only_attrs(n, {"axis"});
    const Value& x = data_input(n);
    const int64_t axis = int_attr(n, "axis", 1);
    if (axis != 1 && axis != -static_cast<int64_t>(x.shape.size()))
      node_fail("axis " + std::to_string(axis) + ": fedhub flattens each sample whole (axis 1)");
    flatten(n, x);
  } else if (op == "Reshape") {
    reshape(n);
  } else if (op == "Gemm") {
    dense(n, true);
  } else if (op == "MatMul") {
    dense(n, false);
  } else if (op == "Add") {
    bias_add(n);
  } else if (op == "Dropout") {
    dropout(n);
  } else if (op == "Softmax") {
    softmax(n);
  } else if (op == "Identity") {
    only_attrs(n, {});
    const Value& v = input(n, 0);
    if (v.kind == Value::data) (void)data_input(n);
    const bool was_current = n.input(0) == current_;
    values_[n.output(0)] = values_.at(n.input(0));
    if (was_current) {
      current_ = n.output(0);
      if (!layers_.empty() && layers_.back().data_out == n.input(0)) layers_.back().data_out = n.output(0);
    }
  } else if (op == "Constant") {
    constant(n);
  } else if (op == "Shape") {
    only_attrs(n, {"start", "end"});
    const Value& x = input(n, 0);
    if (x.kind != Value::data)
      node_fail("reads '" + n.input(0) + "', which is not the data flowing through the network");
    std::vector<Dim> d{{true, 0}};
    for (int64_t v : x.shape) d.push_back({false, v});
    const int64_t r = static_cast<int64_t>(d.size());
    int64_t start = int_attr(n, "start", 0), end = int_attr(n, "end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<int64_t>(start, 0, r);
    end = std::clamp<int64_t>(end, 0, r);
    set_ints(n.output(0), false, std::vector<Dim>(d.begin() + start, d.begin() + std::max(start, end)));
  } else if (op == "Gather") {
    only_attrs(n, {"axis"});
    const Value& data = ints_input(n, 0);
    const Value& idx = ints_input(n, 1);
    if (data.scalar || int_attr(n, "axis", 0) != 0) node_fail("reads only a 1-D shape along axis 0");
    std::vector<Dim> out;
    for (const auto& i : idx.elems) {
      int64_t k = i.v;
      const int64_t r = static_cast<int64_t>(data.elems.size());
      if (i.batch || k < -r || k >= r) node_fail("index " + dims_text({i}) + " is outside " + dims_text(data.elems));
      out.push_back(data.elems[static_cast<size_t>(k < 0 ? k + r : k)]);
    }
    set_ints(n.output(0), idx.scalar, std::move(out));
  } else if (op == "Unsqueeze") {
    only_attrs(n, {"axes"});
    const Value& x = ints_input(n, 0);
    std::vector<int64_t> axes;
    if (auto a = ints_attr(n, "axes")) {
      axes = *a;
    } else if (has_input(n, 1)) {
      for (const auto& e : ints_input(n, 1).elems) axes.push_back(e.batch ? 99 : e.v);
    }
    if (!x.scalar || axes.size() != 1 || (axes[0] != 0 && axes[0] != -1))
      node_fail("reads only the unsqueeze of a number into a 1-D shape (axes [0])");
    set_ints(n.output(0), false, x.elems);
  } else if (op == "Concat") {
    only_attrs(n, {"axis"});
    const int64_t axis = int_attr(n, "axis", 0);
    if (axis != 0 && axis != -1) node_fail("reads only 1-D shapes joined along axis 0");
    std::vector<Dim> out;
    for (int i = 0; i < n.input_size(); ++i) {
      const Value& v = ints_input(n, i);
      if (v.scalar) node_fail("input '" + n.input(i) + "' is a scalar, Concat joins 1-D shapes");
      out.insert(out.end(), v.elems.begin(), v.elems.end());
    }
    if (out.size() > 64) node_fail("makes a shape of more than 64 dimensions");
    set_ints(n.output(0), false, std::move(out));
  } else {
    node_fail("'" + op +
              "' is not an operation fedhub trains: it reads Conv, Relu, MaxPool, Flatten, Reshape (a flatten), "
              "Gemm, MatMul + Add, Dropout, Identity and a final Softmax (docs/models.md, ONNX)");
  }
  for (const auto& o : n.output())
    if (!o.empty()) produced_by_[o] = label_;
}

OnnxImport Importer::finish() {
  const auto& g = model_.graph();
  if (g.output_size() != 1)
    fail("the graph has " + std::to_string(g.output_size()) + " outputs: fedhub models have one, the logits");
  if (g.output(0).name() != current_)
    fail("the graph's output '" + g.output(0).name() + "' is not the end of the chain of layers ('" + current_ + "')");
  if (layers_.empty()) fail("the graph has no layers fedhub trains");
  if (values_.at(current_).shape.size() != 1)
    fail("the graph's output '" + current_ + "' is [N," + list_text(values_.at(current_).shape).substr(1) +
         ": fedhub's last layer gives flat logits [N, K]: add a Flatten and a Gemm");

  // Names: a layer with weights after its initializer when that name is
  // plain, otherwise (and for the others) as fedhub names layers.
  static const std::regex plain("[A-Za-z0-9_.\\-]+");
  std::set<std::string> taken;
  std::vector<std::string> names(layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& s = layers_[i].stem;
    if (!s.empty() && std::regex_match(s, plain) && taken.insert(s).second) names[i] = s;
  }
  std::map<std::string, int> counters;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (!names[i].empty()) continue;
    const std::string base = to_string(layers_[i].type);
    std::string name;
    do {
      const int k = counters[base]++;
      name = base + (k ? "_" + std::to_string(k) : "");
    } while (taken.count(name));
    taken.insert(name);
    names[i] = name;
  }

  Architecture draft;  // written out by Architecture::to_json, read back with every shape checked
  if (input_shape_.size() == 3)
    draft.input = {input_shape_[1], input_shape_[2], input_shape_[0]};  // [C, H, W] -> [H, W, C]
  else
    draft.input = input_shape_;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& p = layers_[i];
    Layer l;
    l.type = p.type;
    l.name = names[i];
    l.activation = p.activation;
    l.use_bias = p.use_bias;
    l.units = p.units;
    l.filters = p.filters;
    l.kernel_h = p.kh;
    l.kernel_w = p.kw;
    l.pool_h = p.kh;
    l.pool_w = p.kw;
    l.stride_h = p.sh;
    l.stride_w = p.sw;
    l.padding = p.padding;
    l.rate = p.rate;
    draft.layers.push_back(std::move(l));
  }
  Architecture arch;
  try {
    arch = parse_architecture(draft.to_json());
  } catch (const std::invalid_argument& e) {
    fail(std::string("the layers read from the graph are no fedhub architecture: ") + e.what());
  }
  // Every layer's output as ONNX computed it, in fedhub's order.
  for (size_t i = 0; i < layers_.size(); ++i) {
    auto mine = layers_[i].out_shape;
    if (mine.size() == 3) mine = {mine[1], mine[2], mine[0]};
    if (arch.layers[i].output_shape != mine)
      fail(layers_[i].node + ": gives " + list_text(mine) + " (HWC) in ONNX but " +
           list_text(arch.layers[i].output_shape) + " in fedhub");
  }
  // The weights in PyTorch's layout and names, transposed by the torch
  // layout of formats/weights_matching.
  std::vector<Tensor> tensors;
  for (size_t i = 0; i < layers_.size(); ++i) {
    auto& l = layers_[i];
    if (l.type != LayerType::conv2d && l.type != LayerType::dense) continue;
    l.weight.name = names[i] + ".weight";
    tensors.push_back(std::move(l.weight));
    if (l.use_bias) {
      l.bias.name = names[i] + ".bias";
      tensors.push_back(std::move(l.bias));
    }
  }
  OnnxImport out;
  out.weights = match_weights(std::move(tensors), arch.parameters(), KernelLayout::torch);
  out.architecture_json = arch.to_json();
  std::string folded;
  for (size_t i = 0; i < layers_.size(); ++i)
    if ((layers_[i].type == LayerType::conv2d || layers_[i].type == LayerType::dense) &&
        layers_[i].activation == Activation::relu)
      folded += (folded.empty() ? "" : ", ") + names[i];
  if (!folded.empty()) notes_.push_back("a Relu after a layer is its 'relu' activation: " + folded);
  std::vector<std::string> unused;
  for (const auto& t : g.initializer())
    if ((t.data_type() != onnx::TensorProto::INT64 && t.data_type() != onnx::TensorProto::INT32) &&
        !used_tensors_.count(t.name()))
      unused.push_back(t.name());
  if (!unused.empty()) {
    std::string text = std::to_string(unused.size()) + " float initializer(s) no layer uses, left out:";
    for (size_t i = 0; i < unused.size() && i < 5; ++i) text += " '" + unused[i] + "'";
    if (unused.size() > 5) text += " ...";
    notes_.push_back(text);
  }
  out.notes = std::move(notes_);
  return out;
}

OnnxImport Importer::run() {
  if (!model_.has_graph()) fail("the model has no graph");
  opset_ = -1;
  for (const auto& o : model_.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
  if (opset_ < 0) fail("the model imports no opset of ONNX's own domain: it is no model fedhub can read");
  if (opset_ < 7 || opset_ > 22)
    fail("the model uses opset " + std::to_string(opset_) + ": fedhub reads opsets 7 to 22 (export with opset 13)");
  read_initializers();
  read_inputs();
  const auto& g = model_.graph();
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    label_ = "node " + std::to_string(i) + (n.name().empty() ? "" : " '" + n.name() + "'") + " (" + n.op_type() + ")";
    read_node(n);
  }
  return finish();
}

}  // namespace

OnnxImport read_onnx(std::span<const char> file, const std::string& path) {
  try {
    if (file.size() > static_cast<size_t>(INT_MAX))
      fail("the file is " + std::to_string(file.size()) +
           " bytes: protobuf reads at most 2 GB; save a larger model with its weights in external data is what "
           "ONNX does, which fedhub does not read");
    onnx::ModelProto m;
    if (!m.ParseFromArray(file.data(), static_cast<int>(file.size())))
      fail("not an ONNX model: the protobuf is malformed or truncated");
    if (!m.has_ir_version() || !m.has_graph()) fail("not an ONNX model: no ir_version or no graph");
    return Importer(m, path).run();
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + " (onnx): " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(path + " (onnx): " + e.what());
  }
}

}  // namespace fedhub::formats

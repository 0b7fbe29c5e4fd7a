#include "formats/onnx_export.hpp"

#include <bit>
#include <stdexcept>

#include "formats/onnx_tensors.hpp"
#include "formats/weights_matching.hpp"

namespace fedhub::formats {

static_assert(std::endian::native == std::endian::little,
              "raw_data is little-endian: the export copies floats as they are");

namespace {

void add_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

void add_int(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

std::pair<int64_t, int64_t> same_pads(int64_t in, int64_t k, int64_t s) {
  const int64_t out = (in + s - 1) / s;
  const int64_t total = std::max<int64_t>((out - 1) * s + k - in, 0);
  return {total / 2, total - total / 2};
}

void set_shape(onnx::ValueInfoProto& v, const std::string& name, const std::vector<int64_t>& per_sample) {
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* s = t->mutable_shape();
  s->add_dim()->set_dim_param("N");
  for (int64_t d : per_sample) s->add_dim()->set_dim_value(d);
}

}  // namespace

Buffer write_onnx(const Architecture& arch, const Weights& weights, const OnnxExportInfo& info) {
  const auto layout = arch.parameters();
  if (auto why = check_weights(weights, layout); !why.empty())
    throw std::invalid_argument("the weights do not fit the architecture: " + why);
  // PyTorch's layouts and names (OIHW, [out, in]), in the same order.
  std::vector<Tensor> torch = export_weights(weights, KernelLayout::torch);

  onnx::ModelProto m;
  m.set_ir_version(7);
  m.set_producer_name("fedhub");
  m.set_producer_version("0.1");
  m.set_model_version(info.version);
  m.set_doc_string("fedhub model '" + info.model_name + "', version " + std::to_string(info.version));
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto meta = [&](const std::string& k, const std::string& v) {
    auto* p = m.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  };
  meta("fedhub.model", info.model_name);
  meta("fedhub.version", std::to_string(info.version));
  if (!info.labels.empty()) {
    std::string text;
    for (const auto& l : info.labels) text += (text.empty() ? "" : "\n") + l;
    meta("fedhub.labels", text);
  }

  auto* g = m.mutable_graph();
  g->set_name(info.model_name.empty() ? "fedhub" : info.model_name);
  // ONNX's [C, H, W] of a fedhub shape.
  auto onnx_shape = [](const std::vector<int64_t>& s) {
    return s.size() == 3 ? std::vector<int64_t>{s[2], s[0], s[1]} : s;
  };
  set_shape(*g->add_input(), "input", onnx_shape(arch.input));
  std::string current = "input";
  size_t next = 0;  // the next tensor of `torch`
  auto node = [&](const std::string& layer, const std::string& op, std::vector<std::string> inputs) {
    auto* n = g->add_node();
    n->set_name(layer + "/" + op);
    n->set_op_type(op);
    for (const auto& i : inputs) n->add_input(i);
    current = layer + "/" + op + "_output";
    n->add_output(current);
    return n;
  };
  auto initializer = [&](Tensor t) {
    set_onnx_floats(*g->add_initializer(), t.name, t.shape, t.values);
    return t.name;
  };
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const Layer& l = arch.layers[i];
    const auto& in = l.input_shape;
    switch (l.type) {
      case LayerType::conv2d: {
        std::vector<std::string> ins{current, initializer(std::move(torch[next++]))};
        if (l.use_bias) ins.push_back(initializer(std::move(torch[next++])));
        auto* n = node(l.name, "Conv", ins);
        add_ints(*n, "kernel_shape", {l.kernel_h, l.kernel_w});
        add_ints(*n, "strides", {l.stride_h, l.stride_w});
        add_ints(*n, "dilations", {1, 1});
        add_int(*n, "group", 1);
        if (l.padding == Padding::same) {
          const auto [t, b] = same_pads(in[0], l.kernel_h, l.stride_h);
          const auto [le, r] = same_pads(in[1], l.kernel_w, l.stride_w);
          add_ints(*n, "pads", {t, le, b, r});
        } else {
          add_ints(*n, "pads", {0, 0, 0, 0});
        }
        break;
      }
      case LayerType::dense: {
        Tensor w = std::move(torch[next++]);
        // The first dense after a flatten of an image reads ONNX's (c, h, w) order.
        if (const auto s = flattened_image_of(arch, i); !s.empty())  // [h, w, c]
          w = reorder_flattened_inputs(w, s[2], s[0], s[1], false);
        std::vector<std::string> ins{current, initializer(std::move(w))};
        if (l.use_bias) ins.push_back(initializer(std::move(torch[next++])));
        auto* n = node(l.name, "Gemm", ins);
        add_int(*n, "transB", 1);
        break;
      }
      case LayerType::relu:
        node(l.name, "Relu", {current});
        break;
      case LayerType::maxpool2d: {
        auto* n = node(l.name, "MaxPool", {current});
        add_ints(*n, "kernel_shape", {l.pool_h, l.pool_w});
        add_ints(*n, "strides", {l.stride_h, l.stride_w});
        add_ints(*n, "pads", {0, 0, 0, 0});
        break;
      }
      case LayerType::flatten: {
        auto* n = node(l.name, "Flatten", {current});
        add_int(*n, "axis", 1);
        break;
      }
      case LayerType::dropout: {
        Tensor r{l.name + ".ratio", {}, {static_cast<float>(l.rate)}};
        node(l.name, "Dropout", {current, initializer(std::move(r))});
        break;
      }
    }
    if (l.activation == Activation::relu) node(l.name, "Relu", {current});
    if (l.activation == Activation::softmax) {
      auto* n = node(l.name, "Softmax", {current});
      add_int(*n, "axis", 1);
    }
  }
  // The last node writes "logits".
  g->mutable_node(g->node_size() - 1)->set_output(0, "logits");
  set_shape(*g->add_output(), "logits", {arch.output_size()});
  std::string bytes;
  if (!m.SerializeToString(&bytes)) throw std::invalid_argument("the ONNX model is larger than protobuf's 2 GB");
  return Buffer(bytes.begin(), bytes.end());
}

}  // namespace fedhub::formats

#include "formats/onnx_tensors.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "formats/tensor_conversion.hpp"

namespace fedhub::formats {

namespace {

using TP = onnx::TensorProto;

bool is_float_type(int32_t t) { return t == TP::FLOAT || t == TP::DOUBLE || t == TP::FLOAT16 || t == TP::BFLOAT16; }
bool is_int_type(int32_t t) { return t == TP::INT64 || t == TP::INT32; }

size_t raw_size(int32_t t) {
  switch (t) {
    case TP::DOUBLE:
    case TP::INT64:
      return 8;
    case TP::FLOAT16:
    case TP::BFLOAT16:
      return 2;
    default:
      return 4;
  }
}

// How many values the tensor stores in its typed field.
uint64_t typed_count(const TP& t) {
  switch (t.data_type()) {
    case TP::FLOAT:
      return static_cast<uint64_t>(t.float_data_size());
    case TP::DOUBLE:
      return static_cast<uint64_t>(t.double_data_size());
    case TP::INT64:
      return static_cast<uint64_t>(t.int64_data_size());
    default:  // int32, and float16/bfloat16 as uint16 in int32_data
      return static_cast<uint64_t>(t.int32_data_size());
  }
}

std::vector<int64_t> dims_of(const TP& t) { return std::vector<int64_t>(t.dims().begin(), t.dims().end()); }

}  // namespace

std::string onnx_type_name(int32_t data_type) {
  if (TP::DataType_IsValid(data_type)) return TP::DataType_Name(static_cast<TP::DataType>(data_type));
  return std::to_string(data_type);
}

void check_onnx_tensor(const TP& t, const std::string& what) {
  if (t.data_location() == TP::EXTERNAL || t.external_data_size() > 0) {
    std::string where;
    for (const auto& e : t.external_data())
      if (e.key() == "location") where = " ('" + e.value() + "')";
    throw std::runtime_error(what + " keeps its data in an external file" + where +
                             ": fedhub reads self-contained ONNX files only; re-save the model with its data "
                             "inside (onnx.save_model(onnx.load(path), out, save_as_external_data=False))");
  }
  if (t.has_segment()) throw std::runtime_error(what + " is segmented: fedhub reads whole tensors only");
  if (!is_float_type(t.data_type()) && !is_int_type(t.data_type()))
    throw std::runtime_error(what + " is of type " + onnx_type_name(t.data_type()) +
                             ": fedhub reads float32, float64, float16, bfloat16, int64 and int32 tensors");
  const auto dims = dims_of(t);
  const size_t esize = raw_size(t.data_type());
  if (t.has_raw_data()) {
    const uint64_t held = t.raw_data().size() / esize;
    const uint64_t n = checked_elements(dims, held, what + " " + shape_to_string(dims));
    if (n * esize != t.raw_data().size())
      throw std::runtime_error(what + " " + shape_to_string(dims) + " declares " + std::to_string(n) + " values of " +
                               onnx_type_name(t.data_type()) + " but holds " + std::to_string(t.raw_data().size()) +
                               " bytes of raw_data");
    if (typed_count(t) != 0)
      throw std::runtime_error(what + " has both raw_data and typed values: the ONNX format allows one of them");
    return;
  }
  const uint64_t held = typed_count(t);
  const uint64_t n = checked_elements(dims, held, what + " " + shape_to_string(dims));
  if (n != held)
    throw std::runtime_error(what + " " + shape_to_string(dims) + " declares " + std::to_string(n) +
                             " values but holds " + std::to_string(held));
}

uint64_t onnx_element_count(const TP& t) {
  uint64_t n = 1;
  for (int64_t d : t.dims()) n *= static_cast<uint64_t>(d);
  return n;
}

std::vector<float> onnx_float_values(const TP& t, const std::string& what) {
  const size_t n = onnx_element_count(t);
  if (!is_float_type(t.data_type()))
    throw std::runtime_error(what + " is of type " + onnx_type_name(t.data_type()) + ", not a float type");
  if (t.has_raw_data()) {
    const Dtype d = t.data_type() == TP::FLOAT     ? Dtype::f32
                    : t.data_type() == TP::DOUBLE  ? Dtype::f64
                    : t.data_type() == TP::FLOAT16 ? Dtype::f16
                                                   : Dtype::bf16;
    return decode_floats(t.raw_data().data(), n, d, what);
  }
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    double v;
    switch (t.data_type()) {
      case TP::FLOAT:
        v = t.float_data(static_cast<int>(i));
        break;
      case TP::DOUBLE:
        v = t.double_data(static_cast<int>(i));
        break;
      case TP::FLOAT16:
        v = half_to_float(static_cast<uint16_t>(t.int32_data(static_cast<int>(i))));
        break;
      default: {  // bfloat16: the high half of a float32
        const uint32_t bits = static_cast<uint32_t>(static_cast<uint16_t>(t.int32_data(static_cast<int>(i)))) << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        v = f;
      }
    }
    const float f = static_cast<float>(v);
    if (!std::isfinite(f))
      throw std::runtime_error(what + " holds a value that is not a finite float32 at index " + std::to_string(i));
    out[i] = f;
  }
  return out;
}

std::vector<int64_t> onnx_int_values(const TP& t, const std::string& what) {
  const size_t n = onnx_element_count(t);
  if (!is_int_type(t.data_type()))
    throw std::runtime_error(what + " is of type " + onnx_type_name(t.data_type()) + ", not an integer type");
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    if (t.has_raw_data()) {
      if (t.data_type() == TP::INT64) {
        std::memcpy(&out[i], t.raw_data().data() + 8 * i, 8);
      } else {
        int32_t v;
        std::memcpy(&v, t.raw_data().data() + 4 * i, 4);
        out[i] = v;
      }
    } else {
      out[i] = t.data_type() == TP::INT64 ? t.int64_data(static_cast<int>(i)) : t.int32_data(static_cast<int>(i));
    }
  }
  return out;
}

void set_onnx_floats(TP& t, const std::string& name, const std::vector<int64_t>& dims,
                     const std::vector<float>& values) {
  t.set_name(name);
  t.set_data_type(TP::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
}

}  // namespace fedhub::formats

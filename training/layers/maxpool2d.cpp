#include "training/layers/maxpool2d.hpp"

#include <limits>
#include <stdexcept>

namespace fedhub::training {

template <typename T>
MaxPool2dLayer<T>::MaxPool2dLayer(const Layer& spec) : NetLayer<T>(spec), g_(ConvGeometry::of(spec)) {
  if (spec.type != LayerType::maxpool2d)
    throw std::invalid_argument("MaxPool2dLayer built from a " + std::string(to_string(spec.type)) + " layer '" +
                                spec.name + "'");
  if (g_.input_size() > std::numeric_limits<int32_t>::max())
    throw std::invalid_argument("layer '" + spec.name + "': input too large for pooling indices");
}

template <typename T>
void MaxPool2dLayer<T>::reserve(int64_t max_batch) {
  this->max_batch_ = max_batch;
  y_.assign(max_batch * this->output_size_, T(0));
  argmax_.assign(max_batch * this->output_size_, 0);
  dx_.assign(max_batch * this->input_size_, T(0));
}

template <typename T>
const T* MaxPool2dLayer<T>::forward(const T*, const T* in, int64_t batch, const PassContext&) {
  this->check_batch(batch);
  this->batch_ = batch;
  const int64_t C = g_.channels;
  for (int64_t n = 0; n < batch; ++n) {
    const T* x = in + n * this->input_size_;
    T* y = y_.data() + n * this->output_size_;
    int32_t* arg = argmax_.data() + n * this->output_size_;
    for (int64_t oy = 0; oy < g_.out_h; ++oy) {
      for (int64_t ox = 0; ox < g_.out_w; ++ox) {
        T* yo = y + (oy * g_.out_w + ox) * C;
        int32_t* ao = arg + (oy * g_.out_w + ox) * C;
        for (int64_t ky = 0; ky < g_.kernel_h; ++ky) {
          for (int64_t kx = 0; kx < g_.kernel_w; ++kx) {
            const int32_t base = static_cast<int32_t>(((oy * g_.stride_h + ky) * g_.in_w + ox * g_.stride_w + kx) * C);
            const T* xi = x + base;
            if (ky == 0 && kx == 0) {
              for (int64_t c = 0; c < C; ++c) {
                yo[c] = xi[c];
                ao[c] = base + static_cast<int32_t>(c);
              }
              continue;
            }
            for (int64_t c = 0; c < C; ++c) {
              if (xi[c] > yo[c]) {
                yo[c] = xi[c];
                ao[c] = base + static_cast<int32_t>(c);
              }
            }
          }
        }
      }
    }
  }
  return y_.data();
}

template <typename T>
T* MaxPool2dLayer<T>::backward(const T*, const T*, T* dout, T*, bool need_input_grad) {
  if (!need_input_grad) return nullptr;
  const int64_t batch = this->batch_;
  std::fill_n(dx_.data(), batch * this->input_size_, T(0));
  for (int64_t n = 0; n < batch; ++n) {
    T* dx = dx_.data() + n * this->input_size_;
    const T* dy = dout + n * this->output_size_;
    const int32_t* arg = argmax_.data() + n * this->output_size_;
    for (int64_t i = 0; i < this->output_size_; ++i) dx[arg[i]] += dy[i];
  }
  return dx_.data();
}

template class MaxPool2dLayer<float>;
template class MaxPool2dLayer<double>;

}  // namespace fedhub::training

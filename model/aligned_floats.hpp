// A model-sized block of float32 values, 64-byte aligned, owned by one
// object: the hub's weights of a version, an aggregator's accumulator, a
// participant's delta. Movable, not copyable (copies of a model are made on
// purpose, with copy_of()).
//
// Allocation goes through std::aligned_alloc; blocks of several MiB come
// from mmap (glibc) and are returned to the system when freed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>

namespace fedhub {

class AlignedFloats {
 public:
  AlignedFloats() = default;
  // n values, uninitialised (zeroed = true: all 0). Throws std::bad_alloc.
  explicit AlignedFloats(size_t n, bool zeroed = false);

  // A moved-from block is empty (size() == 0, data() == nullptr).
  AlignedFloats(AlignedFloats&& other) noexcept : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)) {}
  AlignedFloats& operator=(AlignedFloats&& other) noexcept {
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;

  static AlignedFloats copy_of(std::span<const float> values);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t bytes() const { return size_ * sizeof(float); }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  std::span<float> span() { return {data_.get(), size_}; }
  std::span<const float> span() const { return {data_.get(), size_}; }
  // The values as bytes (little-endian float32 on every platform we build for).
  std::span<const char> as_bytes() const { return {reinterpret_cast<const char*>(data_.get()), bytes()}; }
  std::span<char> as_writable_bytes() { return {reinterpret_cast<char*>(data_.get()), bytes()}; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float, Free> data_;
  size_t size_ = 0;
};

}  // namespace fedhub

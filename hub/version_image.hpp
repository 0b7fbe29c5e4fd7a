// One version of a model as the hub holds it in memory: the framed package
// (messages/framed.hpp) in two parts, its header prefix and its weights.
// Immutable once published and shared (std::shared_ptr<const VersionImage>)
// between the model actor, which serves downloads from it, and the merger,
// which computes deltas against it; nobody copies it.
//
// Byte i of the package is prefix[i] for i < prefix.size(), else byte
// (i - prefix.size()) of the weights.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "messages/buffer.hpp"
#include "model/aligned_floats.hpp"

namespace fedhub {

struct VersionImage {
  uint64_t version = 0;
  Buffer prefix;          // magic, header size, ModelPackage header, padding
  AlignedFloats weights;  // the data section: every parameter in layout order
  uint64_t data_hash = 0;

  uint64_t size() const { return prefix.size() + weights.bytes(); }

  // Copies bytes [offset, offset + out.size()) of the package into `out`.
  // Throws std::out_of_range when the range is not inside the package.
  void copy(uint64_t offset, std::span<char> out) const;
};

using SharedImage = std::shared_ptr<const VersionImage>;

}  // namespace fedhub

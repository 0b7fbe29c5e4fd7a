// Framed buffers (messages/framed.hpp), the envelope of model packages,
// contribution files and export files: frame_prefix_size on the first bytes,
// read_frame_prefix, and split_frame against a declared data size taken from
// the input's first 8 bytes.
#include <algorithm>

#include "fuzz_support.hpp"
#include "messages/errors.hpp"
#include "messages/framed.hpp"

using namespace fedhub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  const uint64_t declared = in.u64();
  const std::string rest = in.rest();
  const Buffer b(rest.begin(), rest.end());
  const std::span<const char> whole(b);
  fuzz::refused_ok<RequestError>(
      [&] { (void)frame_prefix_size(whole.first(std::min<size_t>(whole.size(), kFrameFixedBytes)), "fuzzed frame"); });
  fuzz::refused_ok<RequestError>([&] {
    const FramePrefix prefix = read_frame_prefix(whole, "fuzzed frame");
    if (prefix.header.data() < b.data() || prefix.header.data() + prefix.header.size() > b.data() + b.size())
      __builtin_trap();  // the header must lie inside the given bytes
    const Frame frame = split_frame(whole, declared, "fuzzed frame");
    if (frame.data.size() != declared || frame.data.data() + frame.data.size() != b.data() + b.size())
      __builtin_trap();  // exactly the declared data, up to the end
  });
  return 0;
}

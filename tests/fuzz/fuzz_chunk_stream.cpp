// A package download as a stream of DownloadChunk responses (the hub's
// answers to Download requests): each chunk through responses::verify and
// expect<DownloadChunk>, held to the downloader's rules (HubClient's: the
// first at offset 0, then in order, same version and total, non-empty, not
// past the end), the package's header read with frame_prefix_size and
// read_package_header as soon as its first bytes are in (how a downloader
// learns early that a package is not one), and the assembled package through
// read_model_package.
//
// Input: a sequence of [u32 little-endian length][response bytes].
#include <optional>

#include "fuzz_support.hpp"
#include "messages/errors.hpp"
#include "messages/framed.hpp"
#include "messages/model_package.hpp"
#include "messages/responses.hpp"

using namespace fedhub;

namespace {

[[noreturn]] void bad(const char* why) { throw RequestError(ErrorCode::bad_request, why); }

void download(fuzz::Reader& in) {
  Buffer package;
  uint64_t total = 0, version = 0;
  std::optional<uint64_t> prefix_size;
  bool header_read = false;
  for (bool first = true; in.left() > 0; first = false) {
    const std::string bytes = in.bytes(in.u32() % (1u << 20));
    const Buffer response(bytes.begin(), bytes.end());
    const auto* chunk = responses::expect<fb::DownloadChunk>(*responses::verify(response));
    if (first) {
      total = chunk->total_size();
      version = chunk->version();
      if (chunk->offset() != 0 || chunk->data()->size() > total) bad("a first chunk that does not fit its package");
    } else {
      if (chunk->offset() != package.size() || chunk->total_size() != total || chunk->version() != version)
        bad("the package changed during the download");
      if (chunk->data()->size() == 0 || chunk->data()->size() > total - package.size())
        bad("a chunk that does not fit its package");
    }
    package.insert(package.end(), chunk->data()->begin(), chunk->data()->end());
    if (!prefix_size && package.size() >= kFrameFixedBytes) {
      prefix_size = frame_prefix_size(std::span<const char>(package).first(kFrameFixedBytes), "model package");
      if (!prefix_size || *prefix_size > total) bad("a package header larger than the package");
    }
    if (prefix_size && !header_read && package.size() >= *prefix_size) {
      const PackageHeader header = read_package_header(package);
      if (header.total_size != total) bad("a package whose header declares another size");
      header_read = true;
    }
    if (package.size() == total) {
      (void)read_model_package(package);
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  fuzz::refused_ok<RequestError>([&] { download(in); });
  return 0;
}

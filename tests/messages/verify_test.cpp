// Verification refuses everything that is not a well-formed buffer of the
// expected kind: short, truncated, wrongly identified, misaligned, random or
// mutated bytes, and framed buffers whose frame, sizes or hash are wrong.
// Whatever verifies can be read completely without a crash (run this suite
// under ASan: every buffer below is its own exact-size heap allocation, so an
// over-read is reported).
#include <sys/mman.h>

#include <boost/test/unit_test.hpp>
#include <limits>
#include <random>

#include "client/requests.hpp"
#include "messages/checksum.hpp"
#include "messages/contribution.hpp"
#include "messages/events.hpp"
#include "messages/framed.hpp"
#include "messages/model_package.hpp"
#include "messages/records.hpp"
#include "messages/requests.hpp"
#include "messages/responses.hpp"
#include "messages/tensors.hpp"
#include "test_support.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

enum class Kind {
  model_package,
  contribution_file,
  contribution_header,
  request,
  response,
  event,
  model_record,
  contribution_record,
  upload_record,
  contribution_summary,
  version_info,
  key_record
};

bool is_framed(Kind k) { return k == Kind::model_package || k == Kind::contribution_file; }

struct Sample {
  Kind kind;
  std::string label;
  Buffer bytes;
};

ContributionMeta tiny_meta(uint64_t base = 0) {
  ContributionMeta meta;
  meta.model = "tiny";
  meta.base_version = base;
  meta.participant = "p";
  meta.num_samples = 10;
  meta.metrics = {{"loss", 0.5}};
  return meta;
}

Buffer tiny_contribution(uint64_t base = 0) { return build_contribution(tiny_meta(base), tiny_weights()); }
Buffer tiny_header() { return contribution_header(tiny_meta(), tiny_layout(), data_hash_of(tiny_weights())); }

VersionMeta tiny_version_meta() {
  VersionMeta meta;
  meta.model = "tiny";
  meta.version = 3;
  meta.contributors = {"a", "b"};
  meta.aggregator = "fedavg";
  return meta;
}

Buffer tiny_package() { return build_model_package(tiny_spec(), tiny_version_meta(), tiny_weights()); }

std::vector<Sample> corpus() {
  std::vector<Sample> s;
  s.push_back({Kind::model_package, "model package", tiny_package()});
  s.push_back({Kind::contribution_file, "contribution file", tiny_contribution()});
  s.push_back({Kind::contribution_header, "contribution header", tiny_header()});
  s.push_back({Kind::request, "list_models", requests::list_models("k")});
  s.push_back({Kind::request, "download", requests::download("k", "tiny", -1, 5, 100)});
  s.push_back({Kind::request, "upload_begin", requests::upload_begin("k", tiny_header())});
  const std::vector<float> part = {1.0f, 2.0f, 3.0f};
  s.push_back({Kind::request, "upload_part", requests::upload_part("k", "tiny", 4, 8, data_bytes(part))});
  s.push_back({Kind::request, "upload_commit", requests::upload_commit("k", "tiny", 4)});
  s.push_back({Kind::request, "upload_resume", requests::upload_resume("k", "tiny", 4)});
  s.push_back({Kind::request, "upload_abort", requests::upload_abort("k", "tiny", 4)});
  s.push_back({Kind::request, "status", requests::status("k", "tiny", 2)});
  s.push_back({Kind::request, "merge", requests::merge("k", "tiny", 2)});
  const std::vector<float> flat = flatten(tiny_weights());
  s.push_back({Kind::request, "create_model", requests::create_model("k", tiny_spec(), flat, 7, "{}")});
  s.push_back({Kind::request, "create_model seeded", requests::create_model("k", tiny_spec(), {}, 3)});
  s.push_back({Kind::request, "add_key", requests::add_key("k", "n", fb::Role::manager)});
  s.push_back({Kind::request, "list_keys", requests::list_keys("k")});
  s.push_back({Kind::request, "revoke_key", requests::revoke_key("k", "n")});
  s.push_back({Kind::request, "subscribe", requests::subscribe("k", "tiny")});
  s.push_back({Kind::request, "unsubscribe", requests::unsubscribe("k", "tiny")});
  s.push_back({Kind::request, "whoami", requests::whoami("k")});
  s.push_back({Kind::request, "policy", requests::policy("k", "tiny", R"({"merge":"async"})")});
  s.push_back({Kind::response, "error", responses::error(ErrorCode::stale, "old")});
  s.push_back({Kind::response, "ack", responses::ack("fine")});
  s.push_back({Kind::response, "download_chunk", responses::download_chunk("tiny", 3, tiny_package(), 16, 100)});
  {
    fb::ModelStatusT st;
    st.summary = std::make_unique<fb::ModelSummaryT>();
    st.summary->name = "tiny";
    st.summary->problem = "none";
    auto cs = std::make_unique<fb::ContributionSummaryT>();
    cs->participant = "p";
    auto m = std::make_unique<fb::MetricT>();
    m->name = "loss";
    cs->metrics.push_back(std::move(m));
    st.contributions.push_back(std::move(cs));
    st.versions.push_back(std::make_unique<fb::VersionInfoT>());
    s.push_back({Kind::response, "model_status", responses::make(std::move(st))});
  }
  {
    fb::KeyListT kl;
    kl.keys.push_back(std::make_unique<fb::KeyInfoT>());
    kl.keys.back()->name = "x";
    s.push_back({Kind::response, "key_list", responses::make(std::move(kl))});
  }
  {
    fb::UploadSessionT us;
    us.model = "tiny";
    us.window = 4;
    s.push_back({Kind::response, "upload_session", responses::make(std::move(us))});
    fb::UploadProgressT up;
    up.model = "tiny";
    s.push_back({Kind::response, "upload_progress", responses::make(std::move(up))});
  }
  {
    fb::VersionPublishedT vp;
    vp.model = "tiny";
    vp.contributors = {"a"};
    s.push_back({Kind::event, "version_published", events::version_published(vp)});
    fb::ContributionAcceptedT ca;
    ca.model = "tiny";
    ca.participant = "p";
    s.push_back({Kind::event, "contribution_accepted", events::contribution_accepted(ca)});
  }
  {
    fb::ModelRecordT rec;
    rec.spec = std::make_unique<fb::ModelSpecT>(tiny_spec());
    rec.policy_json = "{}";
    s.push_back({Kind::model_record, "model record", records::model_record(rec)});
  }
  s.push_back(
      {Kind::contribution_record, "contribution record", records::contribution_record("p", 1, tiny_header(), 9, 36)});
  s.push_back({Kind::upload_record, "upload record", records::upload_record("p", 2, 3, 36)});
  {
    fb::ContributionSummaryT cs;
    cs.participant = "p";
    cs.metrics.push_back(std::make_unique<fb::MetricT>());
    cs.metrics.back()->name = "acc";
    cs.factor = 0.5;
    s.push_back({Kind::contribution_summary, "contribution summary", records::contribution_summary(cs)});
  }
  {
    fb::VersionInfoT vi;
    vi.aggregator = "mean";
    vi.package_bytes = 100;
    s.push_back({Kind::version_info, "version info", records::version_info(vi)});
  }
  s.push_back(
      {Kind::key_record, "key record", records::key_record("k", fb::Role::manager, records::Sha256{}, 1, false)});
  return s;
}

// Verifies `data` as `kind` and, when that succeeds, reads every field (as
// the hub or a client would). Returns whether it verified; throws only
// RequestError for refused data.
bool read_all(Kind kind, std::span<const char> data) {
  const auto layout = tiny_layout();
  switch (kind) {
    case Kind::model_package: {
      auto m = read_model_package(data);
      return m.weights.size() == layout.size();
    }
    case Kind::contribution_file: {
      const auto v = read_contribution(data);
      std::unique_ptr<fb::ContributionT> all(v.header->UnPack());
      read_metrics(v.header->metrics());
      check_tensor_infos(v.header->tensors(), layout);
      check_finite(data_values(v.data), layout);
      return weights_from_data(layout, v.data).size() == layout.size();
    }
    case Kind::contribution_header: {
      const auto* c = verify_contribution_header(data);
      std::unique_ptr<fb::ContributionT> all(c->UnPack());
      check_tensor_infos(c->tensors(), layout);
      return true;
    }
    case Kind::request: {
      const auto* r = requests::verify(data);
      std::unique_ptr<fb::RequestEnvelopeT> all(r->UnPack());
      requests::model_of(*r);
      if (const auto* u = r->request_as_UploadBegin()) {
        const auto* c = verify_contribution_header(as_span(u->contribution()));
        check_tensor_infos(c->tensors(), layout);
      }
      if (const auto* p = r->request_as_UploadPart()) data_values(as_span(p->data()));
      if (const auto* cm = r->request_as_CreateModel()) {
        parse_model_spec(*cm->spec());
        const auto w = as_span(cm->initial_weights());
        if (!w.empty()) {
          weights_from_data(layout, w);
          check_finite(data_values(w), layout);
        }
      }
      return true;
    }
    case Kind::response: {
      const auto* r = responses::verify(data);
      std::unique_ptr<fb::ResponseEnvelopeT> all(r->UnPack());
      if (const auto* e = r->response_as_Error()) error_name(e->code());
      return true;
    }
    case Kind::event: {
      const auto* e = events::verify(data);
      std::unique_ptr<fb::EventT> all(e->UnPack());
      return true;
    }
    case Kind::model_record: {
      const auto* r = records::verify_model_record(data);
      std::unique_ptr<fb::ModelRecordT> all(r->UnPack());
      parse_model_spec(*r->spec());
      return true;
    }
    case Kind::contribution_record: {
      const auto* r = records::verify_contribution_record(data);
      std::unique_ptr<fb::ContributionRecordT> all(r->UnPack());
      const auto* c = verify_contribution_header(as_span(r->header()));
      check_tensor_infos(c->tensors(), layout);
      return true;
    }
    case Kind::upload_record: {
      const auto* r = records::verify_upload_record(data);
      std::unique_ptr<fb::UploadRecordT> all(r->UnPack());
      return true;
    }
    case Kind::contribution_summary: {
      const auto* r = records::verify_contribution_summary(data);
      std::unique_ptr<fb::ContributionSummaryT> all(r->UnPack());
      return true;
    }
    case Kind::version_info: {
      const auto* r = records::verify_version_info(data);
      std::unique_ptr<fb::VersionInfoT> all(r->UnPack());
      return true;
    }
    case Kind::key_record: {
      const auto* r = records::verify_key_record(data);
      std::unique_ptr<fb::KeyRecordT> all(r->UnPack());
      return true;
    }
  }
  return false;
}

// read_all, mapping RequestError to false and anything else to a test error.
bool try_read(Kind kind, std::span<const char> data, const std::string& what) {
  try {
    return read_all(kind, data);
  } catch (const RequestError&) {
    return false;
  } catch (const std::exception& e) {
    BOOST_ERROR(what << ": unexpected exception type: " << e.what());
    return false;
  }
}

const std::vector<Kind> kAllKinds = {Kind::model_package,
                                     Kind::contribution_file,
                                     Kind::contribution_header,
                                     Kind::request,
                                     Kind::response,
                                     Kind::event,
                                     Kind::model_record,
                                     Kind::contribution_record,
                                     Kind::upload_record,
                                     Kind::contribution_summary,
                                     Kind::version_info,
                                     Kind::key_record};

// A ModelPackage header written by hand: any tensors, sizes and hash.
struct RawInfo {
  std::string name;
  std::vector<int64_t> shape;
  fb::DType dtype = fb::DType::float32;
};

Buffer package_header(const std::vector<RawInfo>& tensors, uint64_t data_bytes, uint64_t hash,
                      const std::string& model = "tiny") {
  const auto spec = tiny_spec();
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Tensor>> offsets;
  for (const auto& t : tensors)
    offsets.push_back(fb::CreateTensor(fbb, fbb.CreateString(t.name), fbb.CreateVector(t.shape), t.dtype));
  auto vec = fbb.CreateVector(offsets);
  auto version = fb::CreateModelVersion(fbb, fbb.CreateString(model), 1, vec);
  auto s = fb::CreateModelSpec(fbb, &spec);
  fbb.Finish(fb::CreateModelPackage(fbb, s, version, data_bytes, hash), fb::ModelPackageIdentifier());
  return to_buffer(fbb);
}

std::vector<RawInfo> tiny_infos() { return {{"dense/kernel", {2, 3}}, {"dense/bias", {3}}}; }

Buffer tiny_data() {
  Buffer d;
  append_data(d, tiny_weights());
  return d;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(verification)

BOOST_AUTO_TEST_CASE(every_sample_reads_back) {
  for (const auto& s : corpus()) BOOST_TEST(try_read(s.kind, s.bytes, s.label), s.label);
}

BOOST_AUTO_TEST_CASE(too_short) {
  for (size_t n = 0; n < 8; ++n) {
    const Buffer b(n, 'F');
    std::string why;
    BOOST_TEST(verify_root<fb::Contribution>(b, fb::ContributionIdentifier(), &why) == nullptr);
    BOOST_TEST(why == "the buffer is too short (" + std::to_string(n) + " bytes)");
    BOOST_TEST(buffer_identifier(b) == "");
    check_error([&] { verify_contribution_header(b); }, ErrorCode::bad_request, "too short");
    check_error([&] { read_contribution(b); }, ErrorCode::bad_request, "too short");
    check_error([&] { read_model_package(b); }, ErrorCode::bad_request, "too short");
  }
}

BOOST_AUTO_TEST_CASE(larger_than_flatbuffers_allows) {
  // 2 GiB of address space, never touched: the size check comes before any read.
  const size_t size = size_t{1} << 31;
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  BOOST_TEST_REQUIRE(p != MAP_FAILED);
  std::string why;
  BOOST_TEST(verify_root<fb::ModelPackage>(std::span<const char>(static_cast<const char*>(p), size),
                                           fb::ModelPackageIdentifier(), &why) == nullptr);
  BOOST_TEST(why.find("2 GiB") != std::string::npos, why);
  ::munmap(p, size);
}

BOOST_AUTO_TEST_CASE(truncated_buffers_are_refused) {
  // FlatBuffers write back to front: the root table sits near the start and
  // the first-built objects at the end, so a cut loses referenced bytes.
  // Only the last few bytes may be alignment padding that nothing references
  // (e.g. after a 24-byte vector aligned to 16). A framed buffer has an exact
  // size: no prefix of it verifies.
  for (const auto& s : corpus()) {
    size_t last_accepted = 0;
    for (size_t n = 0; n < s.bytes.size(); ++n) {
      const Buffer prefix(s.bytes.begin(), s.bytes.begin() + static_cast<long>(n));  // exact-size allocation
      if (try_read(s.kind, prefix, s.label + " prefix " + std::to_string(n)))
        last_accepted = std::max(last_accepted, n);
    }
    if (is_framed(s.kind))
      BOOST_TEST(last_accepted == 0u, s.label << ": a " << last_accepted << "-byte prefix verified");
    else
      BOOST_TEST((last_accepted == 0 || last_accepted + 16 > s.bytes.size()),
                 s.label << ": a " << last_accepted << "-byte prefix of " << s.bytes.size() << " bytes verified");
  }
}

BOOST_AUTO_TEST_CASE(wrong_identifier) {
  const Buffer header = tiny_header();
  const Buffer pkg = tiny_package();
  const auto pkg_header = read_frame_prefix(pkg).header;
  check_error([&] { verify_contribution_header(pkg_header); }, ErrorCode::bad_request, "model package (FHMP)");
  check_error([&] { requests::verify(header); }, ErrorCode::bad_request, "expected a 'FHRQ' buffer, found 'FHCT'");
  check_error([&] { responses::verify(header); }, ErrorCode::bad_request, "'FHRS'");
  check_error([&] { events::verify(header); }, ErrorCode::bad_request, "'FHEV'");
  check_error([&] { records::verify_key_record(header); }, ErrorCode::internal, "'FHKR'");
  check_error([&] { records::verify_upload_record(header); }, ErrorCode::internal, "'FHUR'");
  // One changed letter, and unprintable bytes shown as '?'.
  Buffer b = header;
  b[7] = 'X';
  check_error([&] { verify_contribution_header(b); }, ErrorCode::bad_request, "found 'FHCX'");
  b[4] = '\x01';
  b[5] = '\x7f';
  BOOST_TEST(buffer_identifier(b) == "??CX");
  // Inside a frame: another FlatBuffer where a package or contribution header belongs.
  const Buffer framed_request = make_frame(requests::whoami("k"), {});
  check_error([&] { read_model_package(framed_request); }, ErrorCode::bad_request,
              "model package: the header: expected a 'FHMP' buffer, found 'FHRQ'");
  check_error([&] { read_contribution(framed_request); }, ErrorCode::bad_request,
              "contribution: expected a 'FHCT' buffer, found 'FHRQ'");
  // Every builder writes the identifier of its kind.
  for (const auto& s : corpus()) {
    const std::string id = buffer_identifier(s.bytes);
    const char* want = s.kind == Kind::request               ? "FHRQ"
                       : s.kind == Kind::response            ? "FHRS"
                       : s.kind == Kind::event               ? "FHEV"
                       : s.kind == Kind::contribution_header ? "FHCT"
                       : s.kind == Kind::upload_record       ? "FHUR"
                                                             : nullptr;
    if (want) BOOST_TEST(id == want, s.label);
    if (is_framed(s.kind)) BOOST_TEST(has_frame_magic(s.bytes), s.label);
  }
}

BOOST_AUTO_TEST_CASE(frame_defects_of_packages_and_contributions) {
  const Buffer files[] = {tiny_package(), tiny_contribution()};
  for (const Buffer& good : files) {
    const bool package = buffer_identifier(read_frame_prefix(good).header) == "FHMP";
    auto read = [&](const Buffer& b) {
      if (package)
        read_model_package(b);
      else
        read_contribution(b);
    };
    BOOST_TEST_CONTEXT((package ? "package" : "contribution")) {
      BOOST_CHECK_NO_THROW(read(good));
      // Bad magic.
      Buffer b = good;
      b[0] = 'G';
      check_error([&] { read(b); }, ErrorCode::bad_request, "does not start with the magic 'FHFB' (found 'GHFB')");
      // A header size past the end of the buffer.
      b = good;
      const auto size = static_cast<uint32_t>(good.size());
      std::memcpy(b.data() + 4, &size, 4);
      check_error([&] { read(b); }, ErrorCode::bad_request, "ends past the end");
      // Truncated data.
      b.assign(good.begin(), good.end() - 4);
      check_error([&] { read(b); }, ErrorCode::bad_request, "the buffer is truncated");
      // Extra data.
      b = good;
      b.insert(b.end(), 4, '\0');
      check_error([&] { read(b); }, ErrorCode::bad_request, "has 4 bytes after its data section");
      // One changed value: the data no longer has its hash.
      b = good;
      b[b.size() - 3] ^= 0x01;
      check_error([&] { read(b); }, ErrorCode::bad_checksum, "the data section hashes to");
      // Non-zero padding.
      b = good;
      b[read_frame_prefix(good).data_offset - 1] = 1;
      check_error([&] { read(b); }, ErrorCode::bad_request, "padding");
      // Misaligned in memory: the header is not 8-byte aligned.
      for (size_t shift : {1u, 4u}) {
        PlacedCopy placed(good, shift);
        check_error([&] { package ? (void)read_model_package(placed.span()) : (void)read_contribution(placed.span()); },
                    ErrorCode::bad_request, "not 8-byte aligned");
      }
      PlacedCopy aligned(good, 8);
      BOOST_TEST(try_read(package ? Kind::model_package : Kind::contribution_file, aligned.span(), "shift 8"));
    }
  }
}

BOOST_AUTO_TEST_CASE(package_headers_that_lie) {
  const Buffer data = tiny_data();
  // The right header and data, for reference.
  BOOST_CHECK_NO_THROW(read_model_package(make_frame(package_header(tiny_infos(), 36, data_hash(data)), data)));
  // A data_hash that is not the data's.
  check_error([&] { read_model_package(make_frame(package_header(tiny_infos(), 36, 12345), data)); },
              ErrorCode::bad_checksum, "the header says 0x0000000000003039");
  // The hash is skipped on request.
  BOOST_CHECK_NO_THROW(view_model_package(make_frame(package_header(tiny_infos(), 36, 12345), data), false));
  // data_bytes that do not fit the tensors (the data matches data_bytes).
  Buffer more = data;
  more.resize(40, 0);
  check_error([&] { read_model_package(make_frame(package_header(tiny_infos(), 40, data_hash(more)), more)); },
              ErrorCode::bad_request, "the header declares 40 bytes of data, its tensors need 36");
  check_error([&] { read_model_package(make_frame(package_header(tiny_infos(), 0, data_hash({})), {})); },
              ErrorCode::bad_request, "declares 0 bytes");
  // Tensors whose data would overflow.
  const std::vector<RawInfo> overflowing = {{"dense/kernel", {int64_t{1} << 40, int64_t{1} << 40}}};
  check_error([&] { read_package_header(make_frame(package_header(overflowing, 36, 0), data)); }, ErrorCode::bad_shape,
              "too many elements");
  // A consistent header declaring nearly 2^63 bytes: no overflow, only truncation.
  const std::vector<RawInfo> huge = {{"dense/kernel", {(int64_t{1} << 61) - 1}}};
  const Buffer lying = make_frame(package_header(huge, (uint64_t{1} << 63) - 4, 0), data);
  const PackageHeader h = read_package_header(lying);
  BOOST_TEST(h.total_size == h.data_offset + (uint64_t{1} << 63) - 4);
  check_error([&] { view_model_package(lying); }, ErrorCode::bad_request, "more than any buffer can hold");
  // A dtype other than float32, with data of the declared size.
  auto infos = tiny_infos();
  infos[0].dtype = fb::DType::float16;
  check_error([&] { read_model_package(make_frame(package_header(infos, 36, data_hash(data)), data)); },
              ErrorCode::bad_dtype, "'dense/kernel' has dtype float16");
  // Names and shapes are checked against the architecture.
  infos = tiny_infos();
  infos[1].name = "dense/b";
  check_error([&] { read_model_package(make_frame(package_header(infos, 36, data_hash(data)), data)); },
              ErrorCode::bad_shape, "tensor 1 is named 'dense/b', expected 'dense/bias'");
  infos = tiny_infos();
  infos[0].shape = {6};
  check_error([&] { read_model_package(make_frame(package_header(infos, 36, data_hash(data)), data)); },
              ErrorCode::bad_shape, "'dense/kernel' has shape [6], expected [2,3]");
  // A version of another model.
  check_error([&] { read_model_package(make_frame(package_header(tiny_infos(), 36, data_hash(data), "other"), data)); },
              ErrorCode::bad_request, "belongs to 'other'");
}

BOOST_AUTO_TEST_CASE(misaligned_buffers) {
  const Buffer c = tiny_header();
  for (size_t shift : {1, 2, 3, 4, 5, 6, 7}) {
    PlacedCopy placed(c, shift);
    std::string why;
    BOOST_TEST(verify_root<fb::Contribution>(placed.span(), fb::ContributionIdentifier(), &why) == nullptr);
    BOOST_TEST(why == "the buffer is not 8-byte aligned", "shift " << shift);
    check_error([&] { verify_contribution_header(placed.span()); }, ErrorCode::bad_request, "aligned");
  }
  for (size_t shift : {0, 8, 16, 24}) {
    PlacedCopy placed(c, shift);
    BOOST_TEST(try_read(Kind::contribution_header, placed.span(), "aligned copy"), "shift " << shift);
  }
  const Buffer r = requests::upload_begin("k", c);
  PlacedCopy placed(r, 4);
  check_error([&] { requests::verify(placed.span()); }, ErrorCode::bad_request, "8-byte aligned");
}

BOOST_AUTO_TEST_CASE(random_garbage_never_crashes) {
  std::mt19937_64 rng(20240611);
  const char* ids[] = {"FHMP", "FHCT", "FHCT", "FHRQ", "FHRS", "FHEV", "FHMR", "FHCR", "FHUR", "FHCS", "FHVI", "FHKR"};
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    const size_t n = rng() % 600;
    Buffer b(n);
    for (auto& c : b) c = static_cast<char>(rng());
    const size_t k = static_cast<size_t>(i) % kAllKinds.size();
    if (n >= 16 && i % 2 == 0) {
      // A plausible header: a root offset inside the buffer and the right
      // identifier, framed for the framed kinds.
      const size_t at = is_framed(kAllKinds[k]) ? 8 : 0;
      if (at) {
        std::memcpy(b.data(), kFrameMagic, 4);
        const uint32_t h = static_cast<uint32_t>(8 + rng() % (n - 8));
        std::memcpy(b.data() + 4, &h, 4);
      }
      const uint32_t root = static_cast<uint32_t>(rng() % (n - at - 4)) & ~3u;
      std::memcpy(b.data() + at, &root, 4);
      std::memcpy(b.data() + at + 4, ids[k], 4);
    }
    if (try_read(kAllKinds[k], b, "garbage " + std::to_string(i))) ++accepted;
  }
  BOOST_TEST_MESSAGE("random buffers accepted: " << accepted << " of 3000");
  // Random bytes are essentially never a buffer holding the required fields.
  BOOST_TEST(accepted < 30);
}

BOOST_AUTO_TEST_CASE(mutated_buffers_never_crash) {
  const auto samples = corpus();
  std::mt19937_64 rng(77);
  int accepted = 0, refused = 0;
  const int rounds = 4000;
  for (int i = 0; i < rounds; ++i) {
    const auto& s = samples[static_cast<size_t>(i) % samples.size()];
    Buffer b = s.bytes;
    const int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations && !b.empty(); ++m) {
      const size_t at = rng() % b.size();
      switch (rng() % 6) {
        case 0:
          b[at] = static_cast<char>(rng());
          break;  // a random byte
        case 1:
          b[at] = static_cast<char>(b[at] ^ (1 << (rng() % 8)));
          break;   // one bit
        case 2: {  // a random 32-bit word
          if (b.size() >= 4) {
            const uint32_t w = static_cast<uint32_t>(rng());
            std::memcpy(b.data() + (at & ~size_t{3}) % (b.size() - 3), &w, 4);
          }
          break;
        }
        case 3: {  // a small or huge offset/length
          if (b.size() >= 4) {
            const uint32_t w = rng() % 2 ? static_cast<uint32_t>(rng() % 64) : 0x7ffffff0u + rng() % 16;
            std::memcpy(b.data() + (at & ~size_t{3}) % (b.size() - 3), &w, 4);
          }
          break;
        }
        case 4:
          b.resize(at);
          break;  // truncate
        case 5:
          b.insert(b.begin() + static_cast<long>(at), 1 + rng() % 8, static_cast<char>(rng()));
          break;
      }
    }
    const Buffer exact(b.begin(), b.end());  // exact-size allocation for ASan
    if (try_read(s.kind, exact, s.label + " mutation " + std::to_string(i)))
      ++accepted;
    else
      ++refused;
  }
  BOOST_TEST_MESSAGE("mutated buffers accepted: " << accepted << ", refused: " << refused);
  BOOST_TEST(refused > rounds / 4);
}

BOOST_AUTO_TEST_CASE(upload_begin_checks_the_nested_identifier) {
  // The generated verifier checks a nested buffer's structure but not its
  // identifier: requests::verify adds that check.
  const Buffer pkg = tiny_package();
  const auto pkg_header = read_frame_prefix(pkg).header;
  check_error([&] { requests::verify(requests::upload_begin("k", pkg_header)); }, ErrorCode::bad_request);
  Buffer header = tiny_header();
  header[6] = 'Z';
  check_error([&] { requests::verify(requests::upload_begin("k", header)); }, ErrorCode::bad_request,
              "expected a 'FHCT' buffer, found 'FHZT'");
}

BOOST_AUTO_TEST_SUITE_END()

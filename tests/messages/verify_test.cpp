// Verification refuses everything that is not a well-formed buffer of the
// expected kind: short, truncated, wrongly identified, misaligned, random or
// mutated bytes. Whatever verifies can be read completely without a crash
// (run this suite under ASan: every buffer below is its own exact-size heap
// allocation, so an over-read is reported).
#include <sys/mman.h>

#include <boost/test/unit_test.hpp>
#include <limits>
#include <random>

#include "messages/contribution.hpp"
#include "messages/events.hpp"
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
  model_version,
  model_package,
  contribution,
  request,
  response,
  event,
  model_record,
  contribution_record,
  contribution_summary,
  version_info,
  key_record
};

struct Sample {
  Kind kind;
  std::string label;
  Buffer bytes;
};

Buffer tiny_contribution(uint64_t base = 0) {
  ContributionMeta meta;
  meta.model = "tiny";
  meta.base_version = base;
  meta.participant = "p";
  meta.num_samples = 10;
  meta.metrics = {{"loss", 0.5}};
  return build_contribution(meta, tiny_weights());
}

Buffer tiny_version() {
  VersionMeta meta;
  meta.model = "tiny";
  meta.version = 3;
  meta.contributors = {"a", "b"};
  meta.aggregator = "fedavg";
  return build_model_version(meta, tiny_weights());
}

std::vector<Sample> corpus() {
  std::vector<Sample> s;
  s.push_back({Kind::model_version, "model version", tiny_version()});
  s.push_back({Kind::model_package, "model package", build_model_package(tiny_spec(), tiny_version())});
  s.push_back({Kind::contribution, "contribution", tiny_contribution()});
  s.push_back({Kind::request, "list_models", requests::list_models("k")});
  s.push_back({Kind::request, "download", requests::download("k", "tiny", -1, 5, 100)});
  s.push_back({Kind::request, "upload", requests::upload("k", tiny_contribution())});
  s.push_back({Kind::request, "status", requests::status("k", "tiny", 2)});
  s.push_back({Kind::request, "merge", requests::merge("k", "tiny", 2)});
  s.push_back({Kind::request, "create_model", requests::create_model("k", tiny_spec(), tiny_weights(), "{}")});
  s.push_back({Kind::request, "add_key", requests::add_key("k", "n", fb::Role::manager)});
  s.push_back({Kind::request, "list_keys", requests::list_keys("k")});
  s.push_back({Kind::request, "revoke_key", requests::revoke_key("k", "n")});
  s.push_back({Kind::request, "subscribe", requests::subscribe("k", "tiny")});
  s.push_back({Kind::request, "unsubscribe", requests::unsubscribe("k", "tiny")});
  s.push_back({Kind::request, "whoami", requests::whoami("k")});
  s.push_back({Kind::response, "error", responses::error(ErrorCode::stale, "old")});
  s.push_back({Kind::response, "ack", responses::ack("fine")});
  const Buffer pkg = build_model_package(tiny_spec(), tiny_version());
  s.push_back({Kind::response, "download_chunk", responses::download_chunk("tiny", 3, pkg, 16, 100)});
  {
    fb::ModelStatusT st;
    st.summary = std::make_unique<fb::ModelSummaryT>();
    st.summary->name = "tiny";
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
    rec.server_state = {1, 2, 3};
    s.push_back({Kind::model_record, "model record", records::model_record(rec)});
  }
  s.push_back(
      {Kind::contribution_record, "contribution record", records::contribution_record("p", 1, tiny_contribution())});
  {
    fb::ContributionSummaryT cs;
    cs.participant = "p";
    cs.metrics.push_back(std::make_unique<fb::MetricT>());
    cs.metrics.back()->name = "acc";
    s.push_back({Kind::contribution_summary, "contribution summary", records::contribution_summary(cs)});
  }
  {
    fb::VersionInfoT vi;
    vi.aggregator = "mean";
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
    case Kind::model_version: {
      const auto* v = verify_model_version(data);
      std::unique_ptr<fb::ModelVersionT> all(v->UnPack());
      check_tensors(v->tensors(), layout);
      return read_weights(v->tensors()).size() == layout.size();
    }
    case Kind::model_package: {
      auto m = read_model_package(data);
      return m.weights.size() == layout.size();
    }
    case Kind::contribution: {
      const auto* c = verify_contribution(data);
      std::unique_ptr<fb::ContributionT> all(c->UnPack());
      read_metrics(c->metrics());
      check_tensors(c->tensors(), layout);
      read_weights(c->tensors());
      return true;
    }
    case Kind::request: {
      const auto* r = requests::verify(data);
      std::unique_ptr<fb::RequestEnvelopeT> all(r->UnPack());
      requests::model_of(*r);
      if (const auto* u = r->request_as_Upload()) {
        const auto* c = verify_contribution(as_span(u->contribution()));
        check_tensors(c->tensors(), layout);
      }
      if (const auto* cm = r->request_as_CreateModel()) {
        parse_model_spec(*cm->spec());
        check_tensors(cm->tensors(), layout);
        read_weights(cm->tensors());
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
      const auto* c = verify_contribution(as_span(r->contribution()));
      check_tensors(c->tensors(), layout);
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

const std::vector<Kind> kAllKinds = {Kind::model_version,
                                     Kind::model_package,
                                     Kind::contribution,
                                     Kind::request,
                                     Kind::response,
                                     Kind::event,
                                     Kind::model_record,
                                     Kind::contribution_record,
                                     Kind::contribution_summary,
                                     Kind::version_info,
                                     Kind::key_record};

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
    check_error([&] { verify_contribution(b); }, ErrorCode::bad_request, "too short");
  }
}

BOOST_AUTO_TEST_CASE(larger_than_flatbuffers_allows) {
  // 2 GiB of address space, never touched: the size check comes before any read.
  const size_t size = size_t{1} << 31;
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  BOOST_TEST_REQUIRE(p != MAP_FAILED);
  std::string why;
  BOOST_TEST(verify_root<fb::ModelVersion>(std::span<const char>(static_cast<const char*>(p), size),
                                           fb::ModelVersionIdentifier(), &why) == nullptr);
  BOOST_TEST(why.find("2 GiB") != std::string::npos, why);
  ::munmap(p, size);
}

BOOST_AUTO_TEST_CASE(truncated_buffers_are_refused) {
  // FlatBuffers write back to front: the root table sits near the start and
  // the first-built objects at the end, so a cut loses referenced bytes.
  // Only the last few bytes may be alignment padding that nothing references
  // (e.g. after a 24-byte tensor aligned to 16).
  for (const auto& s : corpus()) {
    size_t last_accepted = 0;
    for (size_t n = 0; n < s.bytes.size(); ++n) {
      const Buffer prefix(s.bytes.begin(), s.bytes.begin() + static_cast<long>(n));  // exact-size allocation
      if (try_read(s.kind, prefix, s.label + " prefix " + std::to_string(n)))
        last_accepted = std::max(last_accepted, n);
    }
    BOOST_TEST((last_accepted == 0 || last_accepted + 16 > s.bytes.size()),
               s.label << ": a " << last_accepted << "-byte prefix of " << s.bytes.size() << " bytes verified");
  }
}

BOOST_AUTO_TEST_CASE(wrong_identifier) {
  const Buffer version = tiny_version();
  check_error([&] { verify_contribution(version); }, ErrorCode::bad_request, "expected a 'FHCT' buffer, found 'FHMV'");
  check_error([&] { requests::verify(version); }, ErrorCode::bad_request, "'FHRQ'");
  check_error([&] { responses::verify(version); }, ErrorCode::bad_request, "'FHRS'");
  check_error([&] { events::verify(version); }, ErrorCode::bad_request, "'FHEV'");
  check_error([&] { read_model_package(version); }, ErrorCode::bad_request, "'FHMP'");
  check_error([&] { records::verify_key_record(version); }, ErrorCode::internal, "'FHKR'");
  check_error([&] { verify_model_version(tiny_contribution()); }, ErrorCode::bad_request, "found 'FHCT'");
  // One changed letter, and unprintable bytes shown as '?'.
  Buffer b = tiny_contribution();
  b[7] = 'X';
  check_error([&] { verify_contribution(b); }, ErrorCode::bad_request, "found 'FHCX'");
  b[4] = '\x01';
  b[5] = '\x7f';
  BOOST_TEST(buffer_identifier(b) == "??CX");
  // Every builder writes the identifier of its kind.
  for (const auto& s : corpus()) {
    const std::string id = buffer_identifier(s.bytes);
    const char* want = s.kind == Kind::request    ? "FHRQ"
                       : s.kind == Kind::response ? "FHRS"
                       : s.kind == Kind::event    ? "FHEV"
                                                  : nullptr;
    if (want) BOOST_TEST(id == want, s.label);
  }
}

BOOST_AUTO_TEST_CASE(misaligned_buffers) {
  const Buffer c = tiny_contribution();
  for (size_t shift : {1, 2, 3, 4, 5, 6, 7}) {
    PlacedCopy placed(c, shift);
    std::string why;
    BOOST_TEST(verify_root<fb::Contribution>(placed.span(), fb::ContributionIdentifier(), &why) == nullptr);
    BOOST_TEST(why == "the buffer is not 8-byte aligned", "shift " << shift);
    check_error([&] { verify_contribution(placed.span()); }, ErrorCode::bad_request, "aligned");
  }
  for (size_t shift : {0, 8, 16, 24}) {
    PlacedCopy placed(c, shift);
    BOOST_TEST(try_read(Kind::contribution, placed.span(), "aligned copy"), "shift " << shift);
  }
  const Buffer r = requests::upload("k", c);
  PlacedCopy placed(r, 4);
  check_error([&] { requests::verify(placed.span()); }, ErrorCode::bad_request, "8-byte aligned");
}

#ifndef FEDHUB_TEST_UBSAN
BOOST_AUTO_TEST_CASE(tensor_values_refuses_misaligned_data) {
  // A tensor read without verification (verify_root would have refused the
  // placement): its data is 2 bytes off a float boundary.
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(build_tensor(fbb, Tensor{"t", {2}, {1.0f, 2.0f}}));
  const Buffer b = to_buffer(fbb);
  PlacedCopy placed(b, 2);
  const auto* t = flatbuffers::GetRoot<fb::Tensor>(placed.data());
  BOOST_TEST(!is_aligned(t->data()->data(), 4));
  check_error([&] { tensor_values(*t); }, ErrorCode::bad_request, "'t' data is not 4-byte aligned");
  PlacedCopy aligned(b, 0);
  const auto values = tensor_values(*flatbuffers::GetRoot<fb::Tensor>(aligned.data()));
  BOOST_TEST_REQUIRE(values.size() == 2u);
  BOOST_TEST(values[0] == 1.0f);
  BOOST_TEST(values[1] == 2.0f);
}
#endif  // reading a misaligned buffer at all is what UBSan refuses

BOOST_AUTO_TEST_CASE(random_garbage_never_crashes) {
  std::mt19937_64 rng(20240611);
  const char* ids[] = {"FHMV", "FHMP", "FHCT", "FHRQ", "FHRS", "FHEV", "FHMR", "FHCR", "FHCS", "FHVI", "FHKR"};
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    const size_t n = rng() % 600;
    Buffer b(n);
    for (auto& c : b) c = static_cast<char>(rng());
    const size_t k = static_cast<size_t>(i) % kAllKinds.size();
    if (n >= 8 && i % 2 == 0) {
      // A plausible header: a root offset inside the buffer and the right identifier.
      const uint32_t root = static_cast<uint32_t>(rng() % (n - 4)) & ~3u;
      std::memcpy(b.data(), &root, 4);
      std::memcpy(b.data() + 4, ids[k], 4);
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

BOOST_AUTO_TEST_CASE(nested_contribution_is_checked_when_read) {
  // The Upload verifier checks the nested buffer's structure; the
  // contribution's own identifier is checked by verify_contribution.
  const Buffer version = tiny_version();
  const Buffer req = requests::upload("k", version);
  try {
    const auto* r = requests::verify(req);
    BOOST_TEST_MESSAGE("an Upload nesting a ModelVersion passes requests::verify");
    check_error([&] { verify_contribution(as_span(r->request_as_Upload()->contribution())); }, ErrorCode::bad_request,
                "'FHCT'");
  } catch (const RequestError& e) {
    BOOST_TEST_MESSAGE("an Upload nesting a ModelVersion is refused by requests::verify: " << e.what());
    BOOST_TEST(e.code() == ErrorCode::bad_request);
  }
}

BOOST_AUTO_TEST_SUITE_END()

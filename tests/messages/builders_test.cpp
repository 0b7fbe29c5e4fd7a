// Round trips of every builder in messages/: what is built verifies and reads
// back exactly (weights bit for bit).
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstring>
#include <limits>

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

// Values whose bits matter: -0, the smallest denormal, the extremes.
Weights special_weights() {
  Weights w = tiny_weights();
  w[0].values = {-0.0f,
                 std::numeric_limits<float>::denorm_min(),
                 std::numeric_limits<float>::max(),
                 std::numeric_limits<float>::lowest(),
                 1e-30f,
                 3.14159265f};
  return w;
}

VersionMeta sample_meta() {
  VersionMeta m;
  m.model = "tiny";
  m.version = 7;
  m.created_at_ms = 1700000000123ull;
  m.base_version = 6;
  m.contributors = {"alice", "bob@lab"};
  m.total_samples = 12800;
  m.aggregator = "fedavg";
  return m;
}

void check_meta(const VersionMeta& got, const VersionMeta& want) {
  BOOST_TEST(got.model == want.model);
  BOOST_TEST(got.version == want.version);
  BOOST_TEST(got.created_at_ms == want.created_at_ms);
  BOOST_TEST(got.base_version == want.base_version);
  BOOST_TEST(got.contributors == want.contributors, boost::test_tools::per_element());
  BOOST_TEST(got.total_samples == want.total_samples);
  BOOST_TEST(got.aggregator == want.aggregator);
}

ContributionMeta sample_contribution_meta() {
  ContributionMeta meta;
  meta.model = "tiny";
  meta.base_version = 4;
  meta.participant = "carol";
  meta.num_samples = 6400;
  meta.metrics = {{"loss", 0.41}, {"accuracy", 0.875}};
  return meta;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(packages)

BOOST_AUTO_TEST_CASE(package_round_trip) {
  const auto spec = tiny_spec("tiny", 3);
  const auto meta = sample_meta();
  const Weights w = special_weights();
  const Buffer pkg = build_model_package(spec, meta, w);
  BOOST_TEST(has_frame_magic(pkg));
  // The frame: header, then the data section at a multiple of 64.
  const PackageHeader h = read_package_header(pkg);
  BOOST_TEST(h.data_offset % 64 == 0u);
  BOOST_TEST(h.data_offset == *frame_prefix_size(pkg));
  BOOST_TEST(h.total_size == pkg.size());
  BOOST_TEST(pkg.size() == h.data_offset + 36);
  BOOST_TEST(h.root->data_bytes() == 36u);
  const auto data = std::span<const char>(pkg).subspan(h.data_offset);
  BOOST_TEST(is_aligned(data.data(), 16));
  // The data section is the flat parameter vector, bit for bit, and hashed.
  const std::vector<float> flat = flatten(w);
  BOOST_TEST(std::memcmp(data.data(), flat.data(), 36) == 0);
  BOOST_TEST(h.root->data_hash() == data_hash(data));
  BOOST_TEST(h.root->data_hash() == data_hash_of(w));
  // The header.
  BOOST_TEST(buffer_identifier(read_frame_prefix(pkg).header) == "FHMP");
  check_meta(version_meta(*h.root->version()), meta);
  BOOST_TEST((layout_of(h.root->version()->tensors()) == tiny_layout()));
  for (const auto* t : *h.root->version()->tensors()) BOOST_TEST(t->dtype() == fb::DType::float32);
  // The complete reader.
  const LoadedModel m = read_model_package(pkg);
  BOOST_TEST(m.version == 7u);
  BOOST_TEST(m.data_hash == h.root->data_hash());
  BOOST_TEST(m.spec.name == "tiny");
  BOOST_TEST(m.spec.labels == spec.labels, boost::test_tools::per_element());
  BOOST_TEST(m.spec.architecture.output_size() == 3);
  BOOST_TEST(m.spec_fields.name == spec.name);
  BOOST_TEST(m.spec_fields.architecture_json == spec.architecture_json);
  BOOST_TEST(m.spec_fields.recipe_json == spec.recipe_json);
  BOOST_TEST(m.spec_fields.min_contributions == 3u);
  check_weights_identical(m.weights, w);
}

BOOST_AUTO_TEST_CASE(view_reads_in_place) {
  const Buffer pkg = build_model_package(tiny_spec(), sample_meta(), tiny_weights(2.0f));
  const PackageView v = view_model_package(pkg);
  BOOST_TEST(same_address(v.data.data(), pkg.data() + v.header.data_offset));
  BOOST_TEST(v.data.size() == 36u);
  const auto values = data_values(v.data);
  BOOST_TEST(values.size() == 9u);
  BOOST_TEST(values[0] == tiny_weights(2.0f)[0].values[0]);
  BOOST_TEST(values[8] == tiny_weights(2.0f)[1].values[2]);
}

BOOST_AUTO_TEST_CASE(package_from_a_flat_vector) {
  const auto spec = tiny_spec();
  const auto meta = sample_meta();
  const auto layout = tiny_layout();
  const Weights w = special_weights();
  const Buffer from_flat = build_model_package(spec, meta, layout, flatten(w));
  BOOST_TEST(from_flat == build_model_package(spec, meta, w), boost::test_tools::per_element());
  std::vector<float> shorter(8, 1.0f), longer(10, 1.0f), empty;
  BOOST_CHECK_THROW(build_model_package(spec, meta, layout, shorter), std::invalid_argument);
  BOOST_CHECK_THROW(build_model_package(spec, meta, layout, longer), std::invalid_argument);
  BOOST_CHECK_THROW(build_model_package(spec, meta, layout, empty), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(prefix_then_data_is_the_package) {
  const auto spec = tiny_spec();
  const auto meta = sample_meta();
  const Weights w = tiny_weights(-1.5f);
  const Buffer pkg = build_model_package(spec, meta, w);
  const Buffer prefix = package_prefix(spec, meta, tiny_layout(), data_hash_of(w));
  BOOST_TEST(prefix.size() % 64 == 0u);
  BOOST_TEST(prefix.size() == read_package_header(pkg).data_offset);
  Buffer joined = prefix;
  append_data(joined, w);
  BOOST_TEST(joined == pkg, boost::test_tools::per_element());
  // The prefix alone is enough for the header.
  const PackageHeader h = read_package_header(prefix);
  BOOST_TEST(h.total_size == pkg.size());
  BOOST_TEST(h.root->version()->version() == 7u);
  // ... but not for the package.
  check_error([&] { view_model_package(prefix); }, ErrorCode::bad_request, "truncated");
}

BOOST_AUTO_TEST_CASE(package_defaults_and_scalar_tensor) {
  VersionMeta meta;
  meta.model = "m";
  const Weights w = {{"scalar", {}, {42.5f}}, {"empty", {0}, {}}};
  const Buffer pkg = build_model_package(tiny_spec("m"), meta, w);
  const PackageView v = view_model_package(pkg);
  BOOST_TEST(v.header.root->data_bytes() == 4u);
  const auto* version = v.header.root->version();
  BOOST_TEST(version->version() == 0u);
  BOOST_TEST(version->contributors()->size() == 0u);
  BOOST_TEST(version->aggregator()->str() == "");
  check_weights_identical(weights_from_data(layout_of(version->tensors()), v.data), w);
  // The architecture wants other tensors.
  check_error([&] { read_model_package(pkg); }, ErrorCode::bad_shape, "tensor 0 is named 'scalar'");
}

BOOST_AUTO_TEST_CASE(package_rejects_mismatches) {
  VersionMeta meta = sample_meta();
  // The version belongs to another model.
  meta.model = "other";
  check_error([&] { read_model_package(build_model_package(tiny_spec(), meta, tiny_weights())); },
              ErrorCode::bad_request, "the version belongs to 'other', not 'tiny'");
  meta.model = "tiny";
  // Shapes that do not fit the architecture.
  Weights w = tiny_weights();
  w[0].shape = {3, 2};
  check_error([&] { read_model_package(build_model_package(tiny_spec(), meta, w)); }, ErrorCode::bad_shape,
              "'dense/kernel' has shape [3,2], expected [2,3]");
  // Non-finite weights, named by tensor and index.
  w = tiny_weights();
  w[1].values[2] = std::numeric_limits<float>::quiet_NaN();
  check_error([&] { read_model_package(build_model_package(tiny_spec(), meta, w)); }, ErrorCode::non_finite,
              "tensor 'dense/bias' holds nan at index 2");
  w = tiny_weights();
  w[0].values[4] = -std::numeric_limits<float>::infinity();
  check_error([&] { read_model_package(build_model_package(tiny_spec(), meta, w)); }, ErrorCode::non_finite,
              "tensor 'dense/kernel' holds -inf at index 4");
  // A spec whose label count does not fit the last layer.
  auto spec = tiny_spec();
  spec.labels = {"a", "b"};
  check_error([&] { read_model_package(build_model_package(spec, meta, tiny_weights())); }, ErrorCode::invalid_model,
              "label");
  spec = tiny_spec();
  spec.architecture_json = "{not json";
  check_error([&] { read_model_package(build_model_package(spec, meta, tiny_weights())); }, ErrorCode::invalid_model);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(contributions)

BOOST_AUTO_TEST_CASE(contribution_round_trip) {
  const auto meta = sample_contribution_meta();
  const Weights w = special_weights();
  const Buffer file = build_contribution(meta, w);
  BOOST_TEST(has_frame_magic(file));
  const ContributionView v = read_contribution(file);
  const auto* c = v.header;
  BOOST_TEST(c->model()->str() == "tiny");
  BOOST_TEST(c->base_version() == 4u);
  BOOST_TEST(c->participant()->str() == "carol");
  BOOST_TEST(c->num_samples() == 6400u);
  const auto metrics = read_metrics(c->metrics());
  BOOST_TEST_REQUIRE(metrics.size() == 2u);
  BOOST_TEST(metrics[0].first == "loss");
  BOOST_TEST(metrics[0].second == 0.41);
  BOOST_TEST(metrics[1].first == "accuracy");
  BOOST_TEST(metrics[1].second == 0.875);
  BOOST_TEST(c->data_bytes() == 36u);
  BOOST_TEST(c->data_hash() == data_hash(v.data));
  BOOST_TEST(c->data_hash() == data_hash_of(w));
  BOOST_CHECK_NO_THROW(check_tensor_infos(c->tensors(), tiny_layout()));
  // The header is the bare FlatBuffer at offset 8, the data at a multiple of 64.
  BOOST_TEST(same_address(v.header_bytes.data(), file.data() + 8));
  BOOST_TEST(buffer_identifier(v.header_bytes) == "FHCT");
  BOOST_TEST(verify_contribution_header(v.header_bytes) == c);
  BOOST_TEST((v.data.data() - file.data()) % 64 == 0);
  BOOST_TEST(same_address(v.data.data() + v.data.size(), file.data() + file.size()));
  BOOST_TEST(is_aligned(v.data.data(), 16));
  check_weights_identical(weights_from_data(layout_of(c->tensors()), v.data), w);
}

BOOST_AUTO_TEST_CASE(header_and_file_agree) {
  const auto meta = sample_contribution_meta();
  const Weights w = tiny_weights(0.75f);
  const Buffer file = build_contribution(meta, w);
  const Buffer header = contribution_header(meta, tiny_layout(), data_hash_of(w));
  BOOST_TEST(buffer_identifier(header) == "FHCT");
  const ContributionView v = read_contribution(file);
  BOOST_TEST(Buffer(v.header_bytes.begin(), v.header_bytes.end()) == header, boost::test_tools::per_element());
  Buffer data;
  append_data(data, w);
  BOOST_TEST(make_frame(header, data) == file, boost::test_tools::per_element());
  const auto* c = verify_contribution_header(header);
  BOOST_TEST(c->data_bytes() == 36u);
  BOOST_TEST(c->data_hash() == data_hash(data));
}

BOOST_AUTO_TEST_CASE(contribution_without_metrics) {
  ContributionMeta meta;
  meta.model = "tiny";
  const Buffer b = build_contribution(meta, tiny_weights());
  const auto* c = read_contribution(b).header;
  BOOST_TEST(read_metrics(c->metrics()).empty());
  BOOST_TEST(read_metrics(nullptr).empty());
  BOOST_TEST(c->num_samples() == 0u);
}

BOOST_AUTO_TEST_CASE(header_verification) {
  const auto meta = sample_contribution_meta();
  const Buffer file = build_contribution(meta, tiny_weights());
  // The framed file instead of its header.
  check_error([&] { verify_contribution_header(file); }, ErrorCode::bad_request,
              "contribution header: this is a framed buffer (a contribution file), not a bare header");
  // A model package's header instead.
  const Buffer pkg = build_model_package(tiny_spec(), sample_meta(), tiny_weights());
  const auto pkg_header = read_frame_prefix(pkg).header;
  check_error([&] { verify_contribution_header(pkg_header); }, ErrorCode::bad_request,
              "this is a model package (FHMP), not a training result (FHCT)");
  // data_bytes that its tensors do not need.
  flatbuffers::FlatBufferBuilder fbb;
  auto tensors = build_tensor_infos(fbb, tiny_layout());
  auto model = fbb.CreateString("tiny");
  fbb.Finish(fb::CreateContribution(fbb, model, 0, 0, 1, 0, tensors, 40, 0), fb::ContributionIdentifier());
  check_error([&] { verify_contribution_header(to_buffer(fbb)); }, ErrorCode::bad_request,
              "the header declares 40 bytes of data, its tensors need 36");
  // Another FlatBuffer altogether.
  check_error([&] { verify_contribution_header(requests::whoami("k")); }, ErrorCode::bad_request,
              "expected a 'FHCT' buffer, found 'FHRQ'");
}

BOOST_AUTO_TEST_CASE(a_package_is_not_a_contribution_and_vice_versa) {
  const Buffer pkg = build_model_package(tiny_spec(), sample_meta(), tiny_weights());
  const Buffer file = build_contribution(sample_contribution_meta(), tiny_weights());
  check_error([&] { read_contribution(pkg); }, ErrorCode::bad_request,
              "contribution: this is a model package (FHMP), not a training result (FHCT)");
  check_error([&] { read_model_package(file); }, ErrorCode::bad_request,
              "model package: this is a training result (FHCT), not a model package");
  check_error([&] { read_package_header(file); }, ErrorCode::bad_request, "training result (FHCT)");
  check_error([&] { view_model_package(file); }, ErrorCode::bad_request, "training result (FHCT)");
  // A bare header is not a file.
  const Buffer header = contribution_header(sample_contribution_meta(), tiny_layout(), 0);
  check_error([&] { read_contribution(header); }, ErrorCode::bad_request,
              "this is a bare contribution header (FHCT) without its data, not a contribution file");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(request_builders)

BOOST_AUTO_TEST_CASE(list_models_keys_whoami) {
  {
    const Buffer b = requests::list_models("k1");
    const auto* r = requests::verify(b);
    BOOST_TEST(r->api_key()->str() == "k1");
    BOOST_TEST(r->request_type() == fb::Request::ListModels);
    BOOST_TEST(r->request_as_ListModels() != nullptr);
    BOOST_TEST(requests::model_of(*r) == "");
  }
  {
    const Buffer b = requests::list_keys("k2");
    const auto* r = requests::verify(b);
    BOOST_TEST(r->api_key()->str() == "k2");
    BOOST_TEST(r->request_type() == fb::Request::ListKeys);
    BOOST_TEST(requests::model_of(*r) == "");
  }
  {
    const Buffer b = requests::whoami("fhk_0123");
    const auto* r = requests::verify(b);
    BOOST_TEST(r->api_key()->str() == "fhk_0123");
    BOOST_TEST(r->request_type() == fb::Request::Whoami);
    BOOST_TEST(requests::model_of(*r) == "");
  }
}

BOOST_AUTO_TEST_CASE(download) {
  const Buffer b = requests::download("key", "tiny", -1, 4096, 1 << 20);
  const auto* r = requests::verify(b);
  BOOST_TEST_REQUIRE(r->request_type() == fb::Request::Download);
  const auto* d = r->request_as_Download();
  BOOST_TEST(d->model()->str() == "tiny");
  BOOST_TEST(d->version() == -1);
  BOOST_TEST(d->offset() == 4096u);
  BOOST_TEST(d->max_bytes() == (1u << 20));
  BOOST_TEST(requests::model_of(*r) == "tiny");
  const Buffer b2 = requests::download("key", "m2", 12, 0, 0);
  const auto* d2 = requests::verify(b2)->request_as_Download();
  BOOST_TEST(d2->version() == 12);
  BOOST_TEST(d2->offset() == 0u);
  BOOST_TEST(d2->max_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(upload_begin_nests_the_header) {
  const Buffer header = contribution_header(sample_contribution_meta(), tiny_layout(), 0x1234);
  const Buffer b = requests::upload_begin("key", header);
  const auto* r = requests::verify(b);
  BOOST_TEST_REQUIRE(r->request_type() == fb::Request::UploadBegin);
  BOOST_TEST(r->api_key()->str() == "key");
  const auto nested = as_span(r->request_as_UploadBegin()->contribution());
  BOOST_TEST(is_aligned(nested.data(), 16));
  BOOST_TEST(std::vector<char>(nested.begin(), nested.end()) == header, boost::test_tools::per_element());
  BOOST_TEST(requests::model_of(*r) == "tiny");
  const auto* c = r->request_as_UploadBegin()->contribution_nested_root();
  BOOST_TEST(c->base_version() == 4u);
  BOOST_TEST(c->data_bytes() == 36u);
  BOOST_TEST(c->data_hash() == 0x1234u);
  BOOST_CHECK_NO_THROW(check_tensor_infos(c->tensors(), tiny_layout()));
  // The header of a file made by build_contribution works the same.
  const Buffer file = build_contribution(sample_contribution_meta(), tiny_weights());
  const Buffer b2 = requests::upload_begin("key", read_contribution(file).header_bytes);
  BOOST_TEST(requests::verify(b2)->request_as_UploadBegin()->contribution_nested_root()->data_hash() ==
             data_hash_of(tiny_weights()));
}

BOOST_AUTO_TEST_CASE(upload_begin_refuses_what_is_not_a_header) {
  Buffer header = contribution_header(sample_contribution_meta(), tiny_layout(), 0);
  // Point the root offset far outside the nested buffer.
  Buffer broken = header;
  broken[0] = '\xf0';
  broken[1] = '\xff';
  check_error([&] { requests::verify(requests::upload_begin("key", broken)); }, ErrorCode::bad_request, "malformed");
  // A nested buffer cut short.
  const Buffer half(header.begin(), header.begin() + static_cast<long>(header.size() / 2));
  check_error([&] { requests::verify(requests::upload_begin("key", half)); }, ErrorCode::bad_request);
  // A whole framed file instead of its header.
  const Buffer file = build_contribution(sample_contribution_meta(), tiny_weights());
  check_error([&] { requests::verify(requests::upload_begin("key", file)); }, ErrorCode::bad_request);
  // Another kind of FlatBuffer (the generated verifier does not check nested identifiers).
  const Buffer pkg = build_model_package(tiny_spec(), sample_meta(), tiny_weights());
  check_error([&] { requests::verify(requests::upload_begin("key", read_frame_prefix(pkg).header)); },
              ErrorCode::bad_request);
  Buffer other_id = header;
  other_id[7] = 'X';
  check_error([&] { requests::verify(requests::upload_begin("key", other_id)); }, ErrorCode::bad_request,
              "request: UploadBegin: contribution header: expected a 'FHCT' buffer, found 'FHCX'");
}

BOOST_AUTO_TEST_CASE(upload_part_carries_data_and_its_hash) {
  Buffer data(4096 + 12);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  const Buffer b = requests::upload_part("key", "tiny", 77, 1 << 20, data);
  const auto* r = requests::verify(b);
  BOOST_TEST_REQUIRE(r->request_type() == fb::Request::UploadPart);
  const auto* p = r->request_as_UploadPart();
  BOOST_TEST(p->model()->str() == "tiny");
  BOOST_TEST(p->upload_id() == 77u);
  BOOST_TEST(p->offset() == (1u << 20));
  BOOST_TEST(p->hash() == data_hash(data));
  const auto got = as_span(p->data());
  BOOST_TEST(is_aligned(got.data(), 16));
  BOOST_TEST(Buffer(got.begin(), got.end()) == data, boost::test_tools::per_element());
  BOOST_TEST(requests::model_of(*r) == "tiny");
  // An empty part is well-formed (the hub decides what it means).
  const Buffer e = requests::upload_part("key", "tiny", 1, 0, {});
  BOOST_TEST(requests::verify(e)->request_as_UploadPart()->hash() == data_hash({}));
}

BOOST_AUTO_TEST_CASE(registry_requests_name_their_model) {
  BOOST_TEST(requests::model_of(*requests::verify(requests::delete_model("k", "m1"))) == "m1");
  // verify() returns a view into the buffer: keep each buffer while it is read.
  const Buffer archive = requests::archive_model("k", "m2", false);
  const auto* a = requests::verify(archive);
  BOOST_TEST(requests::model_of(*a) == "m2");
  BOOST_TEST(!a->request_as_ArchiveModel()->archived());
  const Buffer rollback = requests::rollback("k", "m3", 7);
  const auto* r = requests::verify(rollback);
  BOOST_TEST(requests::model_of(*r) == "m3");
  BOOST_TEST(r->request_as_Rollback()->to_version() == 7u);
  fb::ModelSpecT spec;
  spec.name = "m4";
  spec.architecture_json = "{}";
  spec.recipe_json = "{}";
  fb::VersionInfoT v0;
  v0.version = 0;
  v0.package_bytes = 123;
  const Buffer begin = requests::import_begin("k", spec, "", {v0}, {0});
  const auto* b = requests::verify(begin);
  BOOST_TEST(requests::model_of(*b) == "m4");
  BOOST_TEST(b->request_as_ImportBegin()->versions()->Get(0)->package_bytes() == 123u);
  BOOST_TEST(requests::model_of(*requests::verify(requests::import_commit("k", "m5", 1))) == "m5");
  // An import part carries its hash; a damaged one is refused before the hub reads it.
  const Buffer data(100, 'x');  // any length: packages are bytes, not floats
  const Buffer part = requests::import_part("k", "m6", 9, 4, data);
  const auto* p = requests::verify(part);
  BOOST_TEST(requests::model_of(*p) == "m6");
  BOOST_TEST(p->request_as_ImportPart()->hash() == data_hash(data));
  flatbuffers::FlatBufferBuilder fbb;
  auto d = create_aligned_bytes(fbb, data);
  auto body = fb::CreateImportPart(fbb, fbb.CreateString("m6"), 9, 4, d, data_hash(data) ^ 1);
  fbb.Finish(fb::CreateRequestEnvelope(fbb, fbb.CreateString("k"), fb::Request::ImportPart, body.Union()),
             fb::RequestEnvelopeIdentifier());
  check_error([&] { requests::verify(to_buffer(fbb)); }, ErrorCode::bad_checksum, "the import part at offset 4");
}

BOOST_AUTO_TEST_CASE(upload_part_with_a_wrong_hash_or_split_floats) {
  const Buffer data(64, 'd');
  auto raw_part = [&](uint64_t offset, std::span<const char> bytes, uint64_t hash) {
    flatbuffers::FlatBufferBuilder fbb;
    auto d = create_aligned_bytes(fbb, bytes);
    auto body = fb::CreateUploadPart(fbb, fbb.CreateString("tiny"), 3, offset, d, hash);
    fbb.Finish(fb::CreateRequestEnvelope(fbb, fbb.CreateString("k"), fb::Request::UploadPart, body.Union()),
               fb::RequestEnvelopeIdentifier());
    return to_buffer(fbb);
  };
  BOOST_CHECK_NO_THROW(requests::verify(raw_part(8, data, data_hash(data))));
  check_error([&] { requests::verify(raw_part(8, data, data_hash(data) ^ 1)); }, ErrorCode::bad_checksum,
              "the upload part at offset 8 hashes to " + hash_to_string(data_hash(data)));
  Buffer changed = data;
  changed[63] = 'e';
  check_error([&] { requests::verify(raw_part(0, changed, data_hash(data))); }, ErrorCode::bad_checksum);
  const std::span<const char> odd(data.data(), 63);
  check_error([&] { requests::verify(raw_part(0, odd, data_hash(odd))); }, ErrorCode::bad_request,
              "whole float32 values: offset 0 and length 63");
  check_error([&] { requests::verify(raw_part(6, data, data_hash(data))); }, ErrorCode::bad_request,
              "offset 6 and length 64");
}

BOOST_AUTO_TEST_CASE(upload_commit_resume_abort) {
  {
    const Buffer b = requests::upload_commit("k", "tiny", 9);
    const auto* r = requests::verify(b);
    BOOST_TEST_REQUIRE(r->request_type() == fb::Request::UploadCommit);
    BOOST_TEST(r->request_as_UploadCommit()->model()->str() == "tiny");
    BOOST_TEST(r->request_as_UploadCommit()->upload_id() == 9u);
    BOOST_TEST(requests::model_of(*r) == "tiny");
  }
  {
    const Buffer b = requests::upload_resume("k", "fmnist", 10);
    const auto* r = requests::verify(b);
    BOOST_TEST_REQUIRE(r->request_type() == fb::Request::UploadResume);
    BOOST_TEST(r->request_as_UploadResume()->model()->str() == "fmnist");
    BOOST_TEST(r->request_as_UploadResume()->upload_id() == 10u);
    BOOST_TEST(requests::model_of(*r) == "fmnist");
  }
  {
    const Buffer b = requests::upload_abort("k", "m3", std::numeric_limits<uint64_t>::max());
    const auto* r = requests::verify(b);
    BOOST_TEST_REQUIRE(r->request_type() == fb::Request::UploadAbort);
    BOOST_TEST(r->request_as_UploadAbort()->model()->str() == "m3");
    BOOST_TEST(r->request_as_UploadAbort()->upload_id() == std::numeric_limits<uint64_t>::max());
    BOOST_TEST(requests::model_of(*r) == "m3");
  }
}

BOOST_AUTO_TEST_CASE(status_merge_subscribe) {
  {
    const Buffer b = requests::status("k", "tiny", 3);
    const auto* r = requests::verify(b);
    BOOST_TEST_REQUIRE(r->request_type() == fb::Request::Status);
    BOOST_TEST(r->request_as_Status()->model()->str() == "tiny");
    BOOST_TEST(r->request_as_Status()->version() == 3);
    BOOST_TEST(requests::model_of(*r) == "tiny");
  }
  {
    const Buffer b = requests::status("k", "tiny", -1);
    BOOST_TEST(requests::verify(b)->request_as_Status()->version() == -1);
  }
  {
    const Buffer b = requests::merge("k", "fmnist", 41);
    const auto* r = requests::verify(b);
    BOOST_TEST_REQUIRE(r->request_type() == fb::Request::Merge);
    BOOST_TEST(r->request_as_Merge()->model()->str() == "fmnist");
    BOOST_TEST(r->request_as_Merge()->base_version() == 41u);
    BOOST_TEST(requests::model_of(*r) == "fmnist");
  }
  {
    const Buffer b = requests::subscribe("k", "s1");
    const auto* r = requests::verify(b);
    BOOST_TEST_REQUIRE(r->request_type() == fb::Request::Subscribe);
    BOOST_TEST(r->request_as_Subscribe()->model()->str() == "s1");
    BOOST_TEST(requests::model_of(*r) == "s1");
  }
  {
    const Buffer b = requests::unsubscribe("k", "s2");
    const auto* r = requests::verify(b);
    BOOST_TEST_REQUIRE(r->request_type() == fb::Request::Unsubscribe);
    BOOST_TEST(r->request_as_Unsubscribe()->model()->str() == "s2");
    BOOST_TEST(requests::model_of(*r) == "s2");
  }
}

BOOST_AUTO_TEST_CASE(create_model) {
  const auto spec = tiny_spec("created", 2);
  const std::vector<float> flat = flatten(special_weights());
  const Buffer b = requests::create_model("mk", spec, flat, 42, R"({"merge":"manual"})");
  const auto* r = requests::verify(b);
  BOOST_TEST_REQUIRE(r->request_type() == fb::Request::CreateModel);
  const auto* c = r->request_as_CreateModel();
  fb::ModelSpecT got;
  c->spec()->UnPackTo(&got);
  BOOST_TEST(got.name == "created");
  BOOST_TEST(got.architecture_json == spec.architecture_json);
  BOOST_TEST(got.labels == spec.labels, boost::test_tools::per_element());
  BOOST_TEST(got.recipe_json == spec.recipe_json);
  BOOST_TEST(got.min_contributions == 2u);
  BOOST_TEST(c->policy_json()->str() == R"({"merge":"manual"})");
  BOOST_TEST(c->init_seed() == 42u);
  const auto weights = as_span(c->initial_weights());
  BOOST_TEST(is_aligned(weights.data(), 16));
  BOOST_TEST_REQUIRE(weights.size() == 36u);
  BOOST_TEST(std::memcmp(weights.data(), flat.data(), 36) == 0);
  check_weights_identical(weights_from_data(tiny_layout(), weights), special_weights());
  BOOST_TEST(requests::model_of(*r) == "created");
  // Without weights the hub initialises; the default seed is 1, an empty policy is left out.
  const Buffer b2 = requests::create_model("mk", spec, {});
  const auto* c2 = requests::verify(b2)->request_as_CreateModel();
  BOOST_TEST(c2->policy_json() == nullptr);
  BOOST_TEST(c2->initial_weights() == nullptr);
  BOOST_TEST(c2->init_seed() == 1u);
  BOOST_TEST(as_span(c2->initial_weights()).empty());
}

BOOST_AUTO_TEST_CASE(create_model_with_split_floats_is_refused) {
  const auto spec = tiny_spec();
  flatbuffers::FlatBufferBuilder fbb;
  auto w = create_aligned_bytes(fbb, Buffer(37, 0));
  auto s = fb::CreateModelSpec(fbb, &spec);
  auto body = fb::CreateCreateModel(fbb, s, 0, w, 1);
  fbb.Finish(fb::CreateRequestEnvelope(fbb, fbb.CreateString("k"), fb::Request::CreateModel, body.Union()),
             fb::RequestEnvelopeIdentifier());
  check_error([&] { requests::verify(to_buffer(fbb)); }, ErrorCode::bad_request,
              "initial_weights hold 37 bytes, not whole float32 values");
}

BOOST_AUTO_TEST_CASE(keys) {
  {
    const Buffer b = requests::add_key("mk", "dana", fb::Role::manager);
    const auto* r = requests::verify(b);
    BOOST_TEST_REQUIRE(r->request_type() == fb::Request::AddKey);
    BOOST_TEST(r->request_as_AddKey()->name()->str() == "dana");
    BOOST_TEST(r->request_as_AddKey()->role() == fb::Role::manager);
    BOOST_TEST(requests::model_of(*r) == "");
  }
  {
    const Buffer b = requests::add_key("mk", "eve", fb::Role::participant);
    BOOST_TEST(requests::verify(b)->request_as_AddKey()->role() == fb::Role::participant);
  }
  {
    const Buffer b = requests::revoke_key("mk", "eve");
    const auto* r = requests::verify(b);
    BOOST_TEST_REQUIRE(r->request_type() == fb::Request::RevokeKey);
    BOOST_TEST(r->request_as_RevokeKey()->name()->str() == "eve");
  }
}

BOOST_AUTO_TEST_CASE(envelope_without_request_type) {
  // A well-formed envelope whose union type is NONE (e.g. a type unknown to
  // an older schema): refused, with a hint.
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateWhoami(fbb);
  fbb.Finish(fb::CreateRequestEnvelope(fbb, fbb.CreateString("k"), fb::Request::NONE, body.Union()),
             fb::RequestEnvelopeIdentifier());
  const Buffer b = to_buffer(fbb);
  check_error([&] { requests::verify(b); }, ErrorCode::bad_request, "unknown request type");
  // A request without its required body.
  flatbuffers::FlatBufferBuilder fbb2;
  auto key = fbb2.CreateString("k");
  fb::RequestEnvelopeBuilder eb(fbb2);
  eb.add_api_key(key);
  eb.add_request_type(fb::Request::Whoami);
  fbb2.Finish(eb.Finish(), fb::RequestEnvelopeIdentifier());
  check_error([&] { requests::verify(to_buffer(fbb2)); }, ErrorCode::bad_request, "malformed");
}

BOOST_AUTO_TEST_CASE(retired_and_unknown_request_types) {
  // 3 was Upload and 6 CreateModel with tensors: a client of another release
  // sending them gets "unknown request type", never a misread request.
  BOOST_TEST(static_cast<int>(fb::Request::ListModels) == 1);
  BOOST_TEST(static_cast<int>(fb::Request::Download) == 2);
  BOOST_TEST(static_cast<int>(fb::Request::Status) == 4);
  BOOST_TEST(static_cast<int>(fb::Request::Policy) == 13);
  BOOST_TEST(static_cast<int>(fb::Request::UploadBegin) == 14);
  BOOST_TEST(static_cast<int>(fb::Request::CreateModel) == 19);
  BOOST_TEST(static_cast<int>(fb::Request::DeleteModel) == 20);
  BOOST_TEST(static_cast<int>(fb::Request::ImportCommit) == 25);
  for (int type : {3, 6, 99, 200}) {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = fb::CreateWhoami(fbb);
    fbb.Finish(fb::CreateRequestEnvelope(fbb, fbb.CreateString("k"), static_cast<fb::Request>(type), body.Union()),
               fb::RequestEnvelopeIdentifier());
    check_error([&] { requests::verify(to_buffer(fbb)); }, ErrorCode::bad_request,
                "unknown request type " + std::to_string(type));
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(responses_events_records)

BOOST_AUTO_TEST_CASE(error_and_expect) {
  const Buffer b = responses::error(ErrorCode::stale, "base version 3 is older than 4");
  const auto* env = responses::verify(b);
  BOOST_TEST_REQUIRE(env->response_type() == fb::Response::Error);
  BOOST_TEST(env->response_as_Error()->code() == ErrorCode::stale);
  BOOST_TEST(env->response_as_Error()->message()->str() == "base version 3 is older than 4");
  try {
    responses::expect<fb::Ack>(*env);
    BOOST_ERROR("expect<Ack> on an Error response must throw");
  } catch (const RequestError& e) {
    BOOST_TEST(e.code() == ErrorCode::stale);
    BOOST_TEST(std::string(e.what()) == "base version 3 is older than 4");
    BOOST_TEST(e.describe() == "stale: base version 3 is older than 4");
  }
  // Even expect<Error> throws the error.
  check_error([&] { responses::expect<fb::Error>(*env); }, ErrorCode::stale);
}

BOOST_AUTO_TEST_CASE(ack_and_wrong_type) {
  const Buffer b = responses::ack("done");
  const auto* env = responses::verify(b);
  const auto* a = responses::expect<fb::Ack>(*env);
  BOOST_TEST(a->message()->str() == "done");
  check_error([&] { responses::expect<fb::MergeReceipt>(*env); }, ErrorCode::bad_request, "Ack");
}

BOOST_AUTO_TEST_CASE(make_every_body) {
  {
    fb::ModelListT l;
    for (int i = 0; i < 2; ++i) {
      auto s = std::make_unique<fb::ModelSummaryT>();
      s->name = "m" + std::to_string(i);
      s->current_version = 10u + static_cast<uint64_t>(i);
      s->pending_contributions = 3;
      s->min_contributions = 2;
      s->parameters = 1234567;
      s->labels = 20;
      s->created_at_ms = 99;
      s->merging = i == 1;
      s->policy_json = "{}";
      l.models.push_back(std::move(s));
    }
    const Buffer b = responses::make(std::move(l));
    const auto* ml = responses::expect<fb::ModelList>(*responses::verify(b));
    BOOST_TEST_REQUIRE(ml->models()->size() == 2u);
    const auto* s1 = ml->models()->Get(1);
    BOOST_TEST(s1->name()->str() == "m1");
    BOOST_TEST(s1->current_version() == 11u);
    BOOST_TEST(s1->pending_contributions() == 3u);
    BOOST_TEST(s1->min_contributions() == 2u);
    BOOST_TEST(s1->parameters() == 1234567u);
    BOOST_TEST(s1->labels() == 20u);
    BOOST_TEST(s1->created_at_ms() == 99u);
    BOOST_TEST(s1->merging());
    BOOST_TEST(!ml->models()->Get(0)->merging());
    BOOST_TEST(s1->policy_json()->str() == "{}");
  }
  {
    fb::UploadReceiptT u;
    u.model = "tiny";
    u.base_version = 5;
    u.participant = "p";
    u.contributions = 9;
    const Buffer b = responses::make(std::move(u));
    const auto* r = responses::expect<fb::UploadReceipt>(*responses::verify(b));
    BOOST_TEST(r->model()->str() == "tiny");
    BOOST_TEST(r->base_version() == 5u);
    BOOST_TEST(r->participant()->str() == "p");
    BOOST_TEST(r->contributions() == 9u);
  }
  {
    fb::ModelStatusT st;
    st.summary = std::make_unique<fb::ModelSummaryT>();
    st.summary->name = "tiny";
    st.version = 2;
    auto cs = std::make_unique<fb::ContributionSummaryT>();
    cs->participant = "alice";
    cs->base_version = 2;
    cs->num_samples = 64;
    cs->received_at_ms = 5;
    st.contributions.push_back(std::move(cs));
    for (uint64_t v = 0; v < 3; ++v) {
      auto vi = std::make_unique<fb::VersionInfoT>();
      vi->version = v;
      vi->aggregator = v == 0 ? "initial" : "fedavg";
      st.versions.push_back(std::move(vi));
    }
    const Buffer b = responses::make(std::move(st));
    const auto* r = responses::expect<fb::ModelStatus>(*responses::verify(b));
    BOOST_TEST(r->summary()->name()->str() == "tiny");
    BOOST_TEST(r->version() == 2u);
    BOOST_TEST_REQUIRE(r->contributions()->size() == 1u);
    BOOST_TEST(r->contributions()->Get(0)->participant()->str() == "alice");
    BOOST_TEST(r->contributions()->Get(0)->num_samples() == 64u);
    BOOST_TEST_REQUIRE(r->versions()->size() == 3u);
    BOOST_TEST(r->versions()->Get(2)->version() == 2u);
    BOOST_TEST(r->versions()->Get(0)->aggregator()->str() == "initial");
  }
  {
    fb::MergeReceiptT m;
    m.model = "tiny";
    m.base_version = 3;
    m.new_version = 4;
    m.contributors = {"a", "b", "c"};
    m.total_samples = 300;
    const Buffer b = responses::make(std::move(m));
    const auto* r = responses::expect<fb::MergeReceipt>(*responses::verify(b));
    BOOST_TEST(r->base_version() == 3u);
    BOOST_TEST(r->new_version() == 4u);
    BOOST_TEST(r->contributors()->size() == 3u);
    BOOST_TEST(r->contributors()->Get(2)->str() == "c");
    BOOST_TEST(r->total_samples() == 300u);
  }
  {
    fb::CreateReceiptT c;
    c.summary = std::make_unique<fb::ModelSummaryT>();
    c.summary->name = "new";
    c.summary->min_contributions = 4;
    const Buffer b = responses::make(std::move(c));
    const auto* r = responses::expect<fb::CreateReceipt>(*responses::verify(b));
    BOOST_TEST(r->summary()->name()->str() == "new");
    BOOST_TEST(r->summary()->min_contributions() == 4u);
  }
  {
    fb::KeyCreatedT k;
    k.name = "alice";
    k.role = fb::Role::manager;
    k.key = "fhk_abc";
    const Buffer b = responses::make(std::move(k));
    const auto* r = responses::expect<fb::KeyCreated>(*responses::verify(b));
    BOOST_TEST(r->name()->str() == "alice");
    BOOST_TEST(r->role() == fb::Role::manager);
    BOOST_TEST(r->key()->str() == "fhk_abc");
  }
  {
    fb::KeyListT l;
    auto k = std::make_unique<fb::KeyInfoT>();
    k->name = "x";
    k->revoked = true;
    k->created_at_ms = 77;
    l.keys.push_back(std::move(k));
    const Buffer b = responses::make(std::move(l));
    const auto* r = responses::expect<fb::KeyList>(*responses::verify(b));
    BOOST_TEST_REQUIRE(r->keys()->size() == 1u);
    BOOST_TEST(r->keys()->Get(0)->revoked());
    BOOST_TEST(r->keys()->Get(0)->created_at_ms() == 77u);
    BOOST_TEST(r->keys()->Get(0)->role() == fb::Role::participant);
  }
  {
    fb::IdentityT id;
    id.name = "me";
    id.role = fb::Role::participant;
    const Buffer b = responses::make(std::move(id));
    const auto* r = responses::expect<fb::Identity>(*responses::verify(b));
    BOOST_TEST(r->name()->str() == "me");
  }
  {
    fb::DownloadChunkT d;
    d.model = "tiny";
    d.version = 1;
    d.total_size = 3;
    d.data = {1, 2, 3};
    const Buffer b = responses::make(std::move(d));
    const auto* r = responses::expect<fb::DownloadChunk>(*responses::verify(b));
    BOOST_TEST(r->data()->size() == 3u);
    BOOST_TEST(r->data()->Get(2) == 3);
  }
}

BOOST_AUTO_TEST_CASE(response_without_type) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateAck(fbb);
  fbb.Finish(fb::CreateResponseEnvelope(fbb, fb::Response::NONE, body.Union()), fb::ResponseEnvelopeIdentifier());
  check_error([&] { responses::verify(to_buffer(fbb)); }, ErrorCode::bad_request, "unknown response type");
  check_error([&] { responses::verify(requests::whoami("k")); }, ErrorCode::bad_request, "FHRS");
}

BOOST_AUTO_TEST_CASE(events_round_trip) {
  const uint64_t before = now_ms();
  fb::VersionPublishedT vp;
  vp.model = "tiny";
  vp.version = 5;
  vp.base_version = 4;
  vp.contributors = {"a", "b"};
  vp.total_samples = 12;
  vp.aggregator = "mean";
  const Buffer b1 = events::version_published(vp);
  const auto* e1 = events::verify(b1);
  BOOST_TEST_REQUIRE(e1->body_type() == fb::EventBody::VersionPublished);
  const auto* v = e1->body_as_VersionPublished();
  BOOST_TEST(v->model()->str() == "tiny");
  BOOST_TEST(v->version() == 5u);
  BOOST_TEST(v->base_version() == 4u);
  BOOST_TEST(v->contributors()->size() == 2u);
  BOOST_TEST(v->total_samples() == 12u);
  BOOST_TEST(v->aggregator()->str() == "mean");
  BOOST_TEST(e1->at_ms() >= before);
  BOOST_TEST(e1->at_ms() <= now_ms());

  fb::ContributionAcceptedT ca;
  ca.model = "tiny";
  ca.base_version = 5;
  ca.participant = "carol";
  ca.num_samples = 32;
  ca.contributions = 2;
  const Buffer b2 = events::contribution_accepted(ca);
  const auto* e2 = events::verify(b2);
  BOOST_TEST_REQUIRE(e2->body_type() == fb::EventBody::ContributionAccepted);
  const auto* c = e2->body_as_ContributionAccepted();
  BOOST_TEST(c->participant()->str() == "carol");
  BOOST_TEST(c->num_samples() == 32u);
  BOOST_TEST(c->contributions() == 2u);
  BOOST_TEST(e2->body_as_VersionPublished() == nullptr);

  check_error([&] { events::verify(responses::ack("x")); }, ErrorCode::bad_request, "FHEV");
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateContributionAccepted(fbb, fbb.CreateString("m"), 0, fbb.CreateString("p"));
  fbb.Finish(fb::CreateEvent(fbb, fb::EventBody::NONE, body.Union(), 1), fb::EventIdentifier());
  check_error([&] { events::verify(to_buffer(fbb)); }, ErrorCode::bad_request, "unknown event type");
}

BOOST_AUTO_TEST_CASE(upload_answers_and_availability) {
  {
    fb::UploadSessionT s;
    s.model = "tiny";
    s.upload_id = 12;
    s.received = 4096;
    s.part_bytes = 4u << 20;
    s.window = 4;
    s.expires_after_ms = 600000;
    const Buffer b = responses::make(std::move(s));
    const auto* env = responses::verify(b);
    BOOST_TEST(env->response_type() == fb::Response::UploadSession);
    const auto* r = responses::expect<fb::UploadSession>(*env);
    BOOST_TEST(r->model()->str() == "tiny");
    BOOST_TEST(r->upload_id() == 12u);
    BOOST_TEST(r->received() == 4096u);
    BOOST_TEST(r->part_bytes() == (4u << 20));
    BOOST_TEST(r->window() == 4u);
    BOOST_TEST(r->expires_after_ms() == 600000u);
    check_error([&] { responses::expect<fb::UploadProgress>(*env); }, ErrorCode::bad_request, "UploadSession");
  }
  {
    fb::UploadProgressT p;
    p.model = "tiny";
    p.upload_id = 12;
    p.received = 8192;
    const Buffer b = responses::make(std::move(p));
    const auto* r = responses::expect<fb::UploadProgress>(*responses::verify(b));
    BOOST_TEST(r->upload_id() == 12u);
    BOOST_TEST(r->received() == 8192u);
  }
  {
    fb::ModelListT l;
    l.models.push_back(std::make_unique<fb::ModelSummaryT>());
    l.models.back()->name = "fine";
    l.models.push_back(std::make_unique<fb::ModelSummaryT>());
    l.models.back()->name = "broken";
    l.models.back()->availability = fb::Availability::unavailable;
    l.models.back()->problem = "version 3 is damaged: piece 2 is missing";
    const Buffer b = responses::make(std::move(l));
    const auto* ml = responses::expect<fb::ModelList>(*responses::verify(b));
    BOOST_TEST(ml->models()->Get(0)->availability() == fb::Availability::ready);  // the default
    BOOST_TEST(ml->models()->Get(0)->problem() == nullptr);
    BOOST_TEST(ml->models()->Get(1)->availability() == fb::Availability::unavailable);
    BOOST_TEST(ml->models()->Get(1)->problem()->str() == "version 3 is damaged: piece 2 is missing");
    BOOST_TEST(std::string(fb::EnumNameAvailability(fb::Availability::loading)) == "loading");
  }
}

BOOST_AUTO_TEST_CASE(model_record_round_trip) {
  fb::ModelRecordT rec;
  rec.spec = std::make_unique<fb::ModelSpecT>(tiny_spec("rec", 5));
  rec.created_at_ms = 1234;
  rec.policy_json = R"({"merge":"manual","aggregator":{"name":"mean"}})";
  const Buffer b = records::model_record(rec);
  BOOST_TEST(buffer_identifier(b) == "FHMR");
  const auto* r = records::verify_model_record(b);
  BOOST_TEST(r->spec()->name()->str() == "rec");
  BOOST_TEST(r->spec()->min_contributions() == 5u);
  BOOST_TEST(r->spec()->labels()->size() == 3u);
  BOOST_TEST(r->created_at_ms() == 1234u);
  BOOST_TEST(r->policy_json()->str() == rec.policy_json);
  // The deprecated fields keep their slots: policy_json is still field 3.
  BOOST_TEST(static_cast<int>(fb::ModelRecord::VT_POLICY_JSON) == 10);
  // Damaged records are `internal` errors, not crashes.
  check_error([&] { records::verify_model_record(records::version_info({})); }, ErrorCode::internal, "model record");
}

BOOST_AUTO_TEST_CASE(contribution_record_round_trip) {
  ContributionMeta meta;
  meta.model = "tiny";
  meta.base_version = 1;
  meta.num_samples = 3;
  const Buffer header = contribution_header(meta, tiny_layout(), 99);
  const Buffer b = records::contribution_record("alice", 555, header, 31, 36);
  BOOST_TEST(buffer_identifier(b) == "FHCR");
  const auto* r = records::verify_contribution_record(b);
  BOOST_TEST(r->participant()->str() == "alice");
  BOOST_TEST(r->received_at_ms() == 555u);
  BOOST_TEST(r->upload_id() == 31u);
  BOOST_TEST(r->data_bytes() == 36u);
  const auto nested = as_span(r->header());
  BOOST_TEST(is_aligned(nested.data(), 16));
  BOOST_TEST(std::vector<char>(nested.begin(), nested.end()) == header, boost::test_tools::per_element());
  const auto* c = verify_contribution_header(nested);
  BOOST_TEST(c->num_samples() == 3u);
  BOOST_TEST(c->data_hash() == 99u);
  BOOST_TEST(r->header_nested_root()->base_version() == 1u);
  check_error([&] { records::verify_contribution_record(header); }, ErrorCode::internal, "contribution record");
  // A record nesting another kind of buffer is damaged.
  const Buffer pkg = build_model_package(tiny_spec(), sample_meta(), tiny_weights());
  const auto pkg_header = read_frame_prefix(pkg).header;
  check_error([&] { records::verify_contribution_record(records::contribution_record("a", 1, pkg_header, 1, 36)); },
              ErrorCode::internal, "stored contribution record is damaged");
}

BOOST_AUTO_TEST_CASE(upload_record_round_trip) {
  const Buffer b = records::upload_record("bob", 17, 1700000000999ull, 1ull << 40);
  BOOST_TEST(buffer_identifier(b) == "FHUR");
  const auto* r = records::verify_upload_record(b);
  BOOST_TEST(r->participant()->str() == "bob");
  BOOST_TEST(r->base_version() == 17u);
  BOOST_TEST(r->started_at_ms() == 1700000000999ull);
  BOOST_TEST(r->data_bytes() == (1ull << 40));
  check_error([&] { records::verify_upload_record(records::key_record("k", fb::Role::manager, {}, 1, false)); },
              ErrorCode::internal, "upload record");
}

BOOST_AUTO_TEST_CASE(contribution_summary_and_version_info) {
  fb::ContributionSummaryT s;
  s.participant = "bob";
  s.base_version = 8;
  s.num_samples = 100;
  s.received_at_ms = 42;
  auto m = std::make_unique<fb::MetricT>();
  m->name = "loss";
  m->value = 1.5;
  s.metrics.push_back(std::move(m));
  s.staleness = 2;
  s.round_base = 10;
  s.factor = 0.5773502691896258;
  s.upload_id = 1234567;
  const Buffer b = records::contribution_summary(s);
  const auto* r = records::verify_contribution_summary(b);
  BOOST_TEST(r->participant()->str() == "bob");
  BOOST_TEST(r->base_version() == 8u);
  BOOST_TEST(r->num_samples() == 100u);
  BOOST_TEST(r->received_at_ms() == 42u);
  BOOST_TEST_REQUIRE(r->metrics()->size() == 1u);
  BOOST_TEST(r->metrics()->Get(0)->name()->str() == "loss");
  BOOST_TEST(r->metrics()->Get(0)->value() == 1.5);
  BOOST_TEST(r->staleness() == 2u);
  BOOST_TEST(r->round_base() == 10u);
  BOOST_TEST(r->factor() == 0.5773502691896258);
  BOOST_TEST(r->upload_id() == 1234567u);

  fb::VersionInfoT vi;
  vi.version = 9;
  vi.created_at_ms = 10;
  vi.base_version = 8;
  vi.contributions = 3;
  vi.total_samples = 300;
  vi.aggregator = "fedavg";
  vi.package_bytes = 5ull << 32;
  vi.piece_bytes = 4u << 20;
  vi.data_hash = 0xfedcba9876543210ull;
  const Buffer b2 = records::version_info(vi);
  const auto* v = records::verify_version_info(b2);
  BOOST_TEST(v->version() == 9u);
  BOOST_TEST(v->created_at_ms() == 10u);
  BOOST_TEST(v->base_version() == 8u);
  BOOST_TEST(v->contributions() == 3u);
  BOOST_TEST(v->total_samples() == 300u);
  BOOST_TEST(v->aggregator()->str() == "fedavg");
  BOOST_TEST(v->package_bytes() == (5ull << 32));
  BOOST_TEST(v->piece_bytes() == (4u << 20));
  BOOST_TEST(v->data_hash() == 0xfedcba9876543210ull);
  check_error([&] { records::verify_version_info(b); }, ErrorCode::internal, "version info");
  check_error([&] { records::verify_contribution_summary(b2); }, ErrorCode::internal, "contribution summary");
}

BOOST_AUTO_TEST_CASE(key_record_round_trip) {
  records::Sha256 h{};
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(i * 7 + 1);
  const Buffer b = records::key_record("alice", fb::Role::manager, h, 99, true);
  const auto* k = records::verify_key_record(b);
  BOOST_TEST(k->name()->str() == "alice");
  BOOST_TEST(k->role() == fb::Role::manager);
  BOOST_TEST(k->created_at_ms() == 99u);
  BOOST_TEST(k->revoked());
  BOOST_TEST(std::vector<uint8_t>(k->sha256()->begin(), k->sha256()->end()) == std::vector<uint8_t>(h.begin(), h.end()),
             boost::test_tools::per_element());
  // A hash of the wrong length is a damaged record.
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<uint8_t> short_hash(31, 1);
  fbb.Finish(fb::CreateKeyRecord(fbb, fbb.CreateString("x"), fb::Role::participant, fbb.CreateVector(short_hash)),
             fb::KeyRecordIdentifier());
  check_error([&] { records::verify_key_record(to_buffer(fbb)); }, ErrorCode::internal, "hash length");
}

BOOST_AUTO_TEST_CASE(error_names) {
  BOOST_TEST(error_name(ErrorCode::stale) == "stale");
  BOOST_TEST(error_name(ErrorCode::duplicate) == "duplicate");
  BOOST_TEST(error_name(ErrorCode::norm_exceeded) == "norm_exceeded");
  BOOST_TEST(error_name(ErrorCode::magnitude_exceeded) == "magnitude_exceeded");
  BOOST_TEST(error_name(ErrorCode::unknown_upload) == "unknown_upload");
  BOOST_TEST(error_name(ErrorCode::bad_checksum) == "bad_checksum");
  BOOST_TEST(error_name(ErrorCode::incomplete_upload) == "incomplete_upload");
  BOOST_TEST(error_name(ErrorCode::model_unavailable) == "model_unavailable");
  BOOST_TEST(static_cast<int>(ErrorCode::magnitude_exceeded) == 23);
  BOOST_TEST(static_cast<int>(ErrorCode::model_unavailable) == 27);
  BOOST_TEST(error_name(static_cast<ErrorCode>(999)) == "error_999");
  BOOST_TEST(error_name(static_cast<ErrorCode>(0)) == "error_0");
  RequestError e(ErrorCode::unknown_version, "no version 9");
  BOOST_TEST(e.describe() == "unknown_version: no version 9");
}

BOOST_AUTO_TEST_SUITE_END()

// Round trips of every builder in messages/: what is built verifies and reads
// back exactly.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>

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

std::vector<float> flatten(const Weights& w) {
  std::vector<float> flat;
  for (const auto& t : w) flat.insert(flat.end(), t.values.begin(), t.values.end());
  return flat;
}

void check_weights_equal(const Weights& got, const Weights& want) {
  BOOST_TEST_REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    BOOST_TEST(got[i].name == want[i].name);
    BOOST_TEST(got[i].shape == want[i].shape, boost::test_tools::per_element());
    BOOST_TEST(got[i].values == want[i].values, boost::test_tools::per_element());
  }
}

// Every tensor's data is 16-byte aligned in memory (the buffer itself is).
void check_tensor_alignment(const FbTensors* tensors) {
  for (const auto* t : *tensors) {
    BOOST_TEST(is_aligned(t->data()->data(), 16), "tensor " << t->name()->str());
    BOOST_TEST(static_cast<int>(t->dtype()) == static_cast<int>(fb::DType::float32));
  }
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

void check_meta(const fb::ModelVersion* v, const VersionMeta& m) {
  BOOST_TEST(v->model()->str() == m.model);
  BOOST_TEST(v->version() == m.version);
  BOOST_TEST(v->created_at_ms() == m.created_at_ms);
  BOOST_TEST(v->base_version() == m.base_version);
  BOOST_TEST(v->total_samples() == m.total_samples);
  BOOST_TEST(v->aggregator()->str() == m.aggregator);
  BOOST_TEST_REQUIRE(v->contributors()->size() == m.contributors.size());
  for (size_t i = 0; i < m.contributors.size(); ++i)
    BOOST_TEST(v->contributors()->Get(static_cast<flatbuffers::uoffset_t>(i))->str() == m.contributors[i]);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(builders)

BOOST_AUTO_TEST_CASE(model_version_from_weights) {
  const auto meta = sample_meta();
  const Buffer buf = build_model_version(meta, tiny_weights());
  BOOST_TEST(buffer_identifier(buf) == "FHMV");
  const auto* v = verify_model_version(buf);
  check_meta(v, meta);
  const auto layout = tiny_layout();
  BOOST_CHECK_NO_THROW(check_tensors(v->tensors(), layout));
  check_tensor_alignment(v->tensors());
  check_weights_equal(read_weights(v->tensors()), tiny_weights());
}

BOOST_AUTO_TEST_CASE(model_version_from_flat_vector) {
  const auto meta = sample_meta();
  const auto layout = tiny_layout();
  const auto flat = flatten(tiny_weights(3.0f));
  const Buffer buf = build_model_version(meta, layout, flat);
  const auto* v = verify_model_version(buf);
  check_meta(v, meta);
  BOOST_CHECK_NO_THROW(check_tensors(v->tensors(), layout));
  check_tensor_alignment(v->tensors());
  check_weights_equal(read_weights(v->tensors()), tiny_weights(3.0f));
  // Same contents as the Weights builder.
  const Buffer from_weights = build_model_version(meta, tiny_weights(3.0f));
  check_weights_equal(read_weights(verify_model_version(from_weights)->tensors()), read_weights(v->tensors()));
}

BOOST_AUTO_TEST_CASE(model_version_flat_vector_length_must_match) {
  const auto layout = tiny_layout();
  std::vector<float> shorter(8, 1.0f), longer(10, 1.0f), empty;
  BOOST_CHECK_THROW(build_model_version(sample_meta(), layout, shorter), std::invalid_argument);
  BOOST_CHECK_THROW(build_model_version(sample_meta(), layout, longer), std::invalid_argument);
  BOOST_CHECK_THROW(build_model_version(sample_meta(), layout, empty), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(model_version_defaults_and_scalar_tensor) {
  VersionMeta meta;
  meta.model = "m";
  Weights w = {{"scalar", {}, {42.5f}}, {"empty", {0}, {}}};
  const Buffer buf = build_model_version(meta, w);
  const auto* v = verify_model_version(buf);
  BOOST_TEST(v->version() == 0u);
  BOOST_TEST(v->contributors()->size() == 0u);
  BOOST_TEST(v->aggregator()->str() == "");
  const std::vector<TensorSpec> layout = {{"scalar", {}}, {"empty", {0}}};
  BOOST_CHECK_NO_THROW(check_tensors(v->tensors(), layout));
  check_weights_equal(read_weights(v->tensors()), w);
}

BOOST_AUTO_TEST_CASE(model_package_round_trip) {
  const auto spec = tiny_spec("tiny", 3);
  VersionMeta meta = sample_meta();
  const Buffer version = build_model_version(meta, tiny_weights(1.0f));
  const Buffer pkg = build_model_package(spec, version);
  BOOST_TEST(buffer_identifier(pkg) == "FHMP");
  const LoadedModel m = read_model_package(pkg);
  BOOST_TEST(m.version == 7u);
  BOOST_TEST(m.spec.name == "tiny");
  BOOST_TEST(m.spec.labels == spec.labels, boost::test_tools::per_element());
  BOOST_TEST(m.spec.architecture.output_size() == 3);
  BOOST_TEST(m.spec_fields.name == spec.name);
  BOOST_TEST(m.spec_fields.architecture_json == spec.architecture_json);
  BOOST_TEST(m.spec_fields.recipe_json == spec.recipe_json);
  BOOST_TEST(m.spec_fields.min_contributions == 3u);
  check_weights_equal(m.weights, tiny_weights(1.0f));
  // The nested version is the exact bytes given, 16-byte aligned.
  std::string why;
  const auto* p = verify_root<fb::ModelPackage>(pkg, fb::ModelPackageIdentifier(), &why);
  BOOST_TEST_REQUIRE(p, why);
  const auto nested = as_span(p->version());
  BOOST_TEST(is_aligned(nested.data(), 16));
  BOOST_TEST(std::vector<char>(nested.begin(), nested.end()) == version, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(model_package_rejects_mismatches) {
  // The version belongs to another model.
  VersionMeta meta = sample_meta();
  meta.model = "other";
  check_error([&] { read_model_package(build_model_package(tiny_spec(), build_model_version(meta, tiny_weights()))); },
              ErrorCode::bad_request, "'other'");
  meta.model = "tiny";
  // Shapes that do not fit the architecture.
  Weights w = tiny_weights();
  w[0].shape = {3, 2};
  check_error([&] { read_model_package(build_model_package(tiny_spec(), build_model_version(meta, w))); },
              ErrorCode::bad_shape, "dense/kernel");
  // Non-finite weights.
  w = tiny_weights();
  w[1].values[2] = std::numeric_limits<float>::quiet_NaN();
  check_error([&] { read_model_package(build_model_package(tiny_spec(), build_model_version(meta, w))); },
              ErrorCode::non_finite, "dense/bias");
  // A spec whose label count does not fit the last layer.
  auto spec = tiny_spec();
  spec.labels = {"a", "b"};
  check_error([&] { read_model_package(build_model_package(spec, build_model_version(meta, tiny_weights()))); },
              ErrorCode::invalid_model, "label");
  spec = tiny_spec();
  spec.architecture_json = "{not json";
  check_error([&] { read_model_package(build_model_package(spec, build_model_version(meta, tiny_weights()))); },
              ErrorCode::invalid_model);
  // Not a package at all.
  check_error([&] { read_model_package(build_model_version(meta, tiny_weights())); }, ErrorCode::bad_request, "FHMP");
}

BOOST_AUTO_TEST_CASE(contribution_round_trip) {
  ContributionMeta meta;
  meta.model = "tiny";
  meta.base_version = 4;
  meta.participant = "carol";
  meta.num_samples = 6400;
  meta.metrics = {{"loss", 0.41}, {"accuracy", 0.875}};
  const Buffer buf = build_contribution(meta, tiny_weights(-2.0f));
  BOOST_TEST(buffer_identifier(buf) == "FHCT");
  const auto* c = verify_contribution(buf);
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
  const auto layout = tiny_layout();
  BOOST_CHECK_NO_THROW(check_tensors(c->tensors(), layout));
  check_tensor_alignment(c->tensors());
  check_weights_equal(read_weights(c->tensors()), tiny_weights(-2.0f));
}

BOOST_AUTO_TEST_CASE(contribution_without_metrics) {
  ContributionMeta meta;
  meta.model = "tiny";
  const Buffer b = build_contribution(meta, tiny_weights());
  const auto* c = verify_contribution(b);
  BOOST_TEST(read_metrics(c->metrics()).empty());
  BOOST_TEST(read_metrics(nullptr).empty());
  BOOST_TEST(c->num_samples() == 0u);
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

BOOST_AUTO_TEST_CASE(upload_nests_the_contribution) {
  ContributionMeta meta;
  meta.model = "tiny";
  meta.base_version = 2;
  meta.num_samples = 5;
  const Buffer contribution = build_contribution(meta, tiny_weights());
  const Buffer b = requests::upload("key", contribution);
  const auto* r = requests::verify(b);
  BOOST_TEST_REQUIRE(r->request_type() == fb::Request::Upload);
  const auto nested = as_span(r->request_as_Upload()->contribution());
  BOOST_TEST(is_aligned(nested.data(), 16));
  BOOST_TEST(std::vector<char>(nested.begin(), nested.end()) == contribution, boost::test_tools::per_element());
  BOOST_TEST(requests::model_of(*r) == "tiny");
  const auto* c = verify_contribution(nested);
  BOOST_TEST(c->base_version() == 2u);
  check_weights_equal(read_weights(c->tensors()), tiny_weights());
}

BOOST_AUTO_TEST_CASE(upload_of_a_broken_contribution_fails_verification) {
  ContributionMeta meta;
  meta.model = "tiny";
  Buffer contribution = build_contribution(meta, tiny_weights());
  // Point the root offset far outside the nested buffer.
  contribution[0] = '\xf0';
  contribution[1] = '\xff';
  check_error([&] { requests::verify(requests::upload("key", contribution)); }, ErrorCode::bad_request, "malformed");
  // A nested buffer cut short.
  Buffer full = build_contribution(meta, tiny_weights());
  Buffer half(full.begin(), full.begin() + static_cast<long>(full.size() / 2));
  check_error([&] { requests::verify(requests::upload("key", half)); }, ErrorCode::bad_request);
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
  const Buffer b = requests::create_model("mk", spec, tiny_weights(0.5f), R"({"merge":"manual"})");
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
  const auto layout = tiny_layout();
  BOOST_CHECK_NO_THROW(check_tensors(c->tensors(), layout));
  check_tensor_alignment(c->tensors());
  check_weights_equal(read_weights(c->tensors()), tiny_weights(0.5f));
  BOOST_TEST(requests::model_of(*r) == "created");
  // An empty policy is left out.
  const Buffer b2 = requests::create_model("mk", spec, tiny_weights());
  BOOST_TEST(requests::verify(b2)->request_as_CreateModel()->policy_json() == nullptr);
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

BOOST_AUTO_TEST_CASE(model_record_round_trip) {
  fb::ModelRecordT rec;
  rec.spec = std::make_unique<fb::ModelSpecT>(tiny_spec("rec", 5));
  rec.current_version = 12;
  rec.created_at_ms = 1234;
  rec.policy_json = R"({"merge":"manual","aggregator":{"name":"mean"}})";
  rec.server_state = {'F', 'H', 'S', 'S', 0, 1, 255};
  const Buffer b = records::model_record(rec);
  BOOST_TEST(buffer_identifier(b) == "FHMR");
  const auto* r = records::verify_model_record(b);
  BOOST_TEST(r->spec()->name()->str() == "rec");
  BOOST_TEST(r->spec()->min_contributions() == 5u);
  BOOST_TEST(r->spec()->labels()->size() == 3u);
  BOOST_TEST(r->current_version() == 12u);
  BOOST_TEST(r->created_at_ms() == 1234u);
  BOOST_TEST(r->policy_json()->str() == rec.policy_json);
  const auto state = as_span(r->server_state());
  BOOST_TEST(std::vector<uint8_t>(state.begin(), state.end()) == rec.server_state, boost::test_tools::per_element());
  // Damaged records are `internal` errors, not crashes.
  check_error([&] { records::verify_model_record(records::version_info({})); }, ErrorCode::internal, "model record");
}

BOOST_AUTO_TEST_CASE(contribution_record_round_trip) {
  ContributionMeta meta;
  meta.model = "tiny";
  meta.base_version = 1;
  meta.num_samples = 3;
  const Buffer contribution = build_contribution(meta, tiny_weights());
  const Buffer b = records::contribution_record("alice", 555, contribution);
  const auto* r = records::verify_contribution_record(b);
  BOOST_TEST(r->participant()->str() == "alice");
  BOOST_TEST(r->received_at_ms() == 555u);
  const auto nested = as_span(r->contribution());
  BOOST_TEST(is_aligned(nested.data(), 16));
  BOOST_TEST(std::vector<char>(nested.begin(), nested.end()) == contribution, boost::test_tools::per_element());
  const auto* c = verify_contribution(nested);
  BOOST_TEST(c->num_samples() == 3u);
  check_tensor_alignment(c->tensors());
  check_error([&] { records::verify_contribution_record(contribution); }, ErrorCode::internal, "contribution record");
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
  const Buffer b = records::contribution_summary(s);
  const auto* r = records::verify_contribution_summary(b);
  BOOST_TEST(r->participant()->str() == "bob");
  BOOST_TEST(r->base_version() == 8u);
  BOOST_TEST(r->num_samples() == 100u);
  BOOST_TEST(r->received_at_ms() == 42u);
  BOOST_TEST_REQUIRE(r->metrics()->size() == 1u);
  BOOST_TEST(r->metrics()->Get(0)->name()->str() == "loss");
  BOOST_TEST(r->metrics()->Get(0)->value() == 1.5);

  fb::VersionInfoT vi;
  vi.version = 9;
  vi.created_at_ms = 10;
  vi.base_version = 8;
  vi.contributions = 3;
  vi.total_samples = 300;
  vi.aggregator = "fedavg";
  const Buffer b2 = records::version_info(vi);
  const auto* v = records::verify_version_info(b2);
  BOOST_TEST(v->version() == 9u);
  BOOST_TEST(v->created_at_ms() == 10u);
  BOOST_TEST(v->base_version() == 8u);
  BOOST_TEST(v->contributions() == 3u);
  BOOST_TEST(v->total_samples() == 300u);
  BOOST_TEST(v->aggregator()->str() == "fedavg");
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
  BOOST_TEST(error_name(static_cast<ErrorCode>(999)) == "error_999");
  BOOST_TEST(error_name(static_cast<ErrorCode>(0)) == "error_0");
  RequestError e(ErrorCode::unknown_version, "no version 9");
  BOOST_TEST(e.describe() == "unknown_version: no version 9");
}

BOOST_AUTO_TEST_SUITE_END()

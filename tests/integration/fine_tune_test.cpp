// Issue 13, item 5, across real processes: a CNN pretrained on Fashion-MNIST
// classes 0-4 (one fl-participant round) becomes a new model's version 0
// (fl-manager create --weights RESULT) with its convolution frozen by the
// recipe's "freeze"; participants fine-tune the head on classes 5-9 and
// upload only the head; the merged version keeps the convolution bit for
// bit, verifies by replay, and a contribution carrying every tensor is
// refused with the sizes named.
#include <boost/test/unit_test.hpp>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "messages/contribution.hpp"
#include "messages/files.hpp"
#include "messages/model_package.hpp"
#include "running_hub.hpp"

using namespace fedhub::testing;
using nlohmann::json;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// conv2d: 3*3*1*8 + 8 = 80 values; dense: 13*13*8*10 + 10 = 13,530.
const char* kCnn = R"({"input":[28,28,1],"layers":[
  {"type":"conv2d","filters":8,"kernel_size":3,"activation":"relu"},{"type":"maxpool2d","pool_size":2},
  {"type":"flatten"},{"type":"dense","units":10}]})";

fedhub::LoadedModel version_of(const RunningHub& hub, const std::string& model, const std::string& version) {
  const std::string path = hub.dir / (model + "-v" + version + ".pkg");
  hub.ok({"download", model, "--version", version, "--out", path});
  return fedhub::read_model_package(fedhub::read_file(path));
}

bool same(const fedhub::Tensor& a, const fedhub::Tensor& b) { return a.values == b.values; }

}  // namespace

BOOST_AUTO_TEST_CASE(a_pretrained_model_is_fine_tuned_with_its_convolution_frozen) {
  RunningHub hub;
  hub.start();
  std::ofstream(hub.dir / "cnn.json") << kCnn;
  std::ofstream(hub.dir / "pretrain.json")
      << R"({"optimizer":{"name":"adam","learning_rate":0.002},"steps":60,"samples_per_round":1920})";
  std::ofstream(hub.dir / "finetune.json")
      << R"({"optimizer":{"name":"adam","learning_rate":0.002},"steps":40,"samples_per_round":1280,)"
      << R"("freeze":["conv2d"]})";
  const std::string labels = kSrc + "/config/fashion-mnist-labels.txt";

  // Pretraining: one central round on classes 0-4.
  hub.ok({"create", "base", "--arch", hub.dir / "cnn.json", "--labels", labels, "--recipe", hub.dir / "pretrain.json"});
  const auto ann = hub.key("ann"), ben = hub.key("ben");
  const auto pretrained = hub.train(ann, "idx:" + kFashion + ":0,1,2,3,4", "1", "base");

  // The fine-tuned model starts from it.
  const auto created = hub.ok({"create", "ft", "--arch", hub.dir / "cnn.json", "--labels", labels, "--recipe",
                               hub.dir / "finetune.json", "--weights", pretrained});
  BOOST_TEST(has(created.out, "its weights from"), created.out);
  const auto v0 = version_of(hub, "ft", "0");
  const auto start_file = fedhub::read_file(pretrained);
  const auto start = fedhub::read_contribution(start_file);
  BOOST_REQUIRE(v0.weights.size() == 4u);
  BOOST_REQUIRE(start.data.size() == 13610u * sizeof(float));
  BOOST_TEST(std::memcmp(v0.weights[0].values.data(), start.data.data(), 72 * sizeof(float)) == 0);  // conv2d/kernel
  BOOST_TEST(!v0.spec.architecture.layers[0].trainable);  // the recipe's freeze, stored

  // The crowd fine-tunes the head; results carry the dense layer only.
  const auto r1 = hub.train(ann, "idx:" + kFashion + ":5,6,7", "2", "ft");
  const auto r2 = hub.train(ben, "idx:" + kFashion + ":7,8,9", "3", "ft");
  const auto c1_file = fedhub::read_file(r1);
  const auto c1 = fedhub::read_contribution(c1_file);
  BOOST_REQUIRE(c1.header->tensors()->size() == 2u);
  BOOST_TEST(c1.header->tensors()->Get(0)->name()->str() == "dense/kernel");
  BOOST_TEST(c1.data.size() == 13530u * sizeof(float));
  for (const auto& r : {r1, r2}) {
    const auto up = hub.upload(r == r1 ? ann : ben, r);
    BOOST_REQUIRE_MESSAGE(up.exit_code == 0, up.err << up.out);
  }
  // A result for the whole model (every tensor) is refused with the sizes.
  {
    fedhub::ContributionMeta meta;
    meta.model = "ft";
    meta.num_samples = 10;
    const std::string whole = hub.dir / "whole.fhc";
    fedhub::write_file_atomic(whole, fedhub::build_contribution(meta, v0.weights));
    const auto bad = hub.upload(hub.key("cat"), whole);
    BOOST_TEST(bad.exit_code != 0);
    BOOST_TEST(has(bad.err + bad.out,
                   "model 'ft' trains 13530 of its 13610 parameters: its other layers are frozen, and a contribution "
                   "carries only dense/kernel, dense/bias"),
               bad.err << bad.out);
  }
  hub.ok({"merge", "ft", "--base", "0"});

  const auto v1 = version_of(hub, "ft", "1");
  BOOST_TEST(same(v1.weights[0], v0.weights[0]));   // conv2d/kernel: frozen
  BOOST_TEST(same(v1.weights[1], v0.weights[1]));   // conv2d/bias
  BOOST_TEST(!same(v1.weights[2], v0.weights[2]));  // dense/kernel: merged
  BOOST_TEST(has(hub.ok({"verify", "ft", "--version", "1"}).out, "bit for bit"));

  // A participant evaluates its result over the package it came from.
  const auto eval = run_bounded({kBin + "/fl-participant", "evaluate", "--in", r1, "--package", hub.dir / "in-2.pkg",
                                 "--data", "idx:" + kFashion + ":5,6,7", "--data-labels", labels, "--json"});
  BOOST_REQUIRE_MESSAGE(eval.exit_code == 0, eval.err);
  BOOST_TEST(json::parse(eval.out)["accuracy"].get<double>() > 0.5, eval.out);
  hub.stop();
}

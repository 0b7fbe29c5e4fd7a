// fedhub-data-info describes a source in its own terms by default
// (datasets/probe.hpp): Fashion-MNIST as [28,28,1] with its ten labels, not
// as the paper experiment's model would see it.
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>

#include "datasets/probe.hpp"
#include "support/temp_dir.hpp"

using namespace fedhub::datasets;

namespace {

const std::string kFashion = "/usr/share/datasets/fashion-mnist/t10k";

struct Output {
  int status = -1;
  std::string text;  // stdout and stderr
};

Output run_tool(const std::string& args) {
  Output o;
  const std::string command = std::string(FEDHUB_BIN_DIR) + "/fedhub-data-info " + args + " 2>&1";
  FILE* p = popen(command.c_str(), "r");
  BOOST_REQUIRE(p);
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) o.text.append(buf, n);
  o.status = pclose(p);
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_info)

BOOST_AUTO_TEST_CASE(fashion_mnist_is_probed_in_its_own_shape_and_labels) {
  const auto info = probe_source("idx:" + kFashion + ":0,1");
  BOOST_TEST((info.shape == std::vector<int64_t>{28, 28, 1}));
  BOOST_REQUIRE(info.labels.size() == 10u);
  BOOST_TEST(info.labels[0] == "T-shirt/top");
  BOOST_TEST(info.labels[9] == "Ankle boot");
}

BOOST_AUTO_TEST_CASE(an_idx_source_without_names_has_its_class_indices) {
  fedhub::testing::TempDir dir;
  for (const char* f : {"-images-idx3-ubyte.gz", "-labels-idx1-ubyte.gz"})
    std::filesystem::copy_file(kFashion + f, dir / (std::string("digits") + f));
  const auto info = probe_source("idx:" + dir / "digits");
  BOOST_TEST((info.shape == std::vector<int64_t>{28, 28, 1}));
  BOOST_TEST((info.labels == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  BOOST_TEST(info.labels_from.find("--data-labels") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_tool_reports_the_source_not_the_paper_defaults) {
  const auto own = run_tool("idx:" + kFashion);
  BOOST_TEST(own.status == 0, own.text);
  BOOST_TEST(own.text.find("10000 images of [28,28,1], 10 of 10 labels") != std::string::npos, own.text);
  BOOST_TEST(own.text.find("T-shirt/top  1000") != std::string::npos, own.text);
  BOOST_TEST(own.text.find('\r') == std::string::npos);  // not a terminal: no progress
  const auto paper = run_tool("idx:" + kFashion + " --paper");
  BOOST_TEST(paper.status == 0, paper.text);
  BOOST_TEST(paper.text.find("10000 images of [32,32,3], 10 of 20 labels") != std::string::npos, paper.text);
  const auto shaped = run_tool("idx:" + kFashion + " --shape 784");
  BOOST_TEST(shaped.text.find("10000 images of [784], 10 of 10 labels") != std::string::npos, shaped.text);
}

BOOST_AUTO_TEST_CASE(the_tool_explains_itself) {
  const auto help = run_tool("--help");
  BOOST_TEST(help.status == 0);
  BOOST_TEST(help.text.find("Usage: fedhub-data-info SOURCE") != std::string::npos, help.text);
  BOOST_TEST(help.text.find("--paper") != std::string::npos);
  const auto none = run_tool("");
  BOOST_TEST(WEXITSTATUS(none.status) == 2);
  BOOST_TEST(none.text.find("no SOURCE given") != std::string::npos, none.text);
}

BOOST_AUTO_TEST_SUITE_END()

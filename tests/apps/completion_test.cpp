// Bash completion generated from option tables and a usage text: the script
// holds the options and commands, and bash completes with it like compgen.
#include "apps/completion.hpp"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>

#include "support/temp_dir.hpp"

using namespace fedhub::cli;
namespace po = boost::program_options;

namespace {

const char* kUsage =
    "Usage: tool <command> [options]\n"
    "\n"
    "Commands:\n"
    "  create NAME --arch FILE [--seed N]\n"
    "         [--aggregator fedavg|mean]\n"
    "                                 create a model; see --not-an-option\n"
    "  watch NAME [--merge-at N]     follow a model\n"
    "  keys add NAME --role participant|manager\n"
    "                                 create a key\n"
    "  keys list                      list keys\n"
    "  whoami                         who am I\n"
    "Data sources: idx:PREFIX (--ignored here).\n";

po::options_description globals() {
  po::options_description d("Options");
  d.add_options()("help,h", "show this help")("json", "JSON")("hub", po::value<std::string>(), "the hub's HOST:PORT")(
      "key-file", po::value<std::string>(), "file holding the API key");
  return d;
}

const CompletionOption* find(const std::vector<CompletionOption>& v, const std::string& name) {
  for (const auto& o : v)
    if (o.name == name) return &o;
  return nullptr;
}

// Runs the script in bash, then the completion function with these words
// (the last one the word being completed); returns COMPREPLY, one per line.
std::string complete(const std::string& script, const std::string& words) {
  fedhub::testing::TempDir dir;
  std::ofstream(dir / "c.bash") << script;
  const std::string command = "bash -c 'source " + dir / "c.bash" + " && COMP_WORDS=(" + words +
                              ") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _fedhub_tool && "
                              "printf \"%s\\n\" \"${COMPREPLY[@]}\"' 2>&1";
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  BOOST_REQUIRE(p);
  char buf[256];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  return out;
}

CompletionSpec tool_spec() { return {"tool", completion_options(globals()), completion_commands(kUsage)}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(completion)

BOOST_AUTO_TEST_CASE(options_come_from_the_description) {
  const auto opts = completion_options(globals());
  BOOST_REQUIRE(opts.size() == 4u);
  BOOST_TEST(opts[0].name == "--help");
  BOOST_TEST(!opts[0].takes_value);
  BOOST_TEST(find(opts, "--hub")->takes_value);
  BOOST_TEST(!find(opts, "--hub")->file_value);
  BOOST_TEST(find(opts, "--key-file")->file_value);
}

BOOST_AUTO_TEST_CASE(commands_come_from_the_usage_text) {
  const auto commands = completion_commands(kUsage);
  BOOST_REQUIRE(commands.size() == 4u);
  BOOST_TEST(commands[0].name == "create");
  BOOST_TEST(commands[0].subcommands.empty());
  BOOST_TEST(find(commands[0].options, "--arch")->file_value);
  BOOST_TEST(find(commands[0].options, "--seed")->takes_value);
  BOOST_TEST((find(commands[0].options, "--aggregator")->values == std::vector<std::string>{"fedavg", "mean"}));
  BOOST_TEST(!find(commands[0].options, "--not-an-option"));  // description text
  BOOST_TEST(commands[1].name == "watch");
  BOOST_TEST(find(commands[1].options, "--merge-at"));
  BOOST_TEST(commands[2].name == "keys");
  BOOST_TEST((commands[2].subcommands == std::vector<std::string>{"add", "list"}));
  BOOST_TEST((find(commands[2].options, "--role")->values == std::vector<std::string>{"participant", "manager"}));
  BOOST_TEST(commands[3].name == "whoami");
}

BOOST_AUTO_TEST_CASE(the_script_holds_the_options_and_commands) {
  const auto script = bash_completion(tool_spec());
  for (const char* word : {"_fedhub_tool()", "complete -F _fedhub_tool tool", "--hub", "--key-file", "create", "watch",
                           "keys", "whoami", "completion", "--merge-at", "--aggregator", "fedavg mean"})
    BOOST_TEST(script.find(word) != std::string::npos, word);
}

BOOST_AUTO_TEST_CASE(bash_completes_commands_options_and_values) {
  const auto script = bash_completion(tool_spec());
  BOOST_TEST(complete(script, "tool w") == "watch\nwhoami\n");
  BOOST_TEST(complete(script, "tool --hub h:1 c") == "create\ncompletion\n");
  BOOST_TEST(complete(script, "tool --h") == "--help\n--hub\n");
  BOOST_TEST(complete(script, "tool create m --a") == "--arch\n--aggregator\n");
  BOOST_TEST(complete(script, "tool create m --aggregator f") == "fedavg\n");
  BOOST_TEST(complete(script, "tool keys \"\"") == "add\nlist\n");
  BOOST_TEST(complete(script, "tool keys add bob --role m") == "manager\n");
  BOOST_TEST(complete(script, "tool --hub \"\"") == "\n");  // a host: nothing to offer
  BOOST_TEST(complete(script, "tool completion b") == "bash\n");
}

BOOST_AUTO_TEST_CASE(one_table_for_all_commands_is_split_by_the_usage) {
  po::options_description d("Options");
  d.add_options()("json", "JSON")("in", po::value<std::string>(), "model package file")(
      "out", po::value<std::string>(), "output file")("seed", po::value<uint64_t>(), "seed")(
      "model", po::value<std::string>(), "model name");
  const auto spec = completion_spec_by_usage("tool", d,
                                             "Commands:\n"
                                             "  train --in FILE --out FILE [--seed N]   train\n"
                                             "  download --model NAME --out X           download\n");
  BOOST_TEST((spec.options.size() == 1u && spec.options[0].name == "--json"));
  BOOST_TEST(find(spec.commands[1].options, "--out")->file_value);  // from the table, not the placeholder
  const auto script = bash_completion(spec);
  BOOST_TEST(complete(script, "tool train --") == "--in\n--out\n--seed\n--json\n");
  BOOST_TEST(complete(script, "tool download --") == "--model\n--out\n--json\n");
}

BOOST_AUTO_TEST_CASE(only_bash_is_known) {
  std::ostringstream out;
  BOOST_TEST(completion_main({"completion", "bash"}, tool_spec(), out) == 0);
  BOOST_TEST(out.str() == bash_completion(tool_spec()));
  BOOST_CHECK_THROW(completion_main({"completion", "zsh"}, tool_spec(), out), std::runtime_error);
  BOOST_CHECK_THROW(completion_main({"completion"}, tool_spec(), out), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()

#include "apps/manager/console.hpp"

#include <unistd.h>

#include <iostream>

#include "apps/cli.hpp"
#include "messages/errors.hpp"

namespace fedhub::manager {

namespace {

void report(const Session& s, const std::string& kind, const std::string& message, const std::string& hint) {
  if (s.json_output) {
    json j{{"error", kind}, {"message", message}};
    if (!hint.empty() && kind == "usage") j["hint"] = hint;
    std::cerr << j.dump() << "\n";
  } else if (kind == "usage") {
    std::cerr << "fl-manager: " << message << "\n(" << hint << ")\n";
  } else {
    std::cerr << "fl-manager: error: " << (kind == "failed" ? "" : kind + ": ") << message << "\n";
  }
}

}  // namespace

int run_reported(Session& s, const Command& command, std::vector<std::string> words, const std::string& hint) {
  const bool json_before = s.json_output;
  for (auto it = words.begin(); it != words.end();)
    if (*it == "--json") {
      s.json_output = true;
      it = words.erase(it);
    } else {
      ++it;
    }
  int rc = cli::kOk;
  try {
    rc = command(s, words);
  } catch (const cli::UsageError& e) {
    report(s, "usage", e.what(), hint);
    rc = cli::kUsage;
  } catch (const po::error& e) {
    report(s, "usage", e.what(), hint);
    rc = cli::kUsage;
  } catch (const RequestError& e) {
    report(s, error_name(e.code()), e.what(), hint);
    rc = cli::kFailed;
    if (e.code() == ErrorCode::unavailable) s.client.reset();
  } catch (const std::exception& e) {
    report(s, "failed", e.what(), hint);
    rc = cli::kFailed;
  }
  s.json_output = json_before;
  return rc;
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  char quote = 0;
  bool any = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < line.size()) {
        word += line[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      any = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      any = true;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      if (any) words.push_back(word);
      word.clear();
      any = false;
    } else {
      word += c;
      any = true;
    }
  }
  if (quote) throw cli::UsageError(std::string("unterminated ") + quote + " quote");
  if (any) words.push_back(word);
  return words;
}

int console(Session& s, const Command& command, const std::string& commands_help) {
  const bool tty = isatty(0);
  if (tty) std::cout << "fedhub manager console on " << s.hub << " (help, quit)\n";
  std::string line;
  int first_failure = cli::kOk;
  while ((tty ? std::cout << "fedhub> " << std::flush : std::cout), std::getline(std::cin, line)) {
    int rc = cli::kOk;
    std::vector<std::string> words;
    try {
      words = split_words(line);
    } catch (const cli::UsageError& e) {
      rc = run_reported(
          s, [&](Session&, std::vector<std::string>) -> int { throw e; }, {}, "type help");
    }
    if (rc == cli::kOk && !words.empty() && words[0][0] != '#') {
      if (words[0] == "quit" || words[0] == "exit") break;
      if (words[0] == "help") {
        std::cout << "Console commands (one per line; add --json to any for JSON output):\n"
                  << commands_help << "  help                           this list\n"
                  << "  quit, exit                     leave the console (also end of input)\n";
        continue;
      }
      rc = run_reported(s, command, words, "type help");
    }
    if (rc != cli::kOk && first_failure == cli::kOk) first_failure = rc;
  }
  return first_failure;
}

}  // namespace fedhub::manager

// The fl-manager's interactive console and the way every command's outcome is
// reported: results on stdout, errors on stderr (as JSON objects with --json),
// exit codes 0 done, 1 refused or failed, 2 bad usage.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "apps/manager/session.hpp"

namespace fedhub::manager {

using Command = std::function<int(Session&, std::vector<std::string>)>;

// Runs one command line (words, the command first) and turns its exception
// into a message and an exit code. A `--json` among the words switches JSON
// output on for this command. Usage errors end with `hint` ("see fl-manager
// --help", "type help").
int run_reported(Session& s, const Command& command, std::vector<std::string> words, const std::string& hint);

// Splits a console line into words as a shell would for plain words: blanks
// separate, 'single' and "double" quotes group and are removed, a backslash
// escapes the next character. Throws cli::UsageError for an unterminated quote.
std::vector<std::string> split_words(const std::string& line);

// Reads commands from standard input, one per line ('#' starts a comment;
// help, quit, exit). Errors do not end it. Returns 0 when every command
// succeeded, otherwise the exit code of the first that did not.
int console(Session& s, const Command& command, const std::string& commands_help);

}  // namespace fedhub::manager

// Bash completion for the programs, generated at run time from what the
// program itself parses: its boost::program_options descriptions (the
// options, and which of them take a value) and its usage text's command list
// (the commands, their subcommands and the options each names). Nothing is
// listed twice: a new option or command completes as soon as it is in the
// tables. Pure (no I/O besides the stream given).
//
//   source <(fl-manager completion bash)
#pragma once

#include <boost/program_options/options_description.hpp>
#include <iosfwd>
#include <string>
#include <vector>

namespace fedhub::cli {

struct CompletionOption {
  std::string name;                 // "--hub"
  bool takes_value = false;         // the next word is its value
  bool file_value = false;          // ... a file or directory name
  std::vector<std::string> values;  // the values it accepts, when they are listed ("manual", "buffered")
};

struct CompletionCommand {
  std::string name;                       // "keys"
  std::vector<std::string> subcommands;   // "add", "list", "revoke": the word after the command
  std::vector<CompletionOption> options;  // the options its usage names
};

struct CompletionSpec {
  std::string program;                      // "fl-manager"
  std::vector<CompletionOption> options;    // accepted before and after every command
  std::vector<CompletionCommand> commands;  // may be empty (fl-hub)
};

// The long options of a description ("--name"), in order. An option takes a
// value when its semantic takes tokens; the value is a file when its
// description mentions a file or directory.
std::vector<CompletionOption> completion_options(const boost::program_options::options_description& d);

// The commands of a usage text: the lines of its command list (after a
// "Commands:" line when there is one, up to the next line that does not start
// with a blank) that start with two blanks and a lower-case word. The second
// word is a subcommand when it is lower case ("keys add NAME"); the options
// are the "--name" words of the synopsis (up to the description column, and
// on continuation lines starting with '[' or '-'); an option followed by an
// upper-case placeholder takes a value (FILE, F and DIR: a file), by
// "a|b|c" takes one of those values. Lines of one command are merged.
std::vector<CompletionCommand> completion_commands(const std::string& usage);

// The spec of a program with ONE option table for all its commands
// (fl-participant): an option its usage names for some commands is offered
// after those only, with what the table says of its value; the options the
// usage names for none are offered everywhere.
CompletionSpec completion_spec_by_usage(const std::string& program,
                                        const boost::program_options::options_description& d, const std::string& usage);

// A bash script defining _fedhub_<program> (non-identifier characters as
// '_') and registering it with `complete -F` for the program. With
// COMP_WORDS and COMP_CWORD set it fills COMPREPLY like compgen -W: before
// a command, the commands and global options; after one, its subcommands
// (as its first word), its options and the global ones; after an option
// that takes a value, its listed values, file names (compgen -f) for a file,
// otherwise nothing. A "completion" command (subcommand "bash") is added.
std::string bash_completion(const CompletionSpec& spec);

// `PROGRAM completion bash`: `args` are the words from "completion" on.
// Prints bash_completion(spec) on out and returns 0; throws UsageError for
// another shell or a missing one.
int completion_main(const std::vector<std::string>& args, const CompletionSpec& spec, std::ostream& out);

}  // namespace fedhub::cli

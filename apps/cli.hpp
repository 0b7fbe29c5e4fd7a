// What every fedhub program shares on the command line: exit codes, error
// printing, reading keys, and the hub connection options.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>

#include "apps/progress.hpp"
#include "client/client_tls.hpp"

namespace fedhub::cli {

namespace po = boost::program_options;

// Exit codes: 0 done; 1 the request was refused or failed (the error's name
// is printed, e.g. "stale"); 2 the command line is wrong.
constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

// A wrong command line: printed with the usage hint, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Raises glibc's mmap threshold to 32 MiB so that multi-MiB buffers
// (chunks, messages) are reused instead of mapped and zeroed each time.
// run_guarded() calls it first.
void tune_malloc();

// Runs `body`, turning exceptions into a one-line message on stderr
// ("<program>: error: stale: ...") and an exit code.
int run_guarded(const char* program, int (*body)(int, char**), int argc, char** argv);

// The key from --key, or the first line of --key-file, or the FEDHUB_KEY
// environment variable. Throws UsageError when none is given.
std::string read_key(const po::variables_map& vm);

// The value of an integer option declared as po::value<int64_t>(), checked
// to lie in [lo, hi]: UsageError naming the option and the range otherwise
// (unsigned options would silently turn "-3" into 4294967293).
uint64_t whole(const po::variables_map& vm, const char* option, uint64_t lo, uint64_t hi);

// The value of a version option declared as po::value<int64_t>() with the
// default -1: a version number, or -1 for the current version. Any other
// negative value is a UsageError naming it (it would silently mean
// "current").
int64_t version_or_current(const po::variables_map& vm, const char* option = "version");

// A progress printer for a transfer ("uploading", "downloading") on stderr
// (apps/progress.hpp) with bytes, rate and time left: live, one line
// rewritten in place (a terminal); lines, a line at every quarter; off,
// nothing. Nothing for transfers under 16 MiB. The elapsed time counts from
// the first call.
std::function<void(uint64_t done, uint64_t total)> transfer_progress(const std::string& what, ProgressMode mode);
// The same with progress_mode(false, false, isatty(2)).
std::function<void(uint64_t done, uint64_t total)> transfer_progress(const std::string& what);
// transfer_progress(what, mode) for each transfer, e.g. for
// HubClient::set_default_progress.
std::function<std::function<void(uint64_t, uint64_t)>(const std::string& what)> transfer_progress_factory(
    ProgressMode mode);

// The progress mode of a command line with add_progress_options' --quiet and
// --progress, for stderr (whether it is a terminal).
ProgressMode progress_mode(const po::variables_map& vm);

// Adds --quiet (no progress; results and errors are still printed) and
// --progress (progress even when stderr is not a terminal, as whole lines).
void add_progress_options(po::options_description& d);

// Adds --hub, --key, --key-file, --timeout and the TLS options (--ca-file,
// --cert, --cert-key) to a description, and the progress options
// (add_progress_options).
void add_hub_options(po::options_description& d);

// Adds only the TLS options (--ca-file, --cert, --cert-key), for a client
// command with connection options of its own (fl-hub backup).
void add_tls_options(po::options_description& d);

// The TLS files of add_hub_options' options (--ca-file, else the
// FEDHUB_CA_FILE environment variable): for SystemConfig. UsageError for a
// --cert without --cert-key or without a CA file.
ClientTls client_tls(const po::variables_map& vm);

}  // namespace fedhub::cli

namespace fedhub::cli {

// Options are spelled out: no guessing "--k" means "--key".
constexpr int kStyle = boost::program_options::command_line_style::default_style &
                       ~boost::program_options::command_line_style::allow_guessing;

}  // namespace fedhub::cli

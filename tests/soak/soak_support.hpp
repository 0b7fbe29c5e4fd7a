// Shared pieces of the crash-safety test and the load soak (tests/soak/):
// the dense models they create, the contributions the drivers upload, the
// receipt logs the drivers write and the checkers read, the hub's config
// file and /proc sampling.
//
// The receipt log (one per driver process, appended by its client threads):
//   begin MODEL BASE PARTICIPANT SAMPLES   before an upload starts
//   ack MODEL BASE PARTICIPANT SAMPLES     after the hub's UploadReceipt arrived,
//                                          written, flushed and fsynced before the
//                                          client's next request
//   refused CODE MODEL BASE PARTICIPANT SAMPLES
//   lost MODEL BASE PARTICIPANT SAMPLES    the hub went away during the upload:
//                                          its outcome is unknown
// SAMPLES is the contribution's num_samples, unique per participant, so that
// an acknowledged contribution is recognised in the hub's listings by
// (model, base, participant, samples).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "bench/transfer/bench_models.hpp"
#include "client/hub_client.hpp"
#include "messages/buffer.hpp"
#include "model/tensor.hpp"

namespace fedhub::soak {

// The dense model and its random contributions are the benchmarks'
// (bench/transfer/bench_models.hpp).
using bench::create_dense_model;
using bench::dense_layout;
using bench::random_contribution;

// The current version of a model (a 1-byte download).
uint64_t current_version(HubClient& client, const std::string& model);

// An append-only, line-oriented log shared by threads.
class ReceiptLog {
 public:
  explicit ReceiptLog(const std::string& path);
  ~ReceiptLog();
  ReceiptLog(const ReceiptLog&) = delete;
  ReceiptLog& operator=(const ReceiptLog&) = delete;
  // Appends one line (a '\n' is added) with one write(2); with sync, fsyncs
  // before returning. Throws std::runtime_error when the write fails.
  void write(const std::string& line, bool sync);

 private:
  std::mutex mutex_;
  int fd_ = -1;
};

struct LogEntry {
  std::string kind;  // begin, ack, refused, lost
  std::string code;  // refused: the error's name
  std::string model;
  uint64_t base = 0;
  std::string participant;
  uint64_t samples = 0;
};

// The complete lines of a receipt log (a last line without '\n' is left out).
std::vector<LogEntry> read_log(const std::string& path);

// (model, base, participant): what the hub's filtering rule keeps unique.
using ContributionKey = std::tuple<std::string, uint64_t, std::string>;

// What a participant driver process was told (keys: name -> key).
std::map<std::string, std::string> read_keys(const std::string& path);
void write_keys(const std::string& path, const std::vector<std::pair<std::string, std::string>>& keys);

// The process's resident set (MB), open file descriptors and threads, from
// /proc/PID; negative values when the process is gone.
struct ProcSample {
  double rss_mb = -1;
  int fds = -1;
  int threads = -1;
};
ProcSample sample_process(pid_t pid);

// Writes `text` to `path` (replacing it).
void write_file(const std::string& path, const std::string& text);

// The directory of this program (the build's bin directory).
std::string program_dir();

// Words of a line.
std::vector<std::string> words(const std::string& line);

}  // namespace fedhub::soak

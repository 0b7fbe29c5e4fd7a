// bench-transfer: how fast models travel between separate processes and the
// hub, and how much memory that takes, against the physical limits measured
// in the same run.
//
//   1. Limits: loopback TCP bandwidth (one connection over 127.0.0.1, 3 x 2 GB
//      in 4 MiB writes) and the disk's synced write bandwidth in the data
//      directory's filesystem (1 GB in 4 MiB writes, fdatasync every 64 MiB
//      and at the end; 2 runs). The best run of each is the limit.
//   2. For each size (1M, 10M, 100M, 250M float parameters, a dense layer of
//      2 units over N/2 - 1 inputs): a fresh fl-hub process on a fresh data
//      directory (under --dir, the filesystem measured in 1), the model
//      created with the manager key (the hub initialises it from a seed), a
//      participant process (this program again, `--participant`, so that its
//      peak memory is its own) that builds a random contribution and uploads
//      it (HubClient::upload: session, parts, commit answered once synced);
//      the manager merges it (requests::merge); the participant downloads
//      the new version (HubClient::download_package) and checks its data
//      hash against the package header. Each step is timed (wall clock);
//      the hub's and the participant's peak RSS (VmHWM) are read from /proc.
//
// Ratios: U = upload MB/s / fdatasync MB/s, D = download MB/s / loopback MB/s.
// Last line: "bench-transfer: upload_fraction U download_fraction D
// hub_peak_model_sizes R", U and D the worst over the sizes, R the hub's
// peak RSS over the model's size in the 250M run (the largest size run when
// 250M is not among --sizes). Goals: U >= 0.5, D >= 0.5, R <= 2.5 (printed,
// never asserted).
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <caf/actor_system.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/transfer/bench_models.hpp"
#include "bench/transfer/bench_support.hpp"
#include "client/hub_client.hpp"
#include "client/requests.hpp"
#include "client/system_config.hpp"
#include "messages/checksum.hpp"
#include "messages/errors.hpp"
#include "messages/model_package.hpp"

using namespace fedhub;
using namespace fedhub::bench;

namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGB = 1000ull * 1000 * 1000;
// Every step of the biggest model must fit; a hung hub is noticed at this.
const std::chrono::seconds kStepTimeout(900);

const char* kUsage =
    "Usage: bench-transfer [--sizes 1M,10M,100M,250M] [--dir DIR]\n"
    "\n"
    "Uploads, merges and downloads models of the given sizes (float parameters)\n"
    "between a real fl-hub process and a participant process over loopback, one\n"
    "fresh hub per size (its data directory under DIR, default /tmp), and compares\n"
    "the upload with the disk's fdatasync bandwidth and the download with loopback\n"
    "TCP bandwidth, both measured in the same run in DIR's filesystem. Needs about\n"
    "5 x the largest model's size free in DIR (250M: 1 GB of weights). Progress on\n"
    "stderr; the last line is\n"
    "  bench-transfer: upload_fraction U download_fraction D hub_peak_model_sizes R\n";

double mb(double bytes) { return bytes / 1e6; }

double self_cpu_seconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// ---------------------------------------------------------------- participant

// One result line to the parent ("@@ tag fields...").
void report(const std::string& line) {
  std::printf("@@ %s\n", line.c_str());
  std::fflush(stdout);
}

// `bench-transfer --participant --port P --model NAME --params N`, its key on
// stdin: builds and uploads a contribution to version 0, frees it, waits for
// "download" on stdin, downloads the current version and checks its hash.
int participant_main(int argc, char** argv) {
  uint16_t port = 0;
  std::string model;
  uint64_t params = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--port") port = static_cast<uint16_t>(std::stoi(argv[i + 1]));
    if (a == "--model") model = argv[i + 1];
    if (a == "--params") params = std::stoull(argv[i + 1]);
  }
  LineReader in(0);
  try {
    const auto key = in.next(std::chrono::seconds(60));
    if (!key || key->empty()) throw std::runtime_error("no key on stdin");
    SystemConfig cfg(2);
    caf::actor_system system{cfg};
    HubClient client(system, "127.0.0.1", port, *key, kStepTimeout);

    auto t0 = Clock::now();
    Buffer file = random_contribution(model, 0, params, 20240611);
    report("built " + std::to_string(seconds_since(t0)));

    const double cpu0 = self_cpu_seconds();
    t0 = Clock::now();
    // When the last part was acknowledged: the rest is the commit (the
    // whole-data checks and the synced write).
    double parts_s = 0;
    const auto receipt = client.upload(file, nullptr, [&](uint64_t done, uint64_t total) {
      if (done == total) parts_s = seconds_since(t0);
    });
    const double upload_s = seconds_since(t0);
    report("uploaded " + std::to_string(params * sizeof(float)) + " " + std::to_string(upload_s) + " " +
           std::to_string(self_cpu_seconds() - cpu0) + " " + std::to_string(receipt.base_version) + " " +
           std::to_string(parts_s));
    Buffer().swap(file);  // sent: a participant keeps only the model it downloads next

    const auto cmd = in.next(kStepTimeout);
    if (!cmd || *cmd != "download") throw std::runtime_error("expected 'download' on stdin");
    const double cpu1 = self_cpu_seconds();
    t0 = Clock::now();
    // The first progress call comes after the first chunk's round trip and
    // the package's allocation.
    double first_s = -1;
    Buffer package = client.download_package(model, -1, 0, [&](uint64_t, uint64_t) {
      if (first_s < 0) first_s = seconds_since(t0);
    });
    const double download_s = seconds_since(t0);
    const double download_cpu = self_cpu_seconds() - cpu1;
    t0 = Clock::now();
    const auto view = view_model_package(package, false);
    const uint64_t hash = data_hash(view.data);
    const bool hash_ok = hash == view.header.root->data_hash();
    const double hash_s = seconds_since(t0);
    report("downloaded " + std::to_string(package.size()) + " " + std::to_string(download_s) + " " +
           std::to_string(view.header.root->version()->version()) + " " + (hash_ok ? "1" : "0") + " " +
           std::to_string(hash_s) + " " + std::to_string(download_cpu) + " " + std::to_string(first_s));
    report("peak " + std::to_string(proc_status_kb(getpid(), "VmHWM")) + " " + std::to_string(self_cpu_seconds()));
  } catch (const RequestError& e) {
    report("error " + e.describe());
    return 1;
  } catch (const std::exception& e) {
    report(std::string("error ") + e.what());
    return 1;
  }
  return 0;
}

// ---------------------------------------------------------------- one size

struct SizeRun {
  uint64_t params = 0;
  uint64_t model_bytes = 0;
  double create_s = 0, build_s = 0;
  double upload_s = 0, upload_mb_s = 0, participant_upload_cpu = 0;
  double parts_s = 0;        // until the last part was acknowledged (the rest: the commit)
  double first_chunk_s = 0;  // until the first chunk was in the allocated package
  double merge_s = 0;
  double download_s = 0, download_mb_s = 0, hash_s = 0, participant_download_cpu = 0;
  uint64_t package_bytes = 0;
  uint64_t new_version = 0;
  bool hash_ok = false;
  // The hub's VmHWM after creation, upload, merge and download (kB).
  long hub_hwm_kb[4] = {-1, -1, -1, -1};
  long hub_rss_end_kb = -1;
  long participant_hwm_kb = -1;
  long participant_maxrss_kb = -1;  // wait4's ru_maxrss, a cross-check
  double hub_cpu[3] = {0, 0, 0};    // CPU seconds during upload, merge, download
  IoCounters hub_io[3];             // storage bytes during upload, merge, download
  uint64_t disk_bytes = 0;          // the data directory at the end
  uint64_t disk_peak = 0;           // its largest size seen after a step
  size_t hub_log_lines = 0;         // unusual lines in the hub's log

  double hub_peak_kb() const { return static_cast<double>(*std::max_element(hub_hwm_kb, hub_hwm_kb + 4)); }
  double model_sizes(double kb) const { return kb * 1024.0 / static_cast<double>(model_bytes); }
};

// The fields of the participant's next "@@ tag ..." line (other lines are
// passed on to stderr); throws on its error or when it ends.
std::vector<std::string> expect(LineReader& out, const std::string& tag) {
  while (true) {
    const auto line = out.next(kStepTimeout);
    if (!line) {
      throw std::runtime_error(out.eof() ? "the participant ended before reporting '" + tag + "'"
                                         : "the participant did not report '" + tag + "' in time");
    }
    if (line->rfind("@@ ", 0) != 0) {
      std::fprintf(stderr, "participant: %s\n", line->c_str());
      continue;
    }
    auto w = words(line->substr(3));
    if (!w.empty() && w[0] == "error") throw std::runtime_error("the participant failed: " + line->substr(9));
    if (w.empty() || w[0] != tag) throw std::runtime_error("the participant said '" + *line + "', not '" + tag + "'");
    w.erase(w.begin());
    return w;
  }
}

// Stops a participant that is still running when a step fails.
struct ChildGuard {
  pid_t pid;
  ~ChildGuard() {
    if (pid > 0 && kill(pid, 0) == 0) stop_child(pid, std::chrono::seconds(5));
  }
};

IoCounters io_delta(const IoCounters& a, const IoCounters& b) {
  IoCounters d;
  if (a.write_bytes < 0 || b.write_bytes < 0) return d;
  d.read_bytes = b.read_bytes - a.read_bytes;
  d.write_bytes = b.write_bytes - a.write_bytes;
  d.wchar = b.wchar - a.wchar;
  return d;
}

SizeRun run_size(caf::actor_system& system, const std::string& dir, const std::string& hub_program, uint64_t params) {
  SizeRun r;
  r.params = params;
  r.model_bytes = params * sizeof(float);
  const std::string name = count_name(params);
  TempDir run(dir, "fedhub-bench-transfer.");
  const std::string data = run.path() + "/data";
  progress("[%s] starting fl-hub (data %s)\n", name.c_str(), data.c_str());
  HubProcess hub(hub_program, data, run.path() + "/hub.log");
  try {
    HubClient manager(system, "127.0.0.1", hub.port(), hub.manager_key(), kStepTimeout);
    const std::string model = "transfer-" + name;
    auto t0 = Clock::now();
    create_dense_model(manager, model, params);
    r.create_s = seconds_since(t0);
    r.hub_hwm_kb[0] = hub.peak_rss_kb();
    r.disk_peak = std::max(r.disk_peak, disk_usage(data));
    progress("[%s] created '%s' in %.2f s; hub peak %.0f MB\n", name.c_str(), model.c_str(), r.create_s,
             static_cast<double>(r.hub_hwm_kb[0]) / 1024);
    Buffer holder;
    const std::string key =
        manager
            .call_as<fb::KeyCreated>(requests::add_key(manager.key(), "participant-1", fb::Role::participant), holder)
            ->key()
            ->str();

    Child p = spawn({self_exe(), "--participant", "--port", std::to_string(hub.port()), "--model", model, "--params",
                     std::to_string(params)});
    ChildGuard guard{p.pid};
    LineReader out(p.out);
    write_all(p.in, key + "\n");
    r.build_s = std::stod(expect(out, "built").at(0));
    progress("[%s] participant built its contribution in %.2f s; uploading\n", name.c_str(), r.build_s);
    double cpu0 = hub.cpu_seconds();
    IoCounters io0 = hub.io();
    auto up = expect(out, "uploaded");
    r.hub_cpu[0] = hub.cpu_seconds() - cpu0;
    r.hub_io[0] = io_delta(io0, hub.io());
    r.upload_s = std::stod(up.at(1));
    r.participant_upload_cpu = std::stod(up.at(2));
    r.parts_s = std::stod(up.at(4));
    r.upload_mb_s = mb(static_cast<double>(r.model_bytes)) / r.upload_s;
    r.hub_hwm_kb[1] = hub.peak_rss_kb();
    r.disk_peak = std::max(r.disk_peak, disk_usage(data));
    progress("[%s] uploaded in %.2f s (%.0f MB/s); merging\n", name.c_str(), r.upload_s, r.upload_mb_s);

    cpu0 = hub.cpu_seconds();
    io0 = hub.io();
    t0 = Clock::now();
    const auto* receipt = manager.call_as<fb::MergeReceipt>(requests::merge(manager.key(), model, 0), holder);
    r.merge_s = seconds_since(t0);
    r.new_version = receipt->new_version();
    r.hub_cpu[1] = hub.cpu_seconds() - cpu0;
    r.hub_io[1] = io_delta(io0, hub.io());
    r.hub_hwm_kb[2] = hub.peak_rss_kb();
    r.disk_peak = std::max(r.disk_peak, disk_usage(data));
    progress("[%s] merged into version %llu in %.2f s; downloading\n", name.c_str(),
             static_cast<unsigned long long>(r.new_version), r.merge_s);

    cpu0 = hub.cpu_seconds();
    io0 = hub.io();
    write_all(p.in, "download\n");
    auto down = expect(out, "downloaded");
    r.hub_cpu[2] = hub.cpu_seconds() - cpu0;
    r.hub_io[2] = io_delta(io0, hub.io());
    r.package_bytes = std::stoull(down.at(0));
    r.download_s = std::stod(down.at(1));
    r.download_mb_s = mb(static_cast<double>(r.package_bytes)) / r.download_s;
    const uint64_t got_version = std::stoull(down.at(2));
    r.hash_ok = down.at(3) == "1";
    r.hash_s = std::stod(down.at(4));
    r.participant_download_cpu = std::stod(down.at(5));
    r.first_chunk_s = std::stod(down.at(6));
    if (got_version != r.new_version)
      throw std::runtime_error("the participant downloaded version " + std::to_string(got_version) + ", not " +
                               std::to_string(r.new_version));
    r.participant_hwm_kb = std::stol(expect(out, "peak").at(0));
    struct rusage ru {};
    const auto status = wait_for(p.pid, std::chrono::seconds(60), &ru);
    close(p.in);
    close(p.out);
    if (!status) throw std::runtime_error("the participant did not end");
    guard.pid = -1;
    if (*status != 0) throw std::runtime_error("the participant ended with " + describe_status(*status));
    r.participant_maxrss_kb = ru.ru_maxrss;
    r.hub_hwm_kb[3] = hub.peak_rss_kb();
    r.disk_peak = std::max(r.disk_peak, disk_usage(data));
    r.hub_rss_end_kb = hub.rss_kb();
    progress("[%s] downloaded %.0f MB in %.2f s (%.0f MB/s), hash %s\n", name.c_str(),
             mb(static_cast<double>(r.package_bytes)), r.download_s, r.download_mb_s,
             r.hash_ok ? "matches the header" : "DIFFERS from the header");
  } catch (...) {
    progress("[%s] failed; the hub's log ends:\n%s\n", name.c_str(), hub.log_tail().c_str());
    throw;
  }
  r.disk_bytes = disk_usage(data);
  r.disk_peak = std::max(r.disk_peak, r.disk_bytes);
  const int status = hub.stop();
  const auto complaints = hub.unusual_log_lines();
  for (size_t i = 0; i < complaints.size() && i < 10; ++i)
    progress("[%s] fl-hub's log: %s\n", name.c_str(), complaints[i].c_str());
  r.hub_log_lines = complaints.size();
  if (status != 0) progress("[%s] note: fl-hub ended with %s\n", name.c_str(), describe_status(status).c_str());
  return r;
}

long mem_available_kb() {
  std::ifstream f("/proc/meminfo");
  std::string name;
  long v = 0;
  std::string unit;
  while (f >> name >> v >> unit)
    if (name == "MemAvailable:") return v;
  return -1;
}

const char* met(bool ok) { return ok ? "met" : "NOT met"; }

int run(const std::vector<uint64_t>& sizes, const std::string& dir) {
  const std::string hub_program = sibling_program("fl-hub");
  const uint64_t largest = *std::max_element(sizes.begin(), sizes.end()) * sizeof(float);
  std::printf("bench-transfer: sizes");
  for (auto s : sizes) std::printf(" %s", count_name(s).c_str());
  std::printf(" (float parameters); data under %s; load average %s\n", dir.c_str(), load_average().c_str());

  // Disk: the probe's 1 GB file first (removed), then per size the hub's
  // version 0, the staged upload, version 1 and RocksDB's log of them.
  const uint64_t need = std::max<uint64_t>(kGB + 256 * kMiB, 5 * largest + 512 * kMiB);
  const uint64_t have = free_bytes(dir);
  std::printf("free space in %s: %.1f GB; this run needs about %.1f GB\n", dir.c_str(), static_cast<double>(have) / 1e9,
              static_cast<double>(need) / 1e9);
  if (have < need) {
    std::fprintf(stderr,
                 "bench-transfer: NOT ENOUGH DISK SPACE in %s: %.1f GB free, about %.1f GB needed (the largest "
                 "model, %.1f GB of weights, is stored about 5 times over while it runs). Use --dir on a larger "
                 "filesystem or leave the largest size out of --sizes.\n",
                 dir.c_str(), static_cast<double>(have) / 1e9, static_cast<double>(need) / 1e9,
                 static_cast<double>(largest) / 1e9);
    return 1;
  }
  const long avail_kb = mem_available_kb();
  if (avail_kb > 0 && static_cast<double>(avail_kb) * 1024 < 6.0 * static_cast<double>(largest))
    std::fprintf(stderr, "bench-transfer: warning: %.1f GB of memory available, the largest size may need %.1f GB\n",
                 static_cast<double>(avail_kb) / 1e6, 6.0 * static_cast<double>(largest) / 1e9);

  progress("measuring loopback TCP bandwidth (3 x 2 GB in 4 MiB writes)\n");
  const Rate loop = loopback_mb_s(2 * kGB, 4 * kMiB, 3);
  progress("measuring fdatasync bandwidth in %s (2 x 1 GB in 4 MiB writes, fdatasync every 64 MiB)\n", dir.c_str());
  const Rate sync = fdatasync_mb_s(dir, kGB, 4 * kMiB, 64 * kMiB, 2);
  std::printf("limits: loopback TCP %.0f MB/s (best of 3 x 2 GB in 4 MiB writes; median %.0f)\n", loop.best,
              loop.median);
  std::printf(
      "        fdatasync %.0f MB/s in %s (best of 2 x 1 GB in 4 MiB writes, synced every 64 MiB; the other %.0f)\n",
      sync.best, dir.c_str(), sync.worst);

  SystemConfig cfg(2);
  caf::actor_system system{cfg};
  std::vector<SizeRun> runs;
  for (uint64_t params : sizes) runs.push_back(run_size(system, dir, hub_program, params));

  std::printf(
      "\n| size | model MB | upload s | upload MB/s | U | merge s | download s | download MB/s | D | hub peak MB "
      "(model sizes) | participant peak MB (model sizes) |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  double worst_u = 1e9, worst_d = 1e9;
  for (const auto& r : runs) {
    const double u = r.upload_mb_s / sync.best;
    const double d = r.download_mb_s / loop.best;
    worst_u = std::min(worst_u, u);
    worst_d = std::min(worst_d, d);
    std::printf("| %s | %.0f | %.2f | %.0f | %.2f | %.2f | %.2f | %.0f | %.2f | %.0f (%.2f) | %.0f (%.2f) |\n",
                count_name(r.params).c_str(), mb(static_cast<double>(r.model_bytes)), r.upload_s, r.upload_mb_s, u,
                r.merge_s, r.download_s, r.download_mb_s, d, r.hub_peak_kb() / 1024, r.model_sizes(r.hub_peak_kb()),
                static_cast<double>(r.participant_hwm_kb) / 1024,
                r.model_sizes(static_cast<double>(r.participant_hwm_kb)));
  }
  std::printf("\ndetails (MB = 1e6 bytes; hub CPU and storage writes from /proc/PID/stat and /proc/PID/io):\n");
  for (const auto& r : runs) {
    auto w = [](const IoCounters& io) { return io.write_bytes < 0 ? -1.0 : mb(static_cast<double>(io.write_bytes)); };
    std::printf("  %s: create %.2f s, contribution built in %.2f s; data hash %s (checked in %.2f s); version %llu\n",
                count_name(r.params).c_str(), r.create_s, r.build_s, r.hash_ok ? "ok" : "WRONG", r.hash_s,
                static_cast<unsigned long long>(r.new_version));
    std::printf(
        "      hub VmHWM after create / upload / merge / download: %.2f / %.2f / %.2f / %.2f model sizes; "
        "VmRSS at the end %.2f\n",
        r.model_sizes(static_cast<double>(r.hub_hwm_kb[0])), r.model_sizes(static_cast<double>(r.hub_hwm_kb[1])),
        r.model_sizes(static_cast<double>(r.hub_hwm_kb[2])), r.model_sizes(static_cast<double>(r.hub_hwm_kb[3])),
        r.model_sizes(static_cast<double>(r.hub_rss_end_kb)));
    std::printf(
        "      hub CPU s (of wall s) upload %.2f (%.2f), merge %.2f (%.2f), download %.2f (%.2f); "
        "hub storage writes MB upload %.0f, merge %.0f, download %.0f\n",
        r.hub_cpu[0], r.upload_s, r.hub_cpu[1], r.merge_s, r.hub_cpu[2], r.download_s, w(r.hub_io[0]), w(r.hub_io[1]),
        w(r.hub_io[2]));
    if (r.hub_log_lines > 0)
      std::printf("      fl-hub logged %zu unusual line(s) (on stderr above)\n", r.hub_log_lines);
    std::printf(
        "      upload: parts acknowledged after %.2f s, commit %.2f s; download: first chunk in the allocated "
        "package after %.2f s\n",
        r.parts_s, r.upload_s - r.parts_s, r.first_chunk_s);
    std::printf(
        "      participant CPU s upload %.2f, download %.2f; peak RSS %.0f MB (wait4 maxrss %.0f MB); "
        "data directory at the end %.0f MB (%.2f model sizes; largest after a step %.2f)\n",
        r.participant_upload_cpu, r.participant_download_cpu, static_cast<double>(r.participant_hwm_kb) / 1024,
        static_cast<double>(r.participant_maxrss_kb) / 1024, mb(static_cast<double>(r.disk_bytes)),
        static_cast<double>(r.disk_bytes) / static_cast<double>(r.model_bytes),
        static_cast<double>(r.disk_peak) / static_cast<double>(r.model_bytes));
  }
  const auto largest_run = std::max_element(runs.begin(), runs.end(),
                                            [](const SizeRun& a, const SizeRun& b) { return a.params < b.params; });
  const double r_value = largest_run->model_sizes(largest_run->hub_peak_kb());
  const bool all_hashes = std::all_of(runs.begin(), runs.end(), [](const SizeRun& r) { return r.hash_ok; });
  std::printf("\nlimits: loopback %.0f MB/s, fdatasync %.0f MB/s; load average at the end %s\n", loop.best, sync.best,
              load_average().c_str());
  std::printf("goals: U >= 0.5 %s (worst %.2f), D >= 0.5 %s (worst %.2f), R <= 2.5 %s (%.2f, the %s model)%s\n",
              met(worst_u >= 0.5), worst_u, met(worst_d >= 0.5), worst_d, met(r_value <= 2.5), r_value,
              count_name(largest_run->params).c_str(), all_hashes ? "" : "; A DOWNLOAD'S HASH WAS WRONG");
  std::printf("bench-transfer: upload_fraction %.2f download_fraction %.2f hub_peak_model_sizes %.2f\n", worst_u,
              worst_d, r_value);
  return all_hashes ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // As the fedhub programs do (apps/cli.cpp): blocks up to 32 MiB reuse heap
  // memory instead of fresh pages.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  if (argc > 1 && std::strcmp(argv[1], "--participant") == 0) return participant_main(argc, argv);
  std::vector<uint64_t> sizes = {1000000, 10000000, 100000000, 250000000};
  std::string dir = "/tmp";
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        std::printf("%s", kUsage);
        return 0;
      } else if (a == "--sizes" && i + 1 < argc) {
        sizes.clear();
        std::stringstream list(argv[++i]);
        for (std::string item; std::getline(list, item, ',');) {
          const uint64_t n = parse_count(item);
          dense_layout(n);  // even, >= 4
          sizes.push_back(n);
        }
        if (sizes.empty()) throw std::invalid_argument("--sizes needs at least one size");
      } else if (a == "--dir" && i + 1 < argc) {
        dir = argv[++i];
      } else {
        std::fprintf(stderr, "bench-transfer: unknown argument '%s'\n%s", a.c_str(), kUsage);
        return 2;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-transfer: %s\n%s", e.what(), kUsage);
    return 2;
  }
  install_cleanup();
  try {
    return run(sizes, dir);
  } catch (const RequestError& e) {
    std::fprintf(stderr, "bench-transfer: error: %s\n", e.describe().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-transfer: error: %s\n", e.what());
  }
  return 1;
}

// The hub's metrics, for `GET /metrics` (Prometheus text exposition format
// 0.0.4). One process-wide registry that the hub's parts count into from any
// thread; rendering reads it without stopping them. Counters and histograms
// only grow; gauges are computed when rendered.
//
//   metrics::global().count("fedhub_contributions_rejected_total", {{"reason", "stale"}});
//   metrics::global().observe("fedhub_merge_duration_seconds", {}, 0.042);
//   std::string text = metrics::global().render();
//
// Names and their help texts are declared once (declare()); counting into an
// undeclared name is a programming error (std::logic_error). Depends on
// nothing but the standard library.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace fedhub::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class Kind { counter, gauge, histogram };

class Registry {
 public:
  // Declares a metric. Histograms take their upper bounds (ascending; +Inf is
  // added). Declaring a name again with the same kind is allowed (no-op).
  void declare(const std::string& name, Kind kind, const std::string& help, std::vector<double> buckets = {});
  // Adds `by` to a counter's series.
  void count(const std::string& name, const Labels& labels = {}, double by = 1);
  // Records one observation of a histogram.
  void observe(const std::string& name, const Labels& labels, double value);
  // A gauge's series, computed at each render (e.g. open connections).
  void gauge(const std::string& name, std::function<std::vector<std::pair<Labels, double>>()> read);

  // The exposition text: # HELP, # TYPE, then each series, names sorted.
  std::string render() const;
  // One counter's value (0 when never counted), for tests and benchmarks.
  double value(const std::string& name, const Labels& labels = {}) const;

 private:
  struct Histogram {
    std::vector<uint64_t> counts;  // per bucket, not cumulative; last is +Inf
    double sum = 0;
    uint64_t n = 0;
  };
  struct Family {
    Kind kind = Kind::counter;
    std::string help;
    std::vector<double> buckets;
    std::map<Labels, double> counters;
    std::map<Labels, Histogram> histograms;
    std::vector<std::function<std::vector<std::pair<Labels, double>>()>> gauges;
  };
  Family& family(const std::string& name, Kind kind);
  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

// The process's registry, with the hub's metrics declared (registry.cpp lists
// them: docs/http-api.md, Metrics).
Registry& global();

// Notes that the key named `name` made a request through `door` ("caf",
// "http"): fedhub_connected_participants counts, per door, the keys seen in
// the last 60 seconds. Only authenticated names are noted, so the record is
// bounded by the hub's keys.
void note_caller(const std::string& door, const std::string& name);

// Seconds since an arbitrary start, for durations.
double now_seconds();

}  // namespace fedhub::metrics

#include "metrics/registry.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace fedhub::metrics {

namespace {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::counter:
      return "counter";
    case Kind::gauge:
      return "gauge";
    case Kind::histogram:
      return "histogram";
  }
  return "untyped";
}

// A label value with \, " and newlines escaped, as the format asks.
std::string escaped(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // the shortest text that reads back as v
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

std::string label_text(const Labels& labels, const std::string& extra_name = {}, const std::string& extra = {}) {
  if (labels.empty() && extra_name.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k;
    out += "=\"";
    out += escaped(v);
    out += "\"";
  }
  if (!extra_name.empty()) {
    if (!first) out += ",";
    out += extra_name;
    out += "=\"";
    out += extra;
    out += "\"";
  }
  out += "}";
  return out;
}

}  // namespace

void Registry::declare(const std::string& name, Kind kind, const std::string& help, std::vector<double> buckets) {
  std::lock_guard lock(mutex_);
  auto [it, added] = families_.try_emplace(name);
  if (!added) {
    if (it->second.kind != kind) throw std::logic_error("metric " + name + " declared twice with different kinds");
    return;
  }
  it->second.kind = kind;
  it->second.help = help;
  it->second.buckets = std::move(buckets);
}

Registry::Family& Registry::family(const std::string& name, Kind kind) {
  auto it = families_.find(name);
  if (it == families_.end() || it->second.kind != kind)
    throw std::logic_error("metric " + name + " is not declared as a " + kind_name(kind));
  return it->second;
}

void Registry::count(const std::string& name, const Labels& labels, double by) {
  std::lock_guard lock(mutex_);
  family(name, Kind::counter).counters[labels] += by;
}

void Registry::observe(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  auto& f = family(name, Kind::histogram);
  auto& h = f.histograms[labels];
  if (h.counts.empty()) h.counts.assign(f.buckets.size() + 1, 0);
  size_t i = 0;
  while (i < f.buckets.size() && value > f.buckets[i]) ++i;
  ++h.counts[i];
  h.sum += value;
  ++h.n;
}

void Registry::gauge(const std::string& name, std::function<std::vector<std::pair<Labels, double>>()> read) {
  std::lock_guard lock(mutex_);
  family(name, Kind::gauge).gauges.push_back(std::move(read));
}

double Registry::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto c = it->second.counters.find(labels);
  return c == it->second.counters.end() ? 0 : c->second;
}

std::string Registry::render() const {
  // Gauges are read outside the lock: their functions may take other locks.
  std::vector<std::pair<std::string, std::vector<std::function<std::vector<std::pair<Labels, double>>()>>>> gauges;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, f] : families_)
      if (f.kind == Kind::gauge) gauges.emplace_back(name, f.gauges);
  }
  std::map<std::string, std::vector<std::pair<Labels, double>>> gauge_values;
  for (const auto& [name, fns] : gauges)
    for (const auto& fn : fns)
      for (auto& series : fn()) gauge_values[name].push_back(std::move(series));

  std::lock_guard lock(mutex_);
  std::ostringstream out;
  for (const auto& [name, f] : families_) {
    out << "# HELP " << name << " " << f.help << "\n# TYPE " << name << " " << kind_name(f.kind) << "\n";
    if (f.kind == Kind::counter) {
      for (const auto& [labels, v] : f.counters) out << name << label_text(labels) << " " << number(v) << "\n";
    } else if (f.kind == Kind::gauge) {
      for (const auto& [labels, v] : gauge_values[name]) out << name << label_text(labels) << " " << number(v) << "\n";
    } else {
      for (const auto& [labels, h] : f.histograms) {
        uint64_t cumulative = 0;
        for (size_t i = 0; i < h.counts.size(); ++i) {
          cumulative += h.counts[i];
          const std::string le = i < f.buckets.size() ? number(f.buckets[i]) : "+Inf";
          out << name << "_bucket" << label_text(labels, "le", le) << " " << cumulative << "\n";
        }
        out << name << "_sum" << label_text(labels) << " " << number(h.sum) << "\n";
        out << name << "_count" << label_text(labels) << " " << h.n << "\n";
      }
    }
  }
  return out.str();
}

namespace {

struct Callers {
  std::mutex mutex;
  std::map<std::string, std::map<std::string, double>> last_seen;  // door -> name -> seconds
};

Callers& callers() {
  static auto* c = new Callers;
  return *c;
}

}  // namespace

void note_caller(const std::string& door, const std::string& name) {
  auto& c = callers();
  std::lock_guard lock(c.mutex);
  c.last_seen[door][name] = now_seconds();
}

Registry& global() {
  static Registry* r = [] {
    auto* reg = new Registry;
    const std::vector<double> seconds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    reg->declare("fedhub_contributions_accepted_total", Kind::counter, "Contributions stored (durable), by model.");
    reg->declare("fedhub_contributions_rejected_total", Kind::counter,
                 "Upload requests refused, by model and reason (the hub's error code).");
    reg->declare("fedhub_merges_total", Kind::counter, "Versions published by merges, by model.");
    reg->declare("fedhub_merge_duration_seconds", Kind::histogram,
                 "Time from a merge's start to its version being durable.", seconds);
    reg->declare("fedhub_payload_bytes_total", Kind::counter,
                 "Package bytes sent (out) and contribution bytes received (in) by the hub, over both doors.");
    reg->declare("fedhub_http_bytes_total", Kind::counter, "Bytes of HTTP bodies received (in) and sent (out).");
    reg->declare("fedhub_http_requests_total", Kind::counter, "HTTP requests answered, by status code.");
    reg->declare("fedhub_store_write_seconds", Kind::histogram, "Latency of the store's synced writes.", seconds);
    reg->declare("fedhub_connected_participants", Kind::gauge,
                 "Keys with a request in the last 60 seconds, by door (caf, http).");
    reg->declare("fedhub_http_connections", Kind::gauge, "Open HTTP connections.");
    reg->declare("fedhub_guard_connections", Kind::gauge, "Open connections of the CAF door (its frame guard).");
    reg->declare("fedhub_guard_refused_total", Kind::counter,
                 "Connections the CAF door's frame guard closed, by reason (oversized_frame, bad_operation, "
                 "not_a_handshake, handshake_timeout, tls_handshake, too_many_connections, too_many_from_peer).");
    reg->declare("fedhub_storage_full_total", Kind::counter,
                 "Writes refused because the data directory's filesystem is full (storage_full).");
    reg->declare("fedhub_auth_failures_total", Kind::counter,
                 "Requests refused for their key, by door (caf, http) and reason (key: checked and refused; backoff: "
                 "refused unchecked, the peer failed too often).");
    reg->gauge("fedhub_connected_participants", [] {
      auto& c = callers();
      std::lock_guard lock(c.mutex);
      std::vector<std::pair<Labels, double>> out;
      const double since = now_seconds() - 60;
      for (const auto door : {"caf", "http"}) {
        auto& names = c.last_seen[door];
        std::erase_if(names, [&](const auto& e) { return e.second < since; });
        out.push_back({{{"door", door}}, static_cast<double>(names.size())});
      }
      return out;
    });
    return reg;
  }();
  return *r;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace fedhub::metrics

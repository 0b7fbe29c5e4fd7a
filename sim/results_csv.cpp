#include "sim/results_csv.hpp"

#include <charconv>
#include <cmath>
#include <set>
#include <span>
#include <stdexcept>

#include "messages/files.hpp"

namespace fedhub::sim {

namespace {

// NaN: the empty field; otherwise `format` with `precision` (locale-free).
void append_number(std::string& out, double v, std::chars_format format, int precision) {
  if (std::isnan(v)) return;
  if (std::isinf(v)) {
    out += v > 0 ? "inf" : "-inf";
    return;
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, format, precision);
  out.append(buf, r.ptr);
}

void append_value(std::string& out, double v) { append_number(out, v, std::chars_format::general, 6); }
void append_seconds(std::string& out, double v) { append_number(out, v, std::chars_format::fixed, 3); }

// Column names for `names` after `prefix`, none of them in `taken` (which
// gets them).
std::vector<std::string> column_names(const std::string& prefix, const std::vector<std::string>& names,
                                      std::set<std::string>& taken) {
  std::vector<std::string> out;
  for (const auto& name : names) {
    const std::string base = prefix + sanitize_column_name(name);
    std::string column = base;
    for (int n = 2; taken.count(column); ++n) column = base + "_" + std::to_string(n);
    taken.insert(column);
    out.push_back(column);
  }
  return out;
}

}  // namespace

std::string sanitize_column_name(const std::string& name) {
  std::string out;
  bool replacing = false;
  for (const char ch : name) {
    const char c = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
      out += c;
      replacing = false;
    } else if (!replacing) {
      out += '_';
      replacing = true;
    }
  }
  return out.empty() ? "unnamed" : out;
}

std::string results_csv(const std::vector<VersionResult>& results, const std::vector<std::string>& set_names,
                        const std::vector<std::string>& labels) {
  std::string out = "round,version,virtual_s,wall_s,accuracy";
  std::set<std::string> taken;
  for (const auto& c : column_names("accuracy_", set_names, taken)) out += "," + c;
  for (const auto& c : column_names("accuracy_class_", labels, taken)) out += "," + c;
  out += ",loss,contributions,mean_staleness,max_staleness,train_loss,refused\n";

  for (size_t row = 0; row < results.size(); ++row) {
    const VersionResult& r = results[row];
    const std::string which = "version " + std::to_string(r.version);
    if (r.per_set.size() != set_names.size())
      throw std::invalid_argument(which + ": " + std::to_string(r.per_set.size()) + " evaluations for " +
                                  std::to_string(set_names.size()) + " evaluation sets");
    const auto& classes = r.overall.per_class_accuracy;
    if (!classes.empty() && classes.size() != labels.size())
      throw std::invalid_argument(which + ": " + std::to_string(classes.size()) + " per-class accuracies for " +
                                  std::to_string(labels.size()) + " labels");
    const auto known = [](const training::Evaluation& e, double v) { return e.samples > 0 ? v : std::nan(""); };

    out += std::to_string(row);
    out += ',';
    out += std::to_string(r.version);
    out += ',';
    append_seconds(out, r.virtual_s);
    out += ',';
    append_seconds(out, r.wall_s);
    out += ',';
    append_value(out, known(r.overall, r.overall.accuracy));
    for (const auto& e : r.per_set) {
      out += ',';
      append_value(out, known(e, e.accuracy));
    }
    for (size_t c = 0; c < labels.size(); ++c) {
      out += ',';
      if (!classes.empty()) append_value(out, classes[c]);
    }
    out += ',';
    append_value(out, known(r.overall, r.overall.loss));
    out += ',';
    out += std::to_string(r.contributions);
    out += ',';
    append_value(out, r.mean_staleness);
    out += ',';
    out += std::to_string(r.max_staleness);
    out += ',';
    append_value(out, r.mean_train_loss);
    out += ',';
    out += std::to_string(r.refused);
    out += '\n';
  }
  return out;
}

void write_results_csv(const std::string& path, const std::vector<VersionResult>& results,
                       const std::vector<std::string>& set_names, const std::vector<std::string>& labels) {
  const std::string csv = results_csv(results, set_names, labels);
  write_file_atomic(path, std::span<const char>(csv.data(), csv.size()));
}

}  // namespace fedhub::sim

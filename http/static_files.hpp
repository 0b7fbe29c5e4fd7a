// The files the hub serves for its dashboard: its own page, script and
// style (web/, embedded into the program when it is built, so that a hub
// needs no checkout), and Chart.js from Debian's libjs-chart.js
// (/usr/share/javascript/chart.js/chart.min.js, read when asked for).
// Names are plain file names; the router has already refused path tricks.
#pragma once

#include <optional>
#include <string>

namespace fedhub::http {

struct Asset {
  std::string content_type;
  std::string body;
};

// nullopt when there is no such file (or Chart.js is not installed).
std::optional<Asset> find_asset(const std::string& name);

// Where Chart.js is read from.
inline constexpr const char* kChartJsPath = "/usr/share/javascript/chart.js/chart.min.js";

}  // namespace fedhub::http

#include "http/static_files.hpp"

#include <fstream>
#include <map>
#include <sstream>

namespace fedhub::http {

// Generated from web/ when the program is built (cmake/embed_files.cmake).
const std::map<std::string, std::string>& embedded_web_files();

namespace {

std::string content_type_of(const std::string& name) {
  auto ends = [&](const char* ext) {
    const std::string e(ext);
    return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

}  // namespace

std::optional<Asset> find_asset(const std::string& name) {
  if (name == "chart.js") {
    std::ifstream in(kChartJsPath, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return Asset{content_type_of(name), s.str()};
  }
  const auto& files = embedded_web_files();
  auto it = files.find(name);
  if (it == files.end()) return std::nullopt;
  return Asset{content_type_of(name), it->second};
}

}  // namespace fedhub::http

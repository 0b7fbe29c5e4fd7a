#include "config/hub_config.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace fedhub {

HubConfig load_hub_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read config file '" + path + "'");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw std::runtime_error("config file '" + path + "' is not valid JSON: " + e.what());
  }
  if (!doc.is_object()) throw std::runtime_error("config file '" + path + "' must hold a JSON object");
  HubConfig c;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const auto& k = it.key();
    const auto& v = it.value();
    auto bad = [&](const char* want) {
      return std::runtime_error("config file '" + path + "': '" + k + "' must be " + want + ", got " + v.dump());
    };
    if (k == "bind") {
      if (!v.is_string()) throw bad("a string");
      c.bind = v.get<std::string>();
    } else if (k == "port") {
      if (!v.is_number_unsigned() || v.get<uint64_t>() > 65535) throw bad("a port number 0-65535");
      c.port = static_cast<uint16_t>(v.get<uint64_t>());
    } else if (k == "data_dir") {
      if (!v.is_string() || v.get<std::string>().empty()) throw bad("a directory path");
      c.data_dir = v.get<std::string>();
    } else if (k == "threads") {
      if (!v.is_number_unsigned() || v.get<uint64_t>() < 1 || v.get<uint64_t>() > 256) throw bad("1-256");
      c.threads = static_cast<int>(v.get<uint64_t>());
    } else if (k == "download_chunk_bytes") {
      if (!v.is_number_unsigned() || v.get<uint64_t>() < 4096 || v.get<uint64_t>() > (64ull << 20))
        throw bad("4096 to 67108864 bytes");
      c.download_chunk_bytes = v.get<uint64_t>();
    } else if (k == "request_timeout_ms") {
      if (!v.is_number_unsigned() || v.get<uint64_t>() < 100) throw bad("at least 100 ms");
      c.request_timeout_ms = v.get<uint64_t>();
    } else {
      throw std::runtime_error("config file '" + path + "': unknown setting '" + k +
                               "' (known: bind, port, data_dir, threads, download_chunk_bytes, request_timeout_ms)");
    }
  }
  return c;
}

}  // namespace fedhub

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
  constexpr ModelLimits ceiling = ModelLimits::ceiling();
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const auto& k = it.key();
    const auto& v = it.value();
    auto bad = [&](const char* want) {
      return std::runtime_error("config file '" + path + "': '" + k + "' must be " + want + ", got " + v.dump());
    };
    auto in_range = [&](uint64_t lo, uint64_t hi, const char* want) -> uint64_t {
      if (!v.is_number_unsigned() || v.get<uint64_t>() < lo || v.get<uint64_t>() > hi) throw bad(want);
      return v.get<uint64_t>();
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
      if (!v.is_number_unsigned() || v.get<uint64_t>() < 1 || v.get<uint64_t>() > 64) throw bad("1-64");
      c.threads = static_cast<int>(v.get<uint64_t>());
    } else if (k == "download_chunk_bytes") {
      if (!v.is_number_unsigned() || v.get<uint64_t>() < 4096 || v.get<uint64_t>() > (16ull << 20))
        throw bad("4096 to 16777216 bytes (the largest chunk the hub sends)");
      c.download_chunk_bytes = v.get<uint64_t>();
    } else if (k == "request_timeout_ms") {
      c.request_timeout_ms = in_range(100, 3600000, "100 to 3600000 ms");
    } else if (k == "merge_timeout_ms") {
      c.merge_timeout_ms = in_range(1000, 86400000, "1000 to 86400000 ms");
    } else if (k == "upload_part_bytes") {
      c.upload_part_bytes = in_range(4096, 16ull << 20, "4096 to 16777216 bytes");
      if (c.upload_part_bytes % 4 != 0) throw bad("a multiple of 4 (whole float32 values)");
    } else if (k == "upload_window") {
      c.upload_window = static_cast<uint32_t>(in_range(1, 64, "1 to 64"));
    } else if (k == "upload_idle_seconds") {
      c.upload_idle_seconds = in_range(1, 86400, "1 to 86400 seconds");
    } else if (k == "max_uploads_per_model") {
      c.max_uploads_per_model = static_cast<uint32_t>(in_range(1, 10000, "1 to 10000"));
    } else if (k == "fold_threshold_bytes") {
      c.fold_threshold_bytes = in_range(0, 1ull << 50, "0 to 2^50 bytes");
    } else if (k == "max_samples") {
      c.max_samples = in_range(1, 1ull << 50, "1 to 2^50");
    } else if (k == "readers") {
      c.readers = static_cast<int>(in_range(1, 16, "1 to 16"));
    } else if (k == "http_port") {
      if (v.is_null()) {
        c.http_port = -1;
      } else {
        if (!v.is_number_unsigned() || v.get<uint64_t>() > 65535) throw bad("a port number 0-65535, or null (off)");
        c.http_port = static_cast<int>(v.get<uint64_t>());
      }
    } else if (k == "http_bind") {
      if (!v.is_string()) throw bad("a string");
      c.http_bind = v.get<std::string>();
    } else if (k == "http_max_connections") {
      c.http_max_connections = static_cast<int>(in_range(1, 10000, "1 to 10000"));
    } else if (k == "http_head_timeout_ms") {
      c.http_head_timeout_ms = in_range(100, 600000, "100 to 600000 ms");
    } else if (k == "http_io_timeout_ms") {
      c.http_io_timeout_ms = in_range(100, 3600000, "100 to 3600000 ms");
    } else if (k == "max_frame_bytes") {
      c.max_frame_bytes =
          in_range(17ull << 20, 2ull << 30, "17825792 to 2147483648 bytes (above the largest upload part, 16 MiB)");
    } else if (k == "max_connections") {
      c.max_connections = static_cast<int>(in_range(1, 100000, "1 to 100000"));
    } else if (k == "max_connections_per_peer") {
      c.max_connections_per_peer = static_cast<int>(in_range(1, 100000, "1 to 100000"));
    } else if (k == "handshake_timeout_ms") {
      c.handshake_timeout_ms = in_range(100, 600000, "100 to 600000 ms");
    } else if (k == "tls_certificate" || k == "tls_key" || k == "tls_client_ca") {
      std::string value;
      if (v.is_string() && !v.get<std::string>().empty()) {
        value = v.get<std::string>();
      } else if (!v.is_null()) {
        throw bad("a PEM file path, or null (off)");
      }
      (k == "tls_certificate" ? c.tls_certificate : k == "tls_key" ? c.tls_key : c.tls_client_ca) = value;
    } else if (k == "allow_plain_remote") {
      if (!v.is_boolean()) throw bad("true or false");
      c.allow_plain_remote = v.get<bool>();
    } else if (k == "quota_upload_bytes_per_minute") {
      c.quota_upload_bytes_per_minute = in_range(0, 1ull << 50, "0 (no quota) to 2^50 bytes");
    } else if (k == "quota_open_uploads") {
      c.quota_open_uploads = static_cast<uint32_t>(in_range(1, 10000, "1 to 10000"));
    } else if (k == "auth_failures_before_backoff") {
      c.auth_failures_before_backoff = static_cast<uint32_t>(in_range(1, 1000000, "1 to 1000000"));
    } else if (k == "auth_backoff_max_ms") {
      c.auth_backoff_max_ms = in_range(1000, 86400000, "1000 to 86400000 ms");
    } else if (k == "max_parameters") {
      c.model_limits.max_parameters = in_range(1, ceiling.max_parameters, "1 to 68719476736 (2^36)");
    } else if (k == "max_model_bytes") {
      c.model_limits.max_model_bytes = in_range(4, ceiling.max_model_bytes, "4 to 274877906944 bytes (2^38)");
    } else if (k == "max_steps") {
      c.model_limits.max_steps = in_range(1, ceiling.max_steps, "1 to 1000000000");
    } else if (k == "max_batch_size") {
      c.model_limits.max_batch_size = in_range(1, ceiling.max_batch_size, "1 to 1048576");
    } else {
      throw std::runtime_error(
          "config file '" + path + "': unknown setting '" + k +
          "' (known: bind, port, data_dir, threads, download_chunk_bytes, request_timeout_ms, merge_timeout_ms, "
          "upload_part_bytes, upload_window, upload_idle_seconds, max_uploads_per_model, "
          "fold_threshold_bytes, max_samples, readers, http_port, http_bind, http_max_connections, "
          "http_head_timeout_ms, http_io_timeout_ms, max_frame_bytes, max_connections, "
          "max_connections_per_peer, handshake_timeout_ms, tls_certificate, tls_key, tls_client_ca, "
          "allow_plain_remote, quota_upload_bytes_per_minute, quota_open_uploads, "
          "auth_failures_before_backoff, auth_backoff_max_ms, max_parameters, max_model_bytes, max_steps, "
          "max_batch_size)");
    }
  }
  if (c.tls_certificate.empty() != c.tls_key.empty())
    throw std::runtime_error("config file '" + path +
                             "': 'tls_certificate' and 'tls_key' go together (set both, or neither)");
  if (!c.tls_client_ca.empty() && c.tls_certificate.empty())
    throw std::runtime_error("config file '" + path +
                             "': 'tls_client_ca' (mutual TLS) needs 'tls_certificate' and 'tls_key'");
  return c;
}

}  // namespace fedhub

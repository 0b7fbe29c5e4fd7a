#include "soak/soak_support.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "client/requests.hpp"
#include "messages/checksum.hpp"
#include "messages/contribution.hpp"
#include "messages/framed.hpp"

namespace fedhub::soak {

uint64_t current_version(HubClient& client, const std::string& model) {
  Buffer holder;
  return client.call_as<fb::DownloadChunk>(requests::download(client.key(), model, -1, 0, 1), holder)->version();
}

ReceiptLog::ReceiptLog(const std::string& path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
}

ReceiptLog::~ReceiptLog() {
  if (fd_ >= 0) ::close(fd_);
}

void ReceiptLog::write(const std::string& line, bool sync) {
  const std::string text = line + "\n";
  std::lock_guard lock(mutex_);
  if (::write(fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw std::runtime_error(std::string("cannot write the receipt log: ") + std::strerror(errno));
  if (sync && ::fsync(fd_) != 0)
    throw std::runtime_error(std::string("cannot fsync the receipt log: ") + std::strerror(errno));
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<LogEntry> read_log(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  std::vector<LogEntry> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    const auto w = words(text.substr(start, nl - start));
    LogEntry e;
    size_t i = 0;
    if (w.size() == 5 && (w[0] == "begin" || w[0] == "ack" || w[0] == "lost")) {
      e.kind = w[0];
      i = 1;
    } else if (w.size() == 6 && w[0] == "refused") {
      e.kind = w[0];
      e.code = w[1];
      i = 2;
    } else {
      throw std::runtime_error("a line of " + path + " is malformed: " + text.substr(start, nl - start));
    }
    e.model = w[i];
    e.base = std::stoull(w[i + 1]);
    e.participant = w[i + 2];
    e.samples = std::stoull(w[i + 3]);
    out.push_back(std::move(e));
  }
  return out;
}

std::map<std::string, std::string> read_keys(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::map<std::string, std::string> out;
  for (std::string line; std::getline(in, line);) {
    const auto w = words(line);
    if (w.size() == 2) out[w[0]] = w[1];
  }
  return out;
}

void write_keys(const std::string& path, const std::vector<std::pair<std::string, std::string>>& keys) {
  std::string text;
  for (const auto& [name, key] : keys) text += name + " " + key + "\n";
  write_file(path, text);
}

ProcSample sample_process(pid_t pid) {
  ProcSample s;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream status(dir + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_mb = std::stod(line.substr(6)) / 1024.0;  // kB
    if (line.rfind("Threads:", 0) == 0) s.threads = std::stoi(line.substr(8));
  }
  if (DIR* d = ::opendir((dir + "/fd").c_str())) {
    int n = 0;
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    s.fds = n;
  }
  return s;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

std::string program_dir() { return std::filesystem::read_symlink("/proc/self/exe").parent_path().string(); }

}  // namespace fedhub::soak

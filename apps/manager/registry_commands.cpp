// Commands of the model registry: delete, archive, unarchive, rollback,
// export, import (docs/architecture.md, "Model registry commands").
//
// An export file is one framed buffer (messages/schemas/model_export.fbs): a
// ModelExport header (spec, policy, every version's info) and the framed
// packages of the versions with weights. export writes it one version at a
// time (one package in memory); import checks the whole file first, then
// streams the packages to the hub in parts (ImportBegin/Part/Commit), so no
// message grows with the model.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "apps/cli.hpp"
#include "apps/manager/session.hpp"
#include "client/requests.hpp"
#include "messages/checksum.hpp"
#include "messages/framed.hpp"
#include "messages/model_export_generated.h"

namespace fedhub::manager {

namespace {

void print_summary_state(const Session& s, const fb::ModelSummary& m, const std::string& text) {
  if (s.json_output)
    std::cout << summary_json(m).dump() << "\n";
  else
    std::cout << text << "\n";
}

int archive(Session& s, const Args& args, bool on) {
  const char* command = on ? "archive" : "unarchive";
  po::options_description o(command);
  auto vm = parse_named(args, o);
  const auto name = one_name(vm, command);
  Buffer holder;
  const auto* r = s.connect().call_as<fb::CreateReceipt>(requests::archive_model(s.key, name, on), holder)->summary();
  print_summary_state(s, *r,
                      on ? "model '" + name +
                               "' is archived (read-only): downloads and status work, uploads and merges are "
                               "refused until 'fl-manager unarchive " +
                               name + "'"
                         : "model '" + name + "' is writable again (uploads and merges are accepted)");
  return cli::kOk;
}

// ---- export files

// Writes PATH.tmp piece by piece, fsyncs, renames over PATH.
class FileWriter {
 public:
  explicit FileWriter(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot write '" + tmp_ + "': " + std::strerror(errno));
  }
  ~FileWriter() {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(tmp_.c_str());
    }
  }
  void write(std::span<const char> bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("cannot write '" + tmp_ + "': " + std::strerror(errno));
      bytes = bytes.subspan(static_cast<size_t>(n));
    }
  }
  void finish() {
    if (::fsync(fd_) != 0 || ::close(fd_) != 0)
      throw std::runtime_error("cannot write '" + tmp_ + "': " + std::strerror(errno));
    fd_ = -1;
    if (::rename(tmp_.c_str(), path_.c_str()) != 0)
      throw std::runtime_error("cannot rename '" + tmp_ + "' to '" + path_ + "': " + std::strerror(errno));
  }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
};

// Checks a downloaded or read package against the version's info.
void check_package(std::span<const char> package, const fb::VersionInfoT& info, const std::string& where) {
  const auto view = view_model_package(package, true);  // frame, header, size, data hash
  if (view.header.root->version()->version() != info.version)
    throw RequestError(ErrorCode::bad_request, where + ": the package of version " + std::to_string(info.version) +
                                                   " holds version " +
                                                   std::to_string(view.header.root->version()->version()));
  if (package.size() != info.package_bytes || view.header.root->data_hash() != info.data_hash)
    throw RequestError(ErrorCode::bad_checksum, where + ": the package of version " + std::to_string(info.version) +
                                                    " does not match its info (size or data hash)");
}

// An export file opened for reading: its verified header.
struct ExportFile {
  std::string path;
  std::ifstream in;
  Buffer prefix;
  const fb::ModelExport* root = nullptr;
  uint64_t data_offset = 0;

  explicit ExportFile(const std::string& p) : path(p), in(p, std::ios::binary) {
    if (!in) throw std::runtime_error("cannot read the export file '" + path + "'");
    in.seekg(0, std::ios::end);
    const auto size = static_cast<uint64_t>(in.tellg());
    in.seekg(0);
    const std::string what = "export file '" + path + "'";
    Buffer first(kFrameFixedBytes);
    if (size < kFrameFixedBytes || !in.read(first.data(), static_cast<std::streamsize>(first.size())))
      throw RequestError(ErrorCode::bad_request, what + ": too short");
    const auto prefix_size = frame_prefix_size(first, what);
    if (!prefix_size || *prefix_size > size) throw RequestError(ErrorCode::bad_request, what + ": truncated header");
    prefix.resize(*prefix_size);
    in.seekg(0);
    in.read(prefix.data(), static_cast<std::streamsize>(prefix.size()));
    const auto frame = read_frame_prefix(prefix, what);
    std::string why;
    root = verify_root<fb::ModelExport>(frame.header, fb::ModelExportIdentifier(), &why);
    if (!root)
      throw RequestError(ErrorCode::bad_request, what + ": not an export file (" + why +
                                                     "; a model package is written by download, not export)");
    data_offset = frame.data_offset;
    if (size != data_offset + root->data_bytes())
      throw RequestError(ErrorCode::bad_request, what + " is " + std::to_string(size) + " bytes; its header says " +
                                                     std::to_string(data_offset + root->data_bytes()));
    uint64_t at = 0;
    int64_t last = -1;
    for (const auto* v : *root->versions()) {
      if (static_cast<int64_t>(v->info()->version()) <= last)
        throw RequestError(ErrorCode::bad_request, what + ": its versions are not in ascending order");
      last = static_cast<int64_t>(v->info()->version());
      if (!v->included()) continue;
      if (v->offset() != at)
        throw RequestError(ErrorCode::bad_request,
                           what + ": version " + std::to_string(last) + " is not where its header says");
      at += v->info()->package_bytes();
    }
    if (at != root->data_bytes())
      throw RequestError(ErrorCode::bad_request, what + ": its packages do not fill its data section");
  }

  // The package of an included version, read and checked.
  Buffer package(const fb::ExportedVersion& v) {
    fb::VersionInfoT info;
    v.info()->UnPackTo(&info);
    Buffer out(info.package_bytes);
    in.seekg(static_cast<std::streamoff>(data_offset + v.offset()));
    if (!in.read(out.data(), static_cast<std::streamsize>(out.size())))
      throw std::runtime_error("cannot read version " + std::to_string(info.version) + " from '" + path + "'");
    check_package(out, info, "export file '" + path + "'");
    return out;
  }
};

}  // namespace

int cmd_delete(Session& s, const Args& args) {
  po::options_description o("delete");
  o.add_options()("yes", "confirm: the model and everything of it are deleted for good");
  auto vm = parse_named(args, o);
  const auto name = one_name(vm, "delete");
  if (!vm.count("yes"))
    throw cli::UsageError("delete removes model '" + name +
                          "' with all its versions, contributions and state for good: add --yes to confirm");
  Buffer holder;
  s.connect().call_as<fb::Ack>(requests::delete_model(s.key, name), holder);
  if (s.json_output)
    std::cout << json{{"model", name}, {"deleted", true}}.dump() << "\n";
  else
    std::cout << "deleted model '" << name << "' with all its versions, contributions and state\n";
  return cli::kOk;
}

int cmd_archive(Session& s, const Args& args) { return archive(s, args, true); }
int cmd_unarchive(Session& s, const Args& args) { return archive(s, args, false); }

int cmd_rollback(Session& s, const Args& args) {
  po::options_description o("rollback");
  o.add_options()("to", po::value<int64_t>(), "the retained version to make current again");
  auto vm = parse_named(args, o);
  const auto name = one_name(vm, "rollback");
  if (!vm.count("to")) throw cli::UsageError("rollback needs --to V (a retained version; see fl-manager status)");
  const uint64_t to = cli::whole(vm, "to", 0, INT64_MAX);
  Buffer holder;
  fb::RollbackReceiptT r;
  s.connect().call_as<fb::RollbackReceipt>(requests::rollback(s.key, name, to), holder)->UnPackTo(&r);
  if (s.json_output)
    std::cout << json{{"model", r.model},
                      {"rolled_back_from", r.rolled_back_from},
                      {"new_version", r.new_version},
                      {"previous_version", r.previous_version},
                      {"kept", r.kept},
                      {"dropped", r.dropped}}
                     .dump()
              << "\n";
  else
    std::cout << "version " << r.new_version << " of '" << r.model << "' holds the weights of version "
              << r.rolled_back_from << " (it replaces version " << r.previous_version
              << "); pending contributions: " << r.kept << " kept, " << r.dropped << " dropped as stale\n";
  return cli::kOk;
}

int cmd_export(Session& s, const Args& args) {
  po::options_description o("export");
  o.add_options()("version", po::value<int64_t>(), "only this version's weights (default: every retained one)")(
      "out", po::value<std::string>(), "the export file to write");
  auto vm = parse_named(args, o);
  const auto name = one_name(vm, "export");
  const auto out = need(vm, "out", "export");
  const int64_t only = vm.count("version") ? static_cast<int64_t>(cli::whole(vm, "version", 0, INT64_MAX)) : -1;
  auto& hub = s.connect();
  Buffer sh, ph;
  fb::ModelStatusT st;
  hub.call_as<fb::ModelStatus>(requests::status(s.key, name, -1), sh)->UnPackTo(&st);
  const std::string policy = hub.call_as<fb::PolicyInfo>(requests::policy(s.key, name), ph)->policy_json()->str();
  const uint64_t current = st.summary->current_version;
  const uint64_t oldest = st.summary->oldest_retained;
  uint64_t first = oldest, last = current;
  if (only >= 0) {
    first = last = static_cast<uint64_t>(only);
    if (last > current)
      throw RequestError(ErrorCode::unknown_version, "model '" + name + "' has no version " + std::to_string(last) +
                                                         " (current: " + std::to_string(current) + ")");
    if (last < oldest)
      throw RequestError(ErrorCode::unknown_version, "the weights of version " + std::to_string(last) + " of '" + name +
                                                         "' were pruned; the oldest retained version is " +
                                                         std::to_string(oldest));
  }
  fb::ModelExportT header;
  header.policy_json = policy;
  header.source_hub = s.hub;
  header.exported_at_ms = now_ms();
  std::vector<const fb::VersionInfoT*> included;
  for (const auto& v : st.versions) {
    if (v->version > last) break;
    auto e = std::make_unique<fb::ExportedVersionT>();
    e->info = std::make_unique<fb::VersionInfoT>(*v);
    e->included = v->version >= first;
    if (e->included) {
      e->offset = header.data_bytes;
      header.data_bytes += v->package_bytes;
      included.push_back(v.get());
    }
    header.versions.push_back(std::move(e));
  }
  if (included.empty()) throw RequestError(ErrorCode::unknown_version, "model '" + name + "' lists no such versions");
  // The spec comes with the first package; packages are written as they come.
  Buffer package = hub.download_package(name, static_cast<int64_t>(included.front()->version));
  check_package(package, *included.front(), "the hub");
  header.spec = std::make_unique<fb::ModelSpecT>();
  read_package_header(package).root->spec()->UnPackTo(header.spec.get());
  flatbuffers::FlatBufferBuilder fbb(4096);
  fbb.Finish(fb::CreateModelExport(fbb, &header), fb::ModelExportIdentifier());
  FileWriter file(out);
  const Buffer prefix = frame_prefix(fbb);
  file.write(prefix);
  for (size_t i = 0; i < included.size(); ++i) {
    if (i > 0) {
      package = hub.download_package(name, static_cast<int64_t>(included[i]->version));
      check_package(package, *included[i], "the hub");
    }
    file.write(package);
  }
  Buffer().swap(package);
  file.finish();
  const uint64_t bytes = prefix.size() + header.data_bytes;
  if (s.json_output)
    std::cout << json{{"model", name},
                      {"file", out},
                      {"first_version", first},
                      {"last_version", last},
                      {"versions", header.versions.size()},
                      {"bytes", bytes}}
                     .dump()
              << "\n";
  else if (first == last)
    std::cout << "exported '" << name << "' to " << out << ": the history of " << header.versions.size()
              << " version(s), the weights of version " << first << " (" << bytes << " bytes)\n";
  else
    std::cout << "exported '" << name << "' to " << out << ": the history of " << header.versions.size()
              << " version(s), the weights of versions " << first << "-" << last << " (" << bytes << " bytes)\n";
  return cli::kOk;
}

int cmd_import(Session& s, const Args& args) {
  po::options_description o("import");
  o.add_options()("file", po::value<std::string>(), "an export file (fl-manager export)")(
      "name", po::value<std::string>(), "the name the model gets (default: the exported one)");
  po::positional_options_description pos;
  pos.add("file", 1);
  auto vm = parse(args, o, &pos);
  if (!vm.count("file")) throw cli::UsageError("import needs a FILE (written by fl-manager export)");
  ExportFile file(vm["file"].as<std::string>());
  // Everything is checked before the hub is asked.
  std::vector<const fb::ExportedVersion*> included;
  for (const auto* v : *file.root->versions())
    if (v->included()) {
      file.package(*v);
      included.push_back(v);
    }
  if (included.empty()) throw RequestError(ErrorCode::bad_request, "the export file holds no version's weights");
  fb::ModelSpecT spec;
  file.root->spec()->UnPackTo(&spec);
  if (vm.count("name")) spec.name = vm["name"].as<std::string>();
  std::vector<fb::VersionInfoT> infos;
  std::vector<uint64_t> with_weights;
  for (const auto* v : *file.root->versions()) {
    infos.emplace_back();
    v->info()->UnPackTo(&infos.back());
    if (v->included()) with_weights.push_back(v->info()->version());
  }
  auto& hub = s.connect();
  Buffer holder;
  const std::string policy = file.root->policy_json() ? file.root->policy_json()->str() : std::string();
  const auto* session =
      hub.call_as<fb::UploadSession>(requests::import_begin(s.key, spec, policy, infos, with_weights), holder);
  const uint64_t id = session->upload_id();
  const uint64_t part = std::max<uint64_t>(1, session->part_bytes());
  const auto progress = cli::transfer_progress("importing");
  const uint64_t total = file.root->data_bytes();
  uint64_t sent = 0;
  for (const auto* v : included) {
    Buffer package = file.package(*v);
    for (uint64_t at = 0; at < package.size(); at += part) {
      const uint64_t n = std::min<uint64_t>(part, package.size() - at);
      Buffer h;
      hub.call_as<fb::UploadProgress>(
          requests::import_part(s.key, spec.name, id, sent, std::span<const char>(package).subspan(at, n)), h);
      sent += n;
      if (progress) progress(sent, total);
    }
  }
  Buffer ch;
  const auto* summary = hub.call_as<fb::CreateReceipt>(requests::import_commit(s.key, spec.name, id), ch)->summary();
  print_summary_state(s, *summary,
                      "imported model '" + spec.name + "' at version " + std::to_string(summary->current_version()) +
                          " (" + std::to_string(infos.size()) + " version(s) of history, " +
                          std::to_string(included.size()) + " with weights) from " + file.path);
  return cli::kOk;
}

}  // namespace fedhub::manager

#include "sim/embedded_hub.hpp"

#include <stdlib.h>

#include <caf/io/all.hpp>
#include <caf/send.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "actors/start_hub.hpp"
#include "client/requests.hpp"
#include "messages/files.hpp"
#include "persistence/store.hpp"

namespace fedhub::sim {
namespace {

std::string fresh_directory() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/fedhub-sim-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary data directory " + tmpl);
  return tmpl + "/hub";
}

std::string read_key_file(const std::string& path) {
  std::ifstream in(path);
  std::string key;
  std::getline(in, key);
  return key;
}

}  // namespace

EmbeddedHub::EmbeddedHub(caf::actor_system& system, EmbeddedHubOptions options)
    : system_(system), options_(std::move(options)) {
  temporary_ = options_.data_dir.empty();
  dir_ = temporary_ ? fresh_directory() : options_.data_dir;
  std::shared_ptr<Store> opened = Store::open(dir_);
  // The actors share this handle; its deleter runs when the last one lets
  // go: the store closes, a temporary directory goes, and stop() returns.
  auto done = std::make_shared<std::promise<void>>();
  closed_ = done->get_future();
  const std::string removable = temporary_ ? std::filesystem::path(dir_).parent_path().string() : "";
  std::shared_ptr<Store> store(opened.get(), [opened, done, removable](Store*) mutable {
    opened.reset();
    if (!removable.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(removable, ec);
    }
    done->set_value();
  });
  auto started = start_hub(system_, std::move(store), options_.hub);
  hub_ = started.hub;
  const auto key_file = (std::filesystem::path(dir_) / "manager.key").string();
  if (started.created_manager_key) {
    manager_key_ = *started.created_manager_key;
    if (!temporary_) write_file_atomic(key_file, manager_key_ + "\n", 0600);
  } else if (std::filesystem::exists(key_file)) {
    manager_key_ = read_key_file(key_file);
  }
}

EmbeddedHub::~EmbeddedHub() { stop(); }

std::unique_ptr<HubClient> EmbeddedHub::client(const std::string& key) const {
  return std::make_unique<HubClient>(system_, hub_, key, options_.request_timeout, "this process");
}

std::string EmbeddedHub::add_key(const std::string& name, fb::Role role) {
  if (!manager_) manager_ = client(manager_key_);
  Buffer holder;
  return manager_->call_as<fb::KeyCreated>(requests::add_key(manager_key_, name, role), holder)->key()->str();
}

uint16_t EmbeddedHub::publish(uint16_t port, const std::string& bind) {
  auto got = caf::io::publish(hub_, port, bind.c_str(), true);
  if (!got)
    throw std::runtime_error("cannot publish the embedded hub on " + bind + ":" + std::to_string(port) + ": " +
                             system_.render(got.error()));
  published_ = *got;
  return published_;
}

void EmbeddedHub::stop() {
  if (!hub_) return;
  manager_.reset();
  if (published_) caf::io::unpublish(hub_, published_);
  caf::anon_send_exit(hub_, caf::exit_reason::user_shutdown);
  hub_ = nullptr;
  closed_.wait();
}

}  // namespace fedhub::sim

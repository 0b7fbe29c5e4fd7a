// Commands about API keys: keys add|list|revoke, whoami.
#include <iomanip>
#include <iostream>

#include "apps/cli.hpp"
#include "apps/manager/session.hpp"
#include "client/json_views.hpp"
#include "client/requests.hpp"

namespace fedhub::manager {

int cmd_keys(Session& s, const Args& args) {
  if (args.empty()) throw cli::UsageError("keys needs add, list or revoke");
  const auto sub = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  Buffer holder;
  if (sub == "add") {
    po::options_description o("keys add");
    o.add_options()("name", po::value<std::string>())("role", po::value<std::string>()->default_value("participant"));
    po::positional_options_description pos;
    pos.add("name", 1);
    auto vm = parse(rest, o, &pos);
    const auto role_text = vm["role"].as<std::string>();
    if (role_text != "participant" && role_text != "manager")
      throw cli::UsageError("--role is participant or manager, not '" + role_text + "'");
    const auto role = role_text == "manager" ? fb::Role::manager : fb::Role::participant;
    const auto* k =
        s.connect().call_as<fb::KeyCreated>(requests::add_key(s.key, need(vm, "name", "keys add"), role), holder);
    if (s.json_output)
      std::cout << json_views::key_created(*k).dump() << "\n";
    else
      std::cout << k->key()->str() << "\n";
    return cli::kOk;
  }
  if (sub == "list") {
    const auto* list = s.connect().call_as<fb::KeyList>(requests::list_keys(s.key), holder);
    if (s.json_output) {
      std::cout << json_views::key_list(*list).dump() << "\n";
      return cli::kOk;
    }
    for (const auto* k : *list->keys()) {
      std::cout << std::left << std::setw(24) << k->name()->str() << std::setw(13) << role_name(k->role())
                  << format_time(k->created_at_ms()) << " UTC" << (k->revoked() ? "  revoked" : "") << "\n";
    }
    return cli::kOk;
  }
  if (sub == "revoke") {
    if (rest.size() != 1) throw cli::UsageError("keys revoke needs exactly one NAME");
    const auto* a = s.connect().call_as<fb::Ack>(requests::revoke_key(s.key, rest[0]), holder);
    std::cout << (s.json_output ? json{{"revoked", rest[0]}}.dump() : a->message()->str()) << "\n";
    return cli::kOk;
  }
  throw cli::UsageError("unknown keys command '" + sub + "' (use add, list or revoke)");
}

int cmd_whoami(Session& s, const Args&) {
  Buffer holder;
  const auto* id = s.connect().call_as<fb::Identity>(requests::whoami(s.key), holder);
  if (s.json_output)
    std::cout << json_views::identity(*id).dump() << "\n";
  else
    std::cout << id->name()->str() << " (" << role_name(id->role()) << ")\n";
  return cli::kOk;
}

}  // namespace fedhub::manager

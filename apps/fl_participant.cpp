// fl-participant: the paper's client. Downloads a model, trains it on local
// data, uploads the result; step by step or as a loop driven by the hub's
// version events.
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "apps/cli.hpp"
#include "apps/completion.hpp"
#include "apps/local_model.hpp"
#include "apps/next_version_hint.hpp"
#include "apps/progress.hpp"
#include "apps/reconnect.hpp"
#include "client/hub_client.hpp"
#include "client/json_views.hpp"
#include "client/requests.hpp"
#include "client/system_config.hpp"
#include "formats/onnx_export.hpp"
#include "formats/weights_file.hpp"
#include "messages/contribution.hpp"
#include "messages/events.hpp"
#include "messages/files.hpp"
#include "messages/framed.hpp"
#include "messages/tensors.hpp"
#include "model/trainable_slice.hpp"

using namespace fedhub;
namespace po = boost::program_options;
using nlohmann::json;

namespace {

const char* kUsage =
    "Usage: fl-participant <command> [options]\n"
    "\n"
    "Commands:\n"
    "  download --model NAME [--version V] --out FILE     save a model package (--format safetensors|npz\n"
    "           [--format F] [--layout keras|torch]         [--layout torch]: its weights for other tools;\n"
    "                                                      --format onnx: an ONNX model of the version)\n"
    "  train --in FILE --data SPEC --out FILE [--seed N]   train one round offline with the model's\n"
    "                                                      recipe; the result records its base version\n"
    "                                                      and sample count\n"
    "  upload --weights FILE [--model NAME]               send a training result\n"
    "  standing --model NAME                              your rank and scores on the model's leaderboard\n"
    "  run --model NAME --data SPEC --rounds N [--seed N]  download, train, upload; wait for the next\n"
    "                                                      version (pushed by the hub) and repeat\n"
    "  evaluate --in FILE --data SPEC [--package FILE]     accuracy of a model package on local data; of a\n"
    "                                                      training result with --package, the package it\n"
    "                                                      was trained from (for the architecture)\n"
    "  completion bash                                     print a bash completion script\n"
    "                                                      (source <(fl-participant completion bash))\n"
    "Commands that talk to the hub take --hub HOST:PORT and --key KEY (or --key-file F, or the\n"
    "environment variable FEDHUB_KEY).\n"
    "Progress (transfers of large models, training) is drawn on stderr when it is a terminal;\n"
    "--quiet turns it off, --progress prints it as whole lines into a pipe or file.\n"
    "Data sources (SPEC): idx:PREFIX[:CLASSES], cifar:PATH[:CLASSES], folder:DIR[:CLASSES]\n"
    "(docs/models.md, Data sources);\n"
    "--data-labels FILE names the classes of index-labelled sources.\n"
    "Exit status: 0 done, 1 refused or failed (the error's name is printed, e.g. 'stale'), 2 bad usage.\n";

struct Options {
  po::variables_map vm;
  bool json_output = false;
  cli::ProgressMode progress = cli::ProgressMode::off;  // of transfers and training, on stderr
  bool quiet = false;                                   // --quiet: no progress, no training summary
};

std::string need(const po::variables_map& vm, const char* name, const char* command) {
  if (!vm.count(name)) throw cli::UsageError(std::string(command) + " needs --" + name);
  return vm[name].as<std::string>();
}

uint64_t round_seed(const po::variables_map& vm, const Recipe& recipe, uint64_t round) {
  if (vm.count("seed")) return vm["seed"].as<uint64_t>() + round;
  if (recipe.seed != 0) return recipe.seed + round;
  return (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
}

// One round of local training; returns the Contribution buffer. Progress:
// one line rewritten on a terminal (steps, loss, images per second), then a
// summary line unless --quiet or --json.
Buffer train(const LoadedModel& m, const datasets::Dataset& data, uint64_t seed, const Options& o, json* summary) {
  training::TrainOptions opts;
  opts.seed = seed;
  cli::TrainingProgress progress(std::cerr, o.progress, !o.quiet && !o.json_output,
                                 "training version " + std::to_string(m.version));
  const auto start = std::chrono::steady_clock::now();
  const int64_t batch = std::max<int64_t>(1, m.spec.recipe.batch_size);
  opts.progress = [&](int64_t step, int64_t steps, double loss) {
    progress.update(step, steps, loss, step * batch,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  // The learning rate of the recipe's schedule for this version (model/recipe.hpp).
  auto result = training::train_round(m.spec.architecture, m.spec.recipe.for_version(m.version), m.weights, data, opts);
  ContributionMeta meta;
  meta.model = m.spec.name;
  meta.base_version = m.version;
  meta.num_samples = static_cast<uint64_t>(result.samples);
  meta.metrics = {{"loss", result.loss}, {"accuracy", result.accuracy}};
  if (summary)
    *summary = json{{"model", m.spec.name},
                    {"base_version", m.version},
                    {"num_samples", result.samples},
                    {"loss", result.loss},
                    {"accuracy", result.accuracy}};
  // Only the trainable tensors leave (all of them unless layers are frozen).
  return build_contribution(meta, TrainableSlice(m.spec.architecture).select(result.weights));
}

std::unique_ptr<HubClient> connect(caf::actor_system& system, const po::variables_map& vm) {
  auto [host, port] = parse_host_port(vm["hub"].as<std::string>());
  return std::make_unique<HubClient>(
      system, host, port, cli::read_key(vm),
      std::chrono::milliseconds(static_cast<int64_t>(vm["timeout"].as<double>() * 1000)));
}

// Streams a training result to the hub; with a ticket, an upload cut by a
// lost connection resumes where the hub's copy ends.
fb::UploadReceiptT upload(HubClient& client, const Buffer& contribution, UploadTicket* ticket = nullptr) {
  return client.upload(contribution, ticket);  // progress: HubClient::set_default_progress
}

void print_receipt(const fb::UploadReceiptT& r, bool as_json) {
  if (as_json)
    std::cout << json{{"model", r.model},
                      {"base_version", r.base_version},
                      {"participant", r.participant},
                      {"contributions", r.contributions}}
                     .dump()
              << std::endl;
  else
    std::cout << "uploaded to version " << r.base_version << " of '" << r.model << "' as '" << r.participant << "' ("
              << r.contributions << " contribution(s) for that version)" << std::endl;
}

int cmd_download(caf::actor_system& system, const Options& o) {
  const auto out = need(o.vm, "out", "download");
  const auto model = need(o.vm, "model", "download");
  const int64_t version = cli::version_or_current(o.vm);  // a usage error below -1
  const auto format = o.vm["format"].as<std::string>();
  if (format != "package" && format != "safetensors" && format != "npz" && format != "onnx")
    throw cli::UsageError("--format is package, safetensors, npz or onnx, not '" + format + "'");
  formats::KernelLayout layout;
  try {
    layout = formats::parse_kernel_layout(o.vm["layout"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw cli::UsageError(std::string("--layout: ") + e.what());
  }
  auto client = connect(system, o.vm);
  Buffer raw = client->download_package(model, version);
  auto m = read_model_package(raw);
  if (format == "onnx")
    raw = formats::write_onnx(m.spec.architecture, m.weights,
                              {m.spec.name, static_cast<int64_t>(m.version), m.spec.labels});
  else if (format != "package")
    raw = formats::write_weights_file(
        m.weights, m.spec.architecture, format, layout,
        {{"model", m.spec.name}, {"version", std::to_string(m.version)}, {"layout", o.vm["layout"].as<std::string>()}});
  write_file_atomic(out, raw);
  if (o.json_output)
    std::cout << json{{"model", m.spec.name}, {"version", m.version}, {"file", out}}.dump() << "\n";
  else
    std::cout << "saved version " << m.version << " of '" << m.spec.name << "' to " << out << "\n";
  return cli::kOk;
}

int cmd_train(const Options& o) {
  const auto in = need(o.vm, "in", "train");
  const auto out = need(o.vm, "out", "train");
  auto m = read_model_package(read_file(in));
  auto data = cli::load_data_for(m.spec, cli::sources_of(o.vm, "data", "train"), o.vm["data-labels"].as<std::string>(),
                                 !o.quiet && !o.json_output);
  json summary;
  Buffer c = train(m, data, round_seed(o.vm, m.spec.recipe, 0), o, &summary);
  write_file_atomic(out, c);
  if (o.json_output)
    std::cout << summary.dump() << "\n";
  else
    std::cout << "trained version " << m.version << " of '" << m.spec.name << "' on " << summary["num_samples"]
              << " samples (loss " << summary["loss"] << ", accuracy " << summary["accuracy"] << "); result in " << out
              << "\n";
  return cli::kOk;
}

int cmd_upload(caf::actor_system& system, const Options& o) {
  Buffer c = read_file(need(o.vm, "weights", "upload"));
  const auto* parsed = read_contribution(c).header;
  if (o.vm.count("model") && parsed->model()->str() != o.vm["model"].as<std::string>())
    throw RequestError(ErrorCode::bad_contribution, "the file holds a result for model '" + parsed->model()->str() +
                                                        "', not '" + o.vm["model"].as<std::string>() + "'");
  auto client = connect(system, o.vm);
  print_receipt(upload(*client, c), o.json_output);
  return cli::kOk;
}

// Where the participant's contributions stand on the model's leaderboard.
int cmd_standing(caf::actor_system& system, const Options& o) {
  const auto model = need(o.vm, "model", "standing");
  auto client = connect(system, o.vm);
  Buffer holder;
  const auto* b = client->call_as<fb::Leaderboard>(requests::leaderboard(client->key(), model), holder);
  const auto rows = json_views::leaderboard(*b);
  if (o.json_output) {
    std::cout << (rows.empty() ? json(nullptr) : rows[0]).dump() << "\n";
    return cli::kOk;
  }
  if (rows.empty()) {
    std::cout << "no contribution of yours to '" << model << "' has been merged yet\n";
    return cli::kOk;
  }
  const auto& r = rows[0];
  auto shown = [](const json& v, int digits) {
    if (!v.is_number()) return std::string("-");
    std::ostringstream s;
    s << std::fixed << std::setprecision(digits) << v.get<double>();
    return s.str();
  };
  std::cout << "'" << r["participant"].get<std::string>() << "' on '" << model << "': rank " << r["rank"] << " of "
            << b->participants() << "; " << r["contributions"] << " contribution(s) merged, " << r["samples"]
            << " samples, mean weight " << shown(r["mean_weight_share"], 3) << ", mean staleness "
            << shown(r["mean_staleness"], 1) << "\n  score " << shown(r["score"], 4) << " ("
            << (b->score_kind()->str() == "leave_one_out" ? "mean leave-one-out change of evaluation loss"
                                                          : "mean cosine similarity to the merged updates")
            << "), mean cosine " << shown(r["mean_cosine"], 3)
            << (r["flagged"].get<uint64_t>() > 0 ? ", flagged " + r["flagged"].dump() + " time(s)" : "")
            << (r["excluded"] == true ? "; EXCLUDED: ask the model's manager" : "") << "\n";
  return cli::kOk;
}

bool is_contribution_file(std::span<const char> bytes) {
  try {
    return buffer_identifier(read_frame_prefix(bytes).header) == fb::ContributionIdentifier();
  } catch (const RequestError&) {
    return false;  // not framed: read_model_package names the defect
  }
}

// The model a training result's weights make, with the spec of the package
// it was trained from (a result carries its model's name and tensors, not
// the architecture). Refused when the two do not belong together.
LoadedModel contribution_as_model(std::span<const char> bytes, const std::string& in, const Options& o) {
  if (!o.vm.count("package"))
    throw cli::UsageError(in +
                          " is a training result (a contribution), not a model package: evaluate the package you "
                          "trained from, or download the merged version; to evaluate this result's weights, add "
                          "--package FILE, the package it was trained from");
  auto m = read_model_package(read_file(o.vm["package"].as<std::string>()));
  const auto view = read_contribution(bytes);
  const auto model = view.header->model()->str();
  if (model != m.spec.name)
    throw RequestError(ErrorCode::bad_contribution,
                       in + " is a result for model '" + model + "', the package holds '" + m.spec.name + "'");
  const TrainableSlice trainable(m.spec.architecture);  // a result holds the trainable tensors
  check_tensor_infos(view.header->tensors(), trainable.layout());
  auto trained = weights_from_data(layout_of(view.header->tensors()), view.data);
  if (auto why = check_weights(trained, trainable.layout()); !why.empty())
    throw RequestError(ErrorCode::bad_contribution, in + ": " + why);
  m.weights = trainable.overlay(std::move(m.weights), trained);  // over the package's frozen tensors
  m.version = view.header->base_version();
  return m;
}

int cmd_evaluate(const Options& o) {
  const auto in = need(o.vm, "in", "evaluate");
  const Buffer bytes = read_file(in);
  const bool result = is_contribution_file(bytes);
  auto m = result ? contribution_as_model(bytes, in, o) : read_model_package(bytes);
  auto data = cli::load_data_for(m.spec, cli::sources_of(o.vm, "data", "evaluate"),
                                 o.vm["data-labels"].as<std::string>(), !o.quiet && !o.json_output);
  auto e = training::evaluate(m.spec.architecture, m.weights, data);
  if (o.json_output) {
    auto j = cli::evaluation_json(e, m.spec.labels);
    j["model"] = m.spec.name;
    j[result ? "base_version" : "version"] = m.version;
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "model '" << m.spec.name << "' " << (result ? "trained from version " : "version ") << m.version
              << ": " << cli::evaluation_text(e, m.spec.labels);
  }
  return cli::kOk;
}

// What the participant's loop remembers across connections.
struct RunState {
  std::optional<datasets::Dataset> data;
  std::set<uint64_t> contributed;  // the paper's (name, version) memory
  uint64_t done = 0;
  // A result trained but not acknowledged yet (the hub may have gone away
  // during the upload): sent again as it is, not retrained.
  std::optional<std::pair<uint64_t, Buffer>> unsent;
  bool unsent_tried = false;
  UploadTicket ticket;  // resumes an upload the lost connection cut
};

// What the participant waits for, from the model's summary (ListModels is
// open to participants; Status is not).
std::string next_version_hint(HubClient& client, const std::string& model, uint64_t version) {
  cli::ModelProgress p{model, version, {}, 0, 1};
  Buffer holder;
  const auto* list = client.call_as<fb::ModelList>(requests::list_models(client.key()), holder);
  for (const auto* s : *list->models())
    if (s->name()->str() == model) {
      p.policy_json = s->policy_json() ? s->policy_json()->str() : "";
      p.pending = s->current_version() == version ? s->pending_contributions() : 0;
      p.min_contributions = s->min_contributions();
    }
  return cli::next_version_hint(p);
}

// The loop on one connection: train on every new version until N results
// are in. Throws RequestError(unavailable) when the hub goes away.
void run_connected(HubClient& client, const Options& o, RunState& st, const std::string& model,
                   const std::vector<std::string>& source, uint64_t rounds) {
  client.subscribe(model);  // before the download: no version is missed
  Buffer holder;
  const auto me = client.call_as<fb::Identity>(requests::whoami(client.key()), holder)->name()->str();
  while (st.done < rounds) {
    auto m = read_model_package(client.download_package(model, -1));
    if (!st.data)
      st.data = cli::load_data_for(m.spec, source, o.vm["data-labels"].as<std::string>(), !o.quiet && !o.json_output);
    if (!st.contributed.count(m.version)) {
      if (!st.unsent || st.unsent->first != m.version) {
        st.unsent.emplace(m.version, train(m, *st.data, round_seed(o.vm, m.spec.recipe, st.done), o, nullptr));
        st.unsent_tried = false;
        st.ticket = {};
      }
      const bool sent_before = st.unsent_tried;
      try {
        st.unsent_tried = true;
        print_receipt(upload(client, st.unsent->second, &st.ticket), o.json_output);
        ++st.done;
      } catch (const RequestError& e) {
        if (e.code() == ErrorCode::stale) {
          std::cerr << "version " << m.version << " was merged while training; starting again on the new one\n";
          st.unsent.reset();
          continue;
        }
        if (e.code() != ErrorCode::duplicate) throw;
        if (sent_before) {
          // The connection broke after the hub had stored it.
          std::cerr << "the hub had stored the result for version " << m.version << " before the connection broke\n";
          ++st.done;
        } else {
          std::cerr << "'" << me << "' has contributed to version " << m.version << " already\n";
        }
      }
      st.unsent.reset();
      st.contributed.insert(m.version);
      if (st.done >= rounds) break;
    }
    // Wait for the hub to announce a newer version, saying what makes it.
    if (!o.quiet) std::cerr << next_version_hint(client, model, m.version) << "\n";
    for (bool newer = false; !newer;) {
      auto event = client.next_event(std::chrono::minutes(10));
      if (!event) {
        if (!o.quiet) std::cerr << "still " << next_version_hint(client, model, m.version) << "\n";
        continue;
      }
      const auto* v = events::verify(*event)->body_as_VersionPublished();
      newer = v && v->version() > m.version;
    }
  }
}

// The participant's loop; it survives the hub going away (a restart, a
// network failure) by reconnecting for up to --reconnect seconds.
int cmd_run(caf::actor_system& system, const Options& o) {
  const auto model = need(o.vm, "model", "run");
  const auto source = cli::sources_of(o.vm, "data", "run");
  if (!o.vm.count("rounds")) throw cli::UsageError("run needs --rounds N");
  const auto rounds = cli::whole(o.vm, "rounds", 1, 1000000000);
  const auto reconnect_for = std::chrono::duration<double>(o.vm["reconnect"].as<double>());
  RunState st;
  cli::with_reconnect(reconnect_for, [&](const std::function<void()>& connected) {
    auto client = connect(system, o.vm);
    connected();
    run_connected(*client, o, st, model, source, rounds);
  });
  if (!o.json_output) std::cout << "contributed " << st.done << " round(s) to '" << model << "'\n";
  return cli::kOk;
}

int participant_main(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help")("json", "print results as JSON")(
      "model", po::value<std::string>(), "model name")("version", po::value<int64_t>()->default_value(-1),
                                                       "version to download (-1: current)")(
      "in", po::value<std::string>(), "model package file (evaluate: or training result file)")(
      "out", po::value<std::string>(), "output file")("weights", po::value<std::string>(),
                                                      "training result file to upload")(
      "package", po::value<std::string>(), "evaluate: the model package file a training result was trained from")(
      "data", po::value<std::vector<std::string>>()->composing(), "local data source (repeat to join several)")(
      "data-labels", po::value<std::string>()->default_value(""),
      "file naming the classes of an index-labelled source")("rounds", po::value<int64_t>(),
                                                             "results to contribute (run)")(
      "reconnect", po::value<double>()->default_value(300),
      "run: seconds to keep reconnecting to a lost hub (0: give up at once)")(
      "seed", po::value<uint64_t>(), "training seed (default: the recipe's, else random)")(
      "format", po::value<std::string>()->default_value("package"), "download: package | safetensors | npz | onnx")(
      "layout", po::value<std::string>()->default_value("keras"),
      "download --format safetensors|npz: keras or torch (a state_dict's names and layouts)");
  cli::add_hub_options(opts);
  // The command is the first word, not an option: parsed, never shown.
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>());
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("command", 1);
  if (argc >= 2 && std::string(argv[1]) == "completion")
    return cli::completion_main(std::vector<std::string>(argv + 1, argv + argc),
                                cli::completion_spec_by_usage("fl-participant", opts, kUsage), std::cout);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).style(cli::kStyle).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help") || !vm.count("command")) {
    std::cout << kUsage << "\n" << opts;
    return vm.count("help") ? cli::kOk : cli::kUsage;
  }
  Options o{vm, vm.count("json") > 0, cli::progress_mode(vm), vm.count("quiet") > 0};
  HubClient::set_default_progress(cli::transfer_progress_factory(o.progress));
  const auto command = vm["command"].as<std::string>();
  if (command == "train") return cmd_train(o);
  if (command == "evaluate") return cmd_evaluate(o);
  if (command != "download" && command != "upload" && command != "run" && command != "standing")
    throw cli::UsageError("unknown command '" + command + "'");
  SystemConfig cfg(2, cli::client_tls(vm));
  caf::actor_system system{cfg};
  if (command == "download") return cmd_download(system, o);
  if (command == "upload") return cmd_upload(system, o);
  if (command == "standing") return cmd_standing(system, o);
  return cmd_run(system, o);
}

}  // namespace

int main(int argc, char** argv) { return cli::run_guarded("fl-participant", participant_main, argc, argv); }

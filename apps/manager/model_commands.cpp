// Commands about models: create, list, status, download, evaluate.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <optional>

#include "apps/cli.hpp"
#include "apps/local_model.hpp"
#include "apps/manager/session.hpp"
#include "client/json_views.hpp"
#include "client/requests.hpp"
#include "formats/onnx_export.hpp"
#include "formats/onnx_import.hpp"
#include "formats/weights_file.hpp"
#include "messages/errors.hpp"
#include "messages/files.hpp"
#include "model/labels.hpp"
#include "model/limits.hpp"

namespace fedhub::manager {

int cmd_create(Session& s, const Args& args) {
  po::options_description o("create");
  o.add_options()("name", po::value<std::string>(), "model name")(
      "arch", po::value<std::string>(), "architecture JSON file")("labels", po::value<std::string>(),
                                                                  "label file, one per line")(
      "recipe", po::value<std::string>(), "recipe JSON file")("seed", po::value<uint64_t>()->default_value(1),
                                                              "seed of the initial weights")(
      "min-contributions", po::value<int64_t>()->default_value(1), "contributions a merge needs (1-1000000)")(
      "aggregator", po::value<std::string>()->default_value("fedavg"), "fedavg (by samples) or mean (the paper's)")(
      "weights", po::value<std::string>(),
      "version 0's weights from a file: a fedhub package or result, safetensors, .npz, or Keras's .h5 "
      "(Keras 2 save_weights or model.save) or .weights.h5 (Keras 3), matched by tensor name and shape")(
      "layout", po::value<std::string>()->default_value("keras"),
      "how --weights stores kernels: keras ([in,out], HWIO) or torch ([out,in], OIHW; state_dict names)")(
      "onnx", po::value<std::string>(),
      "an ONNX model instead of --arch and --weights: its graph becomes the architecture, its "
      "initializers version 0 (docs/models.md, ONNX)");
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  fb::ModelSpecT spec;
  spec.name = need(vm, "name", "create");
  // --onnx: the architecture and version 0's weights from one ONNX file.
  std::optional<formats::OnnxImport> onnx;
  if (vm.count("onnx")) {
    if (vm.count("arch") || vm.count("weights") || !vm["layout"].defaulted())
      throw cli::UsageError(
          "--onnx FILE holds the architecture and the weights: leave out --arch, --weights and --layout");
    const auto path = vm["onnx"].as<std::string>();
    onnx = formats::read_onnx(read_file(path), path);
    for (const auto& note : onnx->notes) std::cerr << "fl-manager: " << path << ": " << note << "\n";
    spec.architecture_json = onnx->architecture_json;
  } else {
    spec.architecture_json = read_text(need(vm, "arch", "create"), "architecture");
  }
  spec.labels = read_labels_file(need(vm, "labels", "create"));
  spec.recipe_json = read_text(need(vm, "recipe", "create"), "recipe");
  spec.min_contributions = static_cast<uint32_t>(cli::whole(vm, "min-contributions", 1, 1000000));
  // Check locally first: the same rules the hub applies.
  auto parsed = make_model_spec(spec.name, spec.architecture_json, spec.labels, spec.recipe_json);
  // Sizes counted, nothing allocated: a model no hub could take is refused
  // here (each hub then applies its own config's limits).
  if (auto why = check_model_limits(parsed, ModelLimits::ceiling(), "any hub's config"); !why.empty())
    throw RequestError(ErrorCode::invalid_model, "model '" + spec.name + "': " + why);
  spec.architecture_json = parsed.architecture.to_json();
  spec.recipe_json = parsed.recipe.to_json();
  // Without --weights the hub initialises version 0 (Glorot-uniform from
  // the seed), so that no model-sized message is sent.
  std::vector<float> initial;
  if (onnx) {
    for (const auto& t : onnx->weights) initial.insert(initial.end(), t.values.begin(), t.values.end());
  } else if (vm.count("weights")) {
    const auto path = vm["weights"].as<std::string>();
    formats::KernelLayout layout;
    try {
      layout = formats::parse_kernel_layout(vm["layout"].as<std::string>());
    } catch (const std::invalid_argument& e) {
      throw cli::UsageError(std::string("--layout: ") + e.what());
    }
    const Buffer bytes = read_file(path);
    const auto weights = formats::read_weights_file(bytes, path, parsed.architecture, layout);
    for (const auto& t : weights) initial.insert(initial.end(), t.values.begin(), t.values.end());
  } else if (!vm["layout"].defaulted()) {
    throw cli::UsageError("--layout says how --weights stores kernels: give --weights FILE too");
  }
  json policy{{"merge", "manual"}, {"aggregator", {{"name", vm["aggregator"].as<std::string>()}}}};
  Buffer holder;
  const auto* r = s.connect().call_as<fb::CreateReceipt>(
      requests::create_model(s.key, spec, initial, vm["seed"].as<uint64_t>(), policy.dump()), holder);
  if (s.json_output)
    std::cout << json{{"model", r->summary()->name()->str()},
                      {"version", r->summary()->current_version()},
                      {"parameters", r->summary()->parameters()}}
                     .dump()
              << "\n";
  else
    std::cout << "created model '" << r->summary()->name()->str() << "' (" << r->summary()->parameters()
              << " parameters, " << r->summary()->labels() << " labels) at version 0"
              << (initial.empty() ? "" : ", its weights from " + vm[onnx ? "onnx" : "weights"].as<std::string>())
              << "\n";
  return cli::kOk;
}

int cmd_list(Session& s, const Args& args) {
  if (!args.empty()) throw cli::UsageError("list takes no arguments, not '" + args[0] + "'");
  Buffer holder;
  const auto* list = s.connect().call_as<fb::ModelList>(requests::list_models(s.key), holder);
  if (s.json_output) {
    json out = json::array();
    for (const auto* m : *list->models()) out.push_back(summary_json(*m));
    std::cout << out.dump() << "\n";
    return cli::kOk;
  }
  if (list->models()->size() == 0) {
    std::cout << "no models yet (create one with: fl-manager create NAME --arch ... --labels ... --recipe ...)\n";
    return cli::kOk;
  }
  std::cout << std::left << std::setw(24) << "MODEL" << std::setw(9) << "VERSION" << std::setw(9) << "PENDING"
            << std::setw(5) << "MIN" << std::setw(12) << "PARAMETERS" << std::setw(8) << "LABELS"
            << "STATE\n";
  for (const auto* m : *list->models())
    std::cout << std::left << std::setw(24) << m->name()->str() << std::setw(9) << m->current_version() << std::setw(9)
              << m->pending_contributions() << std::setw(5) << m->min_contributions() << std::setw(12)
              << m->parameters() << std::setw(8) << m->labels()
              << (m->archived() ? "archived" : (m->merging() ? "merging" : "idle")) << "\n";
  return cli::kOk;
}

int cmd_status(Session& s, const Args& args) {
  po::options_description o("status");
  o.add_options()("name", po::value<std::string>())("version", po::value<int64_t>()->default_value(-1));
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  const int64_t version = cli::version_or_current(vm);
  Buffer holder;
  const auto* st =
      s.connect().call_as<fb::ModelStatus>(requests::status(s.key, need(vm, "name", "status"), version), holder);
  const auto* m = st->summary();
  if (s.json_output) {
    const auto out = json_views::model_status(*st);
    std::cout << out.dump() << "\n";
    return cli::kOk;
  }
  std::cout << "model '" << m->name()->str() << "': current version " << m->current_version()
            << (m->merging() ? " (merging)" : "") << (m->archived() ? " (archived: read-only)" : "") << ", merges need "
            << m->min_contributions() << " contribution(s)\n";
  std::cout << "version " << st->version() << ": " << st->contributions()->size() << " contribution(s)\n";
  for (const auto* c : *st->contributions()) {
    std::cout << "  " << std::left << std::setw(20) << c->participant()->str() << std::setw(10) << c->num_samples()
              << "samples  " << format_time(c->received_at_ms()) << " UTC";
    if (c->metrics())
      for (const auto* x : *c->metrics()) std::cout << "  " << x->name()->str() << "=" << x->value();
    std::cout << "\n";
  }
  if (st->evaluation() && st->evaluation()->size() > 0) {
    const auto e =
        json_views::scores({reinterpret_cast<const char*>(st->evaluation()->data()), st->evaluation()->size()});
    std::cout << "evaluation of version " << e["version"] << ": ";
    if (e["evaluated"] == true)
      std::cout << std::fixed << std::setprecision(4) << "accuracy "
                << (e["accuracy"].is_number() ? e["accuracy"].get<double>() : NAN) << ", loss "
                << (e["loss"].is_number() ? e["loss"].get<double>() : NAN) << std::defaultfloat << " on "
                << e["samples"] << " samples of " << e["eval_data"].get<std::string>();
    else
      std::cout << "not evaluated";
    if (!e["note"].get<std::string>().empty()) std::cout << " (" << e["note"].get<std::string>() << ")";
    std::cout << "\n";
  }
  if (st->versions()) {
    std::cout << "versions:\n";
    for (const auto* v : *st->versions()) {
      std::cout << "  " << std::setw(5) << v->version() << " " << format_time(v->created_at_ms()) << " UTC  ";
      if (v->version() == 0)
        std::cout << "initial weights\n";
      else if (v->rolled_back_from() >= 0)
        std::cout << "rollback: the weights of version " << v->rolled_back_from() << " (replacing version "
                  << v->base_version() << ")\n";
      else
        std::cout << v->contributions() << " contribution(s) to version " << v->base_version() << ", "
                  << v->total_samples() << " samples, " << (v->aggregator() ? v->aggregator()->str() : "") << "\n";
    }
  }
  return cli::kOk;
}

int cmd_download(Session& s, const Args& args) {
  po::options_description o("download");
  o.add_options()("name", po::value<std::string>())("version", po::value<int64_t>()->default_value(-1))(
      "out", po::value<std::string>())("format", po::value<std::string>()->default_value("package"),
                                       "package | safetensors | npz | onnx")(
      "layout", po::value<std::string>()->default_value("keras"), "safetensors, npz: keras or torch (state_dict)");
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  const auto out = need(vm, "out", "download");
  const auto format = vm["format"].as<std::string>();
  if (format != "package" && format != "safetensors" && format != "npz" && format != "onnx")
    throw cli::UsageError("--format is package, safetensors, npz or onnx, not '" + format + "'");
  if ((format == "package" || format == "onnx") && !vm["layout"].defaulted())
    throw cli::UsageError("--layout applies to --format safetensors or npz; a " + format + " has its own layout");
  formats::KernelLayout layout;
  try {
    layout = formats::parse_kernel_layout(vm["layout"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw cli::UsageError(std::string("--layout: ") + e.what());
  }
  Buffer raw;
  auto m = fetch(s, need(vm, "name", "download"), cli::version_or_current(vm), &raw);
  if (format == "onnx")
    raw = formats::write_onnx(m.spec.architecture, m.weights,
                              {m.spec.name, static_cast<int64_t>(m.version), m.spec.labels});
  else if (format != "package")
    raw = formats::write_weights_file(
        m.weights, m.spec.architecture, format, layout,
        {{"model", m.spec.name}, {"version", std::to_string(m.version)}, {"layout", vm["layout"].as<std::string>()}});
  write_file_atomic(out, raw);
  if (s.json_output)
    std::cout << json{{"model", m.spec.name}, {"version", m.version}, {"file", out}, {"bytes", raw.size()}}.dump()
              << "\n";
  else
    std::cout << "saved version " << m.version << " of '" << m.spec.name << "' to " << out << " (" << raw.size()
              << " bytes)\n";
  return cli::kOk;
}

int cmd_evaluate(Session& s, const Args& args) {
  po::options_description o("evaluate");
  o.add_options()("name", po::value<std::string>())("version", po::value<int64_t>()->default_value(-1))(
      "data", po::value<std::vector<std::string>>()->composing())("data-labels",
                                                                  po::value<std::string>()->default_value(""));
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, o, &pos);
  auto m = fetch(s, need(vm, "name", "evaluate"), cli::version_or_current(vm));
  auto data = cli::load_data_for(m.spec, cli::sources_of(vm, "data", "evaluate"), vm["data-labels"].as<std::string>());
  auto e = evaluate(m, data);
  if (s.json_output) {
    auto j = cli::evaluation_json(e, m.spec.labels);
    j["model"] = m.spec.name;
    j["version"] = m.version;
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "model '" << m.spec.name << "' version " << m.version << ": "
              << cli::evaluation_text(e, m.spec.labels);
  }
  return cli::kOk;
}

// Follows a model: merges when the current version has enough contributions
// and evaluates each new version, driven by the hub's events.

}  // namespace fedhub::manager
